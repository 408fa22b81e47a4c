/*
 * check_admin.c: the operators' API through the whole stack.  Operators
 * and auditors are made with gymctl (the token on stdout, once); the
 * tests cover who may do what (401 without, with an unknown or a revoked
 * token; 403 for an auditor's change), orders filtered and paged, one
 * order with its reservation, transactions, refunds and audit trail, the
 * audit log, and classes created and resized by an operator, each change
 * audited with the operator's id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "e2e.h"

#define ADMIN E2E_API "/admin"
#define OP_TOKEN_MAX 64

/* A new operator (role "operator" or "auditor") through gymctl: its token
 * into token[OP_TOKEN_MAX], its id back. */
static long long
operator_add(const char *role, char *token)
{
	char cmd[2048], name[96], ids[24];
	const char *p[2] = { name, role };
	size_t n;
	int rc;

	e2e_uniq(role, name, sizeof(name));
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' operator add '%s' --role %s 2>/dev/null",
	    e2e_bin(), e2e_conf(), name, role);
	rc = e2e_run(cmd, token, OP_TOKEN_MAX);
	ck_assert_msg(rc == 0, "gymctl operator add failed (exit %d): %s", rc, cmd);
	/* the token, alone on its line */
	n = strlen(token);
	ck_assert_msg(n == 44 && token[43] == '\n', "gymctl printed '%s'", token);
	token[43] = '\0';
	ck_assert_int_eq(strncmp(token, "op_", 3), 0);
	e2e_sql_text(e2e_pg(), "SELECT id FROM operators WHERE name = $1 AND role = $2",
	    2, p, ids, sizeof(ids));
	ck_assert_int_gt(atoll(ids), 0);
	return atoll(ids);
}

static void
operator_revoke(long long id)
{
	char cmd[2048], out[128];
	int rc;

	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' operator revoke %lld", e2e_bin(),
	    e2e_conf(), id);
	rc = e2e_run(cmd, out, sizeof(out));
	ck_assert_msg(rc == 0, "gymctl operator revoke failed (exit %d): %s", rc, out);
}

/* A new parent holds a seat of sid and opens an order: order_id into oid[40]. */
static long long
order(long long sid, char *token, char *oid)
{
	long long uid = e2e_user("admin", token), rid = e2e_hold(token, sid);

	e2e_order_create(token, sid, rid, oid, NULL);
	return uid;
}

static void
cancel(const char *token, const char *oid)
{
	struct e2e_resp r = { 0 };
	char path[128];

	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s/cancel", oid);
	e2e_request("POST", path, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "cancel: %ld %s", r.status, r.body);
	e2e_resp_free(&r);
}

static void
pay(const char *token, const char *oid)
{
	char st[24];

	e2e_prepay(token, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 5000, st), "paid");
}

