/*
 * check_door_hostile.c: the hostile-input tables of test/e2e/check_hostile.c
 * that the door alone decides, run in process (door.h): malformed,
 * negative and huge ids, wrong JSON types, text that is not one JSON
 * object, Unicode edge cases, bad query values, oversized headers.  Every
 * row must be a clean 4xx with the contract's error body, decided before
 * any query (door_request fails a row that touches the database).  What
 * needs nginx, the database or the simulator stays in check_hostile.c,
 * with a few rows of each table as an end-to-end smoke test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "door.h"
#include "regfields.h"
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define API DOOR_API
#define ORDER "GYM20261121A1B2C3D4"

static char token[200];		/* "Bearer ..." of parent 42 */

static void
setup(void)
{
	char t[160];

	door_init(1);
	door_token(42, 600, 0, t, sizeof(t));
	snprintf(token, sizeof(token), "Bearer %s", t);
}

static void
teardown(void)
{
	door_fini();
}

static const char *
member(const char *name, const char *v, char *buf, size_t sz)
{
	snprintf(buf, sz, "{\"%s\":%s}", name, v);
	return buf;
}

/* ---- huge, negative and malformed numbers --------------------------------------------- */

static const char *const bad_ids[] = {
	"-1", "0", "-0", "1.5", "1e308", "-1e308", "1e-308", "9223372036854775808",
	"18446744073709551616", "9007199254740993", "99999999999999999999999999",
	"\"12abc\"", "\"\"", "\" 1\"", "\"+1\"", "\"0x10\"", "\"1e3\"", "\"-1\"", "\"１\"",
	"1.0e", "-", "\"9999999999999999\"",
};

/* v as each id member of a parent's body: 400 */
static void
refused_as_id(const char *v)
{
	char body[256];

	door_expect("POST", API "/bookings/seat-reserve", token,
	    member("course_schedule_id", v, body, sizeof(body)), 400, "INVALID_REQUEST");
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%s,\"reservation_id\":1}", v);
	door_expect("POST", API "/payment/orders/create", token, body, 400, "INVALID_REQUEST");
	door_expect("DELETE", API "/bookings/seat-release", token,
	    member("reservation_id", v, body, sizeof(body)), 400, "INVALID_REQUEST");
}

START_TEST(bad_id)
{
	refused_as_id(bad_ids[_i]);
}
END_TEST

/* as path segments and query values: an id that cannot exist is an unknown id */
static const char *const bad_path_ids[] = {
	"-1", "0", "1.5", "1e308", "9223372036854775808", "99999999999999999999",
	"1234567890123456", "12abc", "0x10", "%2B1", "%201", "%EF%BC%91", "1%2F2", "..%2F1",
	"%00", "%C0%AF", "%FF%FE",
};

START_TEST(bad_path_id)
{
	char path[256];

	snprintf(path, sizeof(path), API "/course-schedules/%s", bad_path_ids[_i]);
	door_expect("GET", path, NULL, NULL, 404, "SCHEDULE_NOT_FOUND");
	snprintf(path, sizeof(path), API "/bookings/seat-release?reservation_id=%s",
	    bad_path_ids[_i]);
	door_expect("DELETE", path, token, NULL, 404, "NOT_FOUND");
}
END_TEST

/* the price is only ever 200.00 */
static const char *const bad_amounts[] = {
	"\"amount\":1e308", "\"amount_fen\":-20000", "\"amount\":\"0.01\"", "\"amount\":199.99",
	"\"amount\":-200", "\"amount_fen\":1", "\"amount\":\"200.001\"", "\"amount\":[200]",
};

START_TEST(bad_amount)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"course_schedule_id\":5," TEST_REGISTRATION ",%s}",
	    bad_amounts[_i]);
	door_expect("POST", API "/payment/orders/create", token, body, 400, "AMOUNT_MISMATCH");
}
END_TEST

static const char *const bad_times[] = {
	"from=99999-01-01T00:00:00Z", "from=2024-01-01T-1:00:00Z", "from=2023-02-29T00:00:00Z",
	"from=%C0%AF&to=%FF", "to=2024-13-01T00:00:00Z", "from=yesterday", "to=%00",
	"from=2024-01-01T00:00:00Z%27%20OR%201=1--",
};

START_TEST(bad_time)
{
	char path[256];

	snprintf(path, sizeof(path), API "/course-schedules?%s", bad_times[_i]);
	door_expect("GET", path, NULL, NULL, 400, "INVALID_REQUEST");
}
END_TEST

/* ---- wrong JSON types ----------------------------------------------------------------- */

