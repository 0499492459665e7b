-- Chapter 5 adds this table to the orders database of chapter 2 (whose
-- migration 0001 runs first). An order that is still `pending` has a
-- checkout saga in progress; its row here says how far the saga got, so a
-- restarted orders process carries on from there instead of starting over.
CREATE TABLE checkout_sagas (
    order_id    INTEGER PRIMARY KEY REFERENCES orders (id),
    step        TEXT    NOT NULL
                CHECK (step IN ('reserve', 'charge', 'confirm', 'compensate', 'done')),
    -- Why the saga is compensating (and so why the order was cancelled).
    reason      TEXT,
    -- Failed attempts at the current step, for logs and the curious.
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- Unix milliseconds after which reserve and charge stop being retried.
    deadline_ms INTEGER NOT NULL,
    updated_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