/* RFC 3339 UTC of now + s seconds into buf[32]. */
static char *
at(long s, char *buf)
{
	time_t t = time(NULL) + s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static const cJSON *
member(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *
mstr(const cJSON *o, const char *name)
{
	const char *s = cJSON_GetStringValue(member(o, name));

	return s ? s : "";
}

static const cJSON *
items(const struct e2e_resp *r)
{
	const cJSON *a = member(r->json, "items");

	ck_assert_msg(cJSON_IsArray(a), "no items in %s", r->body);
	return a;
}

static void
expect_error(const struct e2e_resp *r, long status, const char *code)
{
	ck_assert_msg(r->status == status && strcmp(e2e_code(r), code) == 0,
	    "want %ld %s, got %ld %s", status, code, r->status, r->body);
}

/* ---- who may do what ---------------------------------------------------------------------- */

START_TEST(auth_roles)
{
	struct e2e_resp r = { 0 };
	char op[OP_TOKEN_MAX], au[OP_TOKEN_MAX], gone[OP_TOKEN_MAX], parent[E2E_TOKEN_MAX];
	char body[512], name[96], s[32], e[32], wrong[OP_TOKEN_MAX];
	const char *p[1] = { name };
	long long gone_id;

	operator_add("operator", op);
	operator_add("auditor", au);
	gone_id = operator_add("operator", gone);
	e2e_user("admin-parent", parent);

	/* reads: either role; nothing else */
	e2e_request("GET", ADMIN "/orders", au, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "auditor GET /admin/orders: %ld %s", r.status, r.body);
	e2e_request("GET", ADMIN "/audit-log", op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "operator GET /admin/audit-log: %ld %s", r.status, r.body);
	e2e_request("GET", ADMIN "/orders", NULL, NULL, NULL, &r);
	expect_error(&r, 401, "UNAUTHORIZED");
	ck_assert_str_ne(r.rid, "");
	e2e_request("GET", ADMIN "/orders", parent, NULL, NULL, &r);
	expect_error(&r, 401, "UNAUTHORIZED");
	snprintf(wrong, sizeof(wrong), "%s", op);
	wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
	e2e_request("GET", ADMIN "/orders", wrong, NULL, NULL, &r);
	expect_error(&r, 401, "UNAUTHORIZED");
	/* an operator's token is not a parent's */
	e2e_request("GET", E2E_API "/payment/orders/AB12345678", op, NULL, NULL, &r);
	expect_error(&r, 401, "UNAUTHORIZED");

	/* changes: operators only */
	e2e_uniq("admin-auth", name, sizeof(name));
	snprintf(body, sizeof(body), "{\"course_name\":\"%s\",\"starts_at\":\"%s\","
	    "\"ends_at\":\"%s\",\"capacity\":3}", name, at(5 * 86400, s), at(5 * 86400 + 3600, e));
	e2e_request("POST", ADMIN "/course-schedules", au, body, NULL, &r);
	expect_error(&r, 403, "FORBIDDEN");
	e2e_request("POST", ADMIN "/course-schedules", NULL, body, NULL, &r);
	expect_error(&r, 401, "UNAUTHORIZED");
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM course_schedules "
	    "WHERE course_name = $1", 1, p), 0);
	e2e_request("PATCH", ADMIN "/course-schedules/1", au, "{\"capacity\":1}", NULL, &r);
	expect_error(&r, 403, "FORBIDDEN");

	/* a revoked token stops working at once */
	e2e_request("GET", ADMIN "/orders", gone, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	operator_revoke(gone_id);
	e2e_request("GET", ADMIN "/orders", gone, NULL, NULL, &r);
	expect_error(&r, 401, "UNAUTHORIZED");
	e2e_request("POST", ADMIN "/course-schedules", gone, body, NULL, &r);
	expect_error(&r, 401, "UNAUTHORIZED");
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM course_schedules "
	    "WHERE course_name = $1", 1, p), 0);

	e2e_request("POST", ADMIN "/course-schedules", op, body, NULL, &r);
	ck_assert_msg(r.status == 201, "operator POST: %ld %s", r.status, r.body);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM course_schedules "
	    "WHERE course_name = $1", 1, p), 1);
	e2e_resp_free(&r);
}
END_TEST

/* ---- orders ------------------------------------------------------------------------------- */

