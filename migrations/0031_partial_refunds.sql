-- 0031: partial refunds (issue 16).  An operator may give back part of an
-- order's 200.00, and the rest later: a refund's amount is 1..20000 fen, and
-- an order has at most one refund in flight (pending, processing, abnormal)
-- instead of one that is not closed; successful ones add up to at most the
-- order's amount (checked under the order's lock, lib/refunds.c).
ALTER TABLE refunds DROP CONSTRAINT refunds_amount_fen_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_amount_fen_check
    CHECK (amount_fen BETWEEN 1 AND 20000);
DROP INDEX refunds_one_per_order;
CREATE UNIQUE INDEX refunds_one_in_flight ON refunds (order_id)
    WHERE status IN ('pending', 'processing', 'abnormal');
