-- recon_load.sql (psql, in the separate database gym_recon): n paid
-- payments of channel :'channel' (wechat or alipay; QR for Alipay) on China
-- day :'day', as a day's trade bill of n rows finds them: a parent each,
-- one class, order BR<i> (its attempt's out_trade_no),
-- transaction 42<i, 26 digits>, 200.00 yuan, paid during the day.  The rows
-- are consistent by construction, so the foreign-key triggers are skipped
-- for the load (the database is thrown away).
SET session_replication_role = replica;
BEGIN;
INSERT INTO users (id, openid, created_at, last_login_at) OVERRIDING SYSTEM VALUE
SELECT g, 'recon-' || g, now(), now() FROM generate_series(1, :n) g;
INSERT INTO course_schedules (id, course_name, starts_at, ends_at, capacity, created_at) OVERRIDING SYSTEM VALUE
VALUES (1, 'recon', now() + interval '2 days', now() + interval '2 days 1 hour', 10000, now());
INSERT INTO payment_orders (order_id, user_id, course_schedule_id, amount_fen, status, expires_at,
                            trade_type, paid_at, transaction_id, created_at, updated_at, out_trade_no,
                            payment_method)
SELECT 'BR' || lpad(g::text, 10, '0'), g, 1, 20000, 'paid', now(),
       CASE :'channel' WHEN 'alipay' THEN 'QR' ELSE 'NATIVE' END, now(),
       '42' || lpad(g::text, 26, '0'), now(), now(), 'BR' || lpad(g::text, 10, '0'), :'channel'
FROM generate_series(1, :n) g;
INSERT INTO payment_attempts (order_id, channel, trade_type, out_trade_no, state, time_expire,
                              transaction_id, created_at, updated_at, ended_at)
SELECT 'BR' || lpad(g::text, 10, '0'), :'channel',
       CASE :'channel' WHEN 'alipay' THEN 'QR' ELSE 'NATIVE' END, 'BR' || lpad(g::text, 10, '0'), 'paid',
       now(), '42' || lpad(g::text, 26, '0'), now(), now(), now()
FROM generate_series(1, :n) g;
INSERT INTO payment_transactions (transaction_id, order_id, trade_state, trade_type, amount_fen,
                                  success_time, source, outcome, payload, created_at)
SELECT '42' || lpad(g::text, 26, '0'), 'BR' || lpad(g::text, 10, '0'), 'SUCCESS',
       CASE :'channel' WHEN 'alipay' THEN 'QR' ELSE 'NATIVE' END, 20000,
       (:'day'::date::timestamp + make_interval(hours => (g / 3600) % 24, mins => (g / 60) % 60,
        secs => g % 60)) AT TIME ZONE 'Asia/Shanghai', 'query', 'paid', '{}', now()
FROM generate_series(1, :n) g;
COMMIT;
RESET session_replication_role;
VACUUM ANALYZE;
