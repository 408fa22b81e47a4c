/*
 * check_products.c: products through nginx, gymd and the WeChat simulator
 * (issue 15): an operator makes plans and a class pack, parents list them,
 * buy a membership, renew it, upgrade it (the difference for the remaining
 * time), buy a pack, book regular classes with a credit and cancel before
 * and after the cutoff, and read GET /me and the payment history by pages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "e2e.h"
#include "gym.h"

#define DAY_US (86400LL * 1000000)

static double
num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* POST /admin/products: the new product's id. */
static long long
make_product(const char *op, const char *body)
{
	struct e2e_resp r = { 0 };
	char key[96], extra[128];
	long long id;

	snprintf(extra, sizeof(extra), "Idempotency-Key: %s", e2e_uniq("prod", key, sizeof(key)));
	e2e_request("POST", E2E_API "/admin/products", op, body, extra, &r);
	ck_assert_msg(r.status == 201, "create product: %ld %s", r.status, r.body);
	id = (long long)e2e_num(&r, "id");
	e2e_resp_free(&r);
	return id;
}

/* Order product pid (upgrade or not), pay it at the simulator, wait for
 * paid; the amount it cost. */
static long long
buy(const char *token, long long pid, int upgrade)
{
	struct e2e_resp r = { 0 };
	char body[96], key[96], extra[128], oid[40], st[24];
	long long fen;

	snprintf(body, sizeof(body), "{\"product_id\":%lld%s}", pid, upgrade ? ",\"upgrade\":true" :
	    "");
	snprintf(extra, sizeof(extra), "Idempotency-Key: %s", e2e_uniq("buy", key, sizeof(key)));
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, extra, &r);
	ck_assert_msg(r.status == 201, "order: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "status"), "pending");
	ck_assert_int_eq((long long)e2e_num(&r, "product_id"), pid);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.json, "course_schedule_id")));
	snprintf(oid, sizeof(oid), "%s", e2e_str(&r, "order_id"));
	fen = (long long)e2e_num(&r, "amount_fen");
	e2e_resp_free(&r);
	e2e_prepay(token, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 10000, st), "paid");
	return fen;
}

/* GET /me into r (asserts 200). */
static void
me(const char *token, struct e2e_resp *r)
{
	e2e_request("GET", E2E_API "/me", token, NULL, NULL, r);
	ck_assert_msg(r->status == 200 && r->json != NULL, "me: %ld %s", r->status, r->body);
}

static long long
balance(const char *token)
{
	struct e2e_resp r = { 0 };
	long long b;

	me(token, &r);
	b = (long long)num(cJSON_GetObjectItemCaseSensitive(r.json, "credits"), "balance");
	e2e_resp_free(&r);
	return b;
}

/* The membership's length in whole days and its product id, from GET /me. */
static long long
membership_days(const char *token, long long *pid)
{
	struct e2e_resp r = { 0 };
	const cJSON *m;
	int64_t s, e;
	long long days;

	me(token, &r);
	m = cJSON_GetObjectItemCaseSensitive(r.json, "membership");
	ck_assert(cJSON_IsObject(m));
	ck_assert_int_eq(gym_time_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
	    "starts_at")), &s), 0);
	ck_assert_int_eq(gym_time_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
	    "ends_at")), &e), 0);
	*pid = (long long)num(m, "product_id");
	days = (e - s + DAY_US / 2) / DAY_US;
	e2e_resp_free(&r);
	return days;
}

/* A regular class starting in start_s seconds, made by the operator. */
static long long
regular_class(const char *op, long start_s)
{
	struct e2e_resp r = { 0 };
	char body[320], key[96], extra[128], name[96], st[40], en[40];
	long long id;

	gym_time_format(gym_now_us() + (int64_t)start_s * 1000000, st, sizeof(st));
	gym_time_format(gym_now_us() + (int64_t)(start_s + 3600) * 1000000, en, sizeof(en));
	snprintf(body, sizeof(body), "{\"course_name\":\"%s\",\"starts_at\":\"%s\",\"ends_at\":"
	    "\"%s\",\"capacity\":5,\"kind\":\"regular\"}", e2e_uniq("常规课", name, sizeof(name)),
	    st, en);
	snprintf(extra, sizeof(extra), "Idempotency-Key: %s", e2e_uniq("cls", key, sizeof(key)));
	e2e_request("POST", E2E_API "/admin/course-schedules", op, body, extra, &r);
	ck_assert_msg(r.status == 201, "class: %ld %s", r.status, r.body);
	id = (long long)e2e_num(&r, "id");
	e2e_resp_free(&r);
	return id;
}

