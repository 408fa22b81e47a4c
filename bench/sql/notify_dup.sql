-- notify_dup.sql (pgbench -M prepared): what gymd does with a notification
-- it has already applied (lib/payments.c apply_tx): find the transaction
-- recorded for this order (its out_trade_no resolved through payment_attempts
-- inside the statement) and amount, and answer without locking the order
-- or changing anything.  Keep in step with that file.
--   -D oid=, txid=   the paid order and its transaction
BEGIN;
SELECT 1 FROM payment_transactions WHERE transaction_id = :txid AND order_id = coalesce((SELECT t.order_id FROM payment_attempts t WHERE t.out_trade_no = :oid), :oid) AND amount_fen = 20000::int;
COMMIT;
