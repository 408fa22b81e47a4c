/*
 * overview.c: one day of the gym for the console's first page (see
 * overview.h).  Two statements: the counts, and the day's classes.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "overview.h"

/* $1 now, $2 the day or NULL: the day's start as a timestamptz */
#define DAY_CTE \
	"WITH d AS (SELECT (coalesce($2::date, ($1::timestamptz AT TIME ZONE '" GYM_GYM_TZ \
	"')::date)::timestamp AT TIME ZONE '" GYM_GYM_TZ "') AS s) "

static struct gym_stmt st_counts = { "overview_counts",
	DAY_CTE
	"SELECT to_char(d.s AT TIME ZONE '" GYM_GYM_TZ "', 'YYYY-MM-DD') AS day, "
	"(SELECT count(*) FROM payment_orders o WHERE o.paid_at >= d.s "
	" AND o.paid_at < d.s + interval '1 day') AS paid, "
	"(SELECT coalesce(sum(o.amount_fen), 0) FROM payment_orders o WHERE o.paid_at >= d.s "
	" AND o.paid_at < d.s + interval '1 day') AS paid_fen, "
	"(SELECT count(*) FROM refunds WHERE status IN ('pending', 'processing')) AS refunding, "
	"(SELECT count(*) FROM refunds WHERE status = 'abnormal') AS abnormal, "
	"(SELECT count(*) FROM payment_orders o WHERE " GYM_ATTENTION_SQL ") AS attention "
	"FROM d", 0 };
static struct gym_stmt st_waiting = { "overview_waiting",
	"SELECT (SELECT count(*) FROM refunds WHERE status IN ('pending', 'processing')) AS refunding, "
	"(SELECT count(*) FROM refunds WHERE status = 'abnormal') AS abnormal, "
	"(SELECT count(*) FROM payment_orders o WHERE " GYM_ATTENTION_SQL ") AS attention", 0 };
static struct gym_stmt st_classes = { "overview_classes",
	DAY_CTE
	"SELECT s.id, s.course_name, s.capacity, "
	"(extract(epoch FROM s.starts_at) * 1000000)::bigint AS starts_us, "
	"(s.cancelled_at IS NOT NULL) AS cancelled, "
	"(SELECT count(*) FROM seats t WHERE t.course_schedule_id = s.id "
	" AND t.state = 'confirmed') AS booked, "
	"(SELECT count(*) FROM seats t WHERE t.course_schedule_id = s.id "
	" AND t.state = 'held' AND t.held_until > $1::timestamptz) AS held "
	"FROM course_schedules s, d WHERE s.starts_at >= d.s AND s.starts_at < d.s + interval '1 day' "
	"ORDER BY s.starts_at, s.id LIMIT $3::int", 0 };

/* 1 when day is YYYY-MM-DD (PostgreSQL then says whether it is a date). */
static int
day_shape(const char *day)
{
	return strlen(day) == 10 && strspn(day, "0123456789-") == 10 && day[4] == '-' &&
	    day[7] == '-';
}

enum gym_err
gym_overview_get(struct gym_db *db, const char *day, struct gym_overview *out)
{
	char now[40], lim[16];
	const char *p[3] = { now, day, lim };
	PGresult *r;
	enum gym_err e;

	memset(out, 0, sizeof(*out));
	if (day != NULL && !day_shape(day))
		return GYM_EINVAL;
	gym_db_now_param(now, sizeof(now));
	snprintf(lim, sizeof(lim), "%d", GYM_OVERVIEW_CLASSES);
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_counts, 2, p, &r)) != GYM_OK)
		return e;
	snprintf(out->day, sizeof(out->day), "%s", gym_db_get(r, 0, "day"));
	out->paid_orders = gym_db_get_ll(r, 0, "paid");
	out->paid_fen = gym_db_get_ll(r, 0, "paid_fen");
	out->refunds_in_progress = gym_db_get_ll(r, 0, "refunding");
	out->refunds_abnormal = gym_db_get_ll(r, 0, "abnormal");
	out->attention = gym_db_get_ll(r, 0, "attention");
	PQclear(r);
	if ((e = gym_db_exec(db, &st_classes, 3, p, &r)) != GYM_OK)
		return e;
	out->nclasses = PQntuples(r);
	for (int i = 0; i < out->nclasses; i++) {
		struct gym_overview_class *c = &out->classes[i];

		c->id = gym_db_get_ll(r, i, "id");
		snprintf(c->course_name, sizeof(c->course_name), "%s", gym_db_get(r, i, "course_name"));
		c->starts_at = gym_db_get_ll(r, i, "starts_us");
		c->capacity = (int)gym_db_get_ll(r, i, "capacity");
		c->booked = (int)gym_db_get_ll(r, i, "booked");
		c->held = (int)gym_db_get_ll(r, i, "held");
		c->cancelled = strcmp(gym_db_get(r, i, "cancelled"), "t") == 0;
	}
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym_overview_waiting(struct gym_db *db, struct gym_overview *out)
{
	PGresult *r;
	enum gym_err e;

	memset(out, 0, sizeof(*out));
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_waiting, 0, NULL, &r)) != GYM_OK)
		return e;
	out->refunds_in_progress = gym_db_get_ll(r, 0, "refunding");
	out->refunds_abnormal = gym_db_get_ll(r, 0, "abnormal");
	out->attention = gym_db_get_ll(r, 0, "attention");
	PQclear(r);
	return GYM_OK;
}
