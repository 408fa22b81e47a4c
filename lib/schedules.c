/*
 * schedules.c: classes (course_schedules) and their seat rows.  A class of
 * capacity N has N seat rows; "available" counts the free ones, where a
 * seat whose hold lapsed counts as free at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "booking.h"
#include "extern.h"

#define SCHEDULE_COLS \
	"s.id, s.course_name, s.capacity, " \
	"(extract(epoch FROM s.starts_at) * 1000000)::bigint AS starts_us, " \
	"(extract(epoch FROM s.ends_at) * 1000000)::bigint AS ends_us, " \
	"(SELECT count(*) FROM seats t WHERE t.course_schedule_id = s.id AND " \
	" (t.state = 'free' OR (t.state = 'held' AND t.held_until <= $1::timestamptz))) AS available, " \
	"(extract(epoch FROM s.cancelled_at) * 1000000)::bigint AS cancelled_us, s.cancel_reason, s.kind "

static struct gym_stmt st_get = { "schedule_get",
	"SELECT " SCHEDULE_COLS "FROM course_schedules s WHERE s.id = $2::bigint", 0 };
static struct gym_stmt st_list = { "schedule_list",
	"SELECT " SCHEDULE_COLS "FROM course_schedules s "
	"WHERE s.starts_at >= $2::timestamptz AND s.starts_at < $3::timestamptz AND s.cancelled_at IS NULL "
	"ORDER BY s.starts_at, s.id LIMIT $4::int", 0 };
/* Up to $3 other classes with a free seat that start within 60 days:
 * the sold-out class's course first, then the nearest in time to it.  The
 * candidates are sorted first (OFFSET 0 keeps the planner from folding the
 * subquery) and probed for a free seat in that order until $3 have one, so
 * a sold-out rush costs a sort and a few index probes per answer, not a
 * seat count of every class (26 ms a SOLD_OUT with 1,000 classes). */
static struct gym_stmt st_alternatives = { "schedule_alternatives",
	"SELECT " SCHEDULE_COLS "FROM course_schedules s JOIN ("
	" SELECT c.id, c.same, c.apart FROM ("
	"  SELECT o.id, (o.course_name = x.course_name) AS same, "
	"  abs(extract(epoch FROM o.starts_at - x.starts_at)) AS apart "
	"  FROM course_schedules o, course_schedules x WHERE x.id = $2::bigint AND o.id <> x.id "
	"  AND o.starts_at > $1::timestamptz AND o.starts_at < $1::timestamptz + interval '60 days' "
	"  AND o.cancelled_at IS NULL "
	"  ORDER BY same DESC, apart, o.id OFFSET 0) c "
	" WHERE EXISTS (SELECT 1 FROM seats t WHERE t.course_schedule_id = c.id AND "
	"  (t.state = 'free' OR (t.state = 'held' AND t.held_until <= $1::timestamptz))) "
	" LIMIT $3::int) a ON a.id = s.id "
	"ORDER BY a.same DESC, a.apart, s.id", 0 };
static struct gym_stmt st_insert = { "schedule_insert",
	"INSERT INTO course_schedules (course_name, starts_at, ends_at, capacity, created_at) "
	"VALUES ($1, $2::timestamptz, $3::timestamptz, $4::int, $5::timestamptz) RETURNING id", 0 };
static struct gym_stmt st_add_seats = { "schedule_add_seats",
	"INSERT INTO seats (course_schedule_id, seat_no) "
	"SELECT $1::bigint, g FROM generate_series("
	" (SELECT coalesce(max(seat_no), 0) + 1 FROM seats WHERE course_schedule_id = $1::bigint),"
	" (SELECT coalesce(max(seat_no), 0) FROM seats WHERE course_schedule_id = $1::bigint) + $2::int) g", 0 };
static struct gym_stmt st_lock = { "schedule_lock",
	"SELECT capacity FROM course_schedules WHERE id = $1::bigint FOR UPDATE", 0 };
