/*
 * check_refunds.c: refunds against a real database: one refund per order
 * however often (and however concurrently) it is asked for, WeChat's word
 * applied exactly once (success, closed, abnormal, processing, repeats and
 * strangers), the seat freed only before the class starts, unpaid orders
 * refused, and the job's claims (automatic refunds, resends, polls).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "integ.h"
#include "admin.h"
#include "pgtest.h"
#include "refunds.h"

#define CONCURRENT_REQUESTS 20
#define MCHID "1900000001"
#define REASON "家长申请退款"

static struct gym_db *db;
static struct gym_config cfg;

static char mchid_ours[] = MCHID, mchid_other[] = "1230000109";
static const struct gym_actor op1 = { "operator", 1, "127.0.0.1", "check_integ", "t-op1", NULL };
static const struct gym_actor op2 = { "operator", 2, "127.0.0.1", "check_integ", "t-op2", NULL };

static void
setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.wx_mchid = mchid_ours;
	db = pgt_open();
}

static void
teardown(void)
{
	pgt_close(&db);
}

/* A user with a hold and an order on schedule sid: the order into o. */
static void
new_order(long long sid, const char *openid, struct gym_order *o)
{
	struct gym_reservation r;
	struct gym_actor a;
	long long uid = pgt_user(db, openid);
	int created;

	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_hold_create(db, &a, uid, sid, &r, &created), GYM_OK);
	ck_assert_int_eq(gym_order_create(db, &a, uid, sid, r.id, NULL, NULL, o, &created), GYM_OK);
}

