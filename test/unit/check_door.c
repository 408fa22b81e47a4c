/*
 * check_door.c: gymd's door in process (no database, no network): the
 * router (method and path matching, 404, 405 with Allow, path args), the
 * error map (every enum gym_err to a status, a contract code and a
 * message), request parsing (FastCGI params into struct gym_req: headers,
 * query, client ip, request id, Content-Length, the body and its cap) and
 * dispatch's refusals that come before any query (parents' tokens,
 * operators' tokens of the wrong shape, Idempotency-Key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "door.h"
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define L128 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static void
setup(void)
{
	door_init(1);
}

static void
teardown(void)
{
	door_fini();
}

/* ---- the router ---------------------------------------------------------------------- */

static const struct {
	const char *method, *path;
	int status;		/* 0: found */
	const char *pattern;	/* found: the route; 405: the Allow header */
	const char *arg0;
} routes[] = {
	{ "GET", "/healthz", 0, "/healthz", NULL },
	{ "GET", "/metrics", 0, "/metrics", NULL },
	{ "GET", "/course-schedules", 0, "/course-schedules", NULL },
	{ "GET", "/course-schedules/17", 0, "/course-schedules/{}", "17" },
	{ "GET", "/course-schedules/abc%20d", 0, "/course-schedules/{}", "abc%20d" },
	{ "POST", "/payment/orders/create", 0, "/payment/orders/create", NULL },
	{ "GET", "/payment/orders/GYM20261121A1", 0, "/payment/orders/{}", "GYM20261121A1" },
	{ "POST", "/payment/orders/GYM1/cancel", 0, "/payment/orders/{}/cancel", "GYM1" },
	{ "GET", "/payment/wxpay/qrcode/GYM2", 0, "/payment/wxpay/qrcode/{}", "GYM2" },
	{ "POST", "/payment/wxpay/callback", 0, "/payment/wxpay/callback", NULL },
	{ "DELETE", "/bookings/seat-release", 0, "/bookings/seat-release", NULL },
	{ "GET", "/admin/refunds", 0, "/admin/refunds", NULL },
	{ "POST", "/admin/refunds", 0, "/admin/refunds", NULL },
	{ "PATCH", "/admin/course-schedules/9", 0, "/admin/course-schedules/{}", "9" },
	/* a literal path wins over a {} capture: another method is 405 */
	{ "GET", "/payment/orders/create", 405, "POST", NULL },
	{ "GET", "/payment/orders/GYM1/cancel", 405, "POST", NULL },
	{ "POST", "/payment/orders/GYM1", 405, "GET", NULL },
	{ "GET", "/bookings/seat-reserve", 405, "POST", NULL },
	{ "POST", "/bookings/seat-release", 405, "DELETE", NULL },
	{ "PUT", "/admin/refunds", 405, "POST, GET", NULL },
	{ "DELETE", "/admin/course-schedules", 405, "POST", NULL },
	{ "GET", "/admin/course-schedules/9", 405, "PATCH", NULL },
	{ "get", "/healthz", 405, "GET", NULL },
	{ "", "/healthz", 405, "GET", NULL },
	{ "GET", "/nope", 404, NULL, NULL },
	{ "GET", "", 404, NULL, NULL },
	{ "GET", "/", 404, NULL, NULL },
	{ "GET", "/healthz/", 404, NULL, NULL },
	{ "GET", "//healthz", 404, NULL, NULL },
	{ "GET", "/HEALTHZ", 404, NULL, NULL },
	{ "GET", "/course-schedules/", 404, NULL, NULL },
	{ "GET", "/course-schedules//", 404, NULL, NULL },
	{ "GET", "/course-schedules/1/2", 404, NULL, NULL },
	{ "GET", "/payment/orders//cancel", 404, NULL, NULL },
	{ "POST", "/payment/orders/a/b/cancel", 404, NULL, NULL },
	{ "GET", "/admin", 404, NULL, NULL },
};

