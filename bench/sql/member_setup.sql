-- member_setup.sql (psql): what scenario 10 books on: regular classes
-- (members book them with a membership or a credit) in two days, 1,000 of
-- spread_cap seats and one hot one of hot_cap seats, and a lot of credits
-- (with its ledger grant, as an operator's adjustment leaves one) for every
-- parent in [ulo, uhi].  Prints the classes' id range and the hot class.
BEGIN;
INSERT INTO course_schedules (course_name, starts_at, ends_at, capacity, created_at, kind)
SELECT 'bench-mspread-' || g, now() + interval '2 days', now() + interval '2 days 1 hour',
       :spread_cap, now(), 'regular'
FROM generate_series(1, :spread) g ORDER BY g;
INSERT INTO course_schedules (course_name, starts_at, ends_at, capacity, created_at, kind)
VALUES ('bench-mhot', now() + interval '2 days', now() + interval '2 days 1 hour', :hot_cap, now(),
        'regular');
INSERT INTO seats (course_schedule_id, seat_no)
SELECT s.id, g FROM course_schedules s, generate_series(1, s.capacity) g
WHERE s.course_name LIKE 'bench-m%' ORDER BY s.id, g;
INSERT INTO credit_lots (user_id, credits, expires_at, created_at)
SELECT id, 1000, now() + interval '90 days', now() FROM users
WHERE id BETWEEN :ulo AND :uhi ORDER BY id;
INSERT INTO credit_ledger (user_id, lot_id, kind, delta, reason, created_at)
SELECT user_id, id, 'adjust', credits, 'bench', created_at FROM credit_lots
WHERE user_id BETWEEN :ulo AND :uhi AND order_id IS NULL ORDER BY id;
COMMIT;
ANALYZE;
SELECT (SELECT min(id) FROM course_schedules WHERE course_name LIKE 'bench-mspread-%'),
       (SELECT max(id) FROM course_schedules WHERE course_name LIKE 'bench-mspread-%'),
       (SELECT id FROM course_schedules WHERE course_name = 'bench-mhot');
