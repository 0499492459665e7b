-- Whose notification it is: the customer named in the order event. The
-- API shows a caller only their own; rows from before this column have
-- no owner and are shown to no one.
ALTER TABLE notifications ADD COLUMN customer TEXT;

CREATE INDEX notifications_customer_order ON notifications (customer, order_id, id);
