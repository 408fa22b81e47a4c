-- 0018: live push (issue 17).  What a client should see next is written in
-- the same transaction as the change that caused it, into push_outbox; the
-- job process publishes it to nginx's Nchan after the commit (never
-- before: an uncommitted row is not visible to it) and deletes it.  A
-- trigger writes the rows, so every path that changes an order or a
-- refund (worker, job, gymctl, a late notification) is covered without a
-- call of its own.  The job looks for rows every 100 ms between its runs
-- (no NOTIFY: it takes a lock that would serialise every payment's commit
-- through its disk flush).
-- The version a client sees is the row's id: it grows with every change of
-- one order, whose changes are serialised by the order's row lock.
CREATE TABLE push_outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel    text NOT NULL CHECK (channel ~ '^[0-9A-Za-z_-]{1,80}$'),
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The seat counts last published per class (the job's class pass publishes
-- a class when its count differs; a lapsed hold changes the count with no
-- write, so counts are compared, not changes caught).
CREATE TABLE push_class_counts (
    course_schedule_id bigint PRIMARY KEY REFERENCES course_schedules (id),
    available          integer NOT NULL
);

CREATE FUNCTION push_order_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    msg jsonb := jsonb_build_object(
        'type', 'order', 'order_id', NEW.order_id, 'status', NEW.status,
        'course_schedule_id', NEW.course_schedule_id, 'amount_fen', NEW.amount_fen,
        'paid_at', NEW.paid_at, 'updated_at', NEW.updated_at);
BEGIN
    INSERT INTO push_outbox (channel, payload)
        VALUES ('order-' || NEW.order_id, msg), ('console', msg);
    RETURN NULL;
END $$;

CREATE TRIGGER payment_orders_push_insert AFTER INSERT ON payment_orders
    FOR EACH ROW EXECUTE FUNCTION push_order_changed();
CREATE TRIGGER payment_orders_push_update AFTER UPDATE OF status ON payment_orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION push_order_changed();

CREATE FUNCTION push_refund_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO push_outbox (channel, payload)
        VALUES ('console', jsonb_build_object(
            'type', 'refund', 'out_refund_no', NEW.out_refund_no, 'order_id', NEW.order_id,
            'status', NEW.status, 'amount_fen', NEW.amount_fen, 'reason', NEW.reason,
            'initiated_by', NEW.initiated_by));
    RETURN NULL;
END $$;

CREATE TRIGGER refunds_push_insert AFTER INSERT ON refunds
    FOR EACH ROW EXECUTE FUNCTION push_refund_changed();
CREATE TRIGGER refunds_push_update AFTER UPDATE OF status ON refunds
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION push_refund_changed();
