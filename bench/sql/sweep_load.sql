-- sweep_load.sql (psql, in the separate database gym_sweep): n lapsed
-- holds as the sweep finds them: 'temporary' with expires_at in the past,
-- each holding its own seat (state 'held', held_until = expires_at), one
-- parent each, spread over classes of per seats.  Ids are given, so the
-- seats are written once, already held (the database is thrown away).
-- The rows are consistent by construction, so the foreign-key triggers are
-- skipped for the load (half the load time; gym is the cluster's superuser).
SET session_replication_role = replica;
BEGIN;
INSERT INTO users (id, openid, created_at, last_login_at) OVERRIDING SYSTEM VALUE
SELECT g, 'sweep-' || g, now(), now() FROM generate_series(1, :n) g;
INSERT INTO course_schedules (id, course_name, starts_at, ends_at, capacity, created_at) OVERRIDING SYSTEM VALUE
SELECT g, 'sweep-' || g, now() + interval '2 days', now() + interval '2 days 1 hour', :per, now()
FROM generate_series(1, (:n + :per - 1) / :per) g;
INSERT INTO seat_reservations (id, user_id, course_schedule_id, seat_id, status, expires_at, created_at, updated_at) OVERRIDING SYSTEM VALUE
SELECT g, g, (g - 1) / :per + 1, g, 'temporary', now() - interval '1 hour' + g * interval '1 microsecond',
       now() - interval '2 hours', now() - interval '2 hours'
FROM generate_series(1, :n) g;
INSERT INTO seats (id, course_schedule_id, seat_no, state, reservation_id, held_until) OVERRIDING SYSTEM VALUE
SELECT g, (g - 1) / :per + 1, (g - 1) % :per + 1, 'held', g, now() - interval '1 hour' + g * interval '1 microsecond'
FROM generate_series(1, :n) g;
COMMIT;
RESET session_replication_role;
VACUUM ANALYZE;
