/*
 * product_orders.c: a parent's order for a membership plan or a class pack
 * (products.h).  No class and no seat: the order is pending for the trial
 * order's time (order_minutes) and is paid through the same prepay, the
 * same notifications and the same apply path (payments.c), which fulfils
 * it (entitlements.c).  The price is the product's at creation, kept in the
 * order's amount_fen; an upgrade's is the priced difference, and the order
 * records the period and the end it was priced against.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "log.h"
#include "products.h"

static struct gym_stmt st_product = { "porder_product",
	"SELECT kind, price_fen, coalesce(days, 0) AS days FROM products "
	"WHERE id = $1::bigint AND active", 0 };
static struct gym_stmt st_lock_user = { "porder_lock_user",
	"SELECT id FROM users WHERE id = $1::bigint FOR UPDATE", 0 };
/* The current period (covering now), its plan, and the membership's end
 * (the last active period's), exact as text and in microseconds. */
static struct gym_stmt st_current = { "porder_current",
	"WITH f AS (SELECT max(ends_at) AS e FROM membership_periods WHERE user_id = $1::bigint "
	" AND status = 'active' AND ends_at > $2::timestamptz) "
	"SELECT m.id, m.product_id, p.price_fen, p.days, f.e AS final, "
	"(extract(epoch FROM f.e) * 1000000)::bigint AS final_us "
	"FROM membership_periods m JOIN products p ON p.id = m.product_id, f "
	"WHERE m.user_id = $1::bigint AND m.status = 'active' AND m.starts_at <= $2::timestamptz "
	"AND m.ends_at > $2::timestamptz ORDER BY m.id DESC LIMIT 1", 0 };
static struct gym_stmt st_insert = { "porder_insert",
	"INSERT INTO payment_orders (order_id, user_id, product_id, amount_fen, status, "
	"expires_at, created_at, updated_at, upgrade_of, upgrade_until) VALUES ($1, $2::bigint, "
	"$3::bigint, $4::int, 'pending', $5::timestamptz, $6::timestamptz, $6::timestamptz, "
	"$7::bigint, $8::timestamptz)", 0 };

long long
gym_upgrade_price(long long old_fen, int old_days, long long new_fen, int new_days,
    int64_t remaining_us)
{
	/* prices <= 10^7 fen, days <= 3660: num < 3.7e10; minutes of a
	 * membership of up to 100 years < 5.3e7: the product fits in int64 */
	long long num = new_fen * old_days - old_fen * new_days;
	long long minutes = remaining_us > 0 ? remaining_us / 60000000 : 0;
	long long den = (long long)old_days * new_days * 1440, fen;

	if (num <= 0 || old_days <= 0 || new_days <= 0)
		return 0;
	if (minutes > 52560000)
		minutes = 52560000;
	fen = (num * minutes + den - 1) / den;
	return fen < 1 ? 1 : fen;
}

struct porder_arg {
	const struct gym_actor *actor;
	long long user_id, product_id;
	int upgrade;
	const struct gym_client_amount *amount;
	struct gym_order *o;
	enum gym_err result;	/* committed (the audit of a mismatch), then returned */
};

/* The upgrade's price and what it is priced against (upgrade_of, until). */
static enum gym_err
upgrade_terms(struct gym_db *db, struct porder_arg *a, long long new_fen, int new_days,
    long long *price, char *of, size_t oflen, char *until, size_t ulen)
{
	char uid[24], now[40];
	const char *p[2] = { uid, now };
	PGresult *r;
	enum gym_err e;

	gym__ll(uid, sizeof(uid), a->user_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_lock_user, 1, p, NULL)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_current, 2, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_E_NO_ENTITLEMENT;
	}
	*price = gym_db_get_ll(r, 0, "product_id") == a->product_id ? 0 :
	    gym_upgrade_price(gym_db_get_ll(r, 0, "price_fen"), (int)gym_db_get_ll(r, 0, "days"),
	    new_fen, new_days, gym_db_get_ll(r, 0, "final_us") - gym_now_us());
	gym_db_copy(r, 0, "id", of, oflen);
	gym_db_copy(r, 0, "final", until, ulen);
	PQclear(r);
	return *price > 0 ? GYM_OK : GYM_E_NOT_UPGRADE;
}

static enum gym_err
create_tx(struct gym_db *db, void *v)
{
	struct porder_arg *a = v;
	char pid[24], uid[24], amt[24], exp[40], now[40], of[24] = "", until[64] = "",
	    snap[300];
	const char *pp[1] = { pid };
	const char *pi[8] = { a->o->order_id, uid, pid, amt, exp, now, NULL, NULL };
	struct gym_audit au = { "order", "order_created", NULL, 0, 0, NULL, "pending", snap };
	enum gym_product_kind kind;
	long long price;
	int days;
	PGresult *r;
	enum gym_err e;

	a->result = GYM_OK;
	gym__ll(pid, sizeof(pid), a->product_id);
	gym__ll(uid, sizeof(uid), a->user_id);
	if ((e = gym_db_exec(db, &st_product, 1, pp, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0 || !gym_product_kind_parse(gym_db_get(r, 0, "kind"), &kind)) {
		PQclear(r);
		return GYM_E_PRODUCT_UNAVAILABLE;
	}
	price = gym_db_get_ll(r, 0, "price_fen");
	days = (int)gym_db_get_ll(r, 0, "days");
	PQclear(r);
	/* a trial names its class (POST /payment/orders/create with
	 * course_schedule_id); only a membership is upgraded to */
	if (kind == GYM_PRODUCT_TRIAL || (a->upgrade && kind != GYM_PRODUCT_MEMBERSHIP))
		return GYM_EINVAL;
	if (a->upgrade && (e = upgrade_terms(db, a, price, days, &price, of, sizeof(of), until,
	    sizeof(until))) != GYM_OK)
		return e;
	if (!gym_price_client_matches(a->amount, price)) {
		struct gym_audit am = { "order", "amount_mismatch", NULL, 0, 0, NULL, NULL, NULL };

		a->result = GYM_E_AMOUNT_MISMATCH;
		return gym_audit_write(db, a->actor, &am);
	}
	if ((e = gym__new_order_id(a->o->order_id, sizeof(a->o->order_id))) != GYM_OK)
		return e;
	gym__ll(amt, sizeof(amt), price);
	gym_db_now_param(now, sizeof(now));
	gym_time_format(gym_now_us() + (int64_t)GYM_ORDER_SECONDS * 1000000, exp, sizeof(exp));
	if (a->upgrade) {
		pi[6] = of;
		pi[7] = until;
	}
	if ((e = gym_db_exec(db, &st_insert, 8, pi, NULL)) != GYM_OK)
		return e;
	snprintf(snap, sizeof(snap), "{\"order_id\":\"%s\",\"status\":\"pending\",\"amount_fen\":%lld,"
	    "\"product_id\":%lld,\"upgrade\":%s}", a->o->order_id, price, a->product_id,
	    a->upgrade ? "true" : "false");
	au.order_id = a->o->order_id;
	return gym_audit_write(db, a->actor, &au);
}

enum gym_err
gym_product_order_create(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    long long product_id, int upgrade, const struct gym_client_amount *amount,
    struct gym_order *o)
{
	struct porder_arg a = { actor, user_id, product_id, upgrade, amount, o, GYM_OK };
	enum gym_err e;

	memset(o, 0, sizeof(*o));
	if ((e = gym_db_tx(db, create_tx, &a)) != GYM_OK)
		return e;
	if (a.result != GYM_OK)
		return a.result;
	return gym_order_get(db, user_id, o->order_id, o);
}
