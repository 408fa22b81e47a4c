/*
 * check_classes.c: the front desk's class management through nginx and
 * the WeChat Pay simulator (issue 14): rename and move a class (parents
 * with paid bookings are told once), the roster (JSON and CSV), and
 * cancelling a class with 30 paid bookings: 30 refunds at WeChat, once
 * each, however often (and however concurrently) cancel is pressed; every
 * parent told once; holds and unpaid orders released; no new holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "e2e.h"
#include "gym.h"

#define PAID 30
#define PRESSES 6

static char op[128], auditor[128];

static void
setup(void)
{
	if (op[0] == '\0') {
		e2e_operator("classes-op", "operator", op, sizeof(op));
		e2e_operator("classes-au", "auditor", auditor, sizeof(auditor));
	}
}

/* A parent with a paid order of sid: its order id into oid[40]. */
static void
paid(const char *tag, long long sid, char *token, char *oid)
{
	char st[24];

	e2e_user(tag, token);
	e2e_order_create(token, sid, e2e_hold(token, sid), oid, NULL);
	e2e_prepay(token, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 10000, st), "paid");
}

static long long
count1(const char *sql, const char *arg)
{
	const char *p[1] = { arg };

	return e2e_sql_intp(e2e_pg(), sql, 1, p);
}

