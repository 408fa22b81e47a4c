/*
 * entitlements.c: what a paid product order gives, applied inside the
 * payment's transaction (payments.c, with the order's row locked) so that a
 * notification that comes twice fulfils once: each membership period and
 * each credit lot names its order (UNIQUE order_id), and the duplicate never
 * gets here (payments.c answers it from payment_transactions first).
 *
 * The parent's users row is locked before any period or credit is read, so
 * concurrent payments of one parent chain their periods one after the
 * other, and a credit is never spent twice (member_bookings.c and the
 * expiry job lock the same row).
 *
 * Membership: a period from now, or for a renewal from the end of the
 * membership (its last active period).  Upgrade: the current period ends
 * now, the periods queued after it are superseded, and the new plan runs
 * from now to the same end; only when the membership is still the one the
 * upgrade was priced against (else *stale).  Class pack: a lot of N credits
 * expiring after the pack's days, and its 'grant' ledger row.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "log.h"
#include "products.h"

static struct gym_stmt st_order = { "fulfil_order",
	"SELECT o.user_id, o.product_id, p.kind, coalesce(p.days, 0) AS days, "
	"coalesce(p.credits, 0) AS credits, o.upgrade_of, o.upgrade_until "
	"FROM payment_orders o JOIN products p ON p.id = o.product_id WHERE o.order_id = $1", 0 };
static struct gym_stmt st_lock_user = { "fulfil_lock_user",
	"SELECT id FROM users WHERE id = $1::bigint FOR UPDATE", 0 };
/* $1 user, $2 product, $3 order, $4 now, $5 days */
static struct gym_stmt st_period = { "fulfil_period",
	"WITH cur AS (SELECT max(ends_at) AS e FROM membership_periods WHERE user_id = $1::bigint "
	" AND status = 'active' AND ends_at > $4::timestamptz) "
	"INSERT INTO membership_periods (user_id, product_id, order_id, kind, starts_at, ends_at, "
	"created_at) SELECT $1::bigint, $2::bigint, $3, CASE WHEN cur.e IS NULL THEN 'purchase' "
	"ELSE 'renewal' END, coalesce(cur.e, $4::timestamptz), coalesce(cur.e, $4::timestamptz) + "
	"make_interval(days => $5::int), $4::timestamptz FROM cur "
	"RETURNING id, kind, starts_at, ends_at", 0 };
/* The upgrade's terms still hold: $1 user, $2 now, $3 period, $4 end. */
static struct gym_stmt st_upgrade_check = { "fulfil_upgrade_check",
	"SELECT EXISTS (SELECT 1 FROM membership_periods WHERE id = $3::bigint "
	" AND user_id = $1::bigint AND status = 'active' AND starts_at <= $2::timestamptz "
	" AND ends_at > $2::timestamptz) AND (SELECT max(ends_at) FROM membership_periods "
	" WHERE user_id = $1::bigint AND status = 'active' AND ends_at > $2::timestamptz) "
	" = $4::timestamptz AS ok", 0 };
static struct gym_stmt st_cut = { "fulfil_upgrade_cut",
	"UPDATE membership_periods SET ends_at = $2::timestamptz, ended_early = true "
	"WHERE id = $1::bigint AND starts_at < $2::timestamptz", 0 };
static struct gym_stmt st_supersede = { "fulfil_upgrade_supersede",
	"UPDATE membership_periods SET status = 'superseded' WHERE user_id = $1::bigint "
	"AND status = 'active' AND starts_at >= $2::timestamptz", 0 };
static struct gym_stmt st_upgrade = { "fulfil_upgrade_insert",
	"INSERT INTO membership_periods (user_id, product_id, order_id, kind, starts_at, ends_at, "
	"created_at) VALUES ($1::bigint, $2::bigint, $3, 'upgrade', $4::timestamptz, "
	"$5::timestamptz, $4::timestamptz) RETURNING id, kind, starts_at, ends_at", 0 };