START_TEST(orders_filters_and_paging)
{
	struct e2e_resp r = { 0 };
	char au[OP_TOKEN_MAX], tok[3][E2E_TOKEN_MAX], oid[3][40], path[512], cursor[64], t[32];
	char seen[4][40];
	long long sid = e2e_schedule(5), uid[3];
	int nseen = 0;

	operator_add("auditor", au);
	for (int i = 0; i < 3; i++)
		uid[i] = order(sid, tok[i], oid[i]);
	cancel(tok[1], oid[1]);

	/* page 1: the two newest */
	snprintf(path, sizeof(path), ADMIN "/orders?course_schedule_id=%lld&limit=2", sid);
	e2e_request("GET", path, au, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "page 1: %ld %s", r.status, r.body);
	ck_assert_int_eq(cJSON_GetArraySize(items(&r)), 2);
	ck_assert_str_eq(mstr(cJSON_GetArrayItem(items(&r), 0), "order_id"), oid[2]);
	ck_assert_str_eq(mstr(cJSON_GetArrayItem(items(&r), 1), "order_id"), oid[1]);
	ck_assert_int_eq((long long)cJSON_GetNumberValue(member(cJSON_GetArrayItem(items(&r), 0),
	    "user_id")), uid[2]);
	ck_assert_str_eq(mstr(cJSON_GetArrayItem(items(&r), 1), "status"), "cancelled");
	ck_assert_msg(cJSON_IsObject(member(cJSON_GetArrayItem(items(&r), 0), "reservation")),
	    "no reservation: %s", r.body);
	ck_assert_msg(cJSON_IsString(member(r.json, "next_cursor")), "no next_cursor: %s", r.body);
	snprintf(cursor, sizeof(cursor), "%s", mstr(r.json, "next_cursor"));
	for (int i = 0; i < 2; i++)
		snprintf(seen[nseen++], 40, "%s", mstr(cJSON_GetArrayItem(items(&r), i), "order_id"));

	/* page 2: the last one, and the end */
	snprintf(path, sizeof(path), ADMIN "/orders?course_schedule_id=%lld&limit=2&cursor=%s",
	    sid, cursor);
	e2e_request("GET", path, au, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "page 2: %ld %s", r.status, r.body);
	ck_assert_int_eq(cJSON_GetArraySize(items(&r)), 1);
	ck_assert_msg(cJSON_IsNull(member(r.json, "next_cursor")), "next_cursor at the end: %s",
	    r.body);
	snprintf(seen[nseen++], 40, "%s", mstr(cJSON_GetArrayItem(items(&r), 0), "order_id"));
	ck_assert_str_eq(seen[2], oid[0]);
	for (int i = 0; i < nseen; i++)
		for (int j = i + 1; j < nseen; j++)
			ck_assert_str_ne(seen[i], seen[j]);

	/* status filter */
	snprintf(path, sizeof(path), ADMIN "/orders?course_schedule_id=%lld&status=cancelled", sid);
	e2e_request("GET", path, au, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(items(&r)), 1);
	ck_assert_str_eq(mstr(cJSON_GetArrayItem(items(&r), 0), "order_id"), oid[1]);
	snprintf(path, sizeof(path), ADMIN "/orders?course_schedule_id=%lld&status=pending", sid);
	e2e_request("GET", path, au, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(items(&r)), 2);

	/* created_at window: all of them since a minute ago, none from tomorrow on */
	snprintf(path, sizeof(path), ADMIN "/orders?course_schedule_id=%lld&from=%s", sid,
	    at(-60, t));
	e2e_request("GET", path, au, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(items(&r)), 3);
	snprintf(path, sizeof(path), ADMIN "/orders?course_schedule_id=%lld&from=%s", sid,
	    at(86400, t));
	e2e_request("GET", path, au, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(items(&r)), 0);
	snprintf(path, sizeof(path), ADMIN "/orders?course_schedule_id=%lld&to=%s", sid,
	    at(-60, t));
	e2e_request("GET", path, au, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(items(&r)), 0);

	/* bad parameters name the field */
	e2e_request("GET", ADMIN "/orders?limit=0", au, NULL, NULL, &r);
	expect_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "limit");
	e2e_request("GET", ADMIN "/orders?limit=201", au, NULL, NULL, &r);
	expect_error(&r, 400, "INVALID_REQUEST");
	e2e_request("GET", ADMIN "/orders?cursor=abc", au, NULL, NULL, &r);
	expect_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "cursor");
	e2e_request("GET", ADMIN "/orders?status=lost", au, NULL, NULL, &r);
	expect_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "status");
	e2e_request("GET", ADMIN "/orders?from=yesterday", au, NULL, NULL, &r);
	expect_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "from");
	e2e_resp_free(&r);
}
END_TEST

/* An audit entry of arr with this action_type, or NULL; *pos its index. */
static const cJSON *
find_action(const cJSON *arr, const char *action, int *pos)
{
	for (int i = 0; i < cJSON_GetArraySize(arr); i++)
		if (strcmp(mstr(cJSON_GetArrayItem(arr, i), "action_type"), action) == 0) {
			*pos = i;
			return cJSON_GetArrayItem(arr, i);
		}
	return NULL;
}

