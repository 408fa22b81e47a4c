/*
 * check_api.c: the public contract through the whole stack (nginx, gymd,
 * PostgreSQL): service endpoints, error shapes, authentication, the
 * booking and order flow, Idempotency-Key, and a 60-user race for a
 * 10-seat class.  Every test logs in with its own codes, so tests do not
 * depend on each other or on earlier runs against the same database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "e2e.h"
#include "regfields.h"


/* GET /course-schedules/{id}: its "available". */
static int
available(long long sid)
{
	struct e2e_resp r = { 0 };
	char path[128];
	int n;

	snprintf(path, sizeof(path), E2E_API "/course-schedules/%lld", sid);
	e2e_request("GET", path, NULL, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
	ck_assert_int_eq((long long)e2e_num(&r, "id"), sid);
	n = (int)e2e_num(&r, "available");
	e2e_resp_free(&r);
	return n;
}

/* POST /bookings/seat-reserve for sid into r (status not checked). */
static void
reserve(const char *token, long long sid, const char *extra, struct e2e_resp *r)
{
	char body[96];

	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", sid);
	e2e_request("POST", E2E_API "/bookings/seat-reserve", token, body, extra, r);
}

/* The reservation id of a successful hold. */
static long long
hold(const char *token, long long sid)
{
	struct e2e_resp r = { 0 };
	long long rid;

	reserve(token, sid, NULL, &r);
	ck_assert_msg(r.status == 201, "seat-reserve: %ld %s", r.status, r.body);
	rid = (long long)e2e_num(&r, "reservation_id");
	ck_assert_int_gt(rid, 0);
	e2e_resp_free(&r);
	return rid;
}

static void
create_order(const char *token, long long sid, long long rid, const char *extra,
    struct e2e_resp *r)
{
	char body[512];

	snprintf(body, sizeof(body), "{" TEST_REGISTRATION ",\"course_schedule_id\":%lld,\"reservation_id\":%lld}", sid, rid);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, extra, r);
}

/* The error shape of the contract: code, message, request_id (== header). */
static void
assert_error(const struct e2e_resp *r, long status, const char *code)
{
	ck_assert_msg(r->status == status, "want %ld %s, got %ld %s", status, code, r->status, r->body);
	ck_assert_ptr_nonnull(r->json);
	ck_assert_str_eq(e2e_code(r), code);
	ck_assert_msg(strlen(e2e_str(r, "message")) > 0, "no message in %s", r->body);
	ck_assert_msg(strlen(r->rid) > 0, "no X-Request-Id");
	ck_assert_str_eq(e2e_str(r, "request_id"), r->rid);
	ck_assert_msg(strncmp(r->ctype, "application/json", 16) == 0, "Content-Type %s", r->ctype);
}

/* ---- service and error shapes ------------------------------------------------------- */