static struct gym_stmt st_drop_seats = { "schedule_drop_seats",
	"DELETE FROM seats WHERE id = ANY(ARRAY("
	" SELECT id FROM seats WHERE course_schedule_id = $1::bigint AND"
	" (state = 'free' OR (state = 'held' AND held_until <= $3::timestamptz))"
	" ORDER BY seat_no DESC LIMIT $2::int FOR UPDATE))", 0 };
static struct gym_stmt st_set_cap = { "schedule_set_capacity",
	"UPDATE course_schedules SET capacity = $2::int WHERE id = $1::bigint", 0 };

static void
read_row(PGresult *r, int i, struct gym_schedule *s)
{
	s->id = gym_db_get_ll(r, i, "id");
	snprintf(s->course_name, sizeof(s->course_name), "%s", gym_db_get(r, i, "course_name"));
	s->capacity = (int)gym_db_get_ll(r, i, "capacity");
	s->starts_at = gym_db_get_ll(r, i, "starts_us");
	s->ends_at = gym_db_get_ll(r, i, "ends_us");
	s->available = (int)gym_db_get_ll(r, i, "available");
	s->cancelled_at = gym_db_get_ll(r, i, "cancelled_us");
	gym_db_copy(r, i, "cancel_reason", s->cancel_reason, sizeof(s->cancel_reason));
	gym_db_copy(r, i, "kind", s->kind, sizeof(s->kind));
}

enum gym_err
gym_schedule_get(struct gym_db *db, long long id, struct gym_schedule *s)
{
	char now[40], ids[24];
	const char *p[2] = { now, ids };
	PGresult *r;
	enum gym_err e;

	gym_db_now_param(now, sizeof(now));
	snprintf(ids, sizeof(ids), "%lld", id);
	if ((e = gym_db_ensure(db)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_get, 2, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0)
		e = GYM_E_SCHEDULE_NOT_FOUND;
	else
		read_row(r, 0, s);
	PQclear(r);
	return e;
}

enum gym_err
gym_schedule_alternatives(struct gym_db *db, long long id, struct gym_schedule *out, int max,
    int *n)
{
	char now[40], ids[24], lim[16];
	const char *p[3] = { now, ids, lim };
	PGresult *r;
	enum gym_err e;

	*n = 0;
	if (max < 1)
		return GYM_EINVAL;
	gym_db_now_param(now, sizeof(now));
	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(lim, sizeof(lim), "%d", max);
	if ((e = gym_db_ensure(db)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_alternatives, 3, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; i < PQntuples(r) && i < max; i++)
		read_row(r, i, &out[(*n)++]);
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym_schedule_list(struct gym_db *db, int64_t from, int64_t to, struct gym_schedule *out,
    int max, int *n)
{
	char now[40], f[40], t[40], lim[16];
	const char *p[4] = { now, f, t, lim };
	PGresult *r;
	enum gym_err e;

	gym_db_now_param(now, sizeof(now));
	gym_time_format(from, f, sizeof(f));
	gym_time_format(to, t, sizeof(t));
	snprintf(lim, sizeof(lim), "%d", max);
	if ((e = gym_db_ensure(db)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_list, 4, p, &r)) != GYM_OK)
		return e;
	*n = PQntuples(r);
	for (int i = 0; i < *n; i++)
		read_row(r, i, &out[i]);
	PQclear(r);
	return GYM_OK;
}

struct create_arg {
	const struct gym_actor *actor;
	const char *course;
	int64_t starts, ends;
	int capacity;
	long long id;
};

static enum gym_err
add_seats(struct gym_db *db, long long id, int count)
{
	char ids[24], cnt[16];
	const char *p[2] = { ids, cnt };

	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(cnt, sizeof(cnt), "%d", count);
	return gym_db_exec(db, &st_add_seats, 2, p, NULL);
}

static enum gym_err
create_tx(struct gym_db *db, void *v)
{
	struct create_arg *a = v;
	char s[40], en[40], cap[16], now[40], snap[128];
	const char *p[5] = { a->course, s, en, cap, now };
	struct gym_audit au = { "schedule", "schedule_created", NULL, 0, 0, NULL, NULL, snap };
	PGresult *r;
	enum gym_err e;

	gym_time_format(a->starts, s, sizeof(s));
	gym_time_format(a->ends, en, sizeof(en));
	snprintf(cap, sizeof(cap), "%d", a->capacity);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_insert, 5, p, &r)) != GYM_OK)
		return e;
	a->id = gym_db_get_ll(r, 0, "id");
	PQclear(r);
	if ((e = add_seats(db, a->id, a->capacity)) != GYM_OK)
		return e;
	snprintf(snap, sizeof(snap), "{\"course_schedule_id\":%lld,\"capacity\":%d}",
	    a->id, a->capacity);
	return gym_audit_write(db, a->actor, &au);
}

