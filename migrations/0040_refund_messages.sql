-- 0040: a refund's message (refund_done) is one per refund, not one per
-- order: an order refunded in two parts tells its parent twice, each with
-- that refund's amount.  Rows from before keep refund_id NULL.
ALTER TABLE parent_notifications ADD COLUMN refund_id bigint REFERENCES refunds (id);
DROP INDEX parent_notifications_once;
CREATE UNIQUE INDEX parent_notifications_once ON parent_notifications (order_id, kind)
    WHERE kind NOT IN ('class_rescheduled', 'refund_done');
CREATE UNIQUE INDEX parent_notifications_refund ON parent_notifications (refund_id)
    WHERE kind = 'refund_done';
