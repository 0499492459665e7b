-- The payments service owns its ledger: one payment per order, kept for
-- ever, so a repeated charge gets the first answer back.
CREATE TABLE payments (
    order_id     TEXT    PRIMARY KEY,
    -- 0 only for a void: a refund that arrived before any charge.
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    status       TEXT    NOT NULL CHECK (status IN ('approved', 'declined', 'refunded', 'voided')),
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
