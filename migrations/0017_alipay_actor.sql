-- 0017: Alipay's notifications are audited as what they are: actor 'alipay',
-- beside 'wechat' (refused and applied payment notifications).
ALTER TABLE payment_audit_log DROP CONSTRAINT payment_audit_log_actor_type_check;
ALTER TABLE payment_audit_log ADD CONSTRAINT payment_audit_log_actor_type_check
    CHECK (actor_type IN ('user', 'operator', 'system', 'wechat', 'alipay'));
