-- 0012: a parent is told when their order expired unpaid (the seat went
-- back), as for a failed or cancelled payment: kind order_expired.
ALTER TABLE parent_notifications DROP CONSTRAINT parent_notifications_kind_check;
ALTER TABLE parent_notifications ADD CONSTRAINT parent_notifications_kind_check
    CHECK (kind IN ('booking_confirmed', 'payment_failed', 'order_cancelled', 'refund_done',
                    'order_expired'));
