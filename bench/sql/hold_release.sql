-- hold_release.sql (pgbench -M prepared): the statements gymd runs for one
-- POST /bookings/seat-reserve and one DELETE /bookings/seat-release in the
-- common case (no lapsed hold or order to expire first, no hold yet), in
-- the same order and the same two transactions (lib/holds.c hold_tx and
-- release_tx): hold = BEGIN, one check, the claim with its audit row,
-- COMMIT; release = BEGIN, the lock, the end with its seat and audit row,
-- COMMIT.  gymd opens both with SET LOCAL synchronous_commit = off in the
-- BEGIN's round trip; bench/scenarios.sh gives pgbench the same through
-- PGOPTIONS.  Times are now() where gymd passes its clock as a parameter.
-- Keep in step with lib/holds.c.
--   -D slo=, shi=  the classes (a random one each time)
--   -D ubase=      user ids ubase + client_id: one user per client
\set sid random(:slo, :shi)
\set uid :ubase + :client_id
\set zero 0
BEGIN;
SELECT (SELECT starts_at > now() FROM course_schedules WHERE id = :sid::bigint) AS open, EXISTS (SELECT 1 FROM payment_orders WHERE user_id = :uid::bigint AND status = 'paid') OR EXISTS (SELECT 1 FROM bookings WHERE user_id = :uid::bigint AND status = 'confirmed') AS has, EXISTS (SELECT 1 FROM payment_orders WHERE user_id = :uid::bigint AND status = 'pending' AND expires_at <= now()) OR EXISTS (SELECT 1 FROM seat_reservations WHERE user_id = :uid::bigint AND status = 'temporary' AND expires_at <= now()) AS lapsed, EXISTS (SELECT 1 FROM seat_reservations WHERE user_id = :uid::bigint AND status = 'temporary') AS held, (SELECT course_schedule_id FROM payment_orders WHERE user_id = :uid::bigint AND status = 'pending' LIMIT 1) AS open_sid;
WITH seat AS (SELECT id FROM seats WHERE course_schedule_id = :sid::bigint AND (state = 'free' OR (state = 'held' AND held_until <= now())) ORDER BY seat_no LIMIT 1 FOR UPDATE SKIP LOCKED), res AS (INSERT INTO seat_reservations (user_id, course_schedule_id, seat_id, status, expires_at, created_at, updated_at) SELECT :uid::bigint, :sid::bigint, seat.id, 'temporary', now() + interval '15 minutes', now(), now() FROM seat RETURNING *), upd AS (UPDATE seats s SET state = 'held', reservation_id = res.id, held_until = res.expires_at FROM res WHERE s.id = res.seat_id RETURNING s.id), aud AS (INSERT INTO payment_audit_log (entity, action_type, order_id, reservation_id, booking_id, actor_type, actor_id, client_ip, user_agent, request_id, old_status, new_status, request_snapshot, response_snapshot, created_at) SELECT 'hold', 'hold_created', NULL, res.id, NULL, 'user', :uid, '127.0.0.1', left('pgbench', 512), 'pgbench', NULL, 'temporary', '{"course_schedule_id":1}'::jsonb, jsonb_build_object('reservation_id', res.id, 'course_schedule_id', res.course_schedule_id, 'status', 'temporary'), now() FROM res) SELECT r.id AS rid, r.course_schedule_id, r.user_id, r.status, (extract(epoch FROM r.expires_at) * 1000000)::bigint AS expires_us FROM res r \gset
COMMIT;
BEGIN;
SELECT r.id, r.course_schedule_id, r.user_id, r.status, (extract(epoch FROM r.expires_at) * 1000000)::bigint AS expires_us, r.seat_id, (r.status = 'temporary' AND r.expires_at > now() AND EXISTS (SELECT 1 FROM seats s WHERE s.id = r.seat_id AND s.reservation_id = r.id)) AS live FROM seat_reservations r WHERE r.id = :rid::bigint AND (:uid::bigint = 0 OR r.user_id = :uid::bigint) FOR UPDATE OF r;
WITH e AS (UPDATE seat_reservations SET status = 'cancelled'::text, updated_at = now() WHERE id = :rid::bigint AND status = 'temporary' RETURNING id, seat_id, course_schedule_id), s AS (UPDATE seats SET state = CASE WHEN 'cancelled'::text = 'confirmed' THEN 'confirmed' ELSE 'free' END, reservation_id = CASE WHEN 'cancelled'::text = 'confirmed' THEN reservation_id END, held_until = NULL WHERE id = (SELECT seat_id FROM e) AND reservation_id = :rid::bigint RETURNING id), a AS (INSERT INTO payment_audit_log (entity, action_type, order_id, reservation_id, booking_id, actor_type, actor_id, client_ip, user_agent, request_id, old_status, new_status, request_snapshot, response_snapshot, created_at) SELECT 'hold', 'hold_released', NULL, e.id, NULL, 'user', :uid, '127.0.0.1', left('pgbench', 512), 'pgbench', 'temporary', 'cancelled'::text, NULL::jsonb, jsonb_build_object('reservation_id', e.id, 'course_schedule_id', e.course_schedule_id, 'status', 'cancelled'::text), now() FROM e RETURNING 1) SELECT (SELECT count(*) FROM e) AS n;
COMMIT;