enum gym_err
gym_schedule_create(struct gym_db *db, const struct gym_actor *actor, const char *course,
    int64_t starts, int64_t ends, int capacity, long long *id)
{
	struct create_arg a = { actor, course, starts, ends, capacity, 0 };
	enum gym_err e;

	/* a class starts in the future and ends after it starts */
	if (course == NULL || *course == '\0' || strlen(course) > 300 ||
	    starts <= gym_now_us() || ends <= starts || capacity < 0 || capacity > 10000)
		return GYM_EINVAL;
	if ((e = gym_db_tx(db, create_tx, &a)) == GYM_OK)
		*id = a.id;
	return e;
}

struct cap_arg {
	const struct gym_actor *actor;
	long long id;
	int capacity;
};

static enum gym_err
capacity_tx(struct gym_db *db, void *v)
{
	struct cap_arg *a = v;

	return gym__schedule_capacity(db, a->actor, a->id, a->capacity);
}

enum gym_err
gym__schedule_capacity(struct gym_db *db, const struct gym_actor *actor, long long id,
    int capacity)
{
	struct cap_arg ca = { actor, id, capacity }, *a = &ca;
	char ids[24], cap[16], diff[16], now[40], old[16], snap[128];
	const char *p[3] = { ids, diff, now };
	const char *pc[2] = { ids, cap };
	struct gym_audit au = { "schedule", "capacity_changed", NULL, 0, 0, old, cap, snap };
	PGresult *r;
	enum gym_err e;
	int current;

	snprintf(ids, sizeof(ids), "%lld", a->id);
	snprintf(cap, sizeof(cap), "%d", a->capacity);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_lock, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_E_SCHEDULE_NOT_FOUND;
	}
	current = (int)gym_db_get_ll(r, 0, "capacity");
	PQclear(r);
	snprintf(old, sizeof(old), "%d", current);
	if (a->capacity > current)
		e = add_seats(db, a->id, a->capacity - current);
	else if (a->capacity < current) {
		snprintf(diff, sizeof(diff), "%d", current - a->capacity);
		if ((e = gym_db_exec(db, &st_drop_seats, 3, p, &r)) != GYM_OK)
			return e;
		if (atoi(PQcmdTuples(r)) != current - a->capacity)
			e = GYM_E_CAPACITY_BELOW_BOOKED;
		PQclear(r);
	}
	if (e != GYM_OK)
		return e;
	if ((e = gym_db_exec(db, &st_set_cap, 2, pc, NULL)) != GYM_OK)
		return e;
	snprintf(snap, sizeof(snap), "{\"course_schedule_id\":%lld,\"capacity\":%d}",
	    a->id, a->capacity);
	return gym_audit_write(db, a->actor, &au);
}

enum gym_err
gym_schedule_set_capacity(struct gym_db *db, const struct gym_actor *actor, long long id,
    int capacity)
{
	struct cap_arg a = { actor, id, capacity };

	if (capacity < 0 || capacity > 10000)
		return GYM_EINVAL;
	return gym_db_tx(db, capacity_tx, &a);
}
