/*
 * check_staff.c: staff sign-in with a name and a password through nginx
 * (issue 19).  The session cookie's attributes (__Host-, HttpOnly, Secure,
 * SameSite=Strict, Path=/), the cookie reading and, with its CSRF token,
 * changing; without or with a wrong token, or another session's, a change
 * is refused 403 and nothing changes; sign-out ends the session; five
 * wrong passwords lock the name out (429 LOCKED_OUT, Retry-After) until
 * gymctl operator password resets it; bearer tokens work as before.
 * Operators are made with gymctl operator add --password-file.  Also the
 * console's search (phone, order id, transaction id, child's name) and the
 * names beside ids (class, operator).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "e2e.h"

#define ADMIN E2E_API "/admin"
#define PASSWORD "front desk 2026"

/* A new operator with PASSWORD (gymctl, the password from a file): its
 * name into name[96], its bearer token into token[64]. */
static void
staff_add(const char *role, char *name, char *token)
{
	char cmd[2048], file[512];
	FILE *f;
	int rc;

	e2e_uniq(role, name, 96);
	e2e_var_path("staff-password", file, sizeof(file));
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fprintf(f, "%s\n", PASSWORD);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' operator add '%s' --role %s "
	    "--password-file '%s' 2>/dev/null", e2e_bin(), e2e_conf(), name, role, file);
	rc = e2e_run(cmd, token, 64);
	ck_assert_msg(rc == 0 && strncmp(token, "op_", 3) == 0, "gymctl: %d %s", rc, token);
	token[strcspn(token, "\n")] = '\0';
}

/* Sign name in: asserts 200; the cookie's "name=value" into cookie[128],
 * the CSRF token into csrf[80], the whole Set-Cookie into set[256]. */
static void
signin(const char *name, char *cookie, char *csrf, char *set)
{
	struct e2e_resp r = { 0 };
	char body[256];

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"password\":\"%s\"}", name, PASSWORD);
	e2e_request("POST", ADMIN "/session", NULL, body, NULL, &r);
	ck_assert_msg(r.status == 200, "sign-in: %ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(e2e_header(&r, "Set-Cookie", set, 256));
	snprintf(cookie, 128, "%.*s", (int)strcspn(set, ";"), set);
	snprintf(csrf, 80, "%s", e2e_str(&r, "csrf_token"));
	ck_assert_uint_eq(strlen(csrf), 64);
	e2e_resp_free(&r);
}

static char *
extra(char *buf, size_t len, const char *cookie, const char *csrf)
{
	if (csrf != NULL)
		snprintf(buf, len, "Cookie: %s\nX-CSRF-Token: %s", cookie, csrf);
	else
		snprintf(buf, len, "Cookie: %s", cookie);
	return buf;
}