START_TEST(healthz)
{
	struct e2e_resp r = { 0 };

	e2e_request("GET", "/healthz", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(r.json);
	ck_assert_str_eq(e2e_str(&r, "status"), "ok");
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
	ck_assert_msg(strlen(r.rid) >= 8, "X-Request-Id missing");
	e2e_resp_free(&r);
}
END_TEST

/* The public client configuration: the test stack's templates (stack.sh)
 * by moment, their ids without the field names, no token needed. */
START_TEST(client_config)
{
	struct e2e_resp r = { 0 };
	const cJSON *t, *pay, *booked, *wait;

	e2e_request("GET", E2E_API "/client-config", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(t = cJSON_GetObjectItemCaseSensitive(r.json, "subscribe_templates"));
	pay = cJSON_GetObjectItemCaseSensitive(t, "pay");
	booked = cJSON_GetObjectItemCaseSensitive(t, "booked");
	wait = cJSON_GetObjectItemCaseSensitive(t, "waitlist");
	ck_assert_int_eq(cJSON_GetArraySize(pay), 3);
	ck_assert_str_eq(cJSON_GetArrayItem(pay, 0)->valuestring, "tpl-booking-confirmed");
	ck_assert_str_eq(cJSON_GetArrayItem(pay, 1)->valuestring, "tpl-payment-failed");
	ck_assert_str_eq(cJSON_GetArrayItem(pay, 2)->valuestring, "tpl-class-cancelled");
	ck_assert_int_eq(cJSON_GetArraySize(booked), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(booked, 0)->valuestring, "tpl-class-rescheduled");
	ck_assert_str_eq(cJSON_GetArrayItem(booked, 1)->valuestring, "tpl-refund-done");
	ck_assert_int_eq(cJSON_GetArraySize(wait), 1);
	ck_assert_str_eq(cJSON_GetArrayItem(wait, 0)->valuestring, "tpl-waitlist-offer");
	ck_assert_int_eq(cJSON_GetObjectItem(r.json, "hold_minutes")->valueint, 15);
	ck_assert_int_eq(cJSON_GetObjectItem(r.json, "order_minutes")->valueint, 30);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(unknown_route)
{
	struct e2e_resp r = { 0 };

	e2e_request("GET", E2E_API "/no/such/route", NULL, NULL, NULL, &r);
	assert_error(&r, 404, "NOT_FOUND");
	e2e_request("POST", E2E_API "/bookings/seat-reserve/extra", NULL, "{}", NULL, &r);
	assert_error(&r, 404, "NOT_FOUND");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(wrong_method)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX];

	/* without and with a token: 405 either way, before authentication */
	e2e_request("GET", E2E_API "/payment/orders/create", NULL, NULL, NULL, &r);
	assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	ck_assert_str_eq(r.allow, "POST");
	e2e_user("api-405", token);
	e2e_request("GET", E2E_API "/payment/orders/create", token, NULL, NULL, &r);
	assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	ck_assert_str_eq(r.allow, "POST");
	e2e_request("PUT", "/healthz", NULL, "{}", NULL, &r);
	ck_assert_int_eq(r.status, 405);
	ck_assert_str_eq(r.allow, "GET");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(body_too_large)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], *body;
	size_t n = 5000;
	long long sid = e2e_schedule(3);

	e2e_user("api-413", token);
	body = malloc(n + 1);
	ck_assert_ptr_nonnull(body);
	/* valid JSON, just too long: {"course_schedule_id":N,"pad":"xxxx..."} */
	snprintf(body, n + 1, "{\"course_schedule_id\":%lld,\"pad\":\"", sid);
	memset(body + strlen(body), 'x', n - strlen(body) - 2);
	strcpy(body + n - 2, "\"}");
	ck_assert_uint_eq(strlen(body), n);
	e2e_request("POST", E2E_API "/bookings/seat-reserve", token, body, NULL, &r);
	free(body);
	ck_assert_msg(r.status == 413, "got %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "PAYLOAD_TOO_LARGE");
	/* nothing was held */
	ck_assert_int_eq(available(sid), 3);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(malformed_json)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX];

	e2e_user("api-400", token);
	e2e_request("POST", E2E_API "/bookings/seat-reserve", token, "{\"course_schedule_id\":", NULL, &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	e2e_request("POST", E2E_API "/bookings/seat-reserve", token, "[1,2]", NULL, &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(missing_field)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX];

	e2e_user("api-field", token);
	e2e_request("POST", E2E_API "/bookings/seat-reserve", token, "{}", NULL, &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "course_schedule_id");
	e2e_request("POST", E2E_API "/bookings/seat-reserve", token,
	    "{\"course_schedule_id\":\"x\"}", NULL, &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "course_schedule_id");
	e2e_request("POST", E2E_API "/payment/orders/create", token, "{\"amount\":\"200.00\"}", NULL, &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "course_schedule_id");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(no_token)
{
	struct e2e_resp r = { 0 };
	long long sid = e2e_schedule(2);

	reserve(NULL, sid, NULL, &r);
	assert_error(&r, 401, "UNAUTHORIZED");
	e2e_request("GET", E2E_API "/payment/orders/abcdef123456", NULL, NULL, NULL, &r);
	assert_error(&r, 401, "UNAUTHORIZED");
	e2e_request("POST", E2E_API "/bookings/seat-reserve", NULL, "{}", "Authorization: Basic Z3ltOmd5bQ==", &r);
	assert_error(&r, 401, "UNAUTHORIZED");
	ck_assert_int_eq(available(sid), 2);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(forged_token)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], forged[E2E_TOKEN_MAX];
	long long sid = e2e_schedule(2);
	size_t n;

	e2e_user("api-forged", token);
	n = strlen(token);
	/* flip the last character of the MAC, then a character of the user id part */
	strcpy(forged, token);
	forged[n - 1] = forged[n - 1] == 'A' ? 'B' : 'A';
	reserve(forged, sid, NULL, &r);
	assert_error(&r, 401, "UNAUTHORIZED");
	strcpy(forged, token);
	forged[3] = forged[3] == '9' ? '8' : '9';
	reserve(forged, sid, NULL, &r);
	assert_error(&r, 401, "UNAUTHORIZED");
	ck_assert_int_eq(available(sid), 2);
	/* the real token still works */
	reserve(token, sid, NULL, &r);
	ck_assert_int_eq(r.status, 201);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(other_users_order)
{
	struct e2e_resp r = { 0 };
	char ta[E2E_TOKEN_MAX], tb[E2E_TOKEN_MAX], oid[40], path[128];
	long long sid = e2e_schedule(3), rid;

	e2e_user("api-owner", ta);
	e2e_user("api-prober", tb);
	rid = hold(ta, sid);
	create_order(ta, sid, rid, NULL, &r);
	ck_assert_int_eq(r.status, 201);
	snprintf(oid, sizeof(oid), "%s", e2e_str(&r, "order_id"));
	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s", oid);
	e2e_request("GET", path, tb, NULL, NULL, &r);
	assert_error(&r, 404, "NOT_FOUND");
	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s/cancel", oid);
	e2e_request("POST", path, tb, NULL, NULL, &r);
	assert_error(&r, 404, "NOT_FOUND");
	snprintf(path, sizeof(path), E2E_API "/payment/wxpay/qrcode/%s", oid);
	e2e_request("GET", path, tb, NULL, NULL, &r);
	assert_error(&r, 404, "NOT_FOUND");
	/* an id that does not exist at all answers the same */
	e2e_request("GET", E2E_API "/payment/orders/NoSuchOrder000000000", tb, NULL, NULL, &r);
	assert_error(&r, 404, "NOT_FOUND");
	/* the owner's order is untouched */
	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s", oid);
	e2e_request("GET", path, ta, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(e2e_str(&r, "status"), "pending");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(garbage_schedule_ids)
{
	static const char *const ids[] = { "abc", "0", "99999999", "-1", "1e3", "12345678901234567890" };
	struct e2e_resp r = { 0 };
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(path, sizeof(path), E2E_API "/course-schedules/%s", ids[i]);
		e2e_request("GET", path, NULL, NULL, NULL, &r);
		ck_assert_msg(r.status == 404, "%s: %ld %s", path, r.status, r.body);
		assert_error(&r, 404, "SCHEDULE_NOT_FOUND");
	}
	e2e_resp_free(&r);
}
END_TEST

START_TEST(amount_tampered)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], body[512], uid[24];
	const char *p[1];
	long long sid = e2e_schedule(3), rid, u;

	u = e2e_user("api-amount", token);
	snprintf(uid, sizeof(uid), "%lld", u);
	p[0] = uid;
	rid = hold(token, sid);
	snprintf(body, sizeof(body),
	    "{" TEST_REGISTRATION ",\"course_schedule_id\":%lld,\"reservation_id\":%lld,\"amount\":\"0.01\"}", sid, rid);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, NULL, &r);
	assert_error(&r, 400, "AMOUNT_MISMATCH");
	p[0] = r.rid;
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'amount_mismatch' AND request_id = $1", 1, p), 1);
	p[0] = uid;
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_orders WHERE "
	    "user_id = $1::bigint", 1, p), 0);
	/* amount_fen tampered the same way */
	snprintf(body, sizeof(body),
	    "{" TEST_REGISTRATION ",\"course_schedule_id\":%lld,\"reservation_id\":%lld,\"amount_fen\":1}", sid, rid);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, NULL, &r);
	assert_error(&r, 400, "AMOUNT_MISMATCH");
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_orders WHERE "
	    "user_id = $1::bigint", 1, p), 0);
	/* the right price is accepted */
	snprintf(body, sizeof(body),
	    "{" TEST_REGISTRATION ",\"course_schedule_id\":%lld,\"reservation_id\":%lld,\"amount\":\"200.00\"}", sid, rid);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_orders WHERE "
	    "user_id = $1::bigint", 1, p), 1);
	e2e_resp_free(&r);
}
END_TEST

