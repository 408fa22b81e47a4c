-- setup.sql (psql): the classes and parents make bench runs on, in a fresh
-- database.  Variables: spread (classes), spread_cap (seats each),
-- hot_cap, users.  Classes start in two days; names say what they are for.
BEGIN;
INSERT INTO course_schedules (course_name, starts_at, ends_at, capacity, created_at)
SELECT 'bench-spread-' || g, now() + interval '2 days', now() + interval '2 days 1 hour',
       :spread_cap, now()
FROM generate_series(1, :spread) g ORDER BY g;
INSERT INTO course_schedules (course_name, starts_at, ends_at, capacity, created_at) VALUES
 ('bench-hot', now() + interval '2 days', now() + interval '2 days 1 hour', :hot_cap, now()),
 ('bench-race', now() + interval '2 days', now() + interval '2 days 1 hour', 10, now());
INSERT INTO seats (course_schedule_id, seat_no)
SELECT s.id, g FROM course_schedules s, generate_series(1, s.capacity) g ORDER BY s.id, g;
INSERT INTO users (openid, created_at, last_login_at)
SELECT 'bench-u-' || g, now(), now() FROM generate_series(1, :users) g ORDER BY g;
COMMIT;
VACUUM ANALYZE;
SELECT (SELECT min(id) FROM course_schedules WHERE course_name LIKE 'bench-spread-%') AS spread_lo,
       (SELECT max(id) FROM course_schedules WHERE course_name LIKE 'bench-spread-%') AS spread_hi,
       (SELECT id FROM course_schedules WHERE course_name = 'bench-hot') AS hot,
       (SELECT id FROM course_schedules WHERE course_name = 'bench-race') AS race,
       (SELECT min(id) FROM users WHERE openid LIKE 'bench-u-%') AS user_lo,
       (SELECT max(id) FROM users WHERE openid LIKE 'bench-u-%') AS user_hi;