START_TEST(router_table)
{
	struct gym_req req;
	char allow[128];
	const struct gym_route *r;
	int status = 0;

	memset(&req, 0, sizeof(req));
	r = gym_route_find(routes[_i].method, routes[_i].path, &req, &status, allow,
	    sizeof(allow));
	if (routes[_i].status == 0) {
		ck_assert_msg(r != NULL, "%s %s: %d", routes[_i].method, routes[_i].path, status);
		ck_assert_str_eq(r->pattern, routes[_i].pattern);
		ck_assert_str_eq(r->method, routes[_i].method);
		ck_assert_str_eq(req.route, routes[_i].pattern);
		ck_assert_int_ge(gym_route_index(r), 0);
		if (routes[_i].arg0 != NULL)
			ck_assert_str_eq(req.args[0], routes[_i].arg0);
		return;
	}
	ck_assert_msg(r == NULL, "%s %s found %s", routes[_i].method, routes[_i].path,
	    r ? r->pattern : "");
	ck_assert_int_eq(status, routes[_i].status);
	if (status == 405)
		ck_assert_str_eq(allow, routes[_i].pattern);
}
END_TEST

/* a segment of 127 bytes is an argument; 128 do not fit and are no route */
START_TEST(router_arg_bounds)
{
	struct gym_req req;
	char path[512], allow[8];
	int status = 0;

	memset(&req, 0, sizeof(req));
	snprintf(path, sizeof(path), "/course-schedules/%.127s", L128);
	ck_assert_ptr_nonnull(gym_route_find("GET", path, &req, &status, allow, sizeof(allow)));
	ck_assert_uint_eq(strlen(req.args[0]), 127);
	snprintf(path, sizeof(path), "/course-schedules/%s", L128);
	ck_assert_ptr_null(gym_route_find("GET", path, &req, &status, allow, sizeof(allow)));
	ck_assert_int_eq(status, 404);
	/* an Allow buffer too small is cut, not overrun */
	ck_assert_ptr_null(gym_route_find("PUT", "/admin/refunds", &req, &status, allow, 5));
	ck_assert_int_eq(status, 405);
	ck_assert_str_eq(allow, "POST");
	ck_assert_int_eq(gym_route_index(NULL), -1);
}
END_TEST

/* ---- the error map ------------------------------------------------------------------- */