START_TEST(test_class_rename_and_move)
{
	char token[E2E_TOKEN_MAX], oid[40], path[128], body[320], when[40], until[40], sids[24];
	long long sid = e2e_schedule(3);
	struct e2e_resp r = { 0 };

	snprintf(sids, sizeof(sids), "%lld", sid);
	paid("classes-move", sid, token, oid);
	snprintf(path, sizeof(path), E2E_API "/admin/course-schedules/%lld", sid);
	/* the past, an end before the start, nothing to change: refused */
	e2e_request("PATCH", path, op, "{\"starts_at\":\"2020-01-01T10:00:00+08:00\"}", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(e2e_str(&r, "field"), "starts_at");
	e2e_request("PATCH", path, op, "{\"ends_at\":\"2020-01-01T10:00:00+08:00\"}", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(e2e_str(&r, "field"), "ends_at");
	e2e_request("PATCH", path, op, "{}", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	e2e_request("PATCH", path, auditor, "{\"course_name\":\"x\"}", NULL, &r);
	ck_assert_int_eq(r.status, 403);

	/* three days on, an hour long */
	gym_time_format(((long long)time(NULL) + 3 * 86400) * 1000000LL, when, sizeof(when));
	gym_time_format(((long long)time(NULL) + 3 * 86400 + 3600) * 1000000LL, until, sizeof(until));
	snprintf(body, sizeof(body), "{\"course_name\":\"周六体操体验课（改）\",\"starts_at\":\"%s\","
	    "\"ends_at\":\"%s\"}", when, until);
	e2e_request("PATCH", path, op, body, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "course_name"), "周六体操体验课（改）");
	ck_assert_int_eq((int)e2e_num(&r, "parents_told"), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications n JOIN payment_orders o "
	    "ON o.order_id = n.order_id WHERE o.course_schedule_id = $1::bigint "
	    "AND n.kind = 'class_rescheduled'", sids), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_audit_log WHERE action_type = "
	    "'schedule_changed' AND response_snapshot->>'course_schedule_id' = $1", sids), 1);
	/* a second change is a second message; the same values again none */
	e2e_request("PATCH", path, op, "{\"course_name\":\"周六体操体验课（二改）\"}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq((int)e2e_num(&r, "parents_told"), 1);
	e2e_request("PATCH", path, op, "{\"course_name\":\"周六体操体验课（二改）\"}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq((int)e2e_num(&r, "parents_told"), 0);
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications n JOIN payment_orders o "
	    "ON o.order_id = n.order_id WHERE o.course_schedule_id = $1::bigint "
	    "AND n.kind = 'class_rescheduled'", sids), 2);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(test_class_roster)
{
	char token[E2E_TOKEN_MAX], oid[40], path[128], cd[128];
	long long sid = e2e_schedule(2);
	struct e2e_resp r = { 0 };
	const cJSON *items, *it;

	paid("classes-roster", sid, token, oid);
	snprintf(path, sizeof(path), E2E_API "/admin/course-schedules/%lld/roster", sid);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	items = cJSON_GetObjectItemCaseSensitive(r.json, "items");
	ck_assert_int_eq(cJSON_GetArraySize(items), 1);
	it = cJSON_GetArrayItem(items, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(it, "order_id")->valuestring, oid);
	ck_assert_str_eq(cJSON_GetObjectItem(it, "status")->valuestring, "paid");
	ck_assert_str_eq(cJSON_GetObjectItem(it, "child_name")->valuestring, "王小明");
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(it, "age")));
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(it, "parent_phone_masked")->valuestring,
	    "****"));
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(it, "paid_at")));

	e2e_request("GET", path, auditor, NULL, "Accept: text/csv", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.ctype, "text/csv") != NULL, "%s", r.ctype);
	ck_assert_ptr_nonnull(e2e_header(&r, "Content-Disposition", cd, sizeof(cd)));
	ck_assert_ptr_nonnull(strstr(cd, "attachment"));
	ck_assert_int_eq(memcmp(r.body, "\xEF\xBB\xBF\"order_id\",\"child_name\",\"age\","
	    "\"parent_phone\",\"status\",\"paid_at\"\r\n", 62), 0);
	ck_assert_ptr_nonnull(strstr(r.body, oid));
	ck_assert_ptr_nonnull(strstr(r.body, "****"));
	/* auditors see the child's name masked (TEST_REGISTRATION's 王小明) */
	ck_assert_ptr_nonnull(strstr(r.body, "\"王**\""));
	ck_assert_ptr_null(strstr(r.body, "王小明"));
	snprintf(path, sizeof(path), E2E_API "/admin/course-schedules/999999999/roster");
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(test_class_cancel_refunds_once)
{
	static char tokens[PAID][E2E_TOKEN_MAX], oids[PAID][40];
	char tp[E2E_TOKEN_MAX], th[E2E_TOKEN_MAX], pending_oid[40], path[128], sids[24];
	long long sid = e2e_schedule(PAID + 2), started = 0;
	struct e2e_req rq[PRESSES];
	struct e2e_resp r = { 0 };
	const cJSON *items, *it;
	int already = 0;

	snprintf(sids, sizeof(sids), "%lld", sid);
	for (int i = 0; i < PAID; i++) {
		char tag[32];

		snprintf(tag, sizeof(tag), "classes-paid-%d", i);
		paid(tag, sid, tokens[i], oids[i]);
	}
	/* one parent with an unpaid order, one with a hold only */
	e2e_user("classes-pending", tp);
	e2e_order_create(tp, sid, e2e_hold(tp, sid), pending_oid, NULL);
	e2e_prepay(tp, pending_oid);
	e2e_user("classes-hold", th);
	(void)e2e_hold(th, sid);
	ck_assert_int_eq(e2e_available(sid), 0);

	/* pressed several times at once, then again */
	snprintf(path, sizeof(path), E2E_API "/admin/course-schedules/%lld/cancel", sid);
	memset(rq, 0, sizeof(rq));
	for (int i = 0; i < PRESSES; i++) {
		rq[i].method = "POST";
		rq[i].path = path;
		rq[i].token = op;
		rq[i].body = "{\"reason\":\"场馆维修，课程取消\"}";
	}
	e2e_request_many(rq, PRESSES);
	for (int i = 0; i < PRESSES; i++) {
		ck_assert_msg(rq[i].resp.status == 200, "press %d: %ld %s", i, rq[i].resp.status,
		    rq[i].resp.body);
		already += cJSON_IsTrue(cJSON_GetObjectItem(rq[i].resp.json, "already_cancelled"));
		started += (long long)e2e_num(&rq[i].resp, "refunds_started");
		e2e_resp_free(&rq[i].resp);
	}
	ck_assert_int_eq(already, PRESSES - 1);
	e2e_request("POST", path, op, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "already_cancelled")));
	ck_assert_int_eq((int)e2e_num(&r, "refunds_started"), 0);
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(r.json, "cancelled_at")));
	ck_assert_int_eq((int)started, PAID);

	/* every paid order refunded through WeChat, once each */
	{
		const char *p[1] = { sids };

		ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM payment_orders WHERE "
		    "course_schedule_id = $1::bigint AND status = 'refunded'", 1, p, PAID, 30000),
		    PAID);
	}
	ck_assert_int_eq(count1("SELECT count(*) FROM refunds f JOIN payment_orders o ON "
	    "o.order_id = f.order_id WHERE o.course_schedule_id = $1::bigint AND "
	    "f.reason = '场馆维修，课程取消' AND f.initiated_by = 'operator'", sids), PAID);
	e2e_sim("GET", "/sim/refunds", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	items = cJSON_IsArray(r.json) ? r.json : cJSON_GetObjectItemCaseSensitive(r.json, "items");
	for (int i = 0; i < PAID; i++) {
		int n = 0;

		cJSON_ArrayForEach(it, items) {
			const char *no = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it,
			    "out_trade_no"));

			n += no != NULL && strcmp(no, oids[i]) == 0;
		}
		ck_assert_msg(n == 1, "order %s: %d refunds at WeChat", oids[i], n);
	}
	/* the unpaid order and the hold are gone; every parent with an order told once */
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE order_id = $1 "
	    "AND status = 'cancelled'", pending_oid), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM seat_reservations WHERE "
	    "course_schedule_id = $1::bigint AND status = 'temporary'", sids), 0);
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications n JOIN payment_orders o "
	    "ON o.order_id = n.order_id WHERE o.course_schedule_id = $1::bigint "
	    "AND n.kind = 'class_cancelled'", sids), PAID + 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_audit_log WHERE action_type = "
	    "'schedule_cancelled' AND response_snapshot->>'course_schedule_id' = $1", sids), 1);
	/* a cancelled class takes no one, and cannot be changed */
	(void)e2e_user("classes-late", th);
	snprintf(path, sizeof(path), "{\"course_schedule_id\":%lld}", sid);
	e2e_request("POST", E2E_API "/bookings/seat-reserve", th, path, NULL, &r);
	ck_assert_int_eq(r.status, 409);
	snprintf(path, sizeof(path), E2E_API "/admin/course-schedules/%lld", sid);
	e2e_request("PATCH", path, op, "{\"capacity\":40}", NULL, &r);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(e2e_code(&r), "CLASS_CANCELLED");
	e2e_resp_free(&r);
}
END_TEST

Suite *
classes_suite(void)
{
	Suite *s = suite_create("classes");
	TCase *tc = tcase_create("classes");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_class_rename_and_move);
	tcase_add_test(tc, test_class_roster);
	tcase_add_test(tc, test_class_cancel_refunds_once);
	suite_add_tcase(s, tc);
	return s;
}
