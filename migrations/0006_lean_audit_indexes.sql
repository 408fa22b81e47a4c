-- 0006: fewer and smaller payment_audit_log indexes, for the expiry sweep,
-- which writes one audit row per lapsed hold (a million rows in a backlog;
-- make bench, scenario 5).  Each index dropped is one less index entry per
-- audit row.  Plain statements: gymctl migrate runs a file in one
-- transaction, where CREATE INDEX CONCURRENTLY is not allowed; on a large
-- log the CREATE INDEX below holds a SHARE lock on the table (audit writes
-- wait) while it builds, so apply it in a quiet moment.
--
-- payment_audit_log_action: nothing reads by action_type alone through it;
-- the admin audit list filters action_type beside ORDER BY id DESC LIMIT
-- and walks the primary key backwards.
DROP INDEX payment_audit_log_action;

-- payment_audit_log_created: measured unused by the same admin list (a
-- created_at range with ORDER BY id DESC LIMIT is planned as a backward
-- walk of the primary key, ids following time), while it cost the sweep
-- about a tenth of its speed.
DROP INDEX payment_audit_log_created;

-- payment_audit_log_order: only rows with an order are looked up by order
-- (lib/admin.c: order_id = $1, which implies NOT NULL, so the partial
-- index still serves them); hold rows such as the sweep's have none.
DROP INDEX payment_audit_log_order;
CREATE INDEX payment_audit_log_order ON payment_audit_log (order_id, id)
    WHERE order_id IS NOT NULL;