static const struct {
	enum gym_err e;
	int status;
	const char *code;
} errs[] = {
	{ GYM_ENOMEM, 500, "INTERNAL_ERROR" },
	{ GYM_EINVAL, 400, "INVALID_REQUEST" },
	{ GYM_ENOTFOUND, 404, "NOT_FOUND" },
	{ GYM_ECONFLICT, 409, "CONFLICT" },
	{ GYM_ERETRY, 503, "UNAVAILABLE" },
	{ GYM_EDB, 503, "UNAVAILABLE" },
	{ GYM_EINTERNAL, 500, "INTERNAL_ERROR" },
	{ GYM_EUPSTREAM, 502, "UPSTREAM_ERROR" },
	{ GYM_ETIMEOUT, 504, "UPSTREAM_TIMEOUT" },
	{ GYM_ECRYPTO, 500, "INTERNAL_ERROR" },
	{ GYM_ESYSTEM, 500, "INTERNAL_ERROR" },
	{ GYM_EUNAUTH, 401, "UNAUTHORIZED" },
	{ GYM_EFORBIDDEN, 403, "FORBIDDEN" },
	{ GYM_E_SCHEDULE_NOT_FOUND, 404, "SCHEDULE_NOT_FOUND" },
	{ GYM_E_SOLD_OUT, 409, "SOLD_OUT" },
	{ GYM_E_TRIAL_ALREADY_BOOKED, 409, "TRIAL_ALREADY_BOOKED" },
	{ GYM_E_ACTIVE_HOLD_EXISTS, 409, "ACTIVE_HOLD_EXISTS" },
	{ GYM_E_ALREADY_CONFIRMED, 409, "ALREADY_CONFIRMED" },
	{ GYM_E_PAYMENT_PENDING, 409, "PAYMENT_PENDING" },
	{ GYM_E_ORDER_NOT_PAYABLE, 409, "ORDER_NOT_PAYABLE" },
	{ GYM_E_ORDER_ALREADY_PAID, 409, "ORDER_ALREADY_PAID" },
	{ GYM_E_AMOUNT_MISMATCH, 400, "AMOUNT_MISMATCH" },
	{ GYM_E_INVALID_CODE, 400, "INVALID_CODE" },
	{ GYM_E_IDEMPOTENCY_KEY_REUSED, 422, "IDEMPOTENCY_KEY_REUSED" },
	{ GYM_E_NOT_REFUNDABLE, 409, "NOT_REFUNDABLE" },
	{ GYM_E_REFUND_IN_PROGRESS, 409, "REFUND_IN_PROGRESS" },
	{ GYM_E_CAPACITY_BELOW_BOOKED, 409, "CAPACITY_BELOW_BOOKED" },
	{ GYM_E_TOO_MANY_REQUESTS, 429, "TOO_MANY_REQUESTS" },
	{ GYM_E_BUSY, 503, "UNAVAILABLE" },
	{ GYM_E_UNKNOWN_CHANNEL, 500, "INTERNAL_ERROR" },
	{ GYM_E_SEATS_AVAILABLE, 409, "SEATS_AVAILABLE" },
	{ GYM_E_CLASS_CANCELLED, 409, "CLASS_CANCELLED" },
	{ GYM_E_PRODUCT_UNAVAILABLE, 404, "PRODUCT_UNAVAILABLE" },
	{ GYM_E_NO_ENTITLEMENT, 409, "NO_ENTITLEMENT" },
	{ GYM_E_NOT_UPGRADE, 409, "NOT_AN_UPGRADE" },
	{ GYM_E_WRONG_CLASS_KIND, 409, "WRONG_CLASS_KIND" },
};

/* the table above names every error once, in the enum's order */
START_TEST(errmap_covers_the_enum)
{
	ck_assert_uint_eq(NELEM(errs), GYM_ERR__COUNT - 1);
	for (size_t i = 0; i < NELEM(errs); i++)
		ck_assert_int_eq(errs[i].e, (int)i + 1);
}
END_TEST

START_TEST(errmap_each)
{
	struct gym_req req;
	struct gym_resp resp;
	cJSON *j;
	const cJSON *code, *msg, *rid;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.request_id = "0123456789abcdef0123456789abcdef";
	ck_assert_int_eq(gym_error_status(errs[_i].e), errs[_i].status);
	ck_assert_str_eq(gym_error_code(errs[_i].e), errs[_i].code);
	resp.body = strdup("{\"left\":\"by a handler\"}");
	gym_error_response(errs[_i].e, &req, &resp);
	ck_assert_int_eq(resp.status, errs[_i].status);
	ck_assert_ptr_null(resp.content_type);
	ck_assert_ptr_nonnull(j = cJSON_ParseWithLength(resp.body, resp.body_len));
	code = cJSON_GetObjectItemCaseSensitive(j, "code");
	msg = cJSON_GetObjectItemCaseSensitive(j, "message");
	rid = cJSON_GetObjectItemCaseSensitive(j, "request_id");
	ck_assert(cJSON_IsString(code) && cJSON_IsString(msg) && cJSON_IsString(rid));
	ck_assert_str_eq(code->valuestring, errs[_i].code);
	ck_assert_uint_gt(strlen(msg->valuestring), 0);
	ck_assert_str_eq(rid->valuestring, req.request_id);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "left"));
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "field"));
	cJSON_Delete(j);
	free(resp.body);
}
END_TEST

/* GYM_OK and values outside the enum are never an answer: 500 */
START_TEST(errmap_outside)
{
	static const int bad[] = { GYM_OK, -1, GYM_ERR__COUNT, GYM_ERR__COUNT + 100 };

	for (size_t i = 0; i < NELEM(bad); i++) {
		ck_assert_int_eq(gym_error_status((enum gym_err)bad[i]), 500);
		ck_assert_str_eq(gym_error_code((enum gym_err)bad[i]), "INTERNAL_ERROR");
	}
}
END_TEST

