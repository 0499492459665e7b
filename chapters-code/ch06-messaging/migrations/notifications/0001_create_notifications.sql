-- The notifications service owns these tables.
--
-- The inbox remembers every event id already handled. A broker delivers
-- at least once, so the same event can come twice (a redelivery after a
-- lost ack, a relay that published again after a crash); the inbox row,
-- written in the same transaction as the notification, makes the second
-- time a no-op.
CREATE TABLE inbox (
    event_id     TEXT PRIMARY KEY,
    processed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT    NOT NULL REFERENCES inbox (event_id),
    order_id   INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    message    TEXT    NOT NULL,
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX notifications_order ON notifications (order_id, id);
