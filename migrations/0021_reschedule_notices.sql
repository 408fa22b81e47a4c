-- 0021: one class_rescheduled message per change, not per order: a class
-- moved twice tells its parents twice (each change enqueues once, in its
-- own transaction).  Every other kind stays one per order.
ALTER TABLE parent_notifications DROP CONSTRAINT parent_notifications_order_id_kind_key;
CREATE UNIQUE INDEX parent_notifications_once ON parent_notifications (order_id, kind)
    WHERE kind <> 'class_rescheduled';