/* INVALID_REQUEST names the field, UPSTREAM_ERROR carries WeChat's code,
 * only those; a missing request (no req) still gives a body */
START_TEST(errmap_field_detail)
{
	struct gym_resp resp;
	cJSON *j;

	memset(&resp, 0, sizeof(resp));
	snprintf(resp.err_field, sizeof(resp.err_field), "course_schedule_id");
	snprintf(resp.err_detail, sizeof(resp.err_detail), "SYSTEMERROR");
	gym_error_response(GYM_EINVAL, NULL, &resp);
	ck_assert_ptr_nonnull(j = cJSON_Parse(resp.body));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "field")->valuestring, "course_schedule_id");
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(j, "message")->valuestring,
	    "course_schedule_id"));
	ck_assert_ptr_null(cJSON_GetObjectItem(j, "detail"));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "request_id")->valuestring, "");
	cJSON_Delete(j);
	gym_error_response(GYM_EUPSTREAM, NULL, &resp);
	ck_assert_int_eq(resp.status, 502);
	ck_assert_ptr_nonnull(j = cJSON_Parse(resp.body));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "detail")->valuestring, "SYSTEMERROR");
	ck_assert_ptr_null(cJSON_GetObjectItem(j, "field"));
	cJSON_Delete(j);
	gym_error_simple(&resp, 413, "PAYLOAD_TOO_LARGE", "too large", "rid1");
	ck_assert_int_eq(resp.status, 413);
	ck_assert_ptr_nonnull(j = cJSON_Parse(resp.body));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "code")->valuestring, "PAYLOAD_TOO_LARGE");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "request_id")->valuestring, "rid1");
	cJSON_Delete(j);
	free(resp.body);
}
END_TEST

/* ---- request parsing: params into struct gym_req ------------------------------------- */

