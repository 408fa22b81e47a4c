-- orders.sql (psql): n parents, each with a live hold on its own seat and a
-- pending order for it, as POST /payment/orders/create and a JSAPI prepay
-- (POST /payment/wxpay/prepay) leave them: the
-- state a fresh payment notification finds.  Variables: tag (names: classes
-- bench-<tag>-K of up to 5,000 seats, parents bench-<tag>-N), prefix (order
-- ids: prefix + 8 digits, 1..n), n.
BEGIN;
CREATE TEMP TABLE o AS
SELECT g, (g - 1) / 5000 + 1 AS k, (g - 1) % 5000 + 1 AS seat_no FROM generate_series(1, :n) g;
INSERT INTO course_schedules (course_name, starts_at, ends_at, capacity, created_at)
SELECT 'bench-' || :'tag' || '-' || k, now() + interval '2 days', now() + interval '2 days 1 hour',
       count(*), now()
FROM o GROUP BY k ORDER BY k;
INSERT INTO seats (course_schedule_id, seat_no)
SELECT s.id, o.seat_no FROM o JOIN course_schedules s ON s.course_name = 'bench-' || :'tag' || '-' || o.k
ORDER BY o.g;
INSERT INTO users (openid, created_at, last_login_at)
SELECT 'bench-' || :'tag' || '-' || g, now(), now() FROM o ORDER BY g;
INSERT INTO seat_reservations (user_id, course_schedule_id, seat_id, status, expires_at, created_at, updated_at)
SELECT u.id, t.course_schedule_id, t.id, 'temporary', now() + interval '15 minutes', now(), now()
FROM o
JOIN users u ON u.openid = 'bench-' || :'tag' || '-' || o.g
JOIN course_schedules s ON s.course_name = 'bench-' || :'tag' || '-' || o.k
JOIN seats t ON t.course_schedule_id = s.id AND t.seat_no = o.seat_no ORDER BY o.g;
UPDATE seats t SET state = 'held', reservation_id = r.id, held_until = r.expires_at
FROM seat_reservations r, users u
WHERE r.seat_id = t.id AND r.status = 'temporary' AND u.id = r.user_id
AND u.openid LIKE 'bench-' || :'tag' || '-%';
INSERT INTO payment_orders (order_id, user_id, course_schedule_id, reservation_id, amount_fen,
    status, expires_at, created_at, updated_at)
SELECT :'prefix' || lpad(o.g::text, 8, '0'), r.user_id, r.course_schedule_id, r.id, 20000,
       'pending', now() + interval '30 minutes', now(), now()
FROM o
JOIN users u ON u.openid = 'bench-' || :'tag' || '-' || o.g
JOIN seat_reservations r ON r.user_id = u.id AND r.status = 'temporary' ORDER BY o.g;
-- prepaid (lib/orders.c st_prepay, st_attempt): a JSAPI attempt under the
-- order id, open, as the payment page leaves it
UPDATE payment_orders SET trade_type = 'JSAPI', prepay_id = 'wx-bench-' || order_id, prepay_at = now(),
       wx_time_expire = expires_at, out_trade_no = order_id
WHERE order_id LIKE :'prefix' || '%' AND status = 'pending';
INSERT INTO payment_attempts (order_id, channel, trade_type, out_trade_no, state, prepay_id,
    time_expire, created_at, updated_at)
SELECT order_id, payment_method, 'JSAPI', order_id, 'open', prepay_id, wx_time_expire, now(), now()
FROM payment_orders WHERE order_id LIKE :'prefix' || '%' AND status = 'pending' ORDER BY id;
DROP TABLE o;
COMMIT;
ANALYZE;
