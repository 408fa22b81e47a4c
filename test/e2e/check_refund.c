/*
 * check_refund.c: refunds through the whole stack: an operator refunds a
 * paid order, the simulator's REFUND.SUCCESS notification arrives, the
 * order is refunded, the booking cancelled and the seat free again; two
 * concurrent requests make one refund at WeChat; roles (an auditor gets
 * 403); unpaid orders (409 NOT_REFUNDABLE); a dropped refund notification
 * finished by the polling job; ABNORMAL and CLOSED outcomes with what to do
 * next; an automatic refund of a late payment; refund notifications that
 * are not ours.  The simulator's faults are reset before and after each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "crypto.h"
#include "e2e.h"

#define REFUNDS E2E_API "/admin/refunds"
#define REFUND_CALLBACK E2E_API "/payment/wxpay/refund-callback"
#define FAULTS_DEFAULT "{\"notify_drop\":false,\"refund_result\":\"SUCCESS\"," \
	"\"refund_delay_ms\":-1,\"api_status\":0,\"api_fail_count\":-1,\"api_delay_ms\":0}"
#define TOKEN_MAX 128

static void
setup(void)
{
	e2e_faults(FAULTS_DEFAULT);
}

static void
teardown(void)
{
	e2e_faults(FAULTS_DEFAULT);
}

/* A new operator of this role (gymctl operator add): its token. */
static char *
operator_token(const char *role, char *token)
{
	e2e_operator("refund-op", role, token, TOKEN_MAX);
	return token;
}

/* A held seat of sid with an order on it and a JSAPI prepay: oid[40]. */
static void
order(const char *token, long long sid, char *oid)
{
	e2e_order_create(token, sid, e2e_hold(token, sid), oid, NULL);
	e2e_prepay(token, oid);
}

/* A parent with a paid order of sid (through the simulator): oid[40]. */
static void
paid_order(const char *tag, long long sid, char *token, char *oid)
{
	char st[24];

	e2e_user(tag, token);
	order(token, sid, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 5000, st), "paid");
}

static void
post_refund(const char *token, const char *oid, const char *reason, const char *extra,
    struct e2e_resp *r)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"%s\"}", oid, reason);
	e2e_request("POST", REFUNDS, token, body, extra, r);
}

/* GET /admin/refunds/{no}: its status into st[24]. */
static char *
refund_status(const char *token, const char *no, char *st, struct e2e_resp *r)
{
	char path[160];

	snprintf(path, sizeof(path), REFUNDS "/%s", no);
	e2e_request("GET", path, token, NULL, NULL, r);
	ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
	snprintf(st, 24, "%s", e2e_str(r, "status"));
	return st;
}

static char *
wait_refund(const char *token, const char *no, const char *want, int timeout_ms, char *st,
    struct e2e_resp *r)
{
	long long end = e2e_now_ms() + timeout_ms;

	while (strcmp(refund_status(token, no, st, r), want) != 0 && e2e_now_ms() < end)
		e2e_sleep_ms(100);
	return st;
}

/* The simulator's refunds of one order, and its refunds_created counter. */
static int
sim_refunds_of(const char *oid)
{
	struct e2e_resp r = { 0 };
	const cJSON *it, *items;
	int n = 0;

	e2e_sim("GET", "/sim/refunds", NULL, &r);
	ck_assert_msg(r.status == 200, "/sim/refunds: %ld %s", r.status, r.body);
	items = cJSON_IsArray(r.json) ? r.json : cJSON_GetObjectItemCaseSensitive(r.json, "items");
	cJSON_ArrayForEach(it, items) {
		const char *no = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it,
		    "out_trade_no"));

		n += no != NULL && strcmp(no, oid) == 0;
	}
	e2e_resp_free(&r);
	return n;
}

static long
sim_refunds_created(void)
{
	struct e2e_resp r = { 0 };
	long n;

	e2e_sim("GET", "/sim/stats", NULL, &r);
	ck_assert_msg(r.status == 200, "/sim/stats: %ld %s", r.status, r.body);
	n = (long)e2e_num(&r, "refunds_created");
	e2e_resp_free(&r);
	return n;
}

