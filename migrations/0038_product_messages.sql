-- 0038: a parent is told that a membership or class pack was paid (kind
-- product_paid, wx.template_purchased), once per order, in the payment's
-- transaction; its refund uses refund_done as a trial's does.
ALTER TABLE parent_notifications DROP CONSTRAINT parent_notifications_kind_check;
ALTER TABLE parent_notifications ADD CONSTRAINT parent_notifications_kind_check
    CHECK (kind IN ('booking_confirmed', 'payment_failed', 'order_cancelled', 'refund_done',
                    'order_expired', 'waitlist_offer', 'class_rescheduled', 'class_cancelled',
                    'entitlement_expiring', 'product_paid'));