static struct gym_stmt st_lot = { "fulfil_lot",
	"WITH l AS (INSERT INTO credit_lots (user_id, product_id, order_id, credits, expires_at, "
	" created_at) VALUES ($1::bigint, $2::bigint, $3, $5::int, $4::timestamptz + "
	" make_interval(days => $6::int), $4::timestamptz) RETURNING *), "
	"g AS (INSERT INTO credit_ledger (user_id, lot_id, kind, delta, order_id, created_at) "
	" SELECT user_id, id, 'grant', credits, order_id, created_at FROM l RETURNING id) "
	"SELECT l.id, l.credits, l.expires_at FROM l", 0 };

struct fulfil {
	const struct gym_actor *actor;
	const char *order_id;
	char uid[24], pid[24], days[16], credits[16], now[40], of[24], until[64];
	enum gym_product_kind kind;
};

/* The audit row of a period or lot r describes (row 0). */
static enum gym_err
audit(struct gym_db *db, struct fulfil *f, const char *entity, const char *action, PGresult *r)
{
	char snap[400];
	struct gym_audit au = { entity, action, f->order_id, 0, 0, NULL, "active", snap };

	if (strcmp(entity, "membership") == 0)
		snprintf(snap, sizeof(snap), "{\"period_id\":%s,\"product_id\":%s,\"kind\":\"%s\","
		    "\"starts_at\":\"%s\",\"ends_at\":\"%s\"}", gym_db_get(r, 0, "id"), f->pid,
		    gym_db_get(r, 0, "kind"), gym_db_get(r, 0, "starts_at"),
		    gym_db_get(r, 0, "ends_at"));
	else
		snprintf(snap, sizeof(snap), "{\"lot_id\":%s,\"product_id\":%s,\"credits\":%s,"
		    "\"expires_at\":\"%s\"}", gym_db_get(r, 0, "id"), f->pid,
		    gym_db_get(r, 0, "credits"), gym_db_get(r, 0, "expires_at"));
	return gym_audit_write(db, f->actor, &au);
}

static enum gym_err
upgrade(struct gym_db *db, struct fulfil *f, int *stale)
{
	const char *pc[4] = { f->uid, f->now, f->of, f->until };
	const char *pcut[2] = { f->of, f->now };
	const char *ps[2] = { f->uid, f->now };
	const char *pi[5] = { f->uid, f->pid, f->order_id, f->now, f->until };
	PGresult *r;
	enum gym_err e;
	int ok;

	if ((e = gym_db_exec(db, &st_upgrade_check, 4, pc, &r)) != GYM_OK)
		return e;
	ok = strcmp(gym_db_get(r, 0, "ok"), "t") == 0;
	PQclear(r);
	if (!ok) {
		*stale = 1;
		return GYM_OK;
	}
	/* superseded first: the cut period then ends now and is no longer
	 * "after now" (a period that started this very instant goes whole) */
	if ((e = gym_db_exec(db, &st_supersede, 2, ps, NULL)) != GYM_OK)
		return e;
	if ((e = gym_db_exec(db, &st_cut, 2, pcut, NULL)) != GYM_OK)
		return e;
	if ((e = gym_db_exec(db, &st_upgrade, 5, pi, &r)) != GYM_OK)
		return e;
	e = audit(db, f, "membership", "membership_upgraded", r);
	PQclear(r);
	return e;
}