/* ---- the whole refund ------------------------------------------------------------------ */

START_TEST(operator_refund_flow)
{
	struct e2e_resp r = { 0 };
	char op[TOKEN_MAX], aud[TOKEN_MAX], token[E2E_TOKEN_MAX], oid[40], st[24], no[80];
	char expect[80], path[160];
	long long sid = e2e_schedule(3);
	const cJSON *items;

	operator_token("operator", op);
	operator_token("auditor", aud);
	paid_order("refund-flow", sid, token, oid);
	ck_assert_int_eq(e2e_available(sid), 2);

	post_refund(op, oid, "家长临时有事", NULL, &r);
	ck_assert_msg(r.status == 202, "POST /admin/refunds: %ld %s", r.status, r.body);
	snprintf(expect, sizeof(expect), "RF%s", oid);
	snprintf(no, sizeof(no), "%s", e2e_str(&r, "refund_id"));
	ck_assert_str_eq(no, expect);
	ck_assert_str_eq(e2e_str(&r, "out_refund_no"), expect);
	ck_assert_str_eq(e2e_str(&r, "order_id"), oid);
	ck_assert_str_eq(e2e_str(&r, "status"), "processing");
	ck_assert_int_eq((int)e2e_num(&r, "amount_fen"), 20000);
	ck_assert_str_eq(e2e_str(&r, "amount"), "200.00");
	ck_assert_str_eq(e2e_str(&r, "reason"), "家长临时有事");
	ck_assert_str_eq(e2e_str(&r, "initiated_by"), "operator");
	ck_assert_int_gt((long long)e2e_num(&r, "operator_id"), 0);

	/* the simulator settles it and notifies: refunded, booking cancelled, seat free */
	ck_assert_str_eq(e2e_wait_status(token, oid, "refunded", 10000, st), "refunded");
	ck_assert_int_eq(e2e_available(sid), 3);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM bookings WHERE order_id = $1 "
	    "AND status = 'cancelled'", oid), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'refund_succeeded' AND actor_type = 'wechat'", oid), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'refund_requested' AND actor_type = 'operator'", oid), 1);
	ck_assert_int_eq(sim_refunds_of(oid), 1);

	/* operators and auditors read it */
	ck_assert_str_eq(refund_status(aud, no, st, &r), "success");
	ck_assert_str_eq(e2e_str(&r, "wx_status"), "SUCCESS");
	ck_assert_msg(*e2e_str(&r, "wx_refund_id") != '\0', "no wx_refund_id: %s", r.body);
	ck_assert_msg(*e2e_str(&r, "succeeded_at") != '\0', "no succeeded_at: %s", r.body);
	ck_assert_msg(*e2e_str(&r, "completed_at") != '\0', "no completed_at: %s", r.body);
	snprintf(path, sizeof(path), REFUNDS "?order_id=%s", oid);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
	items = cJSON_GetObjectItemCaseSensitive(r.json, "items");
	ck_assert_int_eq(cJSON_GetArraySize(items), 1);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(items, 0), "refund_id")), no);
	/* and the order's page lists it */
	snprintf(path, sizeof(path), E2E_API "/admin/orders/%s", oid);
	e2e_request("GET", path, aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "status"), "refunded");
	items = cJSON_GetObjectItemCaseSensitive(r.json, "refunds");
	ck_assert_int_eq(cJSON_GetArraySize(items), 1);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(items, 0), "refund_id")), no);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(items, 0), "status")), "success");
	e2e_request("GET", REFUNDS "?status=success&limit=1", aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET ?status=success: %ld %s", r.status, r.body);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "items")), 1);
	e2e_request("GET", REFUNDS "?status=refunded", aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 400, "GET ?status=refunded: %ld %s", r.status, r.body);
	e2e_request("GET", REFUNDS "/RFnosuchrefund1", aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 404, "GET unknown refund: %ld %s", r.status, r.body);

	/* the refunded order is done: a new request is refused, the same one repeats */
	post_refund(op, oid, "再退一次", NULL, &r);
	ck_assert_msg(r.status == 409, "refund again: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "NOT_REFUNDABLE");
	ck_assert_int_eq(sim_refunds_of(oid), 1);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(concurrent_requests_one_wechat_refund)
{
	struct e2e_req rq[2];
	struct e2e_resp r = { 0 };
	char op[TOKEN_MAX], token[E2E_TOKEN_MAX], oid[40], st[24], body[160], key[96], hdr[160];
	long long sid = e2e_schedule(3);
	long before;

	operator_token("operator", op);
	paid_order("refund-race", sid, token, oid);
	before = sim_refunds_created();
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"重复点击\"}", oid);
	for (int i = 0; i < 2; i++)
		rq[i] = (struct e2e_req){ "POST", REFUNDS, op, body, NULL, { 0 } };
	e2e_request_many(rq, 2);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(rq[i].resp.status == 202, "request %d: %ld %s", i,
		    rq[i].resp.status, rq[i].resp.body);
	/* a double click gets the same refund */
	ck_assert_str_eq(e2e_str(&rq[0].resp, "refund_id"), e2e_str(&rq[1].resp, "refund_id"));
	for (int i = 0; i < 2; i++)
		e2e_resp_free(&rq[i].resp);
	ck_assert_str_eq(e2e_wait_status(token, oid, "refunded", 10000, st), "refunded");
	ck_assert_int_eq(sim_refunds_of(oid), 1);
	ck_assert_int_eq(sim_refunds_created() - before, 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM refunds WHERE order_id = $1", oid), 1);

	/* an Idempotency-Key replay answers the first answer, WeChat is not asked */
	paid_order("refund-idem", sid, token, oid);
	before = sim_refunds_created();
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", e2e_uniq("rk", key, sizeof(key)));
	post_refund(op, oid, "按键重放", hdr, &r);
	ck_assert_msg(r.status == 202, "first: %ld %s", r.status, r.body);
	snprintf(body, sizeof(body), "%s", e2e_str(&r, "refund_id"));
	post_refund(op, oid, "按键重放", hdr, &r);
	ck_assert_msg(r.status == 202, "replay: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "refund_id"), body);
	ck_assert_msg(e2e_header(&r, "Idempotent-Replayed", key, sizeof(key)) != NULL,
	    "no Idempotent-Replayed header");
	ck_assert_str_eq(e2e_wait_status(token, oid, "refunded", 10000, st), "refunded");
	ck_assert_int_eq(sim_refunds_created() - before, 1);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(roles_and_unpaid)
{
	struct e2e_resp r = { 0 };
	char op[TOKEN_MAX], aud[TOKEN_MAX], token[E2E_TOKEN_MAX], oid[40], st[24];
	long long sid = e2e_schedule(3);

	operator_token("operator", op);
	operator_token("auditor", aud);
	paid_order("refund-roles", sid, token, oid);

	/* an auditor reads but does not refund; parents and strangers get 401 */
	post_refund(aud, oid, "审计员退款", NULL, &r);
	ck_assert_msg(r.status == 403, "auditor: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "FORBIDDEN");
	post_refund(token, oid, "家长自己退款", NULL, &r);
	ck_assert_msg(r.status == 401, "parent: %ld %s", r.status, r.body);
	post_refund(NULL, oid, "匿名退款", NULL, &r);
	ck_assert_msg(r.status == 401, "no token: %ld %s", r.status, r.body);
	e2e_request("GET", REFUNDS, NULL, NULL, NULL, &r);
	ck_assert_msg(r.status == 401, "GET without token: %ld %s", r.status, r.body);
	e2e_request("GET", REFUNDS, aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET as auditor: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_order_status(token, oid, st), "paid");
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM refunds WHERE order_id = $1", oid), 0);

	/* an order that is not paid */
	e2e_user("refund-unpaid", token);
	order(token, sid, oid);
	post_refund(op, oid, "未支付", NULL, &r);
	ck_assert_msg(r.status == 409, "unpaid: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "NOT_REFUNDABLE");
	ck_assert_str_eq(e2e_order_status(token, oid, st), "pending");
	/* no such order; a body without reason */
	post_refund(op, "NOSUCHORDER0001", "无此订单", NULL, &r);
	ck_assert_msg(r.status == 404, "unknown order: %ld %s", r.status, r.body);
	e2e_request("POST", REFUNDS, op, "{\"order_id\":\"NOSUCHORDER0001\"}", NULL, &r);
	ck_assert_msg(r.status == 400, "no reason: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "INVALID_REQUEST");
	e2e_resp_free(&r);
}
END_TEST

/* ---- outcomes ------------------------------------------------------------------------------ */

START_TEST(notification_dropped_polled)
{
	struct e2e_resp r = { 0 };
	char op[TOKEN_MAX], token[E2E_TOKEN_MAX], oid[40], st[24];
	long long sid = e2e_schedule(3);

	operator_token("operator", op);
	paid_order("refund-drop", sid, token, oid);
	e2e_faults("{\"notify_drop\":true}");
	post_refund(op, oid, "通知丢失", NULL, &r);
	ck_assert_msg(r.status == 202, "POST: %ld %s", r.status, r.body);
	/* no notification comes; the job asks WeChat after wx.reconcile_after_s (2 s) */
	ck_assert_str_eq(e2e_wait_status(token, oid, "refunded", 15000, st), "refunded");
	ck_assert_int_eq(e2e_available(sid), 3);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'refund_succeeded' AND actor_type = 'system'", oid), 1);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(abnormal_visible_with_next_action)
{
	struct e2e_resp r = { 0 };
	char op[TOKEN_MAX], aud[TOKEN_MAX], token[E2E_TOKEN_MAX], oid[40], st[24], no[80];
	long long sid = e2e_schedule(3);

	operator_token("operator", op);
	operator_token("auditor", aud);
	paid_order("refund-abnormal", sid, token, oid);
	e2e_faults("{\"refund_result\":\"ABNORMAL\"}");
	post_refund(op, oid, "银行卡异常", NULL, &r);
	ck_assert_msg(r.status == 202, "POST: %ld %s", r.status, r.body);
	snprintf(no, sizeof(no), "%s", e2e_str(&r, "refund_id"));
	ck_assert_str_eq(wait_refund(aud, no, "abnormal", 10000, st, &r), "abnormal");
	ck_assert_str_eq(e2e_str(&r, "wx_status"), "ABNORMAL");
	ck_assert_str_eq(e2e_str(&r, "next_action"),
	    "退款异常：用户银行卡作废或冻结，请在商户平台发起异常退款处理");
	/* the money is not back: the order is still being refunded, the seat taken */
	ck_assert_str_eq(e2e_order_status(token, oid, st), "refunding");
	ck_assert_int_eq(e2e_available(sid), 2);
	/* and no second refund while it is open */
	post_refund(op, oid, "再试一次", NULL, &r);
	ck_assert_msg(r.status == 409, "second refund: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "REFUND_IN_PROGRESS");
	ck_assert_int_eq(sim_refunds_of(oid), 1);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(closed_then_refunded_anew)
{
	struct e2e_resp r = { 0 };
	char op[TOKEN_MAX], token[E2E_TOKEN_MAX], oid[40], st[24], no[80], expect[80];
	long long sid = e2e_schedule(3);

	operator_token("operator", op);
	paid_order("refund-closed", sid, token, oid);
	e2e_faults("{\"refund_result\":\"CLOSED\"}");
	post_refund(op, oid, "退款关闭", NULL, &r);
	ck_assert_msg(r.status == 202, "POST: %ld %s", r.status, r.body);
	snprintf(no, sizeof(no), "%s", e2e_str(&r, "refund_id"));
	ck_assert_str_eq(wait_refund(op, no, "closed", 10000, st, &r), "closed");
	ck_assert_str_eq(e2e_str(&r, "next_action"), "退款关闭：请核实后重新发起退款");
	/* nothing was paid out: the order is paid again, its seat still taken */
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 5000, st), "paid");
	ck_assert_int_eq(e2e_available(sid), 2);
	/* the operator starts again: a new refund under the next out_refund_no */
	e2e_faults("{\"refund_result\":\"SUCCESS\"}");
	post_refund(op, oid, "退款关闭", NULL, &r);
	ck_assert_msg(r.status == 202, "again: %ld %s", r.status, r.body);
	snprintf(expect, sizeof(expect), "RF%s-2", oid);
	ck_assert_str_eq(e2e_str(&r, "refund_id"), expect);
	ck_assert_str_eq(e2e_wait_status(token, oid, "refunded", 10000, st), "refunded");
	ck_assert_int_eq(e2e_available(sid), 3);
	ck_assert_int_eq(sim_refunds_of(oid), 2);
	e2e_resp_free(&r);
}
END_TEST

/* 1 when GET /admin/attention lists oid (with this reason). */
static int
in_attention(const char *op, const char *oid, const char *reason)
{
	struct e2e_resp r = { 0 };
	cJSON *items, *it;
	int found = 0;

	e2e_request("GET", E2E_API "/admin/attention", op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "attention: %ld %s", r.status, r.body);
	items = cJSON_GetObjectItem(r.json, "items");
	cJSON_ArrayForEach(it, items) {
		const cJSON *id = cJSON_GetObjectItem(it, "order_id");
		const cJSON *why = cJSON_GetObjectItem(it, "attention_reason");

		if (cJSON_IsString(id) && strcmp(id->valuestring, oid) == 0) {
			ck_assert(cJSON_IsString(why));
			ck_assert_str_eq(why->valuestring, reason);
			ck_assert_str_eq(cJSON_GetObjectItem(it, "status")->valuestring, "refunding");
			found = 1;
		}
	}
	e2e_resp_free(&r);
	return found;
}

/* late_payment_refund = operator (the default): a payment that finds no
 * seat waits in the needs-attention queue; the job never refunds it; the
 * operator's refund does. */
START_TEST(late_payment_waits_for_operator)
{
	char ta[E2E_TOKEN_MAX], tb[E2E_TOKEN_MAX], oid[40], st[24], path[128], op[TOKEN_MAX],
	    au[TOKEN_MAX];
	struct e2e_resp r = { 0 };
	long long sid = e2e_schedule(1);

	operator_token("operator", op);
	operator_token("auditor", au);
	e2e_user("refund-late-a", ta);
	e2e_user("refund-late-b", tb);
	order(ta, sid, oid);
	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s/cancel", oid);
	e2e_request("POST", path, ta, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "cancel: %ld %s", r.status, r.body);
	e2e_hold(tb, sid);
	e2e_sim_pay(oid, 1);
	ck_assert_str_eq(e2e_wait_status(ta, oid, "refunding", 10000, st), "refunding");
	/* the job passes by and leaves it */
	e2e_wait_job_passes(3, 10000);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM refunds WHERE order_id = $1", oid), 0);
	ck_assert_int_eq(sim_refunds_of(oid), 0);
	ck_assert(in_attention(op, oid, "late_no_seat"));
	ck_assert(in_attention(au, oid, "late_no_seat"));

	/* an auditor may not refund; the operator's one click does */
	post_refund(au, oid, "无名额，全额退款", NULL, &r);
	ck_assert_int_eq(r.status, 403);
	post_refund(op, oid, "无名额，全额退款", NULL, &r);
	ck_assert_msg(r.status == 202, "refund: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_wait_status(ta, oid, "refunded", 10000, st), "refunded");
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM refunds WHERE order_id = $1 "
	    "AND initiated_by = 'operator' AND status = 'success'", oid), 1);
	ck_assert_int_eq(sim_refunds_of(oid), 1);
	ck_assert(!in_attention(op, oid, "late_no_seat"));
	ck_assert_int_eq(e2e_available(sid), 0);		/* b keeps the seat */
	e2e_resp_free(&r);
}
END_TEST

/* ---- notifications that are not ours ----------------------------------------------------- */

static void
refund_note(const char *no, const char *oid, const char *mchid, struct e2e_resp *r)
{
	char plain[512], ts[24], nonce[40], *body, *sig;

	snprintf(plain, sizeof(plain), "{\"mchid\":\"%s\",\"transaction_id\":\"4200000000000000000000000009\","
	    "\"out_trade_no\":\"%s\",\"refund_id\":\"50300000000000000000000000009\","
	    "\"out_refund_no\":\"%s\",\"refund_status\":\"SUCCESS\",\"success_time\":"
	    "\"2030-01-01T10:00:00+08:00\",\"user_received_account\":\"支付用户零钱\","
	    "\"amount\":{\"total\":20000,\"refund\":20000,\"payer_total\":20000,"
	    "\"payer_refund\":20000}}", mchid, oid, no);
	snprintf(ts, sizeof(ts), "%ld", (long)time(NULL));
	ck_assert_int_eq(gym_random_alnum(nonce, 32), GYM_OK);
	body = e2e_notify_envelope("REFUND.SUCCESS", plain, 0);
	sig = e2e_platform_sign(ts, nonce, body);
	e2e_notify_post(REFUND_CALLBACK, body, ts, nonce, E2E_PLATFORM_SERIAL, sig, r);
	free(body);
	free(sig);
}

START_TEST(refund_notifications_not_ours)
{
	struct e2e_resp r = { 0 };
	char op[TOKEN_MAX], token[E2E_TOKEN_MAX], oid[40], st[24], no[80], stranger[80];
	long long sid = e2e_schedule(3);

	operator_token("operator", op);
	paid_order("refund-stranger", sid, token, oid);
	/* a refund we never made: 204 (it can never become ours), audited */
	snprintf(stranger, sizeof(stranger), "RF%s-9", oid);
	refund_note(stranger, oid, E2E_MCHID, &r);
	ck_assert_msg(r.status == 204, "unknown refund: %ld %s", r.status, r.body);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'refund_notification_unknown' AND response_snapshot->>'out_refund_no' "
	    "= $1", stranger), 1);
	ck_assert_str_eq(e2e_order_status(token, oid, st), "paid");

	/* ours, but another merchant's, or a forged signature: refused, nothing changes */
	e2e_faults("{\"refund_delay_ms\":600000}");	/* keep WeChat's own notification away */
	post_refund(op, oid, "商户号不符", NULL, &r);
	ck_assert_msg(r.status == 202, "POST: %ld %s", r.status, r.body);
	snprintf(no, sizeof(no), "%s", e2e_str(&r, "refund_id"));
	refund_note(no, oid, "1230000109", &r);
	ck_assert_msg(r.status == 400, "other merchant: %ld %s", r.status, r.body);
	e2e_notify_post(REFUND_CALLBACK, "{}", "1", "n", E2E_PLATFORM_SERIAL, "forged", &r);
	ck_assert_msg(r.status == 401, "forged: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_order_status(token, oid, st), "refunding");
	/* the genuine one settles it, once however often it comes */
	refund_note(no, oid, E2E_MCHID, &r);
	ck_assert_msg(r.status == 204, "genuine: %ld %s", r.status, r.body);
	refund_note(no, oid, E2E_MCHID, &r);
	ck_assert_msg(r.status == 204, "repeat: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_order_status(token, oid, st), "refunded");
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'refund_succeeded'", oid), 1);
	ck_assert_int_eq(e2e_available(sid), 3);
	e2e_resp_free(&r);
}
END_TEST

Suite *
refund_suite(void)
{
	Suite *s = suite_create("refund");
	TCase *t;

	t = tcase_create("operator");
	tcase_set_timeout(t, 60);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, operator_refund_flow);
	tcase_add_test(t, concurrent_requests_one_wechat_refund);
	tcase_add_test(t, roles_and_unpaid);
	suite_add_tcase(s, t);

	t = tcase_create("outcomes");
	tcase_set_timeout(t, 60);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, notification_dropped_polled);
	tcase_add_test(t, abnormal_visible_with_next_action);
	tcase_add_test(t, closed_then_refunded_anew);
	tcase_add_test(t, late_payment_waits_for_operator);
	tcase_add_test(t, refund_notifications_not_ours);
	suite_add_tcase(s, t);
	return s;
}
