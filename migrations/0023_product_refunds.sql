-- 0023: refunds of product orders in part (issue 15).  A membership or class
-- pack order may be refunded several times, each with its own out_refund_no
-- ("RF<order_id>-n"), up to what was paid; the sum is checked under the
-- order's row lock (lib/product_refunds.c).  So a refund's amount is any
-- positive number of fen, and only one refund per order may be in flight
-- (pending, processing, abnormal); a trial order still has one live or done
-- refund, by the code's check under the same lock (lib/refunds.c).  The
-- entitlement is reversed in the transaction that records a refund's success.
ALTER TABLE refunds DROP CONSTRAINT refunds_amount_fen_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_amount_fen_check CHECK (amount_fen > 0);
DROP INDEX refunds_one_per_order;
CREATE UNIQUE INDEX refunds_one_per_order ON refunds (order_id)
    WHERE status IN ('pending', 'processing', 'abnormal');