START_TEST(order_detail)
{
	struct e2e_resp r = { 0 };
	char au[OP_TOKEN_MAX], tok[E2E_TOKEN_MAX], oid[40], path[256];
	const cJSON *a, *t, *res;
	long long sid = e2e_schedule(2), uid;
	int created = -1, paid = -1;
	double last = 0;

	operator_add("auditor", au);
	uid = order(sid, tok, oid);
	pay(tok, oid);

	snprintf(path, sizeof(path), ADMIN "/orders/%s", oid);
	e2e_request("GET", path, au, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "order_id"), oid);
	ck_assert_str_eq(e2e_str(&r, "status"), "paid");
	ck_assert_int_eq((long long)e2e_num(&r, "user_id"), uid);
	ck_assert_int_eq((long long)e2e_num(&r, "course_schedule_id"), sid);
	ck_assert_int_eq((long long)e2e_num(&r, "amount_fen"), 20000);
	res = member(r.json, "reservation");
	ck_assert_msg(cJSON_IsObject(res), "no reservation: %s", r.body);
	ck_assert_str_eq(mstr(res, "status"), "confirmed");

	/* the WeChat transaction, without the payer */
	t = member(r.json, "transactions");
	ck_assert_msg(cJSON_IsArray(t) && cJSON_GetArraySize(t) == 1, "transactions: %s", r.body);
	t = cJSON_GetArrayItem(t, 0);
	ck_assert_str_eq(mstr(t, "trade_state"), "SUCCESS");
	ck_assert_str_eq(mstr(t, "outcome"), "paid");
	ck_assert_str_eq(mstr(t, "source"), "notify");
	ck_assert_int_eq((int)cJSON_GetNumberValue(member(t, "amount_fen")), 20000);
	ck_assert_uint_gt(strlen(mstr(t, "transaction_id")), 0);
	ck_assert_ptr_null(strstr(r.body, "payer\""));
	ck_assert_ptr_null(strstr(r.body, "openid"));
	ck_assert_msg(cJSON_IsArray(member(r.json, "refunds")), "refunds: %s", r.body);

	/* the audit trail, oldest first, with each transition */
	a = member(r.json, "audit");
	ck_assert_msg(cJSON_IsArray(a) && cJSON_GetArraySize(a) >= 2, "audit: %s", r.body);
	for (int i = 0; i < cJSON_GetArraySize(a); i++) {
		const cJSON *row = cJSON_GetArrayItem(a, i);

		ck_assert_str_eq(mstr(row, "order_id"), oid);
		ck_assert_double_gt(cJSON_GetNumberValue(member(row, "id")), last);
		last = cJSON_GetNumberValue(member(row, "id"));
	}
	ck_assert_ptr_nonnull(find_action(a, "order_created", &created));
	ck_assert_ptr_nonnull(find_action(a, "order_paid", &paid));
	ck_assert_int_lt(created, paid);
	ck_assert_str_eq(mstr(cJSON_GetArrayItem(a, created), "new_status"), "pending");
	ck_assert_str_eq(mstr(cJSON_GetArrayItem(a, created), "actor_type"), "user");
	ck_assert_str_eq(mstr(cJSON_GetArrayItem(a, paid), "old_status"), "pending");
	ck_assert_str_eq(mstr(cJSON_GetArrayItem(a, paid), "new_status"), "paid");
	ck_assert_str_eq(mstr(cJSON_GetArrayItem(a, paid), "actor_type"), "wechat");

	/* unknown and malformed ids */
	e2e_request("GET", ADMIN "/orders/NOSUCHORDER123", au, NULL, NULL, &r);
	expect_error(&r, 404, "NOT_FOUND");
	e2e_request("GET", ADMIN "/orders/x", au, NULL, NULL, &r);
	expect_error(&r, 404, "NOT_FOUND");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(audit_log)
{
	struct e2e_resp r = { 0 };
	char op[OP_TOKEN_MAX], tok[E2E_TOKEN_MAX], oid[40], path[256], cursor[64];
	const cJSON *it;
	long long sid = e2e_schedule(2);
	int total, pages = 0, rows = 0, cancelled = -1, created = -1;
	double last = 1e18;

	operator_add("operator", op);
	order(sid, tok, oid);
	cancel(tok, oid);
	total = (int)e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log "
	    "WHERE order_id = $1", 1, (const char *const[]){ oid });
	ck_assert_int_ge(total, 2);

	/* by order, newest first */
	snprintf(path, sizeof(path), ADMIN "/audit-log?order_id=%s", oid);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
	it = items(&r);
	ck_assert_int_eq(cJSON_GetArraySize(it), total);
	for (int i = 0; i < total; i++) {
		const cJSON *row = cJSON_GetArrayItem(it, i);

		ck_assert_str_eq(mstr(row, "order_id"), oid);
		ck_assert_double_lt(cJSON_GetNumberValue(member(row, "id")), last);
		last = cJSON_GetNumberValue(member(row, "id"));
	}
	ck_assert_ptr_nonnull(find_action(it, "order_cancelled", &cancelled));
	ck_assert_ptr_nonnull(find_action(it, "order_created", &created));
	ck_assert_int_lt(cancelled, created);
	ck_assert_msg(cJSON_IsNull(member(r.json, "next_cursor")), "%s", r.body);

	/* by order and action */
	snprintf(path, sizeof(path), ADMIN "/audit-log?order_id=%s&action_type=order_created", oid);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(items(&r)), 1);
	ck_assert_str_eq(mstr(cJSON_GetArrayItem(items(&r), 0), "new_status"), "pending");

	/* one row a page: every row once, then the end */
	cursor[0] = '\0';
	do {
		snprintf(path, sizeof(path), ADMIN "/audit-log?order_id=%s&limit=1%s%s", oid,
		    cursor[0] ? "&cursor=" : "", cursor);
		e2e_request("GET", path, op, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		rows += cJSON_GetArraySize(items(&r));
		snprintf(cursor, sizeof(cursor), "%s", mstr(r.json, "next_cursor"));
		ck_assert_int_le(++pages, total);
	} while (cursor[0] != '\0');
	ck_assert_int_eq(rows, total);
	ck_assert_int_eq(pages, total);

	e2e_request("GET", ADMIN "/audit-log?order_id=bad!", op, NULL, NULL, &r);
	expect_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "order_id");
	e2e_resp_free(&r);
}
END_TEST

