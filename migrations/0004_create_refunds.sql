-- 0004: refunds.  Always the whole 200.00 of one order.  out_refund_no is
-- the refund's name at WeChat and never changes: every retry of the create
-- call sends the same one, so WeChat makes the refund once however often it
-- is asked.  At most one refund per order is live or done (pending,
-- processing, abnormal or success: the partial unique index); only after
-- WeChat closed one may an operator start another, which gets the next
-- out_refund_no ("RF<order_id>", then "RF<order_id>-2", ...).
CREATE TABLE refunds (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    out_refund_no       text NOT NULL UNIQUE CHECK (out_refund_no ~ '^[0-9A-Za-z_-]{1,64}$'),
    order_id            text NOT NULL REFERENCES payment_orders (order_id),
    attempt             integer NOT NULL CHECK (attempt >= 1),
    amount_fen          integer NOT NULL CHECK (amount_fen = 20000),
    reason              text NOT NULL CHECK (length(reason) BETWEEN 1 AND 80),
    initiated_by        text NOT NULL CHECK (initiated_by IN ('operator', 'system')),
    operator_id         bigint,
    -- the order's status when the refund was asked for: a closed refund
    -- puts a 'paid' order back to 'paid'
    order_status_before text NOT NULL CHECK (order_status_before IN ('paid', 'refunding')),
    status              text NOT NULL CHECK (status IN ('pending', 'processing', 'success',
                                                         'closed', 'abnormal')),
    wx_refund_id        text,
    wx_status           text,
    next_action         text,
    last_error          text,
    -- create calls the job made (pending) and when it may try again
    send_attempts       integer NOT NULL DEFAULT 0,
    next_send_at        timestamptz,
    -- when the job last asked WeChat about it (processing, abnormal)
    polled_at           timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    completed_at        timestamptz,
    UNIQUE (order_id, attempt),
    CHECK ((initiated_by = 'operator') = (operator_id IS NOT NULL)),
    CHECK ((status IN ('success', 'closed')) = (completed_at IS NOT NULL))
);
CREATE UNIQUE INDEX refunds_one_per_order ON refunds (order_id)
    WHERE status IN ('pending', 'processing', 'success', 'abnormal');
-- the job's claims: refunds still to be sent, and refunds to ask WeChat about
CREATE INDEX refunds_to_send ON refunds (created_at) WHERE status = 'pending';
CREATE INDEX refunds_to_poll ON refunds (updated_at) WHERE status IN ('processing', 'abnormal');
-- the operators' list: newest first, by status
CREATE INDEX refunds_status ON refunds (status, id);
CREATE INDEX refunds_created ON refunds (created_at, id);
-- automatic refunds: orders being refunded that may have no refund yet
CREATE INDEX payment_orders_refunding ON payment_orders (updated_at) WHERE status = 'refunding';
