-- 0008: the channel an order is paid through, and one row per payment
-- attempt.  An attempt is one prepay at a channel under its own
-- out_trade_no: the first is the order id (as before), a later one with
-- another trade type gets the order id and a suffix, and the one it
-- replaces is closed at the channel first.  payment_orders.out_trade_no is
-- the order's current attempt (or, once paid, the one that paid): what the
-- job asks about, closes and refunds; NULL until the first prepay, which
-- means the order id.  Failed, closed and superseded
-- attempts keep their row with the channel's error code and message.
ALTER TABLE payment_orders
    ADD COLUMN payment_method text NOT NULL DEFAULT 'wechat' CHECK (payment_method IN ('wechat')),
    ADD COLUMN out_trade_no text;

CREATE TABLE payment_attempts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id       text NOT NULL REFERENCES payment_orders (order_id),
    channel        text NOT NULL CHECK (channel IN ('wechat')),
    trade_type     text NOT NULL CHECK (trade_type IN ('JSAPI', 'NATIVE')),
    out_trade_no   text NOT NULL UNIQUE CHECK (out_trade_no ~ '^[0-9A-Za-z_-]{6,32}$'),
    state          text NOT NULL CHECK (state IN ('open', 'paid', 'failed', 'closed', 'superseded')),
    prepay_id      text,
    code_url       text,
    time_expire    timestamptz NOT NULL,
    transaction_id text,
    error_code     text,
    error_message  text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    ended_at       timestamptz,
    CHECK ((state = 'open') = (ended_at IS NULL))
);
CREATE INDEX payment_attempts_order ON payment_attempts (order_id, id);
-- at most one attempt an order can still be paid through
CREATE UNIQUE INDEX payment_attempts_one_open ON payment_attempts (order_id) WHERE state = 'open';

-- the orders that were prepaid before attempts existed: one attempt each
INSERT INTO payment_attempts (order_id, channel, trade_type, out_trade_no, state, prepay_id,
                              code_url, time_expire, transaction_id, created_at, updated_at,
                              ended_at)
SELECT order_id, 'wechat', trade_type, order_id,
       CASE WHEN transaction_id IS NOT NULL THEN 'paid'
            WHEN status = 'pending' THEN 'open'
            WHEN status = 'failed' THEN 'failed'
            ELSE 'closed' END,
       prepay_id, code_url, coalesce(wx_time_expire, expires_at), transaction_id,
       prepay_at, updated_at,
       CASE WHEN transaction_id IS NULL AND status = 'pending' THEN NULL ELSE updated_at END
  FROM payment_orders
 WHERE prepay_at IS NOT NULL AND trade_type IS NOT NULL;

ALTER TABLE payment_audit_log DROP CONSTRAINT payment_audit_log_entity_check;
ALTER TABLE payment_audit_log ADD CONSTRAINT payment_audit_log_entity_check
    CHECK (entity IN ('order', 'hold', 'booking', 'payment', 'refund', 'notification', 'schedule',
                      'operator', 'attempt'));

-- a second payment for an order another attempt already paid (the channel
-- closed the first too late): recorded, audited as needing an operator,
-- never silently taken as a duplicate
ALTER TABLE payment_transactions DROP CONSTRAINT payment_transactions_outcome_check;
ALTER TABLE payment_transactions ADD CONSTRAINT payment_transactions_outcome_check
    CHECK (outcome IN ('paid', 'late_paid', 'late_refunded', 'duplicate_refunded', 'unapplied'));
