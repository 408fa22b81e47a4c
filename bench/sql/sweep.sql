-- sweep.sql (pgbench -M prepared, -c 2 -j 2 as two job processes): one
-- batch of the expiry sweep, the statement lib/sweep.c runs (st_holds),
-- now() for its clock.  It writes no seat row and the audit row carries no
-- response_snapshot.
--   -D batch=   rows per batch (the job's sweep_batch)
WITH upd AS (UPDATE seat_reservations SET status = 'expired', updated_at = now() WHERE id = ANY(ARRAY(SELECT id FROM seat_reservations WHERE status = 'temporary' AND expires_at <= now() ORDER BY expires_at LIMIT :batch::int FOR UPDATE SKIP LOCKED)) RETURNING id), audit AS (INSERT INTO payment_audit_log (entity, action_type, reservation_id, actor_type, old_status, new_status, created_at) SELECT 'hold', 'hold_expired', id, 'system', 'temporary', 'expired', now() FROM upd RETURNING 1) SELECT (SELECT count(*) FROM upd) AS n, (SELECT count(*) FROM audit) AS a;
