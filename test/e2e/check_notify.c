/*
 * check_notify.c: parents' messages through the whole stack.  A booking
 * paid through the simulator becomes one subscribe message to that
 * parent's openid with the configured template; a cancelled order and a
 * refund an operator made say so; with the simulator's subscribe endpoint failing for a while every
 * message still arrives once it recovers, exactly once, with each attempt
 * recorded; many messages share one access token (one stable_token call),
 * and a token WeChat stops accepting is replaced and the message still
 * delivered.  The job process sends (test profile: job_interval_ms 200,
 * notify_backoff_base_ms 50).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "e2e.h"
#include "regfields.h"

#define FAULTS_DEFAULT "{\"subscribe_fail_count\":0,\"subscribe_fail_http\":false," \
	"\"refund_result\":\"SUCCESS\",\"refund_delay_ms\":-1}"
#define RECOVER 3		/* bookings whose messages meet the failures */
#define FAILS 5
#define SHARED 4		/* messages that share one token */

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

/* The first word of "key = value" in the stack's config into buf. */
static char *
conf_word(const char *key, char *buf, size_t len)
{
	char line[512], *v;
	size_t klen = strlen(key);
	FILE *fp = fopen(e2e_conf(), "r");

	ck_assert_msg(fp != NULL, "cannot read %s", e2e_conf());
	buf[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, key, klen) != 0 || strchr(" =", line[klen]) == NULL)
			continue;
		v = strchr(line, '=');
		v += strspn(v + 1, " \t") + 1;
		snprintf(buf, len, "%.*s", (int)strcspn(v, " \t\r\n"), v);
	}
	fclose(fp);
	ck_assert_msg(buf[0] != '\0', "%s not set in %s", key, e2e_conf());
	return buf;
}

/* A parent: logged in, its openid (from users) into openid[129]. */
static long long
parent(const char *tag, char *token, char *openid)
{
	char code[96], uid[24];
	const char *p[1] = { uid };
	long long id = e2e_login(e2e_uniq(tag, code, sizeof(code)), token);

	snprintf(uid, sizeof(uid), "%lld", id);
	e2e_sql_text(e2e_pg(), "SELECT openid FROM users WHERE id = $1::bigint", 1, p, openid, 129);
	ck_assert_msg(openid[0] != '\0', "no openid for user %s", uid);
	return id;
}

/* Hold a seat of sid and open an order on it: the order_id into oid[40]. */
static void
order(const char *token, long long sid, char *oid)
{
	struct e2e_resp r = { 0 };
	char body[512];

	snprintf(body, sizeof(body), "{" TEST_REGISTRATION ",\"course_schedule_id\":%lld}", sid);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, NULL, &r);
	ck_assert_msg(r.status == 201, "orders/create: %ld %s", r.status, r.body);
	snprintf(oid, 40, "%s", e2e_str(&r, "order_id"));
	e2e_resp_free(&r);
}

/* Prepay (JSAPI) and let the simulator pay; wait until the order is paid. */
static void
pay(const char *token, const char *oid)
{
	e2e_prepay(token, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM payment_orders WHERE "
	    "order_id = $1 AND status = 'paid'", 1, &oid, 1, 10000), 1);
}

/* A new parent with a paid booking of a new class: oid[40], openid[129]. */
static void
paid_booking(const char *tag, char *oid, char *openid)
{
	char token[E2E_TOKEN_MAX];

	parent(tag, token, openid);
	order(token, e2e_schedule(2), oid);
	pay(token, oid);
}

/* Wait until the message (order, kind) is sent: 1, or 0 on timeout. */
static int
wait_sent(const char *oid, const char *kind, int timeout_ms)
{
	const char *p[2] = { oid, kind };

	return e2e_wait_sql_intp("SELECT count(*) FROM parent_notifications WHERE "
	    "order_id = $1 AND kind = $2 AND status = 'sent'", 2, p, 1, timeout_ms) == 1;
}

/* No message of any earlier test still due (their retries would use up
 * the failures a test sets). */
static void
quiet(void)
{
	ck_assert_int_eq(e2e_wait_sql_int("SELECT count(*) FROM parent_notifications WHERE "
	    "status = 'pending'", 0, 15000), 0);
}

/* The simulator's messages to openid: how many, and the last one's copy
 * in *last (caller cJSON_Delete()s; may be NULL). */
static int
sim_messages(const char *openid, cJSON **last)
{
	return e2e_sim_messages(openid, last);
}

static const char *
value(const cJSON *m, const char *key)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, "data");
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(d, key), "value"));

	return v != NULL ? v : "";
}

static long
sim_stat(const char *name)
{
	struct e2e_resp r = { 0 };
	long v;

	e2e_sim("GET", "/sim/stats", NULL, &r);
	ck_assert_msg(r.status == 200, "/sim/stats: %ld", r.status);
	v = (long)e2e_num(&r, name);
	e2e_resp_free(&r);
	return v;
}