static const char *const wrong_types[] = {
	"[]", "{}", "true", "false", "null", "[1]", "{\"id\":1}", "[\"x\"]", "[[[]]]",
};

START_TEST(wrong_type)
{
	char body[256];
	const char *v = wrong_types[_i];

	door_expect("POST", API "/bookings/seat-reserve", token,
	    member("course_schedule_id", v, body, sizeof(body)), 400, "INVALID_REQUEST");
	door_expect("POST", API "/auth/wx-login", NULL, member("code", v, body, sizeof(body)),
	    400, "INVALID_REQUEST");
	snprintf(body, sizeof(body), "{\"order_id\":%s,\"trade_type\":\"JSAPI\"}", v);
	door_expect("POST", API "/payment/wxpay/create", token, body, 400, "INVALID_REQUEST");
	snprintf(body, sizeof(body), "{\"order_id\":\"" ORDER "\",\"trade_type\":%s}", v);
	door_expect("POST", API "/payment/wxpay/create", token, body, 400, "INVALID_REQUEST");
	door_expect("POST", API "/bookings/confirm", token,
	    member("order_id", v, body, sizeof(body)), 400, "INVALID_REQUEST");
}
END_TEST

/* a number where a string belongs, and the other way round */
START_TEST(number_for_string)
{
	door_expect("POST", API "/auth/wx-login", NULL, "{\"code\":12345}", 400,
	    "INVALID_REQUEST");
	door_expect("POST", API "/auth/wx-login", NULL, "{\"code\":\"\"}", 400, "INVALID_REQUEST");
	door_expect("POST", API "/payment/wxpay/create", token,
	    "{\"order_id\":\"" ORDER "\",\"trade_type\":1}", 400, "INVALID_REQUEST");
	door_expect("POST", API "/payment/wxpay/create", token,
	    "{\"order_id\":\"" ORDER "\",\"trade_type\":\"jsapi\"}", 400, "INVALID_REQUEST");
	door_expect("POST", API "/payment/wxpay/create", token,
	    "{\"order_id\":12345,\"trade_type\":\"JSAPI\"}", 400, "INVALID_REQUEST");
	door_expect("POST", API "/payment/wxpay/create", token,
	    "{\"order_id\":\"\",\"trade_type\":\"JSAPI\"}", 400, "INVALID_REQUEST");
	door_expect("POST", API "/bookings/confirm", token, "{\"order_id\":12345}", 400,
	    "INVALID_REQUEST");
}
END_TEST

/* text that is not exactly one JSON object */
static const struct {
	const char *text;
	size_t len;		/* 0: strlen */
} not_objects[] = {
	{ "[]", 0 }, { "[{\"course_schedule_id\":1}]", 0 }, { "\"x\"", 0 }, { "1", 0 },
	{ "null", 0 }, { "true", 0 }, { "", 0 }, { "{\"course_schedule_id\":1", 0 },
	{ "{\"course_schedule_id\":1}}", 0 }, { "{\"course_schedule_id\":1}x", 0 },
	{ "{'course_schedule_id':1}", 0 }, { "{course_schedule_id:1}", 0 },
	{ "{\"course_schedule_id\":1,}", 0 }, { "{\"course_schedule_id\":1}{}", 0 },
	{ "{\"course_schedule_id\":NaN}", 0 }, { "{\"course_schedule_id\":Infinity}", 0 },
	{ "{\"course_schedule_id\":0x1}", 0 }, { "{\"course_schedule_id\":1}//", 0 },
	{ "{\"course_schedule_id\"\xff:1}", 0 },
};

START_TEST(not_object)
{
	static const char *const posts[][2] = {
		{ "POST", API "/bookings/seat-reserve" }, { "POST", API "/payment/orders/create" },
		{ "POST", API "/auth/wx-login" }, { "POST", API "/payment/wxpay/create" },
		{ "POST", API "/bookings/confirm" }, { "DELETE", API "/bookings/seat-release" },
	};
	const char *t = not_objects[_i].text;
	size_t len = not_objects[_i].len ? not_objects[_i].len : strlen(t);
	char auth[240];

	snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=%s", token);
	for (size_t i = 0; i < NELEM(posts); i++) {
		const char *p[] = { auth, NULL };
		struct door_run d;

		door_request(&d, posts[i][0], posts[i][1], p, t, len);
		ck_assert_msg(d.status == 400 && strcmp(d.code, "INVALID_REQUEST") == 0,
		    "%s %s %zu bytes: %d %s", posts[i][0], posts[i][1], len, d.status, d.code);
		door_done(&d);
	}
}
END_TEST

