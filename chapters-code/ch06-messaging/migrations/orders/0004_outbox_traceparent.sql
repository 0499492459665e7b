-- Chapter 7: each event keeps the W3C `traceparent` of the transaction
-- that wrote it, so the relay can publish it as part of the same trace.
-- NULL when nothing was traced (chapter 6 alone, or a background retry).
ALTER TABLE outbox ADD COLUMN traceparent TEXT;
