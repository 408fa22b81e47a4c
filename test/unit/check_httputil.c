/*
 * check_httputil.c: unit tests of lib/httputil.c: request ids, URI
 * splitting, the public path prefix, CONTENT_LENGTH and reason phrases.
 * Table-driven with loop tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "httputil.h"
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *rid;
	int valid;
} rids[] = {
	{ "a", 1 },
	{ "0123456789abcdef0123456789abcdef", 1 },
	{ "Req-1-B", 1 },
	{ "----", 1 },
	/* 64 characters: the longest accepted */
	{ "0123456789012345678901234567890123456789012345678901234567890123", 1 },
	/* 65 characters */
	{ "01234567890123456789012345678901234567890123456789012345678901234", 0 },
	{ "", 0 },
	{ "a b", 0 },
	{ "a_b", 0 },
	{ "a.b", 0 },
	{ "abc\n", 0 },
	{ "abc\r\nX-Evil: 1", 0 },
	{ "rid\"", 0 },
	{ "\xe4\xbd\xa0", 0 },
};

START_TEST(test_rid_valid)
{
	ck_assert_msg(gym_http_rid_valid(rids[_i].rid) == rids[_i].valid,
	    "rid \"%s\": expected %d", rids[_i].rid, rids[_i].valid);
}
END_TEST

START_TEST(test_rid_null)
{
	ck_assert_int_eq(gym_http_rid_valid(NULL), 0);
}
END_TEST

START_TEST(test_rid_new)
{
	char a[33], b[33];

	memset(a, 'x', sizeof(a));
	gym_http_rid_new(a);
	gym_http_rid_new(b);
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
	ck_assert_int_eq(gym_http_rid_valid(a), 1);
	ck_assert_str_ne(a, b);
}
END_TEST

static const struct {
	const char *uri, *path, *query;
} uris[] = {
	{ "/api/v1/course-schedules", "/api/v1/course-schedules", "" },
	{ "/api/v1/course-schedules?from=a&to=b", "/api/v1/course-schedules", "from=a&to=b" },
	{ "/healthz?", "/healthz", "" },
	{ "/x?a=1?b=2", "/x", "a=1?b=2" },
	{ "?only", "", "only" },
	{ "", "", "" },
};

START_TEST(test_split_uri)
{
	char buf[128];
	const char *q = NULL;

	snprintf(buf, sizeof(buf), "%s", uris[_i].uri);
	gym_http_split_uri(buf, &q);
	ck_assert_str_eq(buf, uris[_i].path);
	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(q, uris[_i].query);
}
END_TEST

static const struct {
	const char *path, *routed;	/* NULL: outside the API, 404 */
} paths[] = {
	{ "/api/v1/course-schedules", "/course-schedules" },
	{ "/api/v1/payment/orders/ABC/cancel", "/payment/orders/ABC/cancel" },
	{ "/api/v1/", "/" },
	{ "/api/v1/healthz", "/healthz" },
	{ "/healthz", "/healthz" },
	{ "/metrics", "/metrics" },
	{ "/api/v1/metrics", NULL },	/* metrics only at the root */
	{ "/api/v1", NULL },
	{ "/api/v10/course-schedules", NULL },
	{ "/api/v2/course-schedules", NULL },
	{ "/course-schedules", NULL },
	{ "/healthz/", NULL },
	{ "/metricsx", NULL },
	{ "", NULL },
	{ "/", NULL },
};

START_TEST(test_route_path)
{
	const char *r = gym_http_route_path(paths[_i].path);

	if (paths[_i].routed == NULL)
		ck_assert_msg(r == NULL, "\"%s\" should be outside the API, got \"%s\"",
		    paths[_i].path, r);
	else {
		ck_assert_msg(r != NULL, "\"%s\" should route", paths[_i].path);
		ck_assert_str_eq(r, paths[_i].routed);
	}
}
END_TEST

static const struct {
	const char *s;
	int rc;
	size_t v;
} lengths[] = {
	{ NULL, 0, 0 },
	{ "", 0, 0 },
	{ "0", 0, 0 },
	{ "15", 0, 15 },
	{ "000123", 0, 123 },
	{ "4096", 0, 4096 },
	{ "-1", -1, 0 },
	{ "+1", -1, 0 },
	{ " 1", -1, 0 },
	{ "1 ", -1, 0 },
	{ "1e3", -1, 0 },
	{ "0x10", -1, 0 },
	{ "99999999999999999999999999", -1, 0 },
};

START_TEST(test_content_length)
{
	size_t v = 777;

	ck_assert_int_eq(gym_http_content_length(lengths[_i].s, &v), lengths[_i].rc);
	ck_assert_uint_eq(v, lengths[_i].v);
}
END_TEST

START_TEST(test_content_length_max)
{
	char buf[32];
	size_t v;

	snprintf(buf, sizeof(buf), "%zu", (size_t)SIZE_MAX);
	ck_assert_int_eq(gym_http_content_length(buf, &v), -1);
	snprintf(buf, sizeof(buf), "%zu", (size_t)(SIZE_MAX / 10));
	ck_assert_int_eq(gym_http_content_length(buf, &v), 0);
	ck_assert_uint_eq(v, SIZE_MAX / 10);
}
END_TEST

START_TEST(test_reason)
{
	ck_assert_str_eq(gym_http_reason(200), "OK");
	ck_assert_str_eq(gym_http_reason(204), "No Content");
	ck_assert_str_eq(gym_http_reason(405), "Method Not Allowed");
	ck_assert_str_eq(gym_http_reason(413), "Content Too Large");
	ck_assert_str_eq(gym_http_reason(503), "Service Unavailable");
	ck_assert_str_eq(gym_http_reason(299), "Unknown");
}
END_TEST

Suite *
httputil_suite(void)
{
	Suite *s = suite_create("httputil");
	TCase *tc;

	tc = tcase_create("request id");
	tcase_add_loop_test(tc, test_rid_valid, 0, NELEM(rids));
	tcase_add_test(tc, test_rid_null);
	tcase_add_test(tc, test_rid_new);
	suite_add_tcase(s, tc);

	tc = tcase_create("uri");
	tcase_add_loop_test(tc, test_split_uri, 0, NELEM(uris));
	tcase_add_loop_test(tc, test_route_path, 0, NELEM(paths));
	suite_add_tcase(s, tc);

	tc = tcase_create("headers");
	tcase_add_loop_test(tc, test_content_length, 0, NELEM(lengths));
	tcase_add_test(tc, test_content_length_max);
	tcase_add_test(tc, test_reason);
	suite_add_tcase(s, tc);
	return s;
}
