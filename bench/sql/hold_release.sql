-- hold_release.sql (pgbench -M prepared): the statements gymd runs for one
-- POST /bookings/seat-reserve and one DELETE /bookings/seat-release, in the
-- same order and the same two transactions (lib/holds.c hold_tx and
-- release_tx; lib/orders.c gym__expire_user_orders and
-- gym__user_open_order; lib/audit.c), so the rate pgbench gets is the
-- database's own limit for this path.  Times are now() where gymd passes
-- its clock as a parameter.  Keep in step with those files.
--   -D slo=, shi=  the classes (a random one each time)
--   -D ubase=      user ids ubase + client_id: one user per client
\set sid random(:slo, :shi)
\set uid :ubase + :client_id
\set zero 0
BEGIN;
SELECT starts_at > now() AS open FROM course_schedules WHERE id = :sid::bigint;
SELECT EXISTS (SELECT 1 FROM payment_orders WHERE user_id = :uid::bigint AND status = 'paid') OR EXISTS (SELECT 1 FROM bookings WHERE user_id = :uid::bigint AND status = 'confirmed') AS has;
SELECT order_id, reservation_id FROM payment_orders WHERE user_id = :uid::bigint AND status = 'pending' AND expires_at <= now() FOR UPDATE;
SELECT id FROM seat_reservations WHERE user_id = :uid::bigint AND status = 'temporary' AND expires_at <= now() FOR UPDATE;
SELECT r.id, r.course_schedule_id, r.user_id, r.status, (extract(epoch FROM r.expires_at) * 1000000)::bigint AS expires_us FROM seat_reservations r WHERE r.user_id = :uid::bigint AND r.status = 'temporary';
SELECT order_id, course_schedule_id FROM payment_orders WHERE user_id = :uid::bigint AND status = 'pending';
WITH seat AS (SELECT id FROM seats WHERE course_schedule_id = :sid::bigint AND (state = 'free' OR (state = 'held' AND held_until <= now())) ORDER BY seat_no LIMIT 1 FOR UPDATE SKIP LOCKED), res AS (INSERT INTO seat_reservations (user_id, course_schedule_id, seat_id, status, expires_at, created_at, updated_at) SELECT :uid::bigint, :sid::bigint, seat.id, 'temporary', now() + interval '15 minutes', now(), now() FROM seat RETURNING *), upd AS (UPDATE seats s SET state = 'held', reservation_id = res.id, held_until = res.expires_at FROM res WHERE s.id = res.seat_id RETURNING s.id) SELECT r.id AS rid, r.course_schedule_id, r.user_id, r.status, (extract(epoch FROM r.expires_at) * 1000000)::bigint AS expires_us FROM res r \gset
INSERT INTO payment_audit_log (entity, action_type, order_id, reservation_id, booking_id, actor_type, actor_id, client_ip, user_agent, request_id, old_status, new_status, request_snapshot, response_snapshot, created_at) VALUES ('hold', 'hold_created', NULL, :rid::bigint, NULL::bigint, 'user', :uid, '127.0.0.1', left('pgbench', 512), 'pgbench', NULL, 'temporary', '{"course_schedule_id":1}'::jsonb, '{"reservation_id":1,"course_schedule_id":1,"status":"temporary"}'::jsonb, now());
COMMIT;
BEGIN;
SELECT r.id, r.course_schedule_id, r.user_id, r.status, (extract(epoch FROM r.expires_at) * 1000000)::bigint AS expires_us, r.seat_id, (r.status = 'temporary' AND r.expires_at > now() AND EXISTS (SELECT 1 FROM seats s WHERE s.id = r.seat_id AND s.reservation_id = r.id)) AS live FROM seat_reservations r WHERE r.id = :rid::bigint AND (:uid::bigint = 0 OR r.user_id = :uid::bigint) FOR UPDATE OF r;
SELECT r.id, r.course_schedule_id, r.user_id, r.status, (extract(epoch FROM r.expires_at) * 1000000)::bigint AS expires_us, r.seat_id, (r.status = 'temporary' AND r.expires_at > now() AND EXISTS (SELECT 1 FROM seats s WHERE s.id = r.seat_id AND s.reservation_id = r.id)) AS live FROM seat_reservations r WHERE r.id = :rid::bigint AND (:zero::bigint = 0 OR r.user_id = :zero::bigint) FOR UPDATE OF r;
UPDATE seat_reservations SET status = 'cancelled', updated_at = now() WHERE id = :rid::bigint AND status = 'temporary' RETURNING seat_id \gset
UPDATE seats SET state = 'free', reservation_id = NULL, held_until = NULL WHERE id = :seat_id::bigint AND reservation_id = :rid::bigint;
INSERT INTO payment_audit_log (entity, action_type, order_id, reservation_id, booking_id, actor_type, actor_id, client_ip, user_agent, request_id, old_status, new_status, request_snapshot, response_snapshot, created_at) VALUES ('hold', 'hold_released', NULL, :rid::bigint, NULL::bigint, 'user', :uid, '127.0.0.1', left('pgbench', 512), 'pgbench', 'temporary', 'cancelled', NULL::jsonb, '{"reservation_id":1,"course_schedule_id":1,"status":"cancelled"}'::jsonb, now());
SELECT r.id, r.course_schedule_id, r.user_id, r.status, (extract(epoch FROM r.expires_at) * 1000000)::bigint AS expires_us, r.seat_id, (r.status = 'temporary' AND r.expires_at > now() AND EXISTS (SELECT 1 FROM seats s WHERE s.id = r.seat_id AND s.reservation_id = r.id)) AS live FROM seat_reservations r WHERE r.id = :rid::bigint AND (:uid::bigint = 0 OR r.user_id = :uid::bigint) FOR UPDATE OF r;
COMMIT;