/* ---- booking --------------------------------------------------------------------------- */

START_TEST(booking_flow)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], path[128];
	long long sid = e2e_schedule(5), rid;
	const cJSON *res;

	e2e_user("api-book", token);
	ck_assert_int_eq(available(sid), 5);
	reserve(token, sid, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	rid = (long long)e2e_num(&r, "reservation_id");
	ck_assert_int_gt(rid, 0);
	ck_assert_int_eq((long long)e2e_num(&r, "course_schedule_id"), sid);
	ck_assert_str_eq(e2e_str(&r, "status"), "temporary");
	ck_assert_msg(strlen(e2e_str(&r, "expires_at")) >= 20, "expires_at %s", r.body);
	ck_assert_int_eq(available(sid), 4);
	/* again: the same hold, 200 */
	reserve(token, sid, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq((long long)e2e_num(&r, "reservation_id"), rid);
	ck_assert_int_eq(available(sid), 4);

	create_order(token, sid, rid, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	snprintf(oid, sizeof(oid), "%s", e2e_str(&r, "order_id"));
	ck_assert_uint_ge(strlen(oid), 6);
	ck_assert_str_eq(e2e_str(&r, "amount"), "200.00");
	ck_assert_int_eq((int)e2e_num(&r, "amount_fen"), 20000);
	ck_assert_str_eq(e2e_str(&r, "currency"), "CNY");
	ck_assert_str_eq(e2e_str(&r, "status"), "pending");
	ck_assert_int_eq((long long)e2e_num(&r, "course_schedule_id"), sid);
	res = cJSON_GetObjectItemCaseSensitive(r.json, "reservation");
	ck_assert_int_eq((long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(res,
	    "reservation_id")), rid);
	/* again: the open order, 200 */
	create_order(token, sid, rid, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "order_id"), oid);
	ck_assert_int_eq(available(sid), 4);

	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s", oid);
	e2e_request("GET", path, token, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(e2e_str(&r, "order_id"), oid);
	ck_assert_str_eq(e2e_str(&r, "status"), "pending");
	ck_assert_int_eq((int)e2e_num(&r, "amount_fen"), 20000);

	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s/cancel", oid);
	e2e_request("POST", path, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "order_id"), oid);
	ck_assert_str_eq(e2e_str(&r, "status"), "cancelled");
	ck_assert_int_eq(available(sid), 5);
	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s", oid);
	e2e_request("GET", path, token, NULL, NULL, &r);
	ck_assert_str_eq(e2e_str(&r, "status"), "cancelled");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(seat_release)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], path[128];
	long long sid = e2e_schedule(2), rid;

	e2e_user("api-release", token);
	rid = hold(token, sid);
	ck_assert_int_eq(available(sid), 1);
	snprintf(path, sizeof(path), E2E_API "/bookings/seat-release?reservation_id=%lld", rid);
	e2e_request("DELETE", path, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "status"), "cancelled");
	ck_assert_int_eq((long long)e2e_num(&r, "reservation_id"), rid);
	ck_assert_int_eq(available(sid), 2);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(idempotency_key)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], key[80], hdr[120], oid[40], replay[16], body[512];
	long long sid = e2e_schedule(3), sid2 = e2e_schedule(3), rid;

	e2e_user("api-idem", token);
	rid = hold(token, sid);
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", e2e_uniq("k", key, sizeof(key)));
	create_order(token, sid, rid, hdr, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_ptr_null(e2e_header(&r, "Idempotent-Replayed", replay, sizeof(replay)));
	snprintf(oid, sizeof(oid), "%s", e2e_str(&r, "order_id"));
	/* same key, same body: the first answer again, marked */
	create_order(token, sid, rid, hdr, &r);
	ck_assert_msg(r.status == 201, "replay: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "order_id"), oid);
	ck_assert_ptr_nonnull(e2e_header(&r, "Idempotent-Replayed", replay, sizeof(replay)));
	ck_assert_str_eq(replay, "true");
	/* same key, another body */
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", sid2);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, hdr, &r);
	assert_error(&r, 422, "IDEMPOTENCY_KEY_REUSED");
	/* still one order, and the other class untouched */
	ck_assert_int_eq(available(sid2), 3);
	{
		const char *p[1] = { oid };

		ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_orders WHERE "
		    "user_id = (SELECT user_id FROM payment_orders WHERE order_id = $1)", 1, p), 1);
	}
	e2e_resp_free(&r);
}
END_TEST

