/*
 * reminders.c: the job's pass that tells parents, 7 days ahead, that their
 * membership (its last period: a renewal queued after it means it does not
 * run out) or a class pack's unused credits run out (products.h).  One
 * message per order (the period's or the lot's), so every run may look
 * again without telling anyone twice; nothing is looked at while
 * wx.template_expiring is unset.
 */
#include <stdio.h>

#include "extern.h"
#include "notify.h"
#include "products.h"

#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
#define NOT_TOLD(order) " AND NOT EXISTS (SELECT 1 FROM parent_notifications x " \
	"WHERE x.order_id = " order " AND x.kind = 'entitlement_expiring') "

static struct gym_stmt st_due = { "reminders_due",
	"SELECT order_id, user_id, name, ends_us FROM ("
	"SELECT m.order_id, m.user_id, p.name, " US("m.ends_at") " AS ends_us "
	"FROM membership_periods m JOIN products p ON p.id = m.product_id "
	"WHERE m.status = 'active' AND m.ends_at > $1::timestamptz "
	"AND m.ends_at <= $1::timestamptz + interval '7 days' "
	"AND NOT EXISTS (SELECT 1 FROM membership_periods n WHERE n.user_id = m.user_id "
	" AND n.status = 'active' AND n.ends_at > m.ends_at) " NOT_TOLD("m.order_id")
	"UNION ALL "
	"SELECT l.order_id, l.user_id, p.name, " US("l.expires_at") " AS ends_us "
	"FROM credit_lots l JOIN products p ON p.id = l.product_id "
	"WHERE l.order_id IS NOT NULL AND l.expires_at > $1::timestamptz "
	"AND l.expires_at <= $1::timestamptz + interval '7 days' "
	"AND (SELECT sum(c.delta) FROM credit_ledger c WHERE c.lot_id = l.id) > 0 "
	NOT_TOLD("l.order_id") ") q LIMIT $2::int", 0 };

static const struct gym_actor reminder_actor = { "system", 0, NULL, "reminders", NULL, NULL };

struct remind_arg {
	int batch, n;
};

static enum gym_err
remind_tx(struct gym_db *db, void *v)
{
	struct remind_arg *a = v;
	char now[40], lim[16];
	const char *p[2] = { now, lim };
	PGresult *r;
	enum gym_err e = GYM_OK;
	int queued;

	a->n = 0;
	gym_db_now_param(now, sizeof(now));
	snprintf(lim, sizeof(lim), "%d", a->batch);
	if ((e = gym_db_exec(db, &st_due, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++)
		if ((e = gym__notify_enqueue_expiring(db, &reminder_actor,
		    gym_db_get(r, i, "order_id"), gym_db_get_ll(r, i, "user_id"),
		    gym_db_get(r, i, "name"), gym_db_get_ll(r, i, "ends_us"), &queued)) == GYM_OK)
			a->n += queued;
	PQclear(r);
	return e;
}

enum gym_err
gym_reminders_pass(struct gym_db *db, int batch, int *n)
{
	struct remind_arg a = { batch, 0 };
	enum gym_err e;

	*n = 0;
	if (!gym_notify_enabled(GYM_NOTIFY_EXPIRING))
		return GYM_OK;
	if (batch < 1)
		return GYM_EINVAL;
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_tx(db, remind_tx, &a)) != GYM_OK)
		return e;
	*n = a.n;
	return GYM_OK;
}