/* POST /bookings with credits: the booking id (asserts 201). */
static long long
book(const char *token, long long sid, const char *with)
{
	struct e2e_resp r = { 0 };
	char body[96], key[96], extra[128];
	long long id;

	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld,\"pay_with\":\"%s\"}", sid, with);
	snprintf(extra, sizeof(extra), "Idempotency-Key: %s", e2e_uniq("bk", key, sizeof(key)));
	e2e_request("POST", E2E_API "/bookings", token, body, extra, &r);
	ck_assert_msg(r.status == 201, "book: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "status"), "confirmed");
	id = (long long)e2e_num(&r, "booking_id");
	e2e_resp_free(&r);
	return id;
}

/* DELETE /bookings/{id}: the "credit" it reports (returned, spent). */
static void
cancel(const char *token, long long id, const char *credit)
{
	struct e2e_resp r = { 0 };
	char path[64];

	snprintf(path, sizeof(path), E2E_API "/bookings/%lld", id);
	e2e_request("DELETE", path, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "cancel: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "status"), "cancelled");
	ck_assert_str_eq(e2e_str(&r, "credit"), credit);
	e2e_resp_free(&r);
}

START_TEST(products_catalogue)
{
	struct e2e_resp r = { 0 };
	char op[64], name[96], body[256], path[64];
	const cJSON *p;
	long long id;
	int found = 0;

	e2e_operator("prod-cat", "operator", op, sizeof(op));
	snprintf(body, sizeof(body), "{\"kind\":\"membership\",\"name\":\"%s\",\"price_fen\":30000,"
	    "\"days\":30}", e2e_uniq("月卡", name, sizeof(name)));
	id = make_product(op, body);
	e2e_request("GET", E2E_API "/products", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(r.json, "products")) {
		if ((long long)num(p, "id") == id) {
			found = 1;
			ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p,
			    "kind")), "membership");
			ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p,
			    "price")), "300.00");
			ck_assert_int_eq((int)num(p, "days"), 30);
		}
		/* the trial, from its row */
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "kind")),
		    "trial") == 0)
			ck_assert_int_eq((int)num(p, "price_fen"), 20000);
	}
	ck_assert(found);
	/* a pack without credits, a trial, a parent: refused */
	e2e_request("POST", E2E_API "/admin/products", op, "{\"kind\":\"class_pack\",\"name\":"
	    "\"x\",\"price_fen\":100,\"days\":3}", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(e2e_str(&r, "field"), "credits");
	e2e_request("POST", E2E_API "/admin/products", op, "{\"kind\":\"trial\",\"name\":"
	    "\"x\",\"price_fen\":100}", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	/* deactivate: gone from the list, not sold */
	snprintf(path, sizeof(path), E2E_API "/admin/products/%lld", id);
	e2e_request("PATCH", path, op, "{\"active\":false}", NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	e2e_request("GET", E2E_API "/products", NULL, NULL, NULL, &r);
	found = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(r.json, "products"))
		found |= (long long)num(p, "id") == id;
	ck_assert(!found);
	{
		char tok[E2E_TOKEN_MAX];

		e2e_user("prod-cat-parent", tok);
		snprintf(body, sizeof(body), "{\"product_id\":%lld}", id);
		e2e_request("POST", E2E_API "/payment/orders/create", tok, body, NULL, &r);
		ck_assert_int_eq(r.status, 404);
		ck_assert_str_eq(e2e_code(&r), "PRODUCT_UNAVAILABLE");
		e2e_request("PATCH", path, tok, "{\"active\":true}", NULL, &r);
		ck_assert_int_eq(r.status, 401);
	}
	e2e_resp_free(&r);
}
END_TEST

START_TEST(products_membership_pack_booking_history)
{
	struct e2e_resp r = { 0 };
	char op[64], tok[E2E_TOKEN_MAX], name[96], body[256];
	const cJSON *pays, *p0;
	long long basic, gold, pack, pid, fen, early, late, b1, b2;

	e2e_operator("prod-flow", "operator", op, sizeof(op));
	snprintf(body, sizeof(body), "{\"kind\":\"membership\",\"name\":\"%s\",\"price_fen\":30000,"
	    "\"days\":30}", e2e_uniq("基础月卡", name, sizeof(name)));
	basic = make_product(op, body);
	snprintf(body, sizeof(body), "{\"kind\":\"membership\",\"name\":\"%s\",\"price_fen\":60000,"
	    "\"days\":30}", e2e_uniq("金卡", name, sizeof(name)));
	gold = make_product(op, body);
	snprintf(body, sizeof(body), "{\"kind\":\"class_pack\",\"name\":\"%s\",\"price_fen\":45000,"
	    "\"days\":60,\"credits\":3}", e2e_uniq("3次卡", name, sizeof(name)));
	pack = make_product(op, body);
	e2e_user("prod-flow-parent", tok);
	me(tok, &r);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.json, "membership")));
	/* buy, then renew: 60 days from the first start */
	ck_assert_int_eq(buy(tok, basic, 0), 30000);
	ck_assert_int_eq(membership_days(tok, &pid), 30);
	ck_assert_int_eq(buy(tok, basic, 0), 30000);
	ck_assert_int_eq(membership_days(tok, &pid), 60);
	ck_assert_int_eq(pid, basic);
	/* upgrade: 1000 fen a day more for just under 60 days, whole
	 * minutes, rounded up: 60000 fen; the end stays */
	fen = buy(tok, gold, 1);
	ck_assert_msg(fen >= 59990 && fen <= 60000, "upgrade cost %lld", fen);
	ck_assert_int_eq(membership_days(tok, &pid), 60);
	ck_assert_int_eq(pid, gold);
	/* a class pack, and bookings with its credits */
	ck_assert_int_eq(buy(tok, pack, 0), 45000);
	ck_assert_int_eq(balance(tok), 3);
	/* each paid order told the parent once (wx.template_purchased), sent
	 * through the simulator */
	{
		char ids[3][24];
		const char *pp[3] = { ids[0], ids[1], ids[2] };
		struct e2e_resp m = { 0 };
		const cJSON *it;
		int n = 0;

		snprintf(ids[0], sizeof(ids[0]), "%lld", basic);
		snprintf(ids[1], sizeof(ids[1]), "%lld", gold);
		snprintf(ids[2], sizeof(ids[2]), "%lld", pack);
		ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM parent_notifications n "
		    "JOIN payment_orders o ON o.order_id = n.order_id WHERE n.kind = 'product_paid' "
		    "AND n.template_id = 'tpl-purchased' AND n.status = 'sent' AND o.product_id IN "
		    "($1::bigint, $2::bigint, $3::bigint)", 3, pp, 4, 15000), 4);
		e2e_sim("GET", "/sim/messages", NULL, &m);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(m.json, "items")) {
			const char *tpl = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it,
			    "template_id"));

			n += tpl != NULL && strcmp(tpl, "tpl-purchased") == 0;
		}
		ck_assert_int_ge(n, 4);
		e2e_resp_free(&m);
	}
	early = regular_class(op, 3 * 3600);
	late = regular_class(op, 3600);
	b1 = book(tok, early, "credits");
	ck_assert_int_eq(balance(tok), 2);
	me(tok, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "bookings")),
	    1);
	cancel(tok, b1, "returned");		/* 3 h before: before the 2 h cutoff */
	ck_assert_int_eq(balance(tok), 3);
	b2 = book(tok, late, "credits");
	cancel(tok, b2, "spent");		/* 1 h before: after it */
	ck_assert_int_eq(balance(tok), 2);
	/* the membership books too; a trial class is not booked this way */
	(void)book(tok, early, "membership");
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld,\"pay_with\":\"credits\"}",
	    e2e_schedule(5));
	e2e_request("POST", E2E_API "/bookings", tok, body, NULL, &r);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(e2e_str(&r, "code"), "WRONG_CLASS_KIND");
	/* and a regular class takes no trial hold */
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", early);
	e2e_request("POST", E2E_API "/bookings/seat-reserve", tok, body, NULL, &r);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(e2e_str(&r, "code"), "WRONG_CLASS_KIND");
	e2e_request("POST", E2E_API "/bookings", tok, "{\"course_schedule_id\":1,"
	    "\"pay_with\":\"cash\"}", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(e2e_str(&r, "field"), "pay_with");
	/* history: four payments, newest first, two a page */
	e2e_request("GET", E2E_API "/payments/history?page=1&size=2", tok, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq((int)e2e_num(&r, "total"), 4);
	ck_assert_int_eq((int)e2e_num(&r, "page"), 1);
	ck_assert_int_eq((int)e2e_num(&r, "size"), 2);
	pays = cJSON_GetObjectItemCaseSensitive(r.json, "payments");
	ck_assert_int_eq(cJSON_GetArraySize(pays), 2);
	p0 = cJSON_GetArrayItem(pays, 0);
	ck_assert_int_eq((int)num(p0, "amount_fen"), 45000);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p0, "channel")),
	    "wechat");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(p0, "product"), "kind")), "class_pack");
	ck_assert(num(p0, "payment_id") > 0);
	e2e_request("GET", E2E_API "/payments/history?page=2&size=2", tok, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "payments")),
	    2);
	e2e_request("GET", E2E_API "/payments/history?page=3&size=2", tok, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "payments")),
	    0);
	e2e_request("GET", E2E_API "/payments/history?size=101", tok, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	e2e_request("GET", E2E_API "/payments/history", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	/* every step audited */
	ck_assert_int_ge(e2e_sql_int(e2e_pg(), "SELECT count(*) FROM payment_audit_log "
	    "WHERE action_type IN ('membership_purchased', 'membership_renewed', "
	    "'membership_upgraded', 'credits_granted', 'member_booking_confirmed', "
	    "'member_booking_cancelled', 'credit_consumed', 'credit_returned')"), 9);
	e2e_resp_free(&r);
}
END_TEST

/* POST /admin/refunds for oid (amount_fen 0: none given); asserts 202,
 * waits until the refund succeeded; its out_refund_no into no[80]. */
static void
refund(const char *op, const char *oid, long long fen, long long expect, char *no)
{
	struct e2e_resp r = { 0 };
	char body[200], path[160], st[24] = "";
	long long end = e2e_now_ms() + 10000;

	if (fen != 0)
		snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"部分退款\","
		    "\"amount_fen\":%lld}", oid, fen);
	else
		snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"退余额\"}", oid);
	e2e_request("POST", E2E_API "/admin/refunds", op, body, NULL, &r);
	ck_assert_msg(r.status == 202, "refund: %ld %s", r.status, r.body);
	ck_assert_int_eq((long long)e2e_num(&r, "amount_fen"), expect);
	snprintf(no, 80, "%s", e2e_str(&r, "out_refund_no"));
	snprintf(path, sizeof(path), E2E_API "/admin/refunds/%s", no);
	while (strcmp(st, "success") != 0 && e2e_now_ms() < end) {
		e2e_request("GET", path, op, NULL, NULL, &r);
		snprintf(st, sizeof(st), "%s", e2e_str(&r, "status"));
		if (strcmp(st, "success") != 0)
			e2e_sleep_ms(100);
	}
	ck_assert_str_eq(st, "success");
	e2e_resp_free(&r);
}

