-- 0002: bookkeeping for the reconciliation job: when an order was last
-- asked about at WeChat, and when its WeChat order was closed after it
-- ended here.  Partial indexes serve the job's claims.
ALTER TABLE payment_orders ADD COLUMN reconciled_at timestamptz;
CREATE INDEX payment_orders_to_close ON payment_orders (updated_at)
    WHERE prepay_at IS NOT NULL AND wx_closed_at IS NULL
      AND status IN ('expired', 'cancelled', 'failed');