/* The same, paid (WeChat's SUCCESS applied): booking confirmed. */
static void
paid_order(long long sid, const char *openid, struct gym_order *o)
{
	char txn[48], outcome[32];

	new_order(sid, openid, o);
	snprintf(txn, sizeof(txn), "4200%s", o->order_id);
	ck_assert_int_eq(pgt_pay(db, o->order_id, txn, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "paid");
}

static void
textq(const char *sql, const char *arg, char *buf, size_t len)
{
	const char *p[1] = { arg };

	pgt_textp(db, sql, 1, p, buf, len);
}

static long long
countq(const char *sql, const char *arg)
{
	const char *p[1] = { arg };

	return pgt_countp(db, sql, 1, p);
}

static void
assert_order(const char *order_id, const char *want)
{
	char got[32];

	textq("SELECT status FROM payment_orders WHERE order_id = $1", order_id, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

static enum gym_err
request(const struct gym_actor *a, const char *order_id, const char *reason,
    struct gym_refund *f, int *created)
{
	memset(f, 0, sizeof(*f));
	return gym_refund_request(db, a, order_id, reason, "operator", a->id, f, created);
}

/* WeChat's word on a refund, as a notification ("notify") or a Refund
 * object ("query"); the outcome into outcome. */
static enum gym_err
wx_says(const struct gym_refund *f, const char *status, const char *source,
    const char *out_trade_no, long long refund_fen, char *outcome, size_t len)
{
	cJSON *j = cJSON_CreateObject(), *amount;
	int notify = strcmp(source, "notify") == 0;
	enum gym_err e;

	if (notify)
		cJSON_AddStringToObject(j, "mchid", MCHID);
	cJSON_AddStringToObject(j, "out_trade_no", out_trade_no ? out_trade_no : f->order_id);
	cJSON_AddStringToObject(j, "transaction_id", "4200000000000000000000000001");
	cJSON_AddStringToObject(j, "refund_id", "50300000000000000000000000001");
	cJSON_AddStringToObject(j, "out_refund_no", f->out_refund_no);
	cJSON_AddStringToObject(j, notify ? "refund_status" : "status", status);
	if (strcmp(status, "SUCCESS") == 0)
		cJSON_AddStringToObject(j, "success_time", "2030-01-01T10:00:00+08:00");
	amount = cJSON_AddObjectToObject(j, "amount");
	cJSON_AddNumberToObject(amount, "total", 20000);
	cJSON_AddNumberToObject(amount, "refund", (double)refund_fen);
	outcome[0] = '\0';
	e = gym_refund_apply_json(db, &pgt_actor_wechat, &cfg, j, source, outcome, len);
	cJSON_Delete(j);
	return e;
}

static enum gym_err
notify(const struct gym_refund *f, const char *status, char *outcome, size_t len)
{
	return wx_says(f, status, "notify", NULL, 20000, outcome, len);
}

START_TEST(test_request_twice_one_refund)
{
	struct gym_refund f, f2;
	struct gym_order o;
	char expect[64];
	int created;
	long long sid = pgt_schedule(db, 3);

	paid_order(sid, "o-refund-twice", &o);
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	snprintf(expect, sizeof(expect), "RF%s", o.order_id);
	ck_assert_str_eq(f.out_refund_no, expect);
	ck_assert_str_eq(gym_refund_status_name(f.status), "pending");
	ck_assert_str_eq(gym_refund_public_status(&f), "processing");
	ck_assert_int_eq(f.amount_fen, 20000);
	ck_assert_str_eq(f.initiated_by, "operator");
	ck_assert_int_eq(f.operator_id, 1);
	assert_order(o.order_id, "refunding");

	/* the double click: the same refund, nothing new */
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f2, &created), GYM_OK);
	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(f2.id, f.id);
	ck_assert_str_eq(f2.out_refund_no, f.out_refund_no);
	/* someone else, or another reason: in progress */
	ck_assert_int_eq(request(&op2, o.order_id, REASON, &f2, &created), GYM_E_REFUND_IN_PROGRESS);
	ck_assert_int_eq(request(&op1, o.order_id, "另一个原因", &f2, &created),
	    GYM_E_REFUND_IN_PROGRESS);
	/* the system's request finds the operator's refund */
	ck_assert_int_eq(gym_refund_request(db, &pgt_actor_system, o.order_id,
	    GYM_REFUND_AUTO_REASON, "system", 0, &f2, &created), GYM_OK);
	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(f2.id, f.id);

	ck_assert_int_eq(countq("SELECT count(*) FROM refunds WHERE order_id = $1", o.order_id), 1);
	ck_assert_int_eq(countq("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'refund_requested'", o.order_id), 1);
	ck_assert_int_eq(countq("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND entity = 'order' AND new_status = 'refunding' AND actor_type = 'operator' "
	    "AND actor_id = '1'", o.order_id), 1);
	/* gym_refund_get by out_refund_no and by id */
	ck_assert_int_eq(gym_refund_get(db, 0, f.out_refund_no, &f2), GYM_OK);
	ck_assert_int_eq(f2.id, f.id);
	ck_assert_int_eq(gym_refund_get(db, f.id, NULL, &f2), GYM_OK);
	ck_assert_str_eq(f2.reason, REASON);
	ck_assert_int_eq(gym_refund_get(db, 0, "RFnope123456", &f2), GYM_ENOTFOUND);
}
END_TEST

struct burst {
	const char *order_id;
};

static void
burst_request(struct pgt_client *c)
{
	const struct burst *b = c->arg;
	struct gym_actor a = op1;
	struct gym_refund f;

	memset(&f, 0, sizeof(f));
	c->err = gym_refund_request(c->db, &a, b->order_id, REASON, "operator", 1, &f, &c->created);
	c->id = f.id;
	snprintf(c->text, sizeof(c->text), "%.39s", f.out_refund_no);
}

START_TEST(test_concurrent_requests_one_refund)
{
	static struct pgt_client out[CONCURRENT_REQUESTS];
	struct gym_order o;
	struct burst b;
	int reported, bad, created = 0;
	long long sid = pgt_schedule(db, 3);

	paid_order(sid, "o-refund-burst", &o);
	b.order_id = o.order_id;
	reported = pgt_fork_clients(CONCURRENT_REQUESTS, NULL, burst_request, &b, out, &bad);
	ck_assert_int_eq(reported, CONCURRENT_REQUESTS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < CONCURRENT_REQUESTS; i++) {
		ck_assert_msg(out[i].err == GYM_OK, "client %d: %d", i, out[i].err);
		ck_assert_int_eq(out[i].id, out[0].id);
		ck_assert_str_eq(out[i].text, out[0].text);
		created += out[i].created;
	}
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM refunds"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log "
	    "WHERE action_type = 'refund_requested'"), 1);
}
END_TEST

