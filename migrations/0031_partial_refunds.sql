-- 0031: partial refunds of trial orders too (issue 16; 0023 allowed them for
-- products).  An operator may give back part of an order and the rest
-- later: a refund's amount is any positive number of fen, an order has at
-- most one refund in flight (pending, processing, abnormal), and successful
-- ones add up to at most the order's own amount (checked under the order's
-- lock, lib/refunds.c and lib/product_refunds.c).
ALTER TABLE refunds DROP CONSTRAINT refunds_amount_fen_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_amount_fen_check
    CHECK (amount_fen > 0);
DROP INDEX refunds_one_per_order;
CREATE UNIQUE INDEX refunds_one_in_flight ON refunds (order_id)
    WHERE status IN ('pending', 'processing', 'abnormal');