/* ---- classes ------------------------------------------------------------------------------ */

static void
patch_capacity(const char *token, long long sid, int cap, struct e2e_resp *r)
{
	char path[128], body[64];

	snprintf(path, sizeof(path), ADMIN "/course-schedules/%lld", sid);
	snprintf(body, sizeof(body), "{\"capacity\":%d}", cap);
	e2e_request("PATCH", path, token, body, NULL, r);
}

static int
public_available(long long sid, int *capacity)
{
	struct e2e_resp r = { 0 };
	char path[128];
	int n;

	snprintf(path, sizeof(path), E2E_API "/course-schedules/%lld", sid);
	e2e_request("GET", path, NULL, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
	n = (int)e2e_num(&r, "available");
	*capacity = (int)e2e_num(&r, "capacity");
	e2e_resp_free(&r);
	return n;
}

START_TEST(schedules_create_and_resize)
{
	struct e2e_resp r = { 0 };
	char op[OP_TOKEN_MAX], p1[E2E_TOKEN_MAX], p2[E2E_TOKEN_MAX], name[96], body[512];
	char s[32], e[32], path[256], key[160], ids[24], opids[24];
	const cJSON *it;
	long long opid = operator_add("operator", op), sid;
	int cap = 0, found = 0;

	/* create, then the parents see it */
	e2e_uniq("admin-class", name, sizeof(name));
	snprintf(body, sizeof(body), "{\"course_name\":\"%s 体验课\",\"starts_at\":\"%s\","
	    "\"ends_at\":\"%s\",\"capacity\":2}", name, at(6 * 86400, s), at(6 * 86400 + 3600, e));
	snprintf(key, sizeof(key), "Idempotency-Key: %s", name);
	e2e_request("POST", ADMIN "/course-schedules", op, body, key, &r);
	ck_assert_msg(r.status == 201, "create: %ld %s", r.status, r.body);
	sid = (long long)e2e_num(&r, "id");
	ck_assert_int_gt(sid, 0);
	ck_assert_int_eq((int)e2e_num(&r, "capacity"), 2);
	ck_assert_int_eq((int)e2e_num(&r, "available"), 2);
	ck_assert_int_eq((int)e2e_num(&r, "price_fen"), 20000);
	ck_assert_ptr_nonnull(strstr(e2e_str(&r, "course_name"), "体验课"));
	/* the same key and body: the same class, replayed; another body: 422 */
	e2e_request("POST", ADMIN "/course-schedules", op, body, key, &r);
	ck_assert_int_eq(r.status, 201);
	ck_assert_int_eq((long long)e2e_num(&r, "id"), sid);
	ck_assert_ptr_nonnull(e2e_header(&r, "Idempotent-Replayed", path, sizeof(path)));
	e2e_request("POST", ADMIN "/course-schedules", op, "{\"course_name\":\"x\"}", key, &r);
	expect_error(&r, 422, "IDEMPOTENCY_KEY_REUSED");

	snprintf(path, sizeof(path), E2E_API "/course-schedules?from=%s&to=%s", at(6 * 86400 - 1, s),
	    at(6 * 86400 + 1, e));
	e2e_request("GET", path, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	it = items(&r);
	for (int i = 0; i < cJSON_GetArraySize(it); i++)
		found += (long long)cJSON_GetNumberValue(member(cJSON_GetArrayItem(it, i), "id")) == sid;
	ck_assert_msg(found == 1, "class %lld not listed: %s", sid, r.body);

	/* two seats held: capacity 1 is below them, 2 is not */
	e2e_user("admin-cap1", p1);
	e2e_user("admin-cap2", p2);
	e2e_hold(p1, sid);
	e2e_hold(p2, sid);
	ck_assert_int_eq(public_available(sid, &cap), 0);
	patch_capacity(op, sid, 1, &r);
	expect_error(&r, 409, "CAPACITY_BELOW_BOOKED");
	ck_assert_int_eq(public_available(sid, &cap), 0);
	ck_assert_int_eq(cap, 2);
	patch_capacity(op, sid, 4, &r);
	ck_assert_msg(r.status == 200, "PATCH 4: %ld %s", r.status, r.body);
	ck_assert_int_eq((int)e2e_num(&r, "capacity"), 4);
	ck_assert_int_eq((int)e2e_num(&r, "available"), 2);
	ck_assert_int_eq(public_available(sid, &cap), 2);
	ck_assert_int_eq(cap, 4);
	patch_capacity(op, sid, 2, &r);
	ck_assert_msg(r.status == 200, "PATCH 2: %ld %s", r.status, r.body);
	ck_assert_int_eq(public_available(sid, &cap), 0);

	/* bad input */
	patch_capacity(op, sid, -1, &r);
	expect_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "capacity");
	patch_capacity(op, 999999999, 3, &r);
	expect_error(&r, 404, "SCHEDULE_NOT_FOUND");
	snprintf(body, sizeof(body), "{\"course_name\":\"x\",\"starts_at\":\"%s\","
	    "\"ends_at\":\"%s\",\"capacity\":2}", at(6 * 86400, s), at(6 * 86400 - 3600, e));
	e2e_request("POST", ADMIN "/course-schedules", op, body, NULL, &r);
	expect_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "ends_at");
	/* a class that would start in the past */
	snprintf(body, sizeof(body), "{\"course_name\":\"x\",\"starts_at\":\"%s\","
	    "\"ends_at\":\"%s\",\"capacity\":2}", at(-3600, s), at(3600, e));
	e2e_request("POST", ADMIN "/course-schedules", op, body, NULL, &r);
	expect_error(&r, 400, "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "starts_at");
	e2e_request("POST", ADMIN "/course-schedules", op, "{\"course_name\":\"x\"}", NULL, &r);
	expect_error(&r, 400, "INVALID_REQUEST");
	/* gymctl refuses what the API refuses, and a capacity that is not a number */
	{
		char cmd[2048], out[256];
		static const char *const bad[] = {
			"--starts 2031-01-02T10:00:00Z --ends 2031-01-02T11:00:00Z --capacity abc",
			"--starts 2031-01-02T10:00:00Z --ends 2031-01-02T11:00:00Z --capacity 3x",
			"--starts 2031-01-02T10:00:00Z --ends 2031-01-02T11:00:00Z --capacity -1",
			"--starts 2021-01-02T10:00:00Z --ends 2021-01-02T11:00:00Z --capacity 3",
			"--starts 2031-01-02T10:00:00Z --ends 2031-01-02T09:00:00Z --capacity 3",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' schedule add --course "
			    "'gymctl-strict' %s 2>/dev/null", e2e_bin(), e2e_conf(), bad[i]);
			ck_assert_msg(e2e_run(cmd, out, sizeof(out)) == 2, "gymctl took %s", bad[i]);
		}
		ck_assert_int_eq(e2e_sql_int(e2e_pg(), "SELECT count(*) FROM course_schedules "
		    "WHERE course_name = 'gymctl-strict'"), 0);
	}

	/* every change is audited with the operator's id; the refused one is not */
	snprintf(ids, sizeof(ids), "%lld", sid);
	snprintf(opids, sizeof(opids), "%lld", opid);
	{
		const char *q[2] = { ids, opids };

		ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log "
		    "WHERE entity = 'schedule' AND response_snapshot->>'course_schedule_id' = $1",
		    1, q), 3);
		ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log "
		    "WHERE entity = 'schedule' AND response_snapshot->>'course_schedule_id' = $1 "
		    "AND actor_type = 'operator' AND actor_id = $2 AND request_id IS NOT NULL", 2, q), 3);
		ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log "
		    "WHERE response_snapshot->>'course_schedule_id' = $1 AND "
		    "action_type = 'capacity_changed' AND old_status = '2' AND new_status = '4'", 1, q),
		    1);
	}
	/* and the audit log shows it to operators */
	e2e_request("GET", ADMIN "/audit-log?action_type=schedule_created&limit=200", op, NULL, NULL,
	    &r);
	ck_assert_int_eq(r.status, 200);
	found = 0;
	it = items(&r);
	for (int i = 0; i < cJSON_GetArraySize(it); i++) {
		const cJSON *row = cJSON_GetArrayItem(it, i);

		if (strcmp(mstr(row, "actor_id"), opids) == 0) {
			found++;
			ck_assert_str_eq(mstr(row, "actor_type"), "operator");
		}
	}
	ck_assert_int_eq(found, 1);
	e2e_resp_free(&r);
}
END_TEST

