-- 0009: an Idempotency-Key in flight holds a lease (issue 13, finding 1).
--
-- locked_at is when the request that runs the key started (NULL once its
-- answer is stored).  A key whose request died (a killed worker, a lost
-- database connection) is taken over by a retry with the same request once
-- locked_at is older than idempotency_lease seconds, instead of answering
-- 409 for 24 hours; a retry inside the lease gets 409 at once.
-- Keys that were in flight when this runs start their lease at created_at.
ALTER TABLE idempotency_keys ADD COLUMN locked_at timestamptz;
UPDATE idempotency_keys SET locked_at = created_at WHERE status_code IS NULL;
