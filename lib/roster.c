/*
 * roster.c: who comes to a class (issue 14): for a trial class, its orders
 * that hold or held a seat (pending, paid, refunding, refunded); for a
 * regular class, its member bookings (confirmed or cancelled), each with
 * the member's latest order that has a registration (the child's details
 * were given there, usually with the trial).  Oldest first.  The handler
 * adds each registration (child, birth date, phone), unsealed with the PII
 * keys, and masks it for auditors.
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

/* Run a roster statement ($1 class, $2 limit) once the class is known. */
static enum gym_err
roster_exec(struct gym_db *db, struct gym_stmt *st, long long schedule_id, int max,
    PGresult **r)
{
	char sid[24], lim[16];
	const char *p[2] = { sid, lim };
	struct gym_schedule s;
	enum gym_err e;

	if ((e = gym_schedule_get(db, schedule_id, &s)) != GYM_OK)
		return e;
	snprintf(sid, sizeof(sid), "%lld", schedule_id);
	snprintf(lim, sizeof(lim), "%d", max);
	return gym_db_exec(db, st, 2, p, r);
}

enum gym_err
gym_schedule_roster(struct gym_db *db, long long schedule_id, struct gym_order *out, int max,
    int *n)
{
	PGresult *r;
	enum gym_err e;

	*n = 0;
	if ((e = roster_exec(db, &st_roster, schedule_id, max, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++, (*n)++)
		e = gym__read_order(r, i, &out[i]);
	PQclear(r);
	return e;
}

static struct gym_stmt st_member_roster = { "class_member_roster",
	"SELECT b.id, b.user_id, b.pay_with, b.status, "
	"(extract(epoch FROM b.confirmed_at) * 1000000)::bigint AS booked_us, "
	"(extract(epoch FROM b.cancelled_at) * 1000000)::bigint AS cancelled_us, "
	"(SELECT o.order_id FROM payment_orders o JOIN order_registrations g "
	" ON g.order_id = o.order_id WHERE o.user_id = b.user_id ORDER BY o.id DESC LIMIT 1) "
	" AS reg_order_id "
	"FROM member_bookings b WHERE b.course_schedule_id = $1::bigint ORDER BY b.id LIMIT $2::int",
	0 };

enum gym_err
gym_schedule_member_roster(struct gym_db *db, long long schedule_id,
    struct gym_member_roster_row *out, int max, int *n)
{
	PGresult *r;
	enum gym_err e;

	*n = 0;
	if ((e = roster_exec(db, &st_member_roster, schedule_id, max, &r)) != GYM_OK)
		return e;
	for (int i = 0; i < PQntuples(r); i++, (*n)++) {
		struct gym_member_roster_row *x = &out[i];

		memset(x, 0, sizeof(*x));
		x->booking_id = gym_db_get_ll(r, i, "id");
		x->user_id = gym_db_get_ll(r, i, "user_id");
		gym_db_copy(r, i, "pay_with", x->pay_with, sizeof(x->pay_with));
		gym_db_copy(r, i, "status", x->status, sizeof(x->status));
		x->booked_at = gym_db_get_ll(r, i, "booked_us");
		x->cancelled_at = gym_db_isnull(r, i, "cancelled_us") ? 0 :
		    gym_db_get_ll(r, i, "cancelled_us");
		if (!gym_db_isnull(r, i, "reg_order_id"))
			gym_db_copy(r, i, "reg_order_id", x->reg_order_id, sizeof(x->reg_order_id));
	}
	PQclear(r);
	return GYM_OK;
}