/* The registration details: each field required and checked (400 naming
 * it), the operator's list with the child's name and a masked phone, found
 * by the phone, the full phone in the detail; an auditor sees masked values
 * only; nothing in clear in the database. */
START_TEST(registration_details)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], op[OP_TOKEN_MAX], au[OP_TOKEN_MAX], body[512], path[256];
	char oid[40], phone[16];
	const char *p[1];
	cJSON *items, *reg;
	long long sid = e2e_schedule(3), rid, u, log_at = e2e_gymd_log_size();
	char *log;

	u = e2e_user("admin-reg", token);
	/* a phone of this parent alone: 1370 and the user id */
	snprintf(phone, sizeof(phone), "1370%07lld", u % 10000000);
	rid = e2e_hold(token, sid);
	operator_add("operator", op);
	operator_add("auditor", au);
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld,\"reservation_id\":%lld,"
	    "\"child_name\":\"李小红\",\"child_birth_date\":\"2018-03-01\"}", sid, rid);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, NULL, &r);
	ck_assert_msg(r.status == 400, "%ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "INVALID_REQUEST");
	ck_assert_str_eq(e2e_str(&r, "field"), "parent_phone");
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld,\"reservation_id\":%lld,"
	    "\"child_name\":\"李小红\",\"child_birth_date\":\"2018-02-30\","
	    "\"parent_phone\":\"%s\"}", sid, rid, phone);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, NULL, &r);
	ck_assert_msg(r.status == 400, "%ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "field"), "child_birth_date");
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld,\"reservation_id\":%lld,"
	    "\"child_name\":\" 李小红 \",\"child_birth_date\":\"2018-03-01\","
	    "\"parent_phone\":\"%s\",\"note\":\"第一次上课\"}", sid, rid, phone);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	snprintf(oid, sizeof(oid), "%s", e2e_str(&r, "order_id"));
	/* the parent's own answer carries none of it back */
	ck_assert_ptr_null(strstr(r.body, phone));

	/* the list, by phone: this order alone, name and masked phone */
	snprintf(path, sizeof(path), ADMIN "/orders?phone=%s", phone);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	items = cJSON_GetObjectItem(r.json, "items");
	ck_assert_int_eq(cJSON_GetArraySize(items), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(items->child, "order_id")->valuestring, oid);
	ck_assert_str_eq(cJSON_GetObjectItem(items->child, "child_name")->valuestring, "李小红");
	ck_assert_int_eq(strncmp(cJSON_GetObjectItem(items->child, "parent_phone_masked")->valuestring,
	    "137****", 7), 0);
	ck_assert_ptr_null(strstr(r.body, phone));
	e2e_request("GET", ADMIN "/orders?phone=12345", op, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(e2e_str(&r, "field"), "phone");
	/* the auditor's list: the name masked too */
	e2e_request("GET", path, au, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	items = cJSON_GetObjectItem(r.json, "items");
	ck_assert_str_eq(cJSON_GetObjectItem(items->child, "child_name")->valuestring, "李**");

	/* the detail: in full for the operator, masked for the auditor */
	snprintf(path, sizeof(path), ADMIN "/orders/%s", oid);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	reg = cJSON_GetObjectItem(r.json, "registration");
	ck_assert_ptr_nonnull(reg);
	ck_assert_str_eq(cJSON_GetObjectItem(reg, "child_name")->valuestring, "李小红");
	ck_assert_str_eq(cJSON_GetObjectItem(reg, "child_birth_date")->valuestring, "2018-03-01");
	ck_assert_str_eq(cJSON_GetObjectItem(reg, "parent_phone")->valuestring, phone);
	ck_assert_str_eq(cJSON_GetObjectItem(reg, "note")->valuestring, "第一次上课");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(reg, "masked")));
	ck_assert_int_ge((int)cJSON_GetObjectItem(reg, "child_age")->valuedouble, 8);
	e2e_request("GET", path, au, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_ptr_null(strstr(r.body, phone));
	ck_assert_ptr_null(strstr(r.body, "小红"));
	reg = cJSON_GetObjectItem(r.json, "registration");
	ck_assert_str_eq(cJSON_GetObjectItem(reg, "child_birth_date")->valuestring, "2018-**-**");
	ck_assert_ptr_null(cJSON_GetObjectItem(reg, "note"));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(reg, "masked")));

	/* nothing in clear in the database, the gymd log included */
	p[0] = phone;
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT (SELECT count(*) FROM order_registrations r "
	    "WHERE r::text LIKE '%' || $1 || '%') + (SELECT count(*) FROM payment_audit_log a "
	    "WHERE a::text LIKE '%' || $1 || '%' OR a::text LIKE '%小红%')", 1, p), 0);
	log = e2e_gymd_log_since(log_at);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_null(strstr(log, phone));
	ck_assert_ptr_null(strstr(log, "小红"));
	free(log);
	e2e_resp_free(&r);
}
END_TEST

Suite *
admin_suite(void)
{
	Suite *s = suite_create("admin");
	TCase *t = tcase_create("operators");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, auth_roles);
	tcase_add_test(t, orders_filters_and_paging);
	tcase_add_test(t, order_detail);
	tcase_add_test(t, audit_log);
	tcase_add_test(t, schedules_create_and_resize);
	tcase_add_test(t, registration_details);
	suite_add_tcase(s, t);
	return s;
}