START_TEST(paid_booking_message)
{
	char oid[40], openid[129], tpl[160], course[128];
	const char *p[1] = { oid };
	cJSON *m = NULL;

	paid_booking("notify-paid", oid, openid);
	ck_assert_msg(wait_sent(oid, "booking_confirmed", 10000), "no message sent for %s", oid);
	ck_assert_int_eq(sim_messages(openid, &m), 1);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "template_id")),
	    conf_word("wx.template_confirmed", tpl, sizeof(tpl)));
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
	    "miniprogram_state")), conf_word("wx.miniprogram_state", tpl, sizeof(tpl)));
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "lang")), "zh_CN");
	/* the class's name (cut to thing's 20 characters), its start, the price */
	e2e_sql_text(e2e_pg(), "SELECT s.course_name FROM payment_orders o JOIN course_schedules s "
	    "ON s.id = o.course_schedule_id WHERE o.order_id = $1", 1, p, course, sizeof(course));
	ck_assert_msg(strncmp(value(m, "thing1"), course, strlen(course) > 20 ? 19 : strlen(course))
	    == 0, "thing1 %s for course %s", value(m, "thing1"), course);
	ck_assert_msg(strstr(value(m, "time2"), "年") != NULL && strstr(value(m, "time2"), ":") != NULL,
	    "time2 %s", value(m, "time2"));
	ck_assert_str_eq(value(m, "amount3"), "200.00元");
	cJSON_Delete(m);
	/* one successful attempt, recorded (before it at most a refusal of a token
	 * an earlier /sim/reset invalidated); the row keeps no openid */
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM notification_attempts a JOIN "
	    "parent_notifications n ON n.id = a.notification_id WHERE n.order_id = $1 "
	    "AND a.ok AND a.finished_at IS NOT NULL", oid), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM notification_attempts a JOIN "
	    "parent_notifications n ON n.id = a.notification_id WHERE n.order_id = $1 "
	    "AND NOT (a.ok OR a.errcode IN (40001, 42001))", oid), 0);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM parent_notifications n WHERE "
	    "n::text LIKE '%' || $1 || '%'", openid), 0);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 AND "
	    "action_type = 'message_queued' AND new_status = 'pending'", oid), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE "
	    "response_snapshot->>'order_id' = $1 AND action_type = 'message_sent' AND "
	    "old_status = 'pending' AND new_status = 'sent' AND actor_type = 'system'", oid), 1);
	/* and nothing more comes later: three more job passes */
	e2e_wait_job_passes(3, 10000);
	ck_assert_int_eq(sim_messages(openid, NULL), 1);
}
END_TEST

START_TEST(cancelled_order_message)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], openid[129], tpl[160], path[128];
	cJSON *m = NULL;

	parent("notify-cancel", token, openid);
	order(token, e2e_schedule(2), oid);
	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s/cancel", oid);
	e2e_request("POST", path, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "cancel: %ld %s", r.status, r.body);
	e2e_resp_free(&r);
	ck_assert_msg(wait_sent(oid, "order_cancelled", 10000), "no message sent for %s", oid);
	ck_assert_int_eq(sim_messages(openid, &m), 1);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "template_id")),
	    conf_word("wx.template_failed", tpl, sizeof(tpl)));
	ck_assert_str_eq(value(m, "phrase2"), "已取消");
	cJSON_Delete(m);
}
END_TEST

/* A new operator (gymctl operator add): its token into token[256]. */
static void
operator_token(char *token)
{
	e2e_operator("notify-op", "operator", token, 256);
}

START_TEST(refund_done_message)
{
	static const char reason[] = "家长时间冲突，申请退款并原路退回到微信零钱";
	struct e2e_resp r = { 0 };
	char op[256], oid[40], openid[129], tpl[160], body[256];
	cJSON *m = NULL;

	operator_token(op);
	paid_booking("notify-refund", oid, openid);
	ck_assert_msg(wait_sent(oid, "booking_confirmed", 10000), "no booking message for %s", oid);
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"%s\"}", oid, reason);
	e2e_request("POST", E2E_API "/admin/refunds", op, body, NULL, &r);
	ck_assert_msg(r.status == 202,
	    "POST /admin/refunds: %ld %s", r.status, r.body);
	e2e_resp_free(&r);
	ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM payment_orders WHERE "
	    "order_id = $1 AND status = 'refunded'", 1, (const char *[]){ oid }, 1, 15000), 1);
	ck_assert_msg(wait_sent(oid, "refund_done", 10000), "no refund message for %s", oid);
	/* the booking's message and the refund's, each once */
	ck_assert_int_eq(sim_messages(openid, &m), 2);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "template_id")),
	    conf_word("wx.template_refunded", tpl, sizeof(tpl)));
	ck_assert_str_eq(value(m, "amount2"), "200.00元");
	/* the reason, cut to thing's 20 characters */
	ck_assert_str_eq(value(m, "thing3"), "家长时间冲突，申请退款并原路退回到微信…");
	cJSON_Delete(m);
}
END_TEST