enum gym_err
gym__product_fulfil(struct gym_db *db, const struct gym_actor *actor, const char *order_id,
    int *stale)
{
	struct fulfil f;
	const char *po[1] = { order_id };
	const char *pu[1] = { f.uid };
	const char *pp[5] = { f.uid, f.pid, order_id, f.now, f.days };
	const char *pl[6] = { f.uid, f.pid, order_id, f.now, f.credits, f.days };
	PGresult *r;
	enum gym_err e;
	int up;

	memset(&f, 0, sizeof(f));
	f.actor = actor;
	f.order_id = order_id;
	*stale = 0;
	if ((e = gym_db_exec(db, &st_order, 1, po, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0 || !gym_product_kind_parse(gym_db_get(r, 0, "kind"), &f.kind)) {
		PQclear(r);
		gym_log_errx("order %s: no product to fulfil", order_id);
		return GYM_EINTERNAL;
	}
	gym_db_copy(r, 0, "user_id", f.uid, sizeof(f.uid));
	gym_db_copy(r, 0, "product_id", f.pid, sizeof(f.pid));
	gym_db_copy(r, 0, "days", f.days, sizeof(f.days));
	gym_db_copy(r, 0, "credits", f.credits, sizeof(f.credits));
	gym_db_copy(r, 0, "upgrade_of", f.of, sizeof(f.of));
	gym_db_copy(r, 0, "upgrade_until", f.until, sizeof(f.until));
	up = !gym_db_isnull(r, 0, "upgrade_of");
	PQclear(r);
	gym_db_now_param(f.now, sizeof(f.now));
	if ((e = gym_db_exec(db, &st_lock_user, 1, pu, NULL)) != GYM_OK)
		return e;
	if (f.kind == GYM_PRODUCT_MEMBERSHIP && up)
		return upgrade(db, &f, stale);
	if (f.kind == GYM_PRODUCT_MEMBERSHIP) {
		if ((e = gym_db_exec(db, &st_period, 5, pp, &r)) != GYM_OK)
			return e;
		e = audit(db, &f, "membership", strcmp(gym_db_get(r, 0, "kind"), "renewal") == 0 ?
		    "membership_renewed" : "membership_purchased", r);
		PQclear(r);
		return e;
	}
	if (f.kind == GYM_PRODUCT_CLASS_PACK) {
		if ((e = gym_db_exec(db, &st_lot, 6, pl, &r)) != GYM_OK)
			return e;
		e = audit(db, &f, "credit", "credits_granted", r);
		PQclear(r);
		return e;
	}
	gym_log_errx("order %s: a trial order has no product fulfilment", order_id);
	return GYM_EINTERNAL;
}

/* ---- reversal: a refund of a product order succeeded -------------------------------- */

static struct gym_stmt st_rev_order = { "reverse_order",
	"SELECT o.user_id, o.amount_fen, p.kind, coalesce(p.credits, 0) AS credits, "
	"(SELECT coalesce(sum(f.amount_fen), 0) FROM refunds f WHERE f.order_id = o.order_id "
	" AND f.status = 'success') AS refunded "
	"FROM payment_orders o JOIN products p ON p.id = o.product_id WHERE o.order_id = $1", 0 };
/* The order's period loses the refunded share of its length ($2 of the $3
 * still paid for), but never ends before it starts or before now ($4), and
 * never later than it did (a period an upgrade cut short ended before now:
 * it stays so); wholly gone, it is superseded.  Returns how far it moved
 * back (shift) and its old end. */
static struct gym_stmt st_rev_period = { "reverse_period",
	"WITH p AS (SELECT id, starts_at, ends_at, least(ends_at, greatest(ends_at - "
	" make_interval(secs => extract(epoch FROM ends_at - starts_at) * $2::bigint / "
	" $3::bigint), starts_at, $4::timestamptz)) AS new_end FROM membership_periods "
	" WHERE order_id = $1 "
	" AND status = 'active' FOR UPDATE) "
	"UPDATE membership_periods m SET "
	"ends_at = CASE WHEN p.new_end > m.starts_at THEN p.new_end ELSE m.ends_at END, "
	"status = CASE WHEN p.new_end > m.starts_at THEN 'active' ELSE 'superseded' END "
	"FROM p WHERE m.id = p.id RETURNING m.id, p.ends_at AS old_end, "
	"(p.ends_at - p.new_end)::text AS shift, m.starts_at, m.ends_at, m.status", 0 };
/* The periods queued after it move back by the same shift. */
static struct gym_stmt st_rev_later = { "reverse_later",
	"UPDATE membership_periods SET starts_at = starts_at - $3::interval, "
	"ends_at = ends_at - $3::interval WHERE user_id = $1::bigint AND status = 'active' "
	"AND starts_at >= $2::timestamptz AND $3::interval > interval '0'", 0 };
/* Unused credits of the order's lot, up to the refunded share (rounded up). */
static struct gym_stmt st_rev_credits = { "reverse_credits",
	"WITH l AS (SELECT l.id, l.user_id, l.credits, (SELECT coalesce(sum(c.delta), 0) FROM "
	" credit_ledger c WHERE c.lot_id = l.id) AS remaining FROM credit_lots l "
	" WHERE l.order_id = $1), "
	"n AS (SELECT id, user_id, least(remaining, (credits * $2::bigint + $3::bigint - 1) "
	" / $3::bigint) AS k FROM l), "
	"ins AS (INSERT INTO credit_ledger (user_id, lot_id, kind, delta, order_id, created_at) "
	" SELECT user_id, id, 'revoke', -k, $1, $4::timestamptz FROM n WHERE k > 0 "
	" RETURNING lot_id, delta) "
	"SELECT lot_id, delta FROM ins", 0 };

enum gym_err
gym__product_refunded(struct gym_db *db, const struct gym_actor *actor, const char *order_id,
    int refund_fen, enum gym_order_status order_status)
{
	char uid[24], fen[24], total[24], before[24], now[40], snap[300];
	const char *po[1] = { order_id };
	const char *pu[1] = { uid };
	const char *pr[4] = { order_id, fen, total, now };
	const char *pm[4] = { order_id, fen, before, now };
	struct gym_audit au = { "membership", "membership_shortened", order_id, 0, 0, NULL, NULL,
	    snap };
	enum gym_product_kind kind;
	long long amount, refunded;
	PGresult *r;
	enum gym_err e;

	if ((e = gym_db_exec(db, &st_rev_order, 1, po, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0 || !gym_product_kind_parse(gym_db_get(r, 0, "kind"), &kind)) {
		PQclear(r);
		return GYM_OK;		/* no product: nothing of ours to reverse */
	}
	gym_db_copy(r, 0, "user_id", uid, sizeof(uid));
	amount = gym_db_get_ll(r, 0, "amount_fen");
	refunded = gym_db_get_ll(r, 0, "refunded");
	PQclear(r);
	gym__ll(fen, sizeof(fen), refund_fen);
	gym__ll(total, sizeof(total), amount);
	/* a period's share: of what was still paid for before this refund
	 * (earlier partial refunds already shortened it) */
	gym__ll(before, sizeof(before), amount - refunded + refund_fen);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_lock_user, 1, pu, NULL)) != GYM_OK)
		return e;
	if (kind == GYM_PRODUCT_MEMBERSHIP) {
		if ((e = gym_db_exec(db, &st_rev_period, 4, pm, &r)) != GYM_OK)
			return e;
		if (PQntuples(r) > 0) {
			char old_end[64], shift[64];
			const char *pl[3] = { uid, old_end, shift };

			gym_db_copy(r, 0, "old_end", old_end, sizeof(old_end));
			gym_db_copy(r, 0, "shift", shift, sizeof(shift));
			snprintf(snap, sizeof(snap), "{\"period_id\":%s,\"refund_fen\":%d,\"moved_back\":"
			    "\"%s\",\"ends_at\":\"%s\",\"status\":\"%s\"}", gym_db_get(r, 0, "id"),
			    refund_fen, shift, gym_db_get(r, 0, "ends_at"), gym_db_get(r, 0, "status"));
			au.new_status = strcmp(gym_db_get(r, 0, "status"), "active") == 0 ? "active" :
			    "superseded";
			PQclear(r);
			if ((e = gym_db_exec(db, &st_rev_later, 3, pl, NULL)) != GYM_OK ||
			    (e = gym_audit_write(db, actor, &au)) != GYM_OK)
				return e;
		} else
			PQclear(r);
	} else if (kind == GYM_PRODUCT_CLASS_PACK) {
		if ((e = gym_db_exec(db, &st_rev_credits, 4, pr, &r)) != GYM_OK)
			return e;
		if (PQntuples(r) > 0) {
			snprintf(snap, sizeof(snap), "{\"lot_id\":%s,\"delta\":%s,\"refund_fen\":%d}",
			    gym_db_get(r, 0, "lot_id"), gym_db_get(r, 0, "delta"), refund_fen);
			au.entity = "credit";
			au.action = "credits_revoked";
			PQclear(r);
			if ((e = gym_audit_write(db, actor, &au)) != GYM_OK)
				return e;
		} else
			PQclear(r);
	}
	/* all of it back: the order is refunded */
	if (refunded >= amount && (order_status == GYM_ORDER_PAID ||
	    order_status == GYM_ORDER_REFUNDING))
		return gym__order_set_status(db, actor, order_id, order_status, GYM_ORDER_REFUNDED,
		    "order_refunded");
	return GYM_OK;
}