/* ---- Unicode edge cases ----------------------------------------------------------------- */

static const char *const uni[] = {
	"\"\xc0\xaf\"",				/* overlong '/' */
	"\"\xe0\x80\xaf\"",			/* overlong, three bytes */
	"\"\xed\xa0\x80\"",			/* a surrogate encoded in UTF-8 */
	"\"\xff\xfe\"",				/* not UTF-8 at all */
	"\"\xe4\xbd\"",				/* truncated sequence */
	"\"\\ud800\"",				/* lone high surrogate */
	"\"\\udc00x\"",				/* lone low surrogate */
	"\"\\ud800\\u0041\"",			/* high surrogate, no low */
	"\"\\ud83d\\ude00\"",			/* an emoji by surrogates */
	"\"\xf0\x9f\x98\x80\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\"",	/* emoji, ZWJ */
	"\"\xe2\x80\xae\xe4\xbd\x93\xe6\x93\x8d\"",	/* RTL override */
	"\"\xef\xbb\xbf\xe4\xbd\x93\"",		/* BOM inside the string */
	"\"a\xcc\x81\xe2\x80\x8b\"",		/* combining mark, zero width space */
	"\"\xf4\x8f\xbf\xbf\"",			/* U+10FFFF */
	"\"\\u0000x\"",				/* NUL escape */
	"\"\xef\xbc\x91\"",			/* fullwidth digit one */
};

START_TEST(unicode)
{
	char body[256];
	const char *v = uni[_i];

	refused_as_id(v);
	snprintf(body, sizeof(body), "{\"order_id\":\"" ORDER "\",\"trade_type\":%s}", v);
	door_expect("POST", API "/payment/wxpay/create", token, body, 400, "INVALID_REQUEST");
}
END_TEST

/* ---- headers nginx lets through -------------------------------------------------------- */

START_TEST(big_headers)
{
	char *big, auth[240];
	const char *pp[3];
	struct door_run d;
	size_t n = 7000;

	ck_assert_ptr_nonnull(big = malloc(n + 64));
	memset(big, 'd', n + 63);
	big[n + 63] = '\0';
	/* a 7 KiB token */
	memcpy(big + 56, "Bearer ", 7);
	door_expect("POST", API "/bookings/seat-reserve", big + 56, "{\"course_schedule_id\":1}",
	    401, "UNAUTHORIZED");
	/* a 7 KiB Idempotency-Key */
	memcpy(big + 42, "HTTP_IDEMPOTENCY_KEY=", 21);
	snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=%s", token);
	pp[0] = auth;
	pp[1] = big + 42;
	pp[2] = NULL;
	door_request(&d, "POST", API "/bookings/seat-reserve", pp, "{\"course_schedule_id\":1}",
	    24);
	ck_assert_int_eq(d.status, 400);
	ck_assert_str_eq(d.code, "INVALID_REQUEST");
	door_done(&d);
	/* a 7 KiB X-Request-Id (and a 65-character one) is replaced, never echoed */
	memcpy(big + 45, "HTTP_X_REQUEST_ID=", 18);
	pp[1] = big + 45;
	door_request(&d, "GET", API "/course-schedules/x", pp, NULL, 0);
	ck_assert_int_eq(d.status, 404);
	ck_assert_uint_eq(strlen(d.rb.rid), 32);
	ck_assert_ptr_null(strstr(d.resp.body, "dddddddd"));
	door_done(&d);
	big[45 + 18 + 65] = '\0';
	door_request(&d, "GET", API "/course-schedules/x", pp, NULL, 0);
	ck_assert_ptr_null(strstr(d.rb.rid, "dddddddd"));
	door_done(&d);
	free(big);
}
END_TEST

Suite *
door_hostile_suite(void)
{
	Suite *s = suite_create("door_hostile");
	TCase *tc = tcase_create("tables");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, bad_id, 0, NELEM(bad_ids));
	tcase_add_loop_test(tc, bad_path_id, 0, NELEM(bad_path_ids));
	tcase_add_loop_test(tc, bad_amount, 0, NELEM(bad_amounts));
	tcase_add_loop_test(tc, bad_time, 0, NELEM(bad_times));
	tcase_add_loop_test(tc, wrong_type, 0, NELEM(wrong_types));
	tcase_add_test(tc, number_for_string);
	tcase_add_loop_test(tc, not_object, 0, NELEM(not_objects));
	tcase_add_loop_test(tc, unicode, 0, NELEM(uni));
	tcase_add_test(tc, big_headers);
	suite_add_tcase(s, tc);
	return s;
}