START_TEST(products_partial_refund)
{
	struct e2e_resp r = { 0 };
	char op[64], tok[E2E_TOKEN_MAX], name[96], body[256], key[96], extra[128], oid[40];
	char path[160], no1[80], no2[80], st[24];
	long long plan, pid;

	e2e_operator("prod-refund", "operator", op, sizeof(op));
	snprintf(body, sizeof(body), "{\"kind\":\"membership\",\"name\":\"%s\",\"price_fen\":30000,"
	    "\"days\":30}", e2e_uniq("月卡", name, sizeof(name)));
	plan = make_product(op, body);
	e2e_user("prod-refund-parent", tok);
	snprintf(body, sizeof(body), "{\"product_id\":%lld}", plan);
	snprintf(extra, sizeof(extra), "Idempotency-Key: %s", e2e_uniq("buy", key, sizeof(key)));
	e2e_request("POST", E2E_API "/payment/orders/create", tok, body, extra, &r);
	ck_assert_int_eq(r.status, 201);
	snprintf(oid, sizeof(oid), "%s", e2e_str(&r, "order_id"));
	e2e_prepay(tok, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(tok, oid, "paid", 10000, st), "paid");
	/* the console's proposal: all of it is unused */
	snprintf(path, sizeof(path), E2E_API "/admin/orders/%s/refund-proposal", oid);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert((long long)e2e_num(&r, "amount_fen") >= 29990);
	/* half: 15 days back, the order still paid */
	refund(op, oid, 15000, 15000, no1);
	ck_assert_int_eq(membership_days(tok, &pid), 15);
	ck_assert_str_eq(e2e_order_status(tok, oid, st), "paid");
	/* more than is left: refused */
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"多退\",\"amount_fen\":"
	    "15001}", oid);
	e2e_request("POST", E2E_API "/admin/refunds", op, body, NULL, &r);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(e2e_code(&r), "NOT_REFUNDABLE");
	/* the rest: the membership is gone, the order refunded */
	refund(op, oid, 0, 15000, no2);
	ck_assert_str_ne(no1, no2);
	me(tok, &r);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.json, "membership")));
	ck_assert_str_eq(e2e_order_status(tok, oid, st), "refunded");
	e2e_request("GET", E2E_API "/payments/history", tok, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(r.json, "payments"), 0), "refunds")), 2);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(products_gymctl)
{
	struct e2e_resp r = { 0 };
	char cmd[512], out[512], name[96];
	const cJSON *p;
	long long id;
	int found = 0;

	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' product add --kind class_pack --name '%s' "
	    "--price-fen 88800 --days 90 --credits 10", e2e_bin(), e2e_conf(),
	    e2e_uniq("pack", name, sizeof(name)));
	ck_assert_int_eq(e2e_run(cmd, out, sizeof(out)), 0);
	id = atoll(out);
	ck_assert_msg(id > 0 && strstr(out, "\tclass_pack\t") != NULL && strstr(out, "888.00"),
	    "%s", out);
	e2e_request("GET", E2E_API "/products", NULL, NULL, NULL, &r);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(r.json, "products"))
		if ((long long)num(p, "id") == id)
			found = (int)num(p, "credits") == 10;
	ck_assert(found);
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' product set %lld --price-fen 99900 "
	    "--active false", e2e_bin(), e2e_conf(), id);
	ck_assert_int_eq(e2e_run(cmd, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "999.00") != NULL && strstr(out, "inactive") != NULL, "%s", out);
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' product list", e2e_bin(), e2e_conf());
	ck_assert_int_eq(e2e_run(cmd, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "\ttrial\t") != NULL, "%s", out);
	/* bad usage: exit 2; the trial's price: refused, exit 1 */
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' product add --kind trial --name x "
	    "--price-fen 1 --days 1 2>/dev/null", e2e_bin(), e2e_conf());
	ck_assert_int_eq(e2e_run(cmd, out, sizeof(out)), 2);
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' product set %lld --price-fen 100 2>/dev/null",
	    e2e_bin(), e2e_conf(), e2e_sql_int(e2e_pg(), "SELECT id FROM products WHERE kind = 'trial'"));
	ck_assert_int_eq(e2e_run(cmd, out, sizeof(out)), 1);
	ck_assert_int_eq(e2e_sql_int(e2e_pg(), "SELECT price_fen FROM products WHERE kind = 'trial'"),
	    20000);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(products_member_lookup)
{
	struct e2e_resp r = { 0 };
	char op[64], tok[E2E_TOKEN_MAX], name[96], body[256], oid[40], path[64];
	const cJSON *m, *ledger;
	long long pack, uid;

	e2e_operator("prod-lookup", "auditor", op, sizeof(op));
	{
		char opw[64];

		e2e_operator("prod-lookup-op", "operator", opw, sizeof(opw));
		snprintf(body, sizeof(body), "{\"kind\":\"class_pack\",\"name\":\"%s\","
		    "\"price_fen\":45000,\"days\":60,\"credits\":3}", e2e_uniq("3次卡", name,
		    sizeof(name)));
		pack = make_product(opw, body);
	}
	uid = e2e_user("prod-lookup-parent", tok);
	/* a trial order registers the parent's phone */
	{
		long long sid = e2e_schedule(5);

		e2e_order_create(tok, sid, e2e_hold(tok, sid), oid, NULL);
	}
	(void)buy(tok, pack, 0);
	/* the orders list by product: this pack's one order, nothing else */
	{
		const cJSON *x, *list;

		snprintf(path, sizeof(path), E2E_API "/admin/orders?product_id=%lld", pack);
		e2e_request("GET", path, op, NULL, NULL, &r);
		ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
		list = cJSON_GetObjectItemCaseSensitive(r.json, "items");
		ck_assert_int_eq(cJSON_GetArraySize(list), 1);
		cJSON_ArrayForEach(x, list)
			ck_assert_int_eq((long long)num(x, "product_id"), pack);
		e2e_request("GET", E2E_API "/admin/orders?product_id=abc", op, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 400);
		ck_assert_str_eq(e2e_str(&r, "code"), "INVALID_REQUEST");
	}
	e2e_request("GET", E2E_API "/admin/members?phone=13800138000", op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "members"), 0);
	ck_assert_int_eq((long long)num(m, "user_id"), uid);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "order_id")), oid);
	/* an auditor sees the child and the phone masked */
	ck_assert_str_ne(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "child_name")),
	    "王小明");
	ck_assert_str_ne(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
	    "parent_phone")), "13800138000");
	e2e_request("GET", E2E_API "/admin/members?phone=12", op, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	/* by part of a child's name: found once, with that child's order; an
	 * operator sees the name and the phone */
	{
		char child[64], q[200], body2[400], oid2[40], opw[64], tok2[E2E_TOKEN_MAX];
		long long sid = e2e_schedule(5), uid2 = e2e_user("prod-lookup-name", tok2);

		e2e_uniq("林小雨", child, sizeof(child));
		snprintf(body2, sizeof(body2), "{\"child_name\":\"%s\",\"child_birth_date\":"
		    "\"2018-02-03\",\"parent_phone\":\"13900139001\",\"course_schedule_id\":%lld,"
		    "\"reservation_id\":%lld}", child, sid, e2e_hold(tok2, sid));
		e2e_request("POST", E2E_API "/payment/orders/create", tok2, body2, NULL, &r);
		ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
		snprintf(oid2, sizeof(oid2), "%s", e2e_str(&r, "order_id"));
		e2e_operator("prod-lookup-op2", "operator", opw, sizeof(opw));
		/* the name's tail after "林小雨-": what a front desk types, URL-encoded */
		snprintf(q, sizeof(q), E2E_API "/admin/members?name=%s", strchr(child, '-') + 1);
		e2e_request("GET", q, opw, NULL, NULL, &r);
		ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
		ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json,
		    "members")), 1);
		m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "members"), 0);
		ck_assert_int_eq((long long)num(m, "user_id"), uid2);
		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
		    "order_id")), oid2);
		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
		    "child_name")), child);
		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
		    "parent_phone")), "13900139001");
		e2e_request("GET", E2E_API "/admin/members?name=%E6%9E%97%E5%B0%8F%E9%9B%A8-0-0-0",
		    opw, NULL, NULL, &r);
		ck_assert_msg(r.status == 200 && cJSON_GetArraySize(
		    cJSON_GetObjectItemCaseSensitive(r.json, "members")) == 0, "%ld %s", r.status,
		    r.body);
		/* neither, or both: 400 naming the field */
		e2e_request("GET", E2E_API "/admin/members", opw, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 400);
		e2e_request("GET", E2E_API "/admin/members?name=%20%20", opw, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 400);
		e2e_request("GET", E2E_API "/admin/members?phone=13800138000&name=a", opw, NULL,
		    NULL, &r);
		ck_assert_int_eq(r.status, 400);
	}
	snprintf(path, sizeof(path), E2E_API "/admin/members/%lld", uid);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq((int)num(cJSON_GetObjectItemCaseSensitive(r.json, "credits"), "balance"), 3);
	ck_assert_int_eq((int)num(cJSON_GetObjectItemCaseSensitive(r.json, "history"), "total"), 1);
	ledger = cJSON_GetObjectItemCaseSensitive(r.json, "ledger");
	ck_assert_int_eq(cJSON_GetArraySize(ledger), 1);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
	    ledger, 0), "kind")), "grant");
	e2e_request("GET", E2E_API "/admin/members/999999999", op, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	e2e_request("GET", path, tok, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
}
END_TEST

/* A regular class's roster lists its member bookings, with the child's
 * details from the member's trial registration (王小明), masked for
 * auditors, as JSON and CSV; a cancelled booking stays on it. */
START_TEST(products_member_roster)
{
	struct e2e_resp r = { 0 };
	char op[64], aud[64], tok[E2E_TOKEN_MAX], name[96], body[256], oid[40], st[24], path[128];
	const cJSON *items, *it;
	long long pack, sid, tsid, b;

	e2e_operator("prod-roster", "operator", op, sizeof(op));
	e2e_operator("prod-roster-aud", "auditor", aud, sizeof(aud));
	snprintf(body, sizeof(body), "{\"kind\":\"class_pack\",\"name\":\"%s\",\"price_fen\":45000,"
	    "\"days\":60,\"credits\":3}", e2e_uniq("花名册课时包", name, sizeof(name)));
	pack = make_product(op, body);
	e2e_user("prod-roster-parent", tok);
	/* the trial first: its registration names the child */
	tsid = e2e_schedule(2);
	e2e_order_create(tok, tsid, e2e_hold(tok, tsid), oid, NULL);
	e2e_prepay(tok, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(tok, oid, "paid", 10000, st), "paid");
	ck_assert_int_eq(buy(tok, pack, 0), 45000);
	sid = regular_class(op, 5 * 3600);
	b = book(tok, sid, "credits");
	snprintf(path, sizeof(path), E2E_API "/admin/course-schedules/%lld/roster", sid);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "kind"), "regular");
	items = cJSON_GetObjectItemCaseSensitive(r.json, "items");
	ck_assert_int_eq(cJSON_GetArraySize(items), 1);
	it = cJSON_GetArrayItem(items, 0);
	ck_assert_int_eq((long long)num(it, "booking_id"), b);
	ck_assert_str_eq(cJSON_GetObjectItem(it, "pay_with")->valuestring, "credits");
	ck_assert_str_eq(cJSON_GetObjectItem(it, "status")->valuestring, "confirmed");
	ck_assert_str_eq(cJSON_GetObjectItem(it, "child_name")->valuestring, "王小明");
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(it, "age")));
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(it, "parent_phone_masked")->valuestring,
	    "****"));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(it, "cancelled_at")));
	/* cancelled, it stays on the roster as cancelled */
	cancel(tok, b, "returned");
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	it = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "items"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(it, "status")->valuestring, "cancelled");
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(it, "cancelled_at")));
	/* the auditor's CSV: the member columns, the child's name masked */
	e2e_request("GET", path, aud, NULL, "Accept: text/csv", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(memcmp(r.body, "\xEF\xBB\xBF\"booking_id\",\"child_name\",\"age\","
	    "\"parent_phone\",\"pay_with\",\"status\",\"booked_at\"\r\n", 83), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "\"王**\""));
	ck_assert_ptr_null(strstr(r.body, "王小明"));
	ck_assert_ptr_nonnull(strstr(r.body, "\"credits\",\"cancelled\""));
	/* and a trial class's roster says so */
	snprintf(path, sizeof(path), E2E_API "/admin/course-schedules/%lld/roster", tsid);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(e2e_str(&r, "kind"), "trial");
	e2e_resp_free(&r);
}
END_TEST

Suite *
products_suite(void)
{
	Suite *s = suite_create("products");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, products_catalogue);
	tcase_add_test(tc, products_membership_pack_booking_history);
	tcase_add_test(tc, products_partial_refund);
	tcase_add_test(tc, products_gymctl);
	tcase_add_test(tc, products_member_lookup);
	tcase_add_test(tc, products_member_roster);
	suite_add_tcase(s, tc);
	return s;
}