static const char *
at(long ahead, char *buf)
{
	time_t t = time(NULL) + ahead;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static void
class_body(char *body, size_t len, char *course)
{
	char s[40], e[40];

	e2e_uniq("staff-class", course, 96);
	snprintf(body, len, "{\"course_name\":\"%s\",\"starts_at\":\"%s\",\"ends_at\":\"%s\","
	    "\"capacity\":3}", course, at(7 * 86400, s), at(7 * 86400 + 3600, e));
}

START_TEST(test_cookie_session_and_csrf)
{
	struct e2e_resp r = { 0 };
	char name[96], token[64], cookie[128], csrf[80], set[256], x[512], body[512];
	char course[96], other_cookie[128], other_csrf[80];
	const char *p[1] = { course };

	staff_add("operator", name, token);
	signin(name, cookie, csrf, set);
	/* the cookie's attributes */
	ck_assert_int_eq(strncmp(set, "__Host-gym_staff=", 17), 0);
	ck_assert_ptr_nonnull(strstr(set, "; HttpOnly"));
	ck_assert_ptr_nonnull(strstr(set, "; Secure"));
	ck_assert_ptr_nonnull(strstr(set, "; SameSite=Strict"));
	ck_assert_ptr_nonnull(strstr(set, "; Path=/;"));
	ck_assert_ptr_nonnull(strstr(set, "Max-Age=43200"));

	/* reading with the cookie alone; whoami gives the CSRF token back (a new tab) */
	e2e_request("GET", ADMIN "/whoami", NULL, NULL, extra(x, sizeof(x), cookie, NULL), &r);
	ck_assert_msg(r.status == 200, "whoami: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "name"), name);
	ck_assert_str_eq(e2e_str(&r, "role"), "operator");
	ck_assert_str_eq(e2e_str(&r, "signed_in_with"), "password");
	ck_assert_str_eq(e2e_str(&r, "csrf_token"), csrf);
	e2e_request("GET", ADMIN "/orders?limit=1", NULL, NULL, extra(x, sizeof(x), cookie, NULL),
	    &r);
	ck_assert_int_eq(r.status, 200);

	/* a change without the CSRF token, with a wrong one, with another session's */
	class_body(body, sizeof(body), course);
	e2e_request("POST", ADMIN "/course-schedules", NULL, body,
	    extra(x, sizeof(x), cookie, NULL), &r);
	ck_assert_msg(r.status == 403, "no csrf: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "FORBIDDEN");
	e2e_request("POST", ADMIN "/course-schedules", NULL, body,
	    extra(x, sizeof(x), cookie, "0000000000000000000000000000000000000000000000000000000000000000"),
	    &r);
	ck_assert_int_eq(r.status, 403);
	signin(name, other_cookie, other_csrf, set);
	ck_assert_str_ne(other_csrf, csrf);
	e2e_request("POST", ADMIN "/course-schedules", NULL, body,
	    extra(x, sizeof(x), cookie, other_csrf), &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM course_schedules "
	    "WHERE course_name = $1", 1, p), 0);
	/* with its own token it goes through */
	e2e_request("POST", ADMIN "/course-schedules", NULL, body,
	    extra(x, sizeof(x), cookie, csrf), &r);
	ck_assert_msg(r.status == 201, "with csrf: %ld %s", r.status, r.body);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM course_schedules "
	    "WHERE course_name = $1", 1, p), 1);

	/* sign-out needs the token too, then clears the cookie and ends the session */
	e2e_request("DELETE", ADMIN "/session", NULL, NULL, extra(x, sizeof(x), cookie, NULL), &r);
	ck_assert_int_eq(r.status, 403);
	e2e_request("DELETE", ADMIN "/session", NULL, NULL, extra(x, sizeof(x), cookie, csrf), &r);
	ck_assert_msg(r.status == 204, "sign-out: %ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(e2e_header(&r, "Set-Cookie", set, sizeof(set)));
	ck_assert_ptr_nonnull(strstr(set, "Max-Age=0"));
	e2e_request("GET", ADMIN "/whoami", NULL, NULL, extra(x, sizeof(x), cookie, NULL), &r);
	ck_assert_int_eq(r.status, 401);
	/* the other session still works */
	e2e_request("GET", ADMIN "/whoami", NULL, NULL, extra(x, sizeof(x), other_cookie, NULL),
	    &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_ge(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log "
	    "WHERE action_type = 'operator_signed_out' AND response_snapshot->>'name' = $1", 1,
	    (const char *const[]){ name }), 1);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(test_auditor_cookie_cannot_change)
{
	struct e2e_resp r = { 0 };
	char name[96], token[64], cookie[128], csrf[80], set[256], x[512], body[512];
	char course[96];

	staff_add("auditor", name, token);
	signin(name, cookie, csrf, set);
	e2e_request("GET", ADMIN "/whoami", NULL, NULL, extra(x, sizeof(x), cookie, NULL), &r);
	ck_assert_str_eq(e2e_str(&r, "role"), "auditor");
	class_body(body, sizeof(body), course);
	e2e_request("POST", ADMIN "/course-schedules", NULL, body, extra(x, sizeof(x), cookie,
	    csrf), &r);
	ck_assert_msg(r.status == 403, "auditor: %ld %s", r.status, r.body);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(test_lockout_and_reset)
{
	struct e2e_resp r = { 0 };
	char name[96], token[64], cookie[128], csrf[80], set[256], body[256], ra[16];
	char cmd[2048], out[256], file[512];
	int rc;

	staff_add("operator", name, token);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"password\":\"not the one\"}", name);
	for (int i = 0; i < 5; i++) {
		e2e_request("POST", ADMIN "/session", NULL, body, NULL, &r);
		ck_assert_msg(r.status == 401, "wrong %d: %ld %s", i, r.status, r.body);
		ck_assert_ptr_null(e2e_header(&r, "Set-Cookie", set, sizeof(set)));
	}
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"password\":\"%s\"}", name, PASSWORD);
	e2e_request("POST", ADMIN "/session", NULL, body, NULL, &r);
	ck_assert_msg(r.status == 429, "locked: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "LOCKED_OUT");
	ck_assert_str_eq(e2e_header(&r, "Retry-After", ra, sizeof(ra)), "900");
	ck_assert_ptr_null(e2e_header(&r, "Set-Cookie", set, sizeof(set)));
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log "
	    "WHERE action_type = 'operator_locked_out' AND response_snapshot->>'name' = $1", 1,
	    (const char *const[]){ name }), 1);
	/* the bearer token is not locked out */
	e2e_request("GET", ADMIN "/whoami", token, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	/* the sysadmin resets the password: the lockout is lifted */
	e2e_var_path("staff-password", file, sizeof(file));
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' operator password '%s' "
	    "--password-file - <'%s' 2>&1", e2e_bin(), e2e_conf(), name, file);
	rc = e2e_run(cmd, out, sizeof(out));
	ck_assert_msg(rc == 0, "gymctl operator password: %d %s", rc, out);
	signin(name, cookie, csrf, set);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(test_bearer_still_works)
{
	struct e2e_resp r = { 0 };
	char name[96], token[64], body[512], course[96];

	staff_add("operator", name, token);
	e2e_request("GET", ADMIN "/whoami", token, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(e2e_str(&r, "signed_in_with"), "token");
	ck_assert_str_eq(e2e_str(&r, "csrf_token"), "");
	/* no CSRF token needed: a browser never adds an Authorization header by itself */
	class_body(body, sizeof(body), course);
	e2e_request("POST", ADMIN "/course-schedules", token, body, NULL, &r);
	ck_assert_msg(r.status == 201, "bearer: %ld %s", r.status, r.body);
	/* no credentials at all */
	e2e_request("GET", ADMIN "/whoami", NULL, NULL, "Cookie: __Host-gym_staff=nonsense", &r);
	ck_assert_int_eq(r.status, 401);
	e2e_request("POST", ADMIN "/session", NULL, "{\"name\":\"x\"}", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	e2e_resp_free(&r);
}
END_TEST

/* Search by what a parent reads out, and names beside ids (issue 19). */
START_TEST(test_search_and_names)
{
	struct e2e_resp r = { 0 };
	char name[96], token[64], ptoken[E2E_TOKEN_MAX], course[96], body[512], path[256];
	char oid[40], phone[16], child[64], txn[64], st[24], cookie[128], csrf[80], set[256];
	const char *p[1] = { oid };
	cJSON *items, *it;
	long long sid, rid, u;

	staff_add("operator", name, token);
	e2e_uniq("搜索课", course, sizeof(course));
	sid = e2e_schedule_named(course, 3 * 86400, 3);
	u = e2e_user("staff-search", ptoken);
	snprintf(phone, sizeof(phone), "1371%07lld", u % 10000000);
	/* a child's name of this test alone: letters from the user id */
	snprintf(child, sizeof(child), "小%c%c%c", 'a' + (int)(u % 26), 'a' + (int)(u / 26 % 26),
	    'a' + (int)(u / 676 % 26));
	rid = e2e_hold(ptoken, sid);
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld,\"reservation_id\":%lld,"
	    "\"child_name\":\"%s\",\"child_birth_date\":\"2018-03-01\","
	    "\"parent_phone\":\"%s\"}", sid, rid, child, phone);
	e2e_request("POST", E2E_API "/payment/orders/create", ptoken, body, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	snprintf(oid, sizeof(oid), "%s", e2e_str(&r, "order_id"));
	e2e_prepay(ptoken, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(ptoken, oid, "paid", 10000, st), "paid");
	e2e_sql_text(e2e_pg(), "SELECT transaction_id FROM payment_orders WHERE order_id = $1", 1, p,
	    txn, sizeof(txn));
	ck_assert_uint_ge(strlen(txn), 16);

	/* each of phone, order id, transaction id finds this order alone */
	const char *qs[3] = { phone, oid, txn };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), ADMIN "/orders?q=%s", qs[i]);
		e2e_request("GET", path, token, NULL, NULL, &r);
		ck_assert_msg(r.status == 200, "q=%s: %ld %s", qs[i], r.status, r.body);
		items = cJSON_GetObjectItem(r.json, "items");
		ck_assert_msg(cJSON_GetArraySize(items) == 1, "q=%s: %s", qs[i], r.body);
		ck_assert_str_eq(cJSON_GetObjectItem(items->child, "order_id")->valuestring, oid);
		/* the class by name and start, not only its id */
		ck_assert_str_eq(cJSON_GetObjectItem(items->child, "course_name")->valuestring, course);
		ck_assert(cJSON_IsString(cJSON_GetObjectItem(items->child, "course_starts_at")));
	}
	/* the child's name (URL-encoded UTF-8 of 小): every answer's child has it */
	snprintf(path, sizeof(path), ADMIN "/orders?q=%%E5%%B0%%8F%s", child + 3);
	e2e_request("GET", path, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	items = cJSON_GetObjectItem(r.json, "items");
	ck_assert_int_ge(cJSON_GetArraySize(items), 1);
	int seen = 0;
	cJSON_ArrayForEach(it, items) {
		ck_assert_str_eq(cJSON_GetObjectItem(it, "child_name")->valuestring, child);
		seen += strcmp(cJSON_GetObjectItem(it, "order_id")->valuestring, oid) == 0;
	}
	ck_assert_int_eq(seen, 1);
	e2e_request("GET", ADMIN "/orders?q=%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA%E4%BA%BA", token,
	    NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 0);
	/* a wrong order id finds nothing (and is not taken for a name) */
	e2e_request("GET", ADMIN "/orders?q=GYM000000000000", token, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 0);

	/* the detail names its class; the audit log names the operator who signed in */
	snprintf(path, sizeof(path), ADMIN "/orders/%s", oid);
	e2e_request("GET", path, token, NULL, NULL, &r);
	ck_assert_str_eq(e2e_str(&r, "course_name"), course);
	signin(name, cookie, csrf, set);
	e2e_request("GET", ADMIN "/audit-log?action_type=operator_signed_in&limit=50", token, NULL,
	    NULL, &r);
	seen = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items")) {
		const cJSON *an = cJSON_GetObjectItem(it, "actor_name");

		seen += cJSON_IsString(an) && strcmp(an->valuestring, name) == 0;
	}
	ck_assert_int_ge(seen, 1);
	e2e_resp_free(&r);
}
END_TEST

