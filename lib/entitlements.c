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
