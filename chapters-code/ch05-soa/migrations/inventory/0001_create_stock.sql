-- The inventory service owns stock levels and reservations.
-- The CHECK is the last line of defence: stock never goes below zero,
-- whatever a bug upstairs tries.
CREATE TABLE stock (
    book_id  INTEGER PRIMARY KEY,
    quantity INTEGER NOT NULL CHECK (quantity >= 0)
);

CREATE TABLE reservations (
    order_id   TEXT PRIMARY KEY,
    status     TEXT NOT NULL CHECK (status IN ('reserved', 'confirmed', 'released')),
    -- What was asked for, so a repeated request can be recognised.
    request    TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE reservation_lines (
    order_id TEXT    NOT NULL REFERENCES reservations (order_id),
    book_id  INTEGER NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, book_id)
);