/* ---- race ------------------------------------------------------------------------------ */

#define RACE_USERS 60
#define RACE_SEATS 10

/* A sold-out class answers 409 SOLD_OUT with up to three alternatives
 * that have a free seat, its own course first; an order on it the same. */
START_TEST(sold_out_alternatives)
{
	struct e2e_resp r = { 0 };
	char t1[E2E_TOKEN_MAX], t2[E2E_TOKEN_MAX], course[64], body[512];
	const cJSON *alt, *a;
	long long full, same;

	e2e_uniq("course", course, sizeof(course));
	full = e2e_schedule_named(course, 3 * 86400, 1);
	same = e2e_schedule_named(course, 9 * 86400, 2);
	e2e_user("api-alt-1", t1);
	e2e_user("api-alt-2", t2);
	(void)hold(t1, full);
	reserve(t2, full, NULL, &r);
	assert_error(&r, 409, "SOLD_OUT");
	alt = cJSON_GetObjectItem(r.json, "alternatives");
	ck_assert_msg(cJSON_IsArray(alt) && cJSON_GetArraySize(alt) >= 1 &&
	    cJSON_GetArraySize(alt) <= 3, "%s", r.body);
	ck_assert_int_eq((long long)cJSON_GetObjectItem(alt->child, "id")->valuedouble, same);
	ck_assert_str_eq(cJSON_GetObjectItem(alt->child, "course_name")->valuestring, course);
	ck_assert_int_eq((int)cJSON_GetObjectItem(alt->child, "available")->valuedouble, 2);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(alt->child, "starts_at"));
	cJSON_ArrayForEach(a, alt) {
		ck_assert_int_ne((long long)cJSON_GetObjectItem(a, "id")->valuedouble, full);
		ck_assert_int_gt((int)cJSON_GetObjectItem(a, "available")->valuedouble, 0);
	}
	/* the order path says the same */
	snprintf(body, sizeof(body), "{" TEST_REGISTRATION ",\"course_schedule_id\":%lld}", full);
	e2e_request("POST", E2E_API "/payment/orders/create", t2, body, NULL, &r);
	assert_error(&r, 409, "SOLD_OUT");
	alt = cJSON_GetObjectItem(r.json, "alternatives");
	ck_assert_int_eq((long long)cJSON_GetObjectItem(alt->child, "id")->valuedouble, same);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(race_sold_out)
{
	static struct e2e_req login[RACE_USERS], rq[RACE_USERS];
	static char codes[RACE_USERS][96], bodies[RACE_USERS][160], tokens[RACE_USERS][E2E_TOKEN_MAX];
	char body[96], ra[16];
	long long sid = e2e_schedule(RACE_SEATS);
	int i, n, round, created = 0, sold = 0, other = 0, todo[RACE_USERS], left = RACE_USERS;

	for (i = 0; i < RACE_USERS; i++) {
		e2e_uniq("api-race", codes[i], sizeof(codes[i]));
		snprintf(bodies[i], sizeof(bodies[i]), "{\"code\":\"%.90s\"}", codes[i]);
		todo[i] = i;
	}
	/* 60 logins at once are more WeChat calls than upstream_workers: the
	 * ones beyond it answer 503 with Retry-After, and a retry logs in */
	for (round = 0; left > 0 && round < 50; round++) {
		for (i = 0; i < left; i++)
			login[i] = (struct e2e_req){ "POST", E2E_API "/auth/wx-login", NULL,
			    bodies[todo[i]], NULL, { 0 } };
		e2e_request_many(login, (size_t)left);
		for (i = 0, n = 0; i < left; i++) {
			struct e2e_resp *r = &login[i].resp;

			if (r->status == 200)
				snprintf(tokens[todo[i]], sizeof(tokens[0]), "%s", e2e_str(r, "token"));
			else {
				ck_assert_msg(r->status == 503 && e2e_header(r, "Retry-After", ra,
				    sizeof(ra)) != NULL, "login %d: %ld %s", todo[i], r->status, r->body);
				todo[n++] = todo[i];
			}
			e2e_resp_free(r);
		}
		left = n;
	}
	ck_assert_int_eq(left, 0);
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", sid);
	for (i = 0; i < RACE_USERS; i++)
		rq[i] = (struct e2e_req){ "POST", E2E_API "/bookings/seat-reserve", tokens[i], body, NULL, { 0 } };
	e2e_request_many(rq, RACE_USERS);
	for (i = 0; i < RACE_USERS; i++) {
		struct e2e_resp *r = &rq[i].resp;

		ck_assert_msg(r->status > 0 && r->status < 500, "user %d: %ld %s", i, r->status, r->body);
		if (r->status == 201)
			created++;
		else if (r->status == 409 && strcmp(e2e_code(r), "SOLD_OUT") == 0)
			sold++;
		else
			other++;
	}
	for (i = 0; i < RACE_USERS; i++)
		if (rq[i].resp.status != 201 && !(rq[i].resp.status == 409 &&
		    strcmp(e2e_code(&rq[i].resp), "SOLD_OUT") == 0))
			fprintf(stderr, "race: user %d: %ld %s\n", i, rq[i].resp.status, rq[i].resp.body);
	ck_assert_int_eq(other, 0);
	ck_assert_int_eq(created, RACE_SEATS);
	ck_assert_int_eq(sold, RACE_USERS - RACE_SEATS);
	ck_assert_int_eq(available(sid), 0);
	{
		char s[24];
		const char *p[1] = { s };

		snprintf(s, sizeof(s), "%lld", sid);
		ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM seat_reservations WHERE "
		    "course_schedule_id = $1::bigint AND status = 'temporary'", 1, p), RACE_SEATS);
		ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(DISTINCT seat_id) FROM seat_reservations "
		    "WHERE course_schedule_id = $1::bigint AND status = 'temporary'", 1, p), RACE_SEATS);
	}
	for (i = 0; i < RACE_USERS; i++)
		e2e_resp_free(&rq[i].resp);
}
END_TEST

Suite *
api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *t;

	t = tcase_create("contract");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, healthz);
	tcase_add_test(t, client_config);
	tcase_add_test(t, unknown_route);
	tcase_add_test(t, wrong_method);
	tcase_add_test(t, body_too_large);
	tcase_add_test(t, malformed_json);
	tcase_add_test(t, missing_field);
	tcase_add_test(t, no_token);
	tcase_add_test(t, forged_token);
	tcase_add_test(t, other_users_order);
	tcase_add_test(t, garbage_schedule_ids);
	tcase_add_test(t, amount_tampered);
	suite_add_tcase(s, t);

	t = tcase_create("booking");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, booking_flow);
	tcase_add_test(t, seat_release);
	tcase_add_test(t, idempotency_key);
	tcase_add_test(t, sold_out_alternatives);
	suite_add_tcase(s, t);

	t = tcase_create("race");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, race_sold_out);
	suite_add_tcase(s, t);
	return s;
}
