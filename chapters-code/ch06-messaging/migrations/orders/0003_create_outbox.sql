-- Chapter 6: the transactional outbox, in the orders database (after
-- chapter 2's migration 0001 and chapter 5's 0002).
--
-- An event is a row here, written in the same transaction as the change
-- it reports; the relay publishes pending rows to RabbitMQ and marks them
-- sent after the broker confirms. No change without its event, and no
-- event for a change that rolled back.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT    NOT NULL UNIQUE,
    routing_key TEXT    NOT NULL,
    -- The whole message: a CloudEvents envelope in JSON.
    envelope    TEXT    NOT NULL,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- NULL until the broker confirmed the message.
    sent_at     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;

-- The events are written by triggers, so that every code path that places
-- or settles an order (chapter 2's insert, chapter 5's saga) writes its
-- event in its own transaction, without a line of it knowing.
CREATE TRIGGER outbox_order_placed AFTER INSERT ON orders
BEGIN
    INSERT INTO outbox (event_id, routing_key, envelope)
    SELECT event.id, 'order.placed', json_object(
        'specversion', '1.0',
        'id', event.id,
        'type', 'order.placed',
        'source', '/orders',
        'subject', CAST(NEW.id AS TEXT),
        'time', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
        'datacontenttype', 'application/json',
        'data', json_object(
            'order_id', NEW.id,
            'customer', NEW.customer,
            'status', NEW.status,
            'total_cents', NEW.total_cents
        )
    )
    FROM (SELECT lower(hex(randomblob(16))) AS id) AS event;
END;

CREATE TRIGGER outbox_order_settled AFTER UPDATE OF status ON orders
WHEN NEW.status IN ('confirmed', 'cancelled') AND OLD.status <> NEW.status
BEGIN
    INSERT INTO outbox (event_id, routing_key, envelope)
    SELECT event.id, 'order.' || NEW.status, json_object(
        'specversion', '1.0',
        'id', event.id,
        'type', 'order.' || NEW.status,
        'source', '/orders',
        'subject', CAST(NEW.id AS TEXT),
        'time', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
        'datacontenttype', 'application/json',
        'data', json_object(
            'order_id', NEW.id,
            'customer', NEW.customer,
            'status', NEW.status,
            'total_cents', NEW.total_cents,
            'reason', (SELECT reason FROM checkout_sagas WHERE order_id = NEW.id)
        )
    )
    FROM (SELECT lower(hex(randomblob(16))) AS id) AS event;
END;