START_TEST(failing_then_recovered)
{
	char oid[RECOVER][40], openid[RECOVER][129];
	char fail[64];
	long calls0;
	long long t0;

	quiet();
	calls0 = sim_stat("subscribe_calls");
	snprintf(fail, sizeof(fail), "{\"subscribe_fail_count\":%d}", FAILS);
	e2e_faults(fail);
	for (int i = 0; i < RECOVER; i++)
		paid_booking("notify-recover", oid[i], openid[i]);
	t0 = e2e_now_ms();
	for (int i = 0; i < RECOVER; i++)
		ck_assert_msg(wait_sent(oid[i], "booking_confirmed", 20000),
		    "message for %s not delivered after the endpoint recovered", oid[i]);
	fprintf(stderr, "notify: %d messages delivered through %d failures in %lld ms\n",
	    RECOVER, FAILS, e2e_now_ms() - t0);
	/* every call WeChat got is an attempt on record */
	ck_assert_int_eq(sim_stat("subscribe_calls") - calls0, e2e_sql_intp(e2e_pg(),
	    "SELECT count(*) FROM notification_attempts a JOIN parent_notifications n ON "
	    "n.id = a.notification_id WHERE n.order_id IN ($1, $2, $3)", 3,
	    (const char *[]){ oid[0], oid[1], oid[2] }));
	e2e_wait_job_passes(3, 10000);	/* a few more job passes: nothing is sent again */
	for (int i = 0; i < RECOVER; i++) {
		ck_assert_int_eq(sim_messages(openid[i], NULL), 1);
		ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM notification_attempts a JOIN "
		    "parent_notifications n ON n.id = a.notification_id WHERE n.order_id = $1 "
		    "AND a.ok", oid[i]), 1);
		ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM notification_attempts a JOIN "
		    "parent_notifications n ON n.id = a.notification_id WHERE n.order_id = $1 "
		    "AND a.finished_at IS NULL", oid[i]), 0);
		/* attempts counts every send, failed ones included */
		ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM parent_notifications n WHERE "
		    "order_id = $1 AND attempts = (SELECT count(*) FROM notification_attempts a "
		    "WHERE a.notification_id = n.id)", oid[i]), 1);
	}
	/* every failure recorded with WeChat's errcode */
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM notification_attempts a "
	    "JOIN parent_notifications n ON n.id = a.notification_id WHERE n.order_id IN "
	    "($1, $2, $3) AND NOT a.ok AND a.errcode = -1", 3,
	    (const char *[]){ oid[0], oid[1], oid[2] }), FAILS);
}
END_TEST

START_TEST(one_token_for_many)
{
	char oid[SHARED + 1][40], openid[SHARED + 1][129];
	long calls0;

	quiet();
	e2e_sql_exec(e2e_pg(), "DELETE FROM wx_access_tokens", 0, NULL);
	calls0 = sim_stat("stable_token_calls");
	for (int i = 0; i < SHARED; i++)
		paid_booking("notify-token", oid[i], openid[i]);
	for (int i = 0; i < SHARED; i++)
		ck_assert_msg(wait_sent(oid[i], "booking_confirmed", 10000), "%s not sent", oid[i]);
	ck_assert_int_eq(sim_stat("stable_token_calls") - calls0, 1);
	ck_assert_int_eq(e2e_sql_int(e2e_pg(), "SELECT count(*) FROM wx_access_tokens "
	    "WHERE access_token <> ''"), 1);

	/* WeChat stops accepting it: replaced once, and the message still goes */
	e2e_faults("{\"expire_token\":true}");
	paid_booking("notify-token", oid[SHARED], openid[SHARED]);
	ck_assert_msg(wait_sent(oid[SHARED], "booking_confirmed", 10000), "not sent after 42001");
	ck_assert_int_eq(sim_stat("stable_token_calls") - calls0, 2);
	ck_assert_int_eq(sim_messages(openid[SHARED], NULL), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM notification_attempts a JOIN "
	    "parent_notifications n ON n.id = a.notification_id WHERE n.order_id = $1 "
	    "AND NOT a.ok AND a.errcode = 42001", oid[SHARED]), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM notification_attempts a JOIN "
	    "parent_notifications n ON n.id = a.notification_id WHERE n.order_id = $1 "
	    "AND a.ok", oid[SHARED]), 1);
}
END_TEST

Suite *
notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("messages");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, paid_booking_message);
	tcase_add_test(tc, cancelled_order_message);
	tcase_add_test(tc, refund_done_message);
	tcase_add_test(tc, failing_then_recovered);
	tcase_add_test(tc, one_token_for_many);
	suite_add_tcase(s, tc);
	return s;
}
