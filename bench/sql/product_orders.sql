-- product_orders.sql (psql): n parents, each with a pending order for a
-- product, prepaid with JSAPI, as POST /payment/orders/create {product_id}
-- and POST /payment/wxpay/prepay leave them: the state a fresh payment
-- notification finds.  Odd orders buy the membership plan, even ones the
-- class pack (both priced 300.00, so every notification says one amount).
-- Variables: tag (parents bench-<tag>-N), prefix (order ids: prefix + 8
-- digits, 1..n), n, plan, pack (product ids).
BEGIN;
INSERT INTO users (openid, created_at, last_login_at)
SELECT 'bench-' || :'tag' || '-' || g, now(), now() FROM generate_series(1, :n) g ORDER BY g;
INSERT INTO payment_orders (order_id, user_id, product_id, amount_fen, status, expires_at,
    created_at, updated_at)
SELECT :'prefix' || lpad(g::text, 8, '0'), u.id, p.id, p.price_fen, 'pending',
       now() + interval '30 minutes', now(), now()
FROM generate_series(1, :n) g
JOIN users u ON u.openid = 'bench-' || :'tag' || '-' || g
JOIN products p ON p.id = CASE WHEN g % 2 = 1 THEN :plan ELSE :pack END ORDER BY g;
UPDATE payment_orders SET trade_type = 'JSAPI', prepay_id = 'wx-bench-' || order_id, prepay_at = now(),
       wx_time_expire = expires_at, out_trade_no = order_id
WHERE order_id LIKE :'prefix' || '%' AND status = 'pending';
INSERT INTO payment_attempts (order_id, channel, trade_type, out_trade_no, state, prepay_id,
    time_expire, created_at, updated_at)
SELECT order_id, payment_method, 'JSAPI', order_id, 'open', prepay_id, wx_time_expire, now(), now()
FROM payment_orders WHERE order_id LIKE :'prefix' || '%' AND status = 'pending' ORDER BY id;
COMMIT;
ANALYZE;