/* The overview of a day: its classes with seats taken; today's paid orders
 * and their sum as the database has them; the waiting counts. */
START_TEST(test_overview)
{
	struct e2e_resp r = { 0 };
	char name[96], token[64], ptoken[E2E_TOKEN_MAX], course[96], path[128], day[16];
	char oid[40], st[24];
	const cJSON *c;
	long long sid, rid, paid, fen;
	int seen = 0;

	staff_add("auditor", name, token);
	e2e_uniq("概览课", course, sizeof(course));
	sid = e2e_schedule_named(course, 5 * 86400, 3);
	e2e_user("staff-overview", ptoken);
	rid = e2e_hold(ptoken, sid);
	e2e_order_create(ptoken, sid, rid, oid, NULL);
	e2e_prepay(ptoken, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(ptoken, oid, "paid", 10000, st), "paid");

	/* the class's day, in the gym's zone */
	e2e_sql_text(e2e_pg(), "SELECT to_char(starts_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') "
	    "FROM course_schedules WHERE id = $1::bigint", 1,
	    (const char *const[]){ (snprintf(path, sizeof(path), "%lld", sid), path) }, day,
	    sizeof(day));
	snprintf(path, sizeof(path), ADMIN "/overview?day=%s", day);
	e2e_request("GET", path, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "day"), day);
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(r.json, "classes")) {
		if ((long long)cJSON_GetObjectItem(c, "id")->valuedouble != sid)
			continue;
		seen++;
		ck_assert_str_eq(cJSON_GetObjectItem(c, "course_name")->valuestring, course);
		ck_assert_int_eq((int)cJSON_GetObjectItem(c, "booked")->valuedouble, 1);
		ck_assert_int_eq((int)cJSON_GetObjectItem(c, "held")->valuedouble, 0);
		ck_assert_int_eq((int)cJSON_GetObjectItem(c, "capacity")->valuedouble, 3);
	}
	ck_assert_int_eq(seen, 1);

	/* today: the paid orders and their sum, counted by the database itself */
	e2e_request("GET", ADMIN "/overview", token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	paid = e2e_sql_int(e2e_pg(), "SELECT count(*) FROM payment_orders WHERE paid_at >= "
	    "(now() AT TIME ZONE 'Asia/Shanghai')::date::timestamp AT TIME ZONE 'Asia/Shanghai'");
	fen = e2e_sql_int(e2e_pg(), "SELECT coalesce(sum(amount_fen), 0) FROM payment_orders "
	    "WHERE paid_at >= (now() AT TIME ZONE 'Asia/Shanghai')::date::timestamp "
	    "AT TIME ZONE 'Asia/Shanghai'");
	ck_assert_int_ge(paid, 1);
	ck_assert_int_eq((long long)e2e_num(&r, "paid_orders"), paid);
	ck_assert_int_eq((long long)e2e_num(&r, "paid_fen"), fen);
	ck_assert_int_eq((long long)e2e_num(&r, "attention"), e2e_sql_int(e2e_pg(),
	    "SELECT count(*) FROM payment_orders o WHERE o.attention_reason IS NOT NULL AND "
	    "o.status = 'refunding' AND NOT EXISTS (SELECT 1 FROM refunds f WHERE "
	    "f.order_id = o.order_id AND f.status <> 'closed')"));
	ck_assert_int_ge((long long)e2e_num(&r, "refunds_in_progress"), 0);
	/* /metrics says the same about what waits for a person */
	e2e_request("GET", "/metrics", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(e2e_metric(r.body, "gymd_attention_orders"), e2e_sql_int(e2e_pg(),
	    "SELECT count(*) FROM payment_orders o WHERE o.attention_reason IS NOT NULL AND "
	    "o.status = 'refunding' AND NOT EXISTS (SELECT 1 FROM refunds f WHERE "
	    "f.order_id = o.order_id AND f.status <> 'closed')"));
	ck_assert_int_eq(e2e_metric(r.body, "gymd_refunds_waiting{state=\"abnormal\"}"),
	    e2e_sql_int(e2e_pg(), "SELECT count(*) FROM refunds WHERE status = 'abnormal'"));
	ck_assert_int_ge(e2e_metric(r.body, "gymd_refunds_waiting{state=\"in_progress\"}"), 0);
	/* a day that is not a date */
	e2e_request("GET", ADMIN "/overview?day=2026-02-30", token, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	e2e_request("GET", ADMIN "/overview?day=tomorrow", token, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	e2e_resp_free(&r);
}
END_TEST

Suite *
staff_suite(void)
{
	Suite *s = suite_create("staff");
	TCase *tc = tcase_create("staff");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cookie_session_and_csrf);
	tcase_add_test(tc, test_auditor_cookie_cannot_change);
	tcase_add_test(tc, test_lockout_and_reset);
	tcase_add_test(tc, test_bearer_still_works);
	tcase_add_test(tc, test_search_and_names);
	tcase_add_test(tc, test_overview);
	suite_add_tcase(s, tc);
	return s;
}
