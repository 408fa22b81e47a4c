/*
 * schedule_changes.c: the front desk changes or cancels a class (issue 14).
 *
 * gym_schedule_update renames, moves or resizes a class in one
 * transaction; when its name or times change, every parent with a paid
 * booking is told (class_rescheduled, enqueued in the same transaction).
 *
 * gym_schedule_cancel cancels a class.  One transaction marks it cancelled
 * (no new holds, orders or waitlist joins: the classes' "open" predicate
 * checks cancelled_at), releases its holds, cancels its unpaid orders
 * (their WeChat orders are closed by the job, as for any ended order),
 * closes its waitlist and queues a class_cancelled message per order.
 * Then every paid order goes through the operators' refund path
 * (gym_refund_request, reason as given), each refund due at once for the
 * job to send.  The refunds come after the commit because each is its own
 * transaction; a crash between the two, or a second press, finds the class
 * already cancelled and runs only the refund step again, which starts
 * nothing twice (one active refund per order).
 *
 * A hold or an order whose statement read the class open just before the
 * cancel committed can still commit just after it (the cancel waits for
 * the seats being claimed, not for statements that have yet to claim).
 * gym_schedule_cancel_sweep ends those: the cancel runs it once more after
 * its refunds, and the job process on every run.  Such a hold cannot be
 * paid meanwhile: a payment for a class that is not open goes back
 * (payments.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "booking.h"
#include "extern.h"
#include "notify.h"
#include "products.h"
#include "refunds.h"

#define REASON_MAX_BYTES 240	/* 80 characters of UTF-8 */

static struct gym_stmt st_lock = { "class_change_lock",
	"SELECT course_name, (extract(epoch FROM starts_at) * 1000000)::bigint AS starts_us, "
	"(extract(epoch FROM ends_at) * 1000000)::bigint AS ends_us, "
	"cancelled_at IS NOT NULL AS cancelled FROM course_schedules WHERE id = $1::bigint "
	"FOR UPDATE", 0 };
static struct gym_stmt st_update = { "class_change_update",
	"UPDATE course_schedules SET course_name = $2, starts_at = $3::timestamptz, "
	"ends_at = $4::timestamptz WHERE id = $1::bigint", 0 };
static struct gym_stmt st_paid = { "class_change_paid_orders",
	"SELECT order_id FROM payment_orders WHERE course_schedule_id = $1::bigint "
	"AND status = 'paid' ORDER BY id", 0 };
static struct gym_stmt st_cancel = { "class_cancel_mark",
	"UPDATE course_schedules SET cancelled_at = $2::timestamptz, cancel_reason = $3, "
	"cancelled_by = $4::bigint WHERE id = $1::bigint", 0 };
/* every seat of the class: waits for holds being claimed right now (a claim
 * locks its seat until it commits), so none commits unseen after this */
static struct gym_stmt st_seats = { "class_cancel_seats",
	"SELECT count(*) FROM (SELECT id FROM seats WHERE course_schedule_id = $1::bigint "
	"FOR UPDATE) s", 0 };
static struct gym_stmt st_pending = { "class_cancel_pending",
	"SELECT order_id, coalesce(reservation_id, 0) AS rid FROM payment_orders "
	"WHERE course_schedule_id = $1::bigint AND status = 'pending' ORDER BY id FOR UPDATE", 0 };
/* holds not under an open order (those end with their order) */
static struct gym_stmt st_holds = { "class_cancel_holds",
	"SELECT r.id FROM seat_reservations r WHERE r.course_schedule_id = $1::bigint "
	"AND r.status = 'temporary' AND NOT EXISTS (SELECT 1 FROM payment_orders o "
	"WHERE o.reservation_id = r.id AND o.status = 'pending') ORDER BY r.id", 0 };
static struct gym_stmt st_waitlist = { "class_cancel_waitlist",
	"UPDATE waitlist_entries SET state = 'done', done_reason = 'closed', "
	"updated_at = $2::timestamptz WHERE course_schedule_id = $1::bigint "
	"AND state IN ('waiting', 'offered') RETURNING id, state", 0 };
/* what a cancelled class still has in flight (see the header comment) */
static struct gym_stmt st_stray_orders = { "class_cancel_stray_orders",
	"SELECT o.order_id, coalesce(o.reservation_id, 0) AS rid, s.cancel_reason "
	"FROM payment_orders o JOIN course_schedules s ON s.id = o.course_schedule_id "
	"WHERE s.cancelled_at IS NOT NULL AND o.status = 'pending' ORDER BY o.id LIMIT 50 "
	"FOR UPDATE OF o SKIP LOCKED", 0 };