static int
is_rid(const char *s)
{
	return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

START_TEST(req_params)
{
	static const char *const p[] = {
		"HTTP_AUTHORIZATION=Bearer abc", "HTTP_IDEMPOTENCY_KEY=k-1",
		"HTTP_USER_AGENT=ua/1", "HTTP_X_REAL_IP=203.0.113.9", "REMOTE_ADDR=127.0.0.1",
		"HTTP_X_REQUEST_ID=0123456789abcdef0123456789abcdef",
		"HTTP_WECHATPAY_TIMESTAMP=1700000000", "HTTP_WECHATPAY_NONCE=n",
		"HTTP_WECHATPAY_SIGNATURE=sig", "HTTP_WECHATPAY_SERIAL=ser", NULL,
	};
	struct door_run d;

	door_request(&d, "GET", DOOR_API "/course-schedules/x5?from=a&to=b", p, NULL, 0);
	ck_assert_int_eq(d.status, 404);
	ck_assert_str_eq(d.code, "SCHEDULE_NOT_FOUND");
	ck_assert_str_eq(d.rb.req.method, "GET");
	ck_assert_str_eq(d.rb.req.path, DOOR_API "/course-schedules/x5");
	ck_assert_str_eq(d.rb.req.query, "from=a&to=b");
	ck_assert_str_eq(d.rb.req.route, "/course-schedules/{}");
	ck_assert_str_eq(d.rb.req.args[0], "x5");
	ck_assert_str_eq(d.rb.req.authorization, "Bearer abc");
	ck_assert_str_eq(d.rb.req.idempotency_key, "k-1");
	ck_assert_str_eq(d.rb.req.user_agent, "ua/1");
	ck_assert_str_eq(d.rb.req.client_ip, "203.0.113.9");
	ck_assert_str_eq(d.rb.req.request_id, "0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(d.rb.req.wx_timestamp, "1700000000");
	ck_assert_str_eq(d.rb.req.wx_nonce, "n");
	ck_assert_str_eq(d.rb.req.wx_signature, "sig");
	ck_assert_str_eq(d.rb.req.wx_serial, "ser");
	ck_assert_str_eq(d.rb.req.body, "");
	ck_assert_uint_eq(d.rb.req.body_len, 0);
	door_done(&d);
}
END_TEST

/* absent and empty optional headers are NULL, the others "" */
START_TEST(req_absent)
{
	static const char *const p[] = { "HTTP_AUTHORIZATION=", "HTTP_IDEMPOTENCY_KEY=", NULL };
	struct door_run d;

	door_request(&d, NULL, "", p, NULL, 0);
	ck_assert_ptr_null(d.route);
	ck_assert_int_eq(d.status, 404);
	ck_assert_str_eq(d.code, "NOT_FOUND");
	ck_assert_str_eq(d.rb.req.method, "");
	ck_assert_str_eq(d.rb.req.path, "");
	ck_assert_str_eq(d.rb.req.query, "");
	ck_assert_str_eq(d.rb.req.user_agent, "");
	ck_assert_str_eq(d.rb.req.client_ip, "");
	ck_assert_ptr_null(d.rb.req.authorization);
	ck_assert_ptr_null(d.rb.req.idempotency_key);
	ck_assert_ptr_null(d.rb.req.wx_signature);
	ck_assert(is_rid(d.rb.req.request_id));
	door_done(&d);
}
END_TEST

/* the proxy's X-Request-Id and X-Real-IP only when it is trusted; a
 * request id that is not one is replaced, never echoed */
START_TEST(req_proxy_headers)
{
	static const char *const p[] = { "HTTP_X_REAL_IP=203.0.113.9", "REMOTE_ADDR=10.0.0.2",
		"HTTP_X_REQUEST_ID=abcdefabcdefabcdefabcdefabcdefab", NULL };
	static const char *const bad[] = {
		"HTTP_X_REQUEST_ID=" L128,
		"HTTP_X_REQUEST_ID=abc def",
		"HTTP_X_REQUEST_ID=abc\r\nSet-Cookie: x",
		"HTTP_X_REQUEST_ID=\xff\xfe\xc0\xaf",
		"HTTP_X_REQUEST_ID=\"quoted\"",
	};
	struct door_run d;

	door_request(&d, "GET", DOOR_API "/nope", p, NULL, 0);
	ck_assert_str_eq(d.rb.req.client_ip, "203.0.113.9");
	ck_assert_str_eq(d.rb.req.request_id, "abcdefabcdefabcdefabcdefabcdefab");
	door_done(&d);
	for (size_t i = 0; i < NELEM(bad); i++) {
		const char *q[] = { bad[i], NULL };

		door_request(&d, "GET", DOOR_API "/nope", q, NULL, 0);
		ck_assert_msg(is_rid(d.rb.req.request_id), "%s kept as %s", bad[i],
		    d.rb.req.request_id);
		door_done(&d);
	}
	door_fini();
	door_init(0);
	door_request(&d, "GET", DOOR_API "/nope", p, NULL, 0);
	ck_assert_str_eq(d.rb.req.client_ip, "10.0.0.2");
	ck_assert(is_rid(d.rb.req.request_id));
	ck_assert_str_ne(d.rb.req.request_id, "abcdefabcdefabcdefabcdefabcdefab");
	door_done(&d);
}
END_TEST

/* the body: read whole across many reads, NUL-terminated, its length kept
 * (NUL bytes in it included) */
START_TEST(req_body)
{
	static const char body[] = "{\"course_schedule_id\":\"\0x\"}";
	char tok[160], auth[200];
	const char *p[] = { auth, NULL };
	struct door_run d;

	door_token(7, 600, 0, tok, sizeof(tok));
	snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=Bearer %s", tok);
	door_request(&d, "POST", DOOR_API "/bookings/seat-reserve", p, body, sizeof(body) - 1);
	ck_assert_uint_eq(d.rb.req.body_len, sizeof(body) - 1);
	ck_assert_int_eq(memcmp(d.rb.req.body, body, sizeof(body) - 1), 0);
	ck_assert_int_eq(d.rb.req.body[sizeof(body) - 1], '\0');
	ck_assert_int_eq(d.rb.req.user_id, 7);
	/* a raw NUL in a JSON body is refused as a whole (lib/json.c) */
	ck_assert_int_eq(d.status, 400);
	ck_assert_str_eq(d.code, "INVALID_REQUEST");
	ck_assert_str_eq(cJSON_GetObjectItem(d.json, "field")->valuestring, "body");
	door_done(&d);
}
END_TEST

/* Content-Length: not a number is 400 naming it; more than the body
 * brings is 400; more than the route's cap is 413 unread; a body on a
 * route that takes none (cap 0) is 413 */
static const struct {
	const char *method, *path, *length;
	size_t send;		/* bytes of body actually sent */
	int status;
	const char *code;
} lengths[] = {
	{ "POST", "/auth/wx-login", "CONTENT_LENGTH=abc", 2, 400, "INVALID_REQUEST" },
	{ "POST", "/auth/wx-login", "CONTENT_LENGTH=-1", 2, 400, "INVALID_REQUEST" },
	{ "POST", "/auth/wx-login", "CONTENT_LENGTH=1e3", 2, 400, "INVALID_REQUEST" },
	{ "POST", "/auth/wx-login", "CONTENT_LENGTH= 2", 2, 400, "INVALID_REQUEST" },
	{ "POST", "/auth/wx-login", "CONTENT_LENGTH=99999999999999999999999", 2, 400,
	    "INVALID_REQUEST" },
	{ "POST", "/auth/wx-login", "CONTENT_LENGTH=100", 10, 400, "INVALID_REQUEST" },
	{ "POST", "/auth/wx-login", "CONTENT_LENGTH=4097", 4097, 413, "PAYLOAD_TOO_LARGE" },
	{ "POST", "/auth/wx-login", "CONTENT_LENGTH=1073741824", 0, 413, "PAYLOAD_TOO_LARGE" },
	{ "GET", "/course-schedules", "CONTENT_LENGTH=1", 1, 413, "PAYLOAD_TOO_LARGE" },
	{ "POST", "/payment/wxpay/callback", "CONTENT_LENGTH=65537", 65537, 413,
	    "PAYLOAD_TOO_LARGE" },
	{ "POST", "/auth/wx-login", "CONTENT_LENGTH=0", 0, 400, "INVALID_REQUEST" },
	{ "POST", "/auth/wx-login", "CONTENT_LENGTH=4096", 4096, 400, "INVALID_REQUEST" },
};

START_TEST(req_lengths)
{
	const char *p[] = { lengths[_i].length, NULL };
	char path[128], *body;
	struct door_run d;

	ck_assert_ptr_nonnull(body = malloc(lengths[_i].send + 1));
	memset(body, ' ', lengths[_i].send);
	snprintf(path, sizeof(path), DOOR_API "%s", lengths[_i].path);
	door_request(&d, lengths[_i].method, path, p, body, lengths[_i].send);
	ck_assert_msg(d.status == lengths[_i].status && strcmp(d.code, lengths[_i].code) == 0,
	    "%s: %d %s", lengths[_i].length, d.status, d.code);
	ck_assert_ptr_nonnull(d.route);
	if (d.status == 413)
		ck_assert_ptr_null(d.rb.body);	/* refused before it was read */
	if (strcmp(lengths[_i].length, "CONTENT_LENGTH=abc") == 0)
		ck_assert_str_eq(cJSON_GetObjectItem(d.json, "field")->valuestring,
		    "Content-Length");
	door_done(&d);
	free(body);
}
END_TEST

/* 404 and 405 through the whole door: the error body, and Allow */
START_TEST(answer_404_405)
{
	struct door_run d;

	door_request(&d, "PUT", DOOR_API "/admin/refunds", NULL, "{}", 2);
	ck_assert_int_eq(d.status, 405);
	ck_assert_str_eq(d.code, "METHOD_NOT_ALLOWED");
	ck_assert_ptr_null(d.route);
	ck_assert_str_eq(d.resp.headers, "Allow: POST, GET\r\n");
	door_done(&d);
	door_expect("GET", DOOR_API "/nope", NULL, NULL, 404, "NOT_FOUND");
	door_expect("GET", "/api/v2/healthz", NULL, NULL, 404, "NOT_FOUND");
	door_expect("GET", "/api/v1", NULL, NULL, 404, "NOT_FOUND");
	door_expect("GET", DOOR_API "/metrics", NULL, NULL, 404, "NOT_FOUND");
	door_expect("GET", "/course-schedules", NULL, NULL, 404, "NOT_FOUND");
	door_expect("POST", "/healthz?x=1", NULL, "{}", 405, "METHOD_NOT_ALLOWED");
}
END_TEST

/* ---- dispatch: refusals before any query ---------------------------------------------- */

static const struct {
	const char *method, *path;
} user_routes[] = {
	{ "POST", "/bookings/seat-reserve" },
	{ "DELETE", "/bookings/seat-release" },
	{ "POST", "/bookings/confirm" },
	{ "POST", "/payment/orders/create" },
	{ "GET", "/payment/orders/GYM20261121A1B2C3D4" },
	{ "POST", "/payment/orders/GYM20261121A1B2C3D4/cancel" },
	{ "POST", "/payment/wxpay/create" },
	{ "GET", "/payment/wxpay/qrcode/GYM20261121A1B2C3D4" },
};

/* no token, not Bearer, empty, bare, expired, forged, another user's id
 * under a valid MAC, an operator's token: 401 for every parent route */
START_TEST(auth_parent)
{
	char path[128], tok[160], bad[240], other[200];
	const char *body = strcmp(user_routes[_i].method, "GET") == 0 ? NULL :
	    "{\"course_schedule_id\":1,\"order_id\":\"GYM20261121A1B2C3D4\","
	    "\"trade_type\":\"JSAPI\",\"reservation_id\":1}";
	const char *m = user_routes[_i].method;
	size_t n;

	snprintf(path, sizeof(path), DOOR_API "%s", user_routes[_i].path);
	door_token(42, 600, 0, tok, sizeof(tok));
	door_expect(m, path, NULL, body, 401, "UNAUTHORIZED");
	door_expect(m, path, "Basic Z3ltOmd5bQ==", body, 401, "UNAUTHORIZED");
	door_expect(m, path, "Bearer", body, 401, "UNAUTHORIZED");
	door_expect(m, path, "Bearer ", body, 401, "UNAUTHORIZED");
	door_expect(m, path, tok, body, 401, "UNAUTHORIZED");
	door_token(42, -60, 0, other, sizeof(other));
	snprintf(bad, sizeof(bad), "Bearer %s", other);
	door_expect(m, path, bad, body, 401, "UNAUTHORIZED");
	door_token(42, 600, 1, other, sizeof(other));
	snprintf(bad, sizeof(bad), "Bearer %s", other);
	door_expect(m, path, bad, body, 401, "UNAUTHORIZED");
	snprintf(bad, sizeof(bad), "Bearer %s", tok);
	n = strlen(bad);
	bad[n - 1] = bad[n - 1] == 'A' ? 'B' : 'A';
	door_expect(m, path, bad, body, 401, "UNAUTHORIZED");
	snprintf(other, sizeof(other), "Bearer v1.43%s", strchr(tok + 3, '.'));
	door_expect(m, path, other, body, 401, "UNAUTHORIZED");
	door_expect(m, path, "Bearer op_0123456789abcdef0123456789abcdef01234567", body, 401,
	    "UNAUTHORIZED");
	door_expect(m, path, "Bearer v1.1.1.1", body, 401, "UNAUTHORIZED");
	door_expect(m, path, "Bearer " L128 L128, body, 401, "UNAUTHORIZED");
	door_expect(m, path, "Bearer \xff\xfe\xc0\xaf", body, 401, "UNAUTHORIZED");
}
END_TEST

/* the operators' API: no token, not Bearer, a parent's token, shapes that
 * cannot be an operator's: 401 before the operators table is asked */
START_TEST(auth_operator)
{
	static const char *const paths[][2] = {
		{ "GET", "/admin/orders" }, { "GET", "/admin/orders/GYM1" },
		{ "GET", "/admin/audit-log" }, { "POST", "/admin/refunds" },
		{ "GET", "/admin/refunds" }, { "GET", "/admin/refunds/1" },
		{ "POST", "/admin/course-schedules" }, { "PATCH", "/admin/course-schedules/1" },
	};
	char tok[160], auth[200], path[128];

	door_token(42, 600, 0, tok, sizeof(tok));
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	for (size_t i = 0; i < NELEM(paths); i++) {
		const char *m = paths[i][0], *b = strcmp(m, "GET") == 0 ? NULL : "{}";

		snprintf(path, sizeof(path), DOOR_API "%s", paths[i][1]);
		door_expect(m, path, NULL, b, 401, "UNAUTHORIZED");
		door_expect(m, path, "Basic b3A6b3A=", b, 401, "UNAUTHORIZED");
		door_expect(m, path, "Bearer", b, 401, "UNAUTHORIZED");
		door_expect(m, path, auth, b, 401, "UNAUTHORIZED");
		door_expect(m, path, "Bearer op_'; DROP TABLE operators; --", b, 401,
		    "UNAUTHORIZED");
		door_expect(m, path, "Bearer op_", b, 401, "UNAUTHORIZED");
	}
}
END_TEST

/* Idempotency-Key: over 255 bytes is 400 before the key table is asked;
 * a route that does not honour keys ignores one */
START_TEST(idempotency_key)
{
	char tok[160], auth[200], key[400];
	const char *p[] = { auth, key, NULL };
	struct door_run d;

	door_token(42, 600, 0, tok, sizeof(tok));
	snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=Bearer %s", tok);
	snprintf(key, sizeof(key), "HTTP_IDEMPOTENCY_KEY=%s%s", L128, L128);
	door_request(&d, "POST", DOOR_API "/bookings/seat-reserve", p, "{\"course_schedule_id\":1}",
	    24);
	ck_assert_int_eq(d.status, 400);
	ck_assert_str_eq(d.code, "INVALID_REQUEST");
	ck_assert_int_eq(d.err, GYM_EINVAL);
	door_done(&d);
	/* an invalid body under a key does not get past the key either */
	door_request(&d, "POST", DOOR_API "/payment/orders/create", p, "[]", 2);
	ck_assert_int_eq(d.status, 400);
	door_done(&d);
	/* a route without GYM_IDEMPOTENT: the key is not looked at */
	door_request(&d, "GET", DOOR_API "/payment/orders/%FF", p, NULL, 0);
	ck_assert_int_eq(d.status, 404);
	door_done(&d);
}
END_TEST

Suite *
door_suite(void)
{
	Suite *s = suite_create("door");
	TCase *tc;

	tc = tcase_create("router");
	tcase_add_loop_test(tc, router_table, 0, NELEM(routes));
	tcase_add_test(tc, router_arg_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("errmap");
	tcase_add_test(tc, errmap_covers_the_enum);
	tcase_add_loop_test(tc, errmap_each, 0, NELEM(errs));
	tcase_add_test(tc, errmap_outside);
	tcase_add_test(tc, errmap_field_detail);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, req_params);
	tcase_add_test(tc, req_absent);
	tcase_add_test(tc, req_proxy_headers);
	tcase_add_test(tc, req_body);
	tcase_add_loop_test(tc, req_lengths, 0, NELEM(lengths));
	tcase_add_test(tc, answer_404_405);
	suite_add_tcase(s, tc);

	tc = tcase_create("dispatch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, auth_parent, 0, NELEM(user_routes));
	tcase_add_test(tc, auth_operator);
	tcase_add_test(tc, idempotency_key);
	suite_add_tcase(s, tc);
	return s;
}
