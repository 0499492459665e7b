-- The orders service owns these tables. Titles and prices are copied from
-- the catalog when the order is placed: an order keeps the price the
-- customer saw, even if the catalog changes it tomorrow.
CREATE TABLE orders (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    customer        TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    total_cents     INTEGER NOT NULL,
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- Idempotency: a retried POST with the same key finds this order.
    idempotency_key TEXT    UNIQUE,
    request_hash    TEXT
);

CREATE INDEX orders_customer ON orders (customer, id);

CREATE TABLE order_lines (
    order_id         INTEGER NOT NULL REFERENCES orders (id),
    line_no          INTEGER NOT NULL,
    book_id          INTEGER NOT NULL,
    title            TEXT    NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, line_no)
);
