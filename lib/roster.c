/*
 * roster.c: who comes to a class (issue 14): its orders that hold or held
 * a seat (pending, paid, refunding, refunded), oldest first.  The handler
 * adds each order's registration (child, birth date, phone), unsealed with
 * the PII keys, and masks it for auditors.
 */
#include <stdio.h>
#include <string.h>

#include "booking.h"
#include "extern.h"

static struct gym_stmt st_roster = { "class_roster",
	"SELECT o.id, o.order_id, o.user_id, o.course_schedule_id, o.status, o.amount_fen, "
	"(extract(epoch FROM o.paid_at) * 1000000)::bigint AS paid_us, "
	"(extract(epoch FROM o.created_at) * 1000000)::bigint AS created_us, "
	"(extract(epoch FROM o.expires_at) * 1000000)::bigint AS expires_us "
	"FROM payment_orders o WHERE o.course_schedule_id = $1::bigint "
	"AND o.status IN ('pending', 'paid', 'refunding', 'refunded') ORDER BY o.id LIMIT $2::int", 0 };

enum gym_err
gym_schedule_roster(struct gym_db *db, long long schedule_id, struct gym_order *out, int max,
    int *n)
{
	char sid[24], lim[16];
	const char *p[2] = { sid, lim };
	struct gym_schedule s;
	PGresult *r;
	enum gym_err e;

	*n = 0;
	if ((e = gym_schedule_get(db, schedule_id, &s)) != GYM_OK)
		return e;
	snprintf(sid, sizeof(sid), "%lld", schedule_id);
	snprintf(lim, sizeof(lim), "%d", max);
	if ((e = gym_db_exec(db, &st_roster, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++, (*n)++)
		e = gym__read_order(r, i, &out[i]);
	PQclear(r);
	return e;
}