static struct gym_stmt st_stray_holds = { "class_cancel_stray_holds",
	"SELECT r.id FROM seat_reservations r JOIN course_schedules s ON s.id = r.course_schedule_id "
	"WHERE s.cancelled_at IS NOT NULL AND r.status = 'temporary' AND NOT EXISTS ("
	"SELECT 1 FROM payment_orders o WHERE o.reservation_id = r.id AND o.status = 'pending') "
	"ORDER BY r.id LIMIT 50 FOR UPDATE OF r SKIP LOCKED", 0 };
/* paid bookings of cancelled classes that no refund covers yet (a cancel
 * stopped half way), with the class's reason and operator; a class
 * cancelled in the last 30 seconds is left to its own cancel, still
 * refunding (and counting) its bookings */
static struct gym_stmt st_stray_paid = { "class_cancel_stray_paid",
	"SELECT o.order_id, s.cancel_reason, coalesce(s.cancelled_by, 0) AS operator_id "
	"FROM payment_orders o JOIN course_schedules s ON s.id = o.course_schedule_id "
	"WHERE s.cancelled_at < now() - interval '30 seconds' AND o.status = 'paid' "
	"ORDER BY o.id LIMIT 50", 0 };
static struct gym_stmt st_send_now = { "class_cancel_send_now",
	"UPDATE refunds SET next_send_at = $2::timestamptz WHERE out_refund_no = $1 "
	"AND status = 'pending'", 0 };

/* Tell every parent with a paid booking of class ids about kind. */
static enum gym_err
tell_paid(struct gym_db *db, const struct gym_actor *actor, const char *ids,
    enum gym_notify_kind kind, const char *detail, int *told)
{
	const char *p[1] = { ids };
	PGresult *r;
	enum gym_err e;
	int n;

	if ((e = gym_db_exec(db, &st_paid, 1, p, &r)) != GYM_OK)
		return e;
	n = PQntuples(r);
	for (int i = 0; e == GYM_OK && i < n; i++)
		e = gym__notify_enqueue(db, actor, kind, gym_db_get(r, i, "order_id"), detail);
	PQclear(r);
	if (e == GYM_OK && told != NULL)
		*told += n;
	return e;
}

struct update_arg {
	const struct gym_actor *actor;
	long long id;
	const struct gym_schedule_change *c;
	const char *bad;	/* the field refused */
	int told;
};