START_TEST(test_not_refundable)
{
	struct gym_refund f;
	struct gym_order o, c;
	struct gym_actor a;
	int created;
	long long sid = pgt_schedule(db, 3);

	new_order(sid, "o-refund-unpaid", &o);
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f, &created), GYM_E_NOT_REFUNDABLE);
	assert_order(o.order_id, "pending");
	a = pgt_actor_user(o.user_id);
	ck_assert_int_eq(gym_order_cancel(db, &a, o.user_id, o.order_id, &c), GYM_OK);
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f, &created), GYM_E_NOT_REFUNDABLE);
	ck_assert_int_eq(gym_refund_request(db, &pgt_actor_system, o.order_id,
	    GYM_REFUND_AUTO_REASON, "system", 0, &f, &created), GYM_E_NOT_REFUNDABLE);
	ck_assert_int_eq(request(&op1, "NOSUCHORDER1", REASON, &f, &created), GYM_ENOTFOUND);
	ck_assert_int_eq(request(&op1, "bad id!", REASON, &f, &created), GYM_ENOTFOUND);
	/* reasons: present, at most 80 characters (not bytes), valid UTF-8 */
	paid_order(sid, "o-refund-reason", &o);
	ck_assert_int_eq(request(&op1, o.order_id, "", &f, &created), GYM_EINVAL);
	ck_assert_int_eq(request(&op1, o.order_id, "a\nb", &f, &created), GYM_EINVAL);
	ck_assert_int_eq(request(&op1, o.order_id, "\xe9\x80", &f, &created), GYM_EINVAL);
	ck_assert_int_eq(request(&op1, o.order_id, "退款退款退款退款退款退款退款退款退款退款"
	    "退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款"
	    "退款退款退款退款退款退款退款退款退款退款x", &f, &created), GYM_EINVAL);
	ck_assert_int_eq(request(&op1, o.order_id, "退款退款退款退款退款退款退款退款退款退款"
	    "退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款退款"
	    "退款退款退款退款退款退款退款退款退款退款", &f, &created), GYM_OK);
	/* the initiator must fit its operator id */
	ck_assert_int_eq(gym_refund_request(db, &op1, o.order_id, REASON, "operator", 0, &f,
	    &created), GYM_EINVAL);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM refunds"), 1);
}
END_TEST

