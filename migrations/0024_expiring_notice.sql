-- 0024: a parent is told 7 days before a membership or a class pack's
-- credits run out (issue 15): kind entitlement_expiring, one per order (the
-- period's or the lot's), through wx.template_expiring.
ALTER TABLE parent_notifications DROP CONSTRAINT parent_notifications_kind_check;
ALTER TABLE parent_notifications ADD CONSTRAINT parent_notifications_kind_check
    CHECK (kind IN ('booking_confirmed', 'payment_failed', 'order_cancelled', 'refund_done',
                    'order_expired', 'waitlist_offer', 'class_rescheduled', 'class_cancelled',
                    'entitlement_expiring'));