static enum gym_err
update_tx(struct gym_db *db, void *v)
{
	struct update_arg *a = v;
	char ids[24], name[404], st[40], en[40], snap[1024];
	const char *p1[1] = { ids };
	const char *pu[4] = { ids, name, st, en };
	struct gym_audit au = { "schedule", "schedule_changed", NULL, 0, 0, NULL, NULL, snap };
	int64_t starts, ends, now = gym_now_us();
	PGresult *r;
	enum gym_err e;
	int moved, renamed;
	cJSON *s;
	char *text;

	a->told = 0;
	snprintf(ids, sizeof(ids), "%lld", a->id);
	if ((e = gym_db_exec(db, &st_lock, 1, p1, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_E_SCHEDULE_NOT_FOUND;
	}
	if (strcmp(gym_db_get(r, 0, "cancelled"), "t") == 0) {
		PQclear(r);
		return GYM_E_CLASS_CANCELLED;
	}
	gym_db_copy(r, 0, "course_name", name, sizeof(name));
	starts = gym_db_get_ll(r, 0, "starts_us");
	ends = gym_db_get_ll(r, 0, "ends_us");
	PQclear(r);
	renamed = a->c->course_name != NULL && strcmp(a->c->course_name, name) != 0;
	moved = (a->c->starts_at != 0 && a->c->starts_at != starts) ||
	    (a->c->ends_at != 0 && a->c->ends_at != ends);
	if (renamed || moved) {
		if ((s = cJSON_CreateObject()) == NULL)
			return GYM_ENOMEM;
		cJSON_AddNumberToObject(s, "course_schedule_id", (double)a->id);
		cJSON_AddStringToObject(s, "old_course_name", name);
		gym_time_format(starts, st, sizeof(st));
		cJSON_AddStringToObject(s, "old_starts_at", st);
		if (a->c->course_name != NULL)
			snprintf(name, sizeof(name), "%s", a->c->course_name);
		if (a->c->starts_at != 0)
			starts = a->c->starts_at;
		if (a->c->ends_at != 0)
			ends = a->c->ends_at;
		/* a class moves to the future only, and ends after it starts */
		if (moved && starts <= now) {
			cJSON_Delete(s);
			a->bad = "starts_at";
			return GYM_EINVAL;
		}
		if (ends <= starts) {
			cJSON_Delete(s);
			a->bad = "ends_at";
			return GYM_EINVAL;
		}
		gym_time_format(starts, st, sizeof(st));
		gym_time_format(ends, en, sizeof(en));
		cJSON_AddStringToObject(s, "course_name", name);
		cJSON_AddStringToObject(s, "starts_at", st);
		cJSON_AddStringToObject(s, "ends_at", en);
		text = cJSON_PrintUnformatted(s);
		cJSON_Delete(s);
		if (text == NULL)
			return GYM_ENOMEM;
		snprintf(snap, sizeof(snap), "%s", text);
		free(text);
		if ((e = gym_db_exec(db, &st_update, 4, pu, NULL)) != GYM_OK ||
		    (e = gym_audit_write(db, a->actor, &au)) != GYM_OK ||
		    (e = tell_paid(db, a->actor, ids, GYM_NOTIFY_CLASS_RESCHEDULED, NULL,
		    &a->told)) != GYM_OK)
			return e;
	}
	if (a->c->capacity >= 0)
		return gym__schedule_capacity(db, a->actor, a->id, a->c->capacity);
	return GYM_OK;
}

enum gym_err
gym_schedule_update(struct gym_db *db, const struct gym_actor *actor, long long id,
    const struct gym_schedule_change *c, const char **bad_field, int *told)
{
	struct update_arg a = { actor, id, c, NULL, 0 };
	enum gym_err e;

	*bad_field = NULL;
	if (told != NULL)
		*told = 0;
	if (c->course_name != NULL && (c->course_name[0] == '\0' || strlen(c->course_name) > 300)) {
		*bad_field = "course_name";
		return GYM_EINVAL;
	}
	if (c->capacity > 10000) {
		*bad_field = "capacity";
		return GYM_EINVAL;
	}
	e = gym_db_tx(db, update_tx, &a);
	*bad_field = a.bad;
	if (e == GYM_OK && told != NULL)
		*told = a.told;
	return e;
}

struct cancel_arg {
	const struct gym_actor *actor;
	long long id;
	const char *reason;
	long long operator_id;
	struct gym_class_cancel *out;
};

/* Close the class's waitlist, one audit row per entry. */
static enum gym_err
close_waitlist(struct gym_db *db, const struct gym_actor *actor, const char *ids,
    const char *now)
{
	const char *p[2] = { ids, now };
	char snap[96];
	struct gym_audit au = { "waitlist", "waitlist_closed", NULL, 0, 0, NULL, "done", snap };
	PGresult *r;
	enum gym_err e;

	if ((e = gym_db_exec(db, &st_waitlist, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++) {
		snprintf(snap, sizeof(snap), "{\"waitlist_entry_id\":%s,\"done_reason\":\"closed\"}",
		    gym_db_get(r, i, "id"));
		e = gym_audit_write(db, actor, &au);
	}
	PQclear(r);
	return e;
}

static enum gym_err
cancel_tx(struct gym_db *db, void *v)
{
	struct cancel_arg *a = v;
	char ids[24], now[40], snap[512];
	const char *p1[1] = { ids };
	char opid[24];
	const char *pc[4] = { ids, now, a->reason, opid };
	struct gym_audit au = { "schedule", "schedule_cancelled", NULL, 0, 0, "open", "cancelled",
	    snap };
	PGresult *r;
	enum gym_err e;
	cJSON *s;
	char *text;

	memset(a->out, 0, sizeof(*a->out));
	snprintf(ids, sizeof(ids), "%lld", a->id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_lock, 1, p1, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_E_SCHEDULE_NOT_FOUND;
	}
	a->out->already = strcmp(gym_db_get(r, 0, "cancelled"), "t") == 0;
	PQclear(r);
	if (a->out->already)
		return GYM_OK;
	if ((s = cJSON_CreateObject()) == NULL)
		return GYM_ENOMEM;
	cJSON_AddNumberToObject(s, "course_schedule_id", (double)a->id);
	cJSON_AddStringToObject(s, "reason", a->reason);
	text = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	if (text == NULL)
		return GYM_ENOMEM;
	snprintf(snap, sizeof(snap), "%s", text);
	free(text);
	snprintf(opid, sizeof(opid), "%lld", a->operator_id);
	if (a->operator_id <= 0)
		pc[3] = NULL;
	if ((e = gym_db_exec(db, &st_cancel, 4, pc, NULL)) != GYM_OK ||
	    (e = gym_audit_write(db, a->actor, &au)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_seats, 1, p1, NULL)) != GYM_OK)
		return e;
	/* unpaid orders, with their holds, then the holds without one */
	if ((e = gym_db_exec(db, &st_pending, 1, p1, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++) {
		e = gym__order_end_class_cancelled(db, a->actor, gym_db_get(r, i, "order_id"),
		    gym_db_get_ll(r, i, "rid"), a->reason);
		a->out->orders_cancelled++;
	}
	PQclear(r);
	if (e != GYM_OK || (e = gym_db_exec(db, &st_holds, 1, p1, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++) {
		e = gym__hold_end(db, a->actor, gym_db_get_ll(r, i, "id"), GYM_HOLD_CANCELLED, NULL);
		a->out->holds_released++;
	}
	PQclear(r);
	if (e != GYM_OK || (e = close_waitlist(db, a->actor, ids, now)) != GYM_OK)
		return e;
	/* members' bookings of a regular class: seats and credits back (products.h) */
	{
		int members;

		if ((e = gym__member_bookings_class_cancelled(db, a->actor, a->id, &members)) !=
		    GYM_OK)
			return e;
	}
	return tell_paid(db, a->actor, ids, GYM_NOTIFY_CLASS_CANCELLED, a->reason, &a->out->told);
}

/* Refund one paid booking of a cancelled class in the name of the operator
 * who cancelled it (the system's for a class cancelled before 0025), sent
 * by the next job run at once; *created 1 when a refund was made. */
static enum gym_err
refund_booking(struct gym_db *db, const struct gym_actor *actor, const char *order_id,
    const char *reason, long long operator_id, int *created)
{
	char now[40];
	struct gym_refund f;
	enum gym_err e;

	*created = 0;
	e = gym_refund_request(db, actor, order_id, reason, operator_id > 0 ? "operator" : "system",
	    operator_id > 0 ? operator_id : 0, &f, created);
	if (e == GYM_E_NOT_REFUNDABLE)		/* it moved on meanwhile */
		return GYM_OK;
	if (e == GYM_OK && *created) {
		const char *ps[2] = { f.out_refund_no, now };

		gym_db_now_param(now, sizeof(now));
		e = gym_db_exec(db, &st_send_now, 2, ps, NULL);
	}
	return e;
}

enum gym_err
gym_schedule_cancel(struct gym_db *db, const struct gym_actor *actor, long long id,
    const char *reason, long long operator_id, struct gym_class_cancel *out)
{
	struct cancel_arg a = { actor, id, reason, operator_id, out };
	char ids[24];
	const char *p1[1] = { ids };
	PGresult *r;
	enum gym_err e;
	int created;

	if (reason == NULL || reason[0] == '\0' || strlen(reason) > REASON_MAX_BYTES)
		return GYM_EINVAL;
	if ((e = gym_db_tx(db, cancel_tx, &a)) != GYM_OK)
		return e;
	/* every paid booking back through the operators' refund path */
	snprintf(ids, sizeof(ids), "%lld", id);
	if ((e = gym_db_exec(db, &st_paid, 1, p1, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++) {
		e = refund_booking(db, actor, gym_db_get(r, i, "order_id"), reason, operator_id,
		    &created);
		out->refunds += created;
	}
	PQclear(r);
	return e == GYM_OK ? gym_schedule_cancel_sweep(db, actor, NULL) : e;
}

struct sweep_arg {
	const struct gym_actor *actor;
	int n;
};

static enum gym_err
sweep_tx(struct gym_db *db, void *v)
{
	struct sweep_arg *a = v;
	PGresult *r;
	enum gym_err e;

	a->n = 0;
	if ((e = gym_db_exec(db, &st_stray_orders, 0, NULL, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++, a->n++)
		e = gym__order_end_class_cancelled(db, a->actor, gym_db_get(r, i, "order_id"),
		    gym_db_get_ll(r, i, "rid"), gym_db_get(r, i, "cancel_reason"));
	PQclear(r);
	if (e != GYM_OK || (e = gym_db_exec(db, &st_stray_holds, 0, NULL, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++, a->n++)
		e = gym__hold_end(db, a->actor, gym_db_get_ll(r, i, "id"), GYM_HOLD_CANCELLED, NULL);
	PQclear(r);
	if (e == GYM_OK) {	/* a member booking that raced the cancel (products.h) */
		int members;

		e = gym__member_bookings_class_cancelled(db, a->actor, 0, &members);
		a->n += members;
	}
	return e;
}

enum gym_err
gym_schedule_cancel_sweep(struct gym_db *db, const struct gym_actor *actor, int *ended)
{
	struct sweep_arg a = { actor, 0 };
	enum gym_err e;

	PGresult *r;
	int created;

	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_tx(db, sweep_tx, &a)) != GYM_OK)
		return e;
	/* paid bookings a cancel that stopped half way left unrefunded */
	if ((e = gym_db_exec(db, &st_stray_paid, 0, NULL, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++) {
		e = refund_booking(db, actor, gym_db_get(r, i, "order_id"),
		    gym_db_get(r, i, "cancel_reason"), gym_db_get_ll(r, i, "operator_id"), &created);
		a.n += created;
	}
	PQclear(r);
	if (ended != NULL)
		*ended = a.n;
	return e;
}