START_TEST(test_success_applied_once)
{
	struct gym_refund f, g;
	struct gym_order o;
	char outcome[32], st[32];
	int created;
	long long sid = pgt_schedule(db, 3);

	paid_order(sid, "o-refund-success", &o);
	ck_assert_int_eq(pgt_available(db, sid), 2);
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f, &created), GYM_OK);
	/* WeChat took it */
	ck_assert_int_eq(wx_says(&f, "PROCESSING", "create", NULL, 20000, outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "processing");
	ck_assert_int_eq(gym_refund_get(db, f.id, NULL, &g), GYM_OK);
	ck_assert_str_eq(gym_refund_status_name(g.status), "processing");
	ck_assert_str_eq(g.wx_status, "PROCESSING");
	ck_assert_str_eq(g.wx_refund_id, "50300000000000000000000000001");
	ck_assert_int_eq(pgt_available(db, sid), 2);

	ck_assert_int_eq(notify(&f, "SUCCESS", outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "success");
	assert_order(o.order_id, "refunded");
	textq("SELECT status FROM bookings WHERE order_id = $1", o.order_id, st, sizeof(st));
	ck_assert_str_eq(st, "cancelled");
	textq("SELECT r.status FROM seat_reservations r JOIN payment_orders o ON o.reservation_id = "
	    "r.id WHERE o.order_id = $1", o.order_id, st, sizeof(st));
	ck_assert_str_eq(st, "cancelled");
	ck_assert_int_eq(pgt_available(db, sid), 3);
	ck_assert_int_eq(gym_refund_get(db, f.id, NULL, &g), GYM_OK);
	ck_assert_str_eq(gym_refund_status_name(g.status), "success");
	ck_assert_int_ne(g.completed_at, 0);
	ck_assert_int_eq(gym_time_parse("2030-01-01T10:00:00+08:00", &g.updated_at), 0);
	ck_assert_int_eq(g.completed_at, g.updated_at);	/* WeChat's success_time */

	/* again, and again through a query, and a late PROCESSING: nothing */
	ck_assert_int_eq(notify(&f, "SUCCESS", outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "duplicate");
	ck_assert_int_eq(wx_says(&f, "SUCCESS", "query", NULL, 20000, outcome, sizeof(outcome)),
	    GYM_OK);
	ck_assert_str_eq(outcome, "duplicate");
	ck_assert_int_eq(wx_says(&f, "PROCESSING", "create", NULL, 20000, outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "ignored");
	ck_assert_int_eq(pgt_available(db, sid), 3);
	ck_assert_int_eq(countq("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'refund_succeeded'", o.order_id), 1);
	ck_assert_int_eq(countq("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'order_refunded'", o.order_id), 1);
	ck_assert_int_eq(countq("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'booking_cancelled'", o.order_id), 1);
	ck_assert_int_eq(countq("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'seat_released'", o.order_id), 1);
	/* the refunded order can be asked for again: not refundable */
	ck_assert_int_eq(request(&op2, o.order_id, REASON, &g, &created), GYM_E_NOT_REFUNDABLE);
	/* and its user may book a trial again (a refunded booking no longer counts) */
	paid_order(sid, "o-refund-success", &o);
}
END_TEST

START_TEST(test_seat_kept_after_class_started)
{
	struct gym_refund f;
	struct gym_order o;
	char outcome[32], st[32];
	int created;
	long long sid = pgt_schedule_at(db, 2, 3600);	/* starts in an hour */

	paid_order(sid, "o-refund-started", &o);
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f, &created), GYM_OK);
	gym_clock_set_offset(2 * 3600);			/* the class is on */
	ck_assert_int_eq(notify(&f, "SUCCESS", outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "success");
	assert_order(o.order_id, "refunded");
	textq("SELECT status FROM bookings WHERE order_id = $1", o.order_id, st, sizeof(st));
	ck_assert_str_eq(st, "cancelled");
	/* the seat stays with its booking's hold */
	textq("SELECT s.state FROM seats s JOIN payment_orders o ON s.reservation_id = "
	    "o.reservation_id WHERE o.order_id = $1", o.order_id, st, sizeof(st));
	ck_assert_str_eq(st, "confirmed");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats WHERE state = 'free'"), 1);
	ck_assert_int_eq(countq("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'seat_released'", o.order_id), 0);
	ck_assert_int_eq(countq("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'refund_succeeded' "
	    "AND response_snapshot->>'seat_freed' = 'false'", o.order_id), 1);
}
END_TEST

START_TEST(test_closed_then_new_refund)
{
	struct gym_refund f, g, h;
	struct gym_order o;
	char outcome[32], expect[64];
	int created;
	long long sid = pgt_schedule(db, 3);

	paid_order(sid, "o-refund-closed", &o);
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f, &created), GYM_OK);
	ck_assert_int_eq(notify(&f, "CLOSED", outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "closed");
	ck_assert_int_eq(gym_refund_get(db, f.id, NULL, &g), GYM_OK);
	ck_assert_str_eq(gym_refund_status_name(g.status), "closed");
	ck_assert_str_eq(g.next_action, GYM_REFUND_NEXT_CLOSED);
	ck_assert_int_ne(g.completed_at, 0);
	/* nothing was paid out: the order is paid again, its booking stands */
	assert_order(o.order_id, "paid");
	ck_assert_int_eq(countq("SELECT count(*) FROM bookings WHERE order_id = $1 "
	    "AND status = 'confirmed'", o.order_id), 1);
	ck_assert_int_eq(pgt_available(db, sid), 2);
	/* a success after the close changes nothing */
	ck_assert_int_eq(notify(&f, "SUCCESS", outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "ignored");
	assert_order(o.order_id, "paid");
	/* a new request makes a new refund under the next out_refund_no */
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &h, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	snprintf(expect, sizeof(expect), "RF%s-2", o.order_id);
	ck_assert_str_eq(h.out_refund_no, expect);
	assert_order(o.order_id, "refunding");
	ck_assert_int_eq(notify(&h, "SUCCESS", outcome, sizeof(outcome)), GYM_OK);
	assert_order(o.order_id, "refunded");
	ck_assert_int_eq(pgt_available(db, sid), 3);
}
END_TEST

START_TEST(test_abnormal_then_success)
{
	struct gym_refund f, g;
	struct gym_order o;
	char outcome[32];
	int created;
	long long sid = pgt_schedule(db, 3);

	paid_order(sid, "o-refund-abnormal", &o);
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f, &created), GYM_OK);
	ck_assert_int_eq(wx_says(&f, "PROCESSING", "create", NULL, 20000, outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_int_eq(notify(&f, "ABNORMAL", outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "abnormal");
	ck_assert_int_eq(notify(&f, "ABNORMAL", outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "duplicate");
	ck_assert_int_eq(gym_refund_get(db, f.id, NULL, &g), GYM_OK);
	ck_assert_str_eq(gym_refund_status_name(g.status), "abnormal");
	ck_assert_str_eq(g.wx_status, "ABNORMAL");
	ck_assert_str_eq(g.next_action, GYM_REFUND_NEXT_ABNORMAL);
	ck_assert_int_eq(g.completed_at, 0);
	assert_order(o.order_id, "refunding");
	/* an abnormal refund is not over: no second one */
	ck_assert_int_eq(request(&op2, o.order_id, REASON, &g, &created), GYM_E_REFUND_IN_PROGRESS);
	ck_assert_int_eq(countq("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'refund_abnormal'", o.order_id), 1);
	/* the operator settled it in the merchant platform: WeChat says SUCCESS */
	ck_assert_int_eq(wx_says(&f, "SUCCESS", "query", NULL, 20000, outcome, sizeof(outcome)),
	    GYM_OK);
	ck_assert_str_eq(outcome, "success");
	ck_assert_int_eq(gym_refund_get(db, f.id, NULL, &g), GYM_OK);
	ck_assert_str_eq(gym_refund_status_name(g.status), "success");
	ck_assert_str_eq(g.next_action, "");
	assert_order(o.order_id, "refunded");
}
END_TEST

START_TEST(test_strangers_refused)
{
	struct gym_refund f, stranger, g;
	struct gym_order o;
	char outcome[32];
	cJSON *j;
	int created;
	long long sid = pgt_schedule(db, 3);

	paid_order(sid, "o-refund-strangers", &o);
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f, &created), GYM_OK);
	/* an out_refund_no we never made */
	stranger = f;
	snprintf(stranger.out_refund_no, sizeof(stranger.out_refund_no), "RFsomeoneelse1");
	ck_assert_int_eq(notify(&stranger, "SUCCESS", outcome, sizeof(outcome)), GYM_ENOTFOUND);
	ck_assert_str_eq(outcome, "unknown");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'refund_notification_unknown'"), 1);
	/* ours, but of another order, or of another amount */
	ck_assert_int_eq(wx_says(&f, "SUCCESS", "notify", "OTHERORDER123", 20000, outcome,
	    sizeof(outcome)), GYM_EINVAL);
	ck_assert_int_eq(wx_says(&f, "SUCCESS", "notify", NULL, 100, outcome, sizeof(outcome)),
	    GYM_EINVAL);
	/* another merchant; a notification without mchid; an unknown status */
	cfg.wx_mchid = mchid_other;
	ck_assert_int_eq(notify(&f, "SUCCESS", outcome, sizeof(outcome)), GYM_EINVAL);
	cfg.wx_mchid = mchid_ours;
	j = cJSON_Parse("{\"out_refund_no\":\"x\",\"refund_status\":\"SUCCESS\"}");
	cJSON_ReplaceItemInObject(j, "out_refund_no", cJSON_CreateString(f.out_refund_no));
	ck_assert_int_eq(gym_refund_apply_json(db, &pgt_actor_wechat, &cfg, j, "notify", outcome,
	    sizeof(outcome)), GYM_EINVAL);
	cJSON_Delete(j);
	ck_assert_int_eq(notify(&f, "REFUNDED", outcome, sizeof(outcome)), GYM_EINVAL);
	ck_assert_int_ge(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'refund_notification_rejected'"), 5);
	/* none of it changed the refund or the order */
	ck_assert_int_eq(gym_refund_get(db, f.id, NULL, &g), GYM_OK);
	ck_assert_str_eq(gym_refund_status_name(g.status), "pending");
	assert_order(o.order_id, "refunding");
}
END_TEST

/* Strict amounts: WeChat's answer with amounts that are not whole fen
 * (20000.5; 1e308, whose conversion to an integer was undefined), negative,
 * or in another currency where WeChat states one, is refused and changes
 * nothing. */
static const struct {
	const char *source, *amount;
} bad_amounts[] = {
	{ "notify", "{\"total\":20000,\"refund\":20000.5}" },
	{ "notify", "{\"total\":20000.5,\"refund\":20000}" },
	{ "notify", "{\"total\":20000,\"refund\":1e308}" },
	{ "notify", "{\"total\":1e308,\"refund\":20000}" },
	{ "notify", "{\"total\":20000,\"refund\":-1}" },
	{ "notify", "{\"total\":20000,\"refund\":\"20000\"}" },
	{ "query", "{\"total\":20000,\"refund\":20000,\"currency\":\"USD\"}" },
	{ "query", "{\"total\":20000,\"refund\":20000,\"currency\":1}" },
};

START_TEST(test_amounts_strict)
{
	struct gym_refund f, g;
	struct gym_order o;
	char outcome[32];
	cJSON *j;
	int created, notify_ = strcmp(bad_amounts[_i].source, "notify") == 0;
	long long sid = pgt_schedule(db, 3);

	paid_order(sid, "o-refund-strict", &o);
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f, &created), GYM_OK);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "mchid", MCHID);
	cJSON_AddStringToObject(j, "out_trade_no", f.order_id);
	cJSON_AddStringToObject(j, "out_refund_no", f.out_refund_no);
	cJSON_AddStringToObject(j, "refund_id", "50300000000000000000000000001");
	cJSON_AddStringToObject(j, notify_ ? "refund_status" : "status", "SUCCESS");
	cJSON_AddStringToObject(j, "success_time", "2030-01-01T10:00:00+08:00");
	cJSON_AddItemToObject(j, "amount", cJSON_Parse(bad_amounts[_i].amount));
	ck_assert_int_eq(gym_refund_apply_json(db, &pgt_actor_wechat, &cfg, j,
	    bad_amounts[_i].source, outcome, sizeof(outcome)), GYM_EINVAL);
	ck_assert_str_eq(outcome, "rejected");
	/* the same with the amounts right is applied: the refusal was the amount */
	cJSON_ReplaceItemInObject(j, "amount", cJSON_Parse(notify_ ?
	    "{\"total\":20000,\"refund\":20000}" :
	    "{\"total\":20000,\"refund\":20000,\"currency\":\"CNY\"}"));
	ck_assert_int_eq(gym_refund_get(db, f.id, NULL, &g), GYM_OK);
	ck_assert_str_eq(gym_refund_status_name(g.status), "pending");
	assert_order(o.order_id, "refunding");
	ck_assert_int_eq(gym_refund_apply_json(db, &pgt_actor_wechat, &cfg, j,
	    bad_amounts[_i].source, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "success");
	cJSON_Delete(j);
}
END_TEST

/* late_payment_refund = operator: a payment without a seat waits in the
 * needs-attention queue with its reason; the job leaves it; an operator's
 * refund takes it out. */
START_TEST(test_attention_queue)
{
	static const struct gym_actor op = { "operator", 7, NULL, "test", NULL, NULL };
	struct gym_admin_order_filter q = { 0 };
	struct gym_order a, b, listed[4];
	struct gym_refund f;
	struct gym_actor ua;
	char ids[8][72], outcome[32], txn[48];
	long long next;
	int n = -1, created;
	long long sid = pgt_schedule(db, 1);

	new_order(sid, "o-attn-late-a", &a);
	ua = pgt_actor_user(a.user_id);
	ck_assert_int_eq(gym_order_cancel(db, &ua, a.user_id, a.order_id, &b), GYM_OK);
	new_order(sid, "o-attn-late-b", &b);
	snprintf(txn, sizeof(txn), "4200%s", a.order_id);
	ck_assert_int_eq(pgt_pay(db, a.order_id, txn, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "late_refunded");
	assert_order(a.order_id, "refunding");

	/* the job's claim leaves it to an operator */
	ck_assert_int_eq(gym_refund_claim_orders(db, 0, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	q.attention = 1;
	q.limit = 4;
	ck_assert_int_eq(gym_admin_order_list(db, &q, listed, &n, &next), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(listed[0].order_id, a.order_id);
	ck_assert_str_eq(listed[0].attention_reason, "late_no_seat");

	ck_assert_int_eq(gym_refund_request(db, &op, a.order_id, "无名额，全额退款", "operator", 7,
	    &f, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(gym_admin_order_list(db, &q, listed, &n, &next), GYM_OK);
	ck_assert_int_eq(n, 0);
	/* and the job never makes a second one */
	ck_assert_int_eq(gym_refund_claim_orders(db, 1, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_auto_refund_claims)
{
	struct gym_refund f, g;
	struct gym_order a, b;
	struct gym_actor ua;
	char ids[8][72], outcome[32], txn[48], expect[64];
	int n = -1, created;
	long long sid = pgt_schedule(db, 1);

	/* a pays after cancelling, while b holds the only seat: refunding */
	new_order(sid, "o-refund-late-a", &a);
	ua = pgt_actor_user(a.user_id);
	ck_assert_int_eq(gym_order_cancel(db, &ua, a.user_id, a.order_id, &b), GYM_OK);
	new_order(sid, "o-refund-late-b", &b);
	snprintf(txn, sizeof(txn), "4200%s", a.order_id);
	ck_assert_int_eq(pgt_pay(db, a.order_id, txn, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "late_refunded");
	assert_order(a.order_id, "refunding");

	ck_assert_int_eq(gym_refund_claim_orders(db, 1, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(ids[0], a.order_id);
	ck_assert_int_eq(gym_refund_request(db, &pgt_actor_system, a.order_id,
	    GYM_REFUND_AUTO_REASON, "system", 0, &f, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_str_eq(f.initiated_by, "system");
	ck_assert_int_eq(f.operator_id, 0);
	snprintf(expect, sizeof(expect), "RF%s", a.order_id);
	ck_assert_str_eq(f.out_refund_no, expect);
	/* it has its refund now: no second claim */
	ck_assert_int_eq(gym_refund_claim_orders(db, 1, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 0);

	/* the requester sends at once; the job resends after after_s, then backs off */
	ck_assert_int_eq(gym_refund_claim_send(db, 60, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	gym_clock_set_offset(61);
	ck_assert_int_eq(gym_refund_claim_send(db, 60, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(ids[0], f.out_refund_no);
	ck_assert_int_eq(gym_refund_claim_send(db, 60, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	gym_clock_set_offset(61 + 61);
	ck_assert_int_eq(gym_refund_claim_send(db, 60, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	gym_clock_set_offset(61 + 61 + 61);		/* second backoff is 120 s */
	ck_assert_int_eq(gym_refund_claim_send(db, 60, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 0);

	/* WeChat has it: no more sends; polled after after_s, once per after_s */
	ck_assert_int_eq(wx_says(&f, "PROCESSING", "create", NULL, 20000, outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_int_eq(gym_refund_claim_poll(db, 60, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	gym_clock_set_offset(61 * 4 + 1);
	ck_assert_int_eq(gym_refund_claim_send(db, 60, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(gym_refund_claim_poll(db, 60, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(ids[0], f.out_refund_no);
	ck_assert_int_eq(gym_refund_claim_poll(db, 60, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 0);

	/* the refund comes through: the order is refunded; b keeps the seat */
	ck_assert_int_eq(wx_says(&f, "SUCCESS", "query", NULL, 20000, outcome, sizeof(outcome)),
	    GYM_OK);
	ck_assert_str_eq(outcome, "success");
	assert_order(a.order_id, "refunded");
	assert_order(b.order_id, "pending");
	ck_assert_int_eq(pgt_available(db, sid), 0);
	ck_assert_int_eq(gym_refund_get(db, f.id, NULL, &g), GYM_OK);
	ck_assert_str_eq(gym_refund_status_name(g.status), "success");
	ck_assert_int_eq(gym_refund_claim_poll(db, 60, ids, 8, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_list)
{
	struct gym_refund f, rows[4];
	struct gym_refund_filter flt;
	struct gym_order o[3];
	char outcome[32], openid[32];
	long long next;
	int n, created;
	long long sid = pgt_schedule(db, 5);

	for (int i = 0; i < 3; i++) {
		snprintf(openid, sizeof(openid), "o-refund-list-%d", i);
		paid_order(sid, openid, &o[i]);
		ck_assert_int_eq(request(&op1, o[i].order_id, REASON, &f, &created), GYM_OK);
		if (i == 1)
			ck_assert_int_eq(notify(&f, "SUCCESS", outcome, sizeof(outcome)), GYM_OK);
	}
	memset(&flt, 0, sizeof(flt));
	flt.limit = 2;
	ck_assert_int_eq(gym_refund_list(db, &flt, rows, &n, &next), GYM_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(rows[0].order_id, o[2].order_id);	/* newest first */
	ck_assert_str_eq(rows[1].order_id, o[1].order_id);
	ck_assert_int_eq(next, rows[1].id);
	flt.before = next;
	ck_assert_int_eq(gym_refund_list(db, &flt, rows, &n, &next), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(rows[0].order_id, o[0].order_id);
	ck_assert_int_eq(next, 0);
	/* pending ones are listed as processing */
	memset(&flt, 0, sizeof(flt));
	flt.limit = 4;
	flt.status = "processing";
	ck_assert_int_eq(gym_refund_list(db, &flt, rows, &n, &next), GYM_OK);
	ck_assert_int_eq(n, 2);
	flt.status = "success";
	ck_assert_int_eq(gym_refund_list(db, &flt, rows, &n, &next), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(rows[0].order_id, o[1].order_id);
	flt.status = NULL;
	flt.order_id = o[0].order_id;
	ck_assert_int_eq(gym_refund_list(db, &flt, rows, &n, &next), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(rows[0].order_id, o[0].order_id);
	flt.order_id = NULL;
	flt.from = gym_now_us() + 3600LL * 1000000;
	ck_assert_int_eq(gym_refund_list(db, &flt, rows, &n, &next), GYM_OK);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_schema_one_live_refund)
{
	struct gym_refund f;
	struct gym_order o;
	char now[40];
	const char *p[2] = { NULL, now };
	int created;
	long long sid = pgt_schedule(db, 3);

	paid_order(sid, "o-refund-schema", &o);
	ck_assert_int_eq(request(&op1, o.order_id, REASON, &f, &created), GYM_OK);
	p[0] = o.order_id;
	pgt_time(now, sizeof(now), 0);
	/* a second live refund of the order is refused by the database itself */
	ck_assert_str_eq(pgt_sqlstate(db, "INSERT INTO refunds (out_refund_no, order_id, attempt, "
	    "amount_fen, reason, initiated_by, order_status_before, status, created_at, "
	    "updated_at) VALUES ('RFdup' || $1, $1, 2, 20000, 'x', 'system', 'refunding', "
	    "'processing', $2::timestamptz, $2::timestamptz)", 2, p), "23505");
	/* and so is an amount that is not positive (a part is allowed since
	 * migrations 0023 and 0031; the ceiling is the order's, checked in code) */
	ck_assert_str_eq(pgt_sqlstate(db, "UPDATE refunds SET amount_fen = 0 WHERE order_id = $1",
	    1, p), "23514");
}
END_TEST

/* A class cancel that stopped half way (the class marked cancelled, its
 * paid bookings not yet refunded: PostgreSQL lost between the two, as the
 * fault driver once caught): the job's cancel sweep refunds the rest in the
 * cancelling operator's name, with the class's reason, once. */
START_TEST(test_cancel_sweep_refunds_the_rest)
{
	static const struct gym_actor job = { "system", 0, NULL, "check_integ", "t-job", NULL };
	long long sid = pgt_schedule(db, 3);
	struct gym_order a, b;
	char ids[24], got[64];
	const char *p[1] = { ids };
	int ended = -1;

	paid_order(sid, "o-sweep-a", &a);
	paid_order(sid, "o-sweep-b", &b);
	snprintf(ids, sizeof(ids), "%lld", sid);
	/* a cancel of the last 30 s is its own to finish: the sweep waits */
	pgt_execp(db, "UPDATE course_schedules SET cancelled_at = now(), cancel_reason = '场地维修', "
	    "cancelled_by = 7 WHERE id = $1::bigint", 1, p);
	ck_assert_int_eq(gym_schedule_cancel_sweep(db, &job, &ended), GYM_OK);
	ck_assert_int_eq(ended, 0);
	assert_order(a.order_id, "paid");
	pgt_execp(db, "UPDATE course_schedules SET cancelled_at = now() - interval '2 minutes' "
	    "WHERE id = $1::bigint", 1, p);
	ck_assert_int_eq(gym_schedule_cancel_sweep(db, &job, &ended), GYM_OK);
	ck_assert_int_eq(ended, 2);
	textq("SELECT initiated_by || ' ' || operator_id || ' ' || reason FROM refunds "
	    "WHERE order_id = $1", a.order_id, got, sizeof(got));
	ck_assert_str_eq(got, "operator 7 场地维修");
	assert_order(a.order_id, "refunding");
	assert_order(b.order_id, "refunding");
	/* again: nothing more */
	ck_assert_int_eq(gym_schedule_cancel_sweep(db, &job, &ended), GYM_OK);
	ck_assert_int_eq(ended, 0);
	ck_assert_int_eq(countq("SELECT count(*) FROM refunds WHERE order_id = $1", b.order_id), 1);
}
END_TEST

Suite *
refunds_suite(void)
{
	Suite *s = suite_create("refunds");
	TCase *t = tcase_create("core");

	tcase_set_timeout(t, 60);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_request_twice_one_refund);
	tcase_add_test(t, test_concurrent_requests_one_refund);
	tcase_add_test(t, test_not_refundable);
	tcase_add_test(t, test_success_applied_once);
	tcase_add_test(t, test_seat_kept_after_class_started);
	tcase_add_test(t, test_closed_then_new_refund);
	tcase_add_test(t, test_abnormal_then_success);
	tcase_add_test(t, test_strangers_refused);
	tcase_add_loop_test(t, test_amounts_strict, 0, sizeof(bad_amounts) / sizeof(bad_amounts[0]));
	tcase_add_test(t, test_auto_refund_claims);
	tcase_add_test(t, test_attention_queue);
	tcase_add_test(t, test_list);
	tcase_add_test(t, test_schema_one_live_refund);
	tcase_add_test(t, test_cancel_sweep_refunds_the_rest);
	suite_add_tcase(s, t);
	return s;
}
