/*
 * check_waitlist.c: a full class's waitlist through nginx and gymd: join
 * (201, 200 again), the parent's entries with their place, leave (twice),
 * the contract's refusals; then the seat a parent gives back becomes the
 * first waiting parent's offer (the job process, within a few ticks), a
 * hold shown in GET /bookings/waitlist and named in one message, which the
 * normal order flow turns into a paid booking.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "e2e.h"
#include "regfields.h"

#define WL E2E_API "/bookings/waitlist"

/* POST /bookings/waitlist for sid as token's parent into r. */
static void
join(const char *token, long long sid, struct e2e_resp *r)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", sid);
	e2e_request("POST", WL, token, body, NULL, r);
}

/* The parent's first waitlist entry (GET), or NULL when none: borrowed
 * from r. */
static const cJSON *
first_entry(const char *token, struct e2e_resp *r)
{
	const cJSON *items;

	e2e_request("GET", WL, token, NULL, NULL, r);
	ck_assert_msg(r->status == 200 && r->json != NULL, "GET waitlist: %ld %s", r->status,
	    r->body);
	items = cJSON_GetObjectItemCaseSensitive(r->json, "items");
	ck_assert(cJSON_IsArray(items));
	return cJSON_GetArrayItem(items, 0);
}

static double
num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

START_TEST(waitlist_routes_and_offer_paid)
{
	struct e2e_resp r = { 0 };
	char ta[E2E_TOKEN_MAX], tb[E2E_TOKEN_MAX], tc[E2E_TOKEN_MAX], code[96], body[512];
	char path[128], ids[24], oid[40], openid[129], uid[24];
	const char *p[1] = { ids };
	const char *pu[1] = { uid };
	const cJSON *e, *h;
	long long sid = e2e_schedule(1), rid, hold_id, entry, b;
	long long deadline;

	e2e_login(e2e_uniq("wl-a", code, sizeof(code)), ta);
	b = e2e_login(e2e_uniq("wl-b", code, sizeof(code)), tb);
	e2e_login(e2e_uniq("wl-c", code, sizeof(code)), tc);
	/* a class with a free seat: book it instead */
	join(tb, e2e_schedule(2), &r);
	ck_assert_msg(r.status == 409 && strcmp(e2e_code(&r), "SEATS_AVAILABLE") == 0,
	    "%ld %s", r.status, r.body);
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", sid);
	e2e_request("POST", E2E_API "/bookings/seat-reserve", ta, body, NULL, &r);
	ck_assert_msg(r.status == 201, "seat-reserve: %ld %s", r.status, r.body);
	rid = (long long)e2e_num(&r, "reservation_id");
	e2e_request("POST", E2E_API "/bookings/seat-reserve", tb, body, NULL, &r);
	ck_assert_msg(r.status == 409 && strcmp(e2e_code(&r), "SOLD_OUT") == 0, "%ld", r.status);
	/* join: b first, c second; b again gets its entry */
	join(tb, sid, &r);
	ck_assert_msg(r.status == 201, "join: %ld %s", r.status, r.body);
	ck_assert_int_eq((long long)e2e_num(&r, "course_schedule_id"), sid);
	ck_assert_int_eq((int)e2e_num(&r, "position"), 1);
	ck_assert_str_eq(e2e_str(&r, "state"), "waiting");
	entry = (long long)e2e_num(&r, "id");
	join(tc, sid, &r);
	ck_assert_int_eq(r.status, 201);
	ck_assert_int_eq((int)e2e_num(&r, "position"), 2);
	join(tb, sid, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq((int)e2e_num(&r, "position"), 1);
	e = first_entry(tc, &r);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)num(e, "position"), 2);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "hold")));
	/* leave, twice; a leave without its class is refused */
	snprintf(path, sizeof(path), WL "?course_schedule_id=%lld", sid);
	e2e_request("DELETE", path, tc, NULL, NULL, &r);
	ck_assert_msg(r.status == 200 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.json,
	    "left")), "leave: %ld %s", r.status, r.body);
	e2e_request("DELETE", path, tc, NULL, NULL, &r);
	ck_assert_msg(r.status == 200 && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r.json,
	    "left")), "leave again: %ld %s", r.status, r.body);
	ck_assert_ptr_null(first_entry(tc, &r));
	e2e_request("DELETE", WL, tc, NULL, NULL, &r);
	ck_assert_msg(r.status == 400 && strcmp(e2e_code(&r), "INVALID_REQUEST") == 0, "%ld",
	    r.status);
	e2e_request("GET", WL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);

	/* a gives the seat back: the job offers it to b as a hold */
	snprintf(path, sizeof(path), E2E_API "/bookings/seat-release?reservation_id=%lld", rid);
	e2e_request("DELETE", path, ta, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	deadline = e2e_now_ms() + 10000;
	while ((e = first_entry(tb, &r)) != NULL && strcmp(cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(e, "state")), "offered") != 0 &&
	    e2e_now_ms() < deadline)
		e2e_sleep_ms(100);
	ck_assert_msg(e != NULL && strcmp(cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(e, "state")), "offered") == 0, "no offer: %s", r.body);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "position")));
	h = cJSON_GetObjectItemCaseSensitive(e, "hold");
	ck_assert_msg(cJSON_IsObject(h), "%s", r.body);
	hold_id = (long long)num(h, "reservation_id");
	ck_assert(hold_id > 0 && hold_id != rid);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "status")),
	    "temporary");
	ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(h, "expires_at")));

	/* one message, sent once, to b, with the waitlist template */
	snprintf(ids, sizeof(ids), "%lld", entry);
	ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM parent_notifications WHERE "
	    "waitlist_entry_id = $1::bigint AND kind = 'waitlist_offer' AND status = 'sent'",
	    1, p, 1, 10000), 1);
	snprintf(uid, sizeof(uid), "%lld", b);
	e2e_sql_text(e2e_pg(), "SELECT openid FROM users WHERE id = $1::bigint", 1, pu, openid,
	    sizeof(openid));
	e2e_sim("GET", "/sim/messages", NULL, &r);
	{
		const cJSON *m;
		int n = 0;

		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(r.json, "items")) {
			const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
			    "touser"));
			const char *tpl = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
			    "template_id"));

			n += to != NULL && strcmp(to, openid) == 0 && tpl != NULL &&
			    strcmp(tpl, "tpl-waitlist-offer") == 0;
		}
		ck_assert_int_eq(n, 1);
	}

	/* the offer is paid through the normal order flow */
	snprintf(body, sizeof(body), "{" TEST_REGISTRATION ",\"course_schedule_id\":%lld,"
	    "\"reservation_id\":%lld}", sid, hold_id);
	e2e_request("POST", E2E_API "/payment/orders/create", tb, body, NULL, &r);
	ck_assert_msg(r.status == 201, "orders/create: %ld %s", r.status, r.body);
	snprintf(oid, sizeof(oid), "%s", e2e_str(&r, "order_id"));
	ck_assert_int_eq((long long)num(cJSON_GetObjectItemCaseSensitive(r.json, "reservation"),
	    "reservation_id"), hold_id);
	e2e_prepay(tb, oid);
	e2e_sim_pay(oid, 0);
	{
		const char *po[1] = { oid };

		ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM payment_orders WHERE "
		    "order_id = $1 AND status = 'paid'", 1, po, 1, 10000), 1);
	}
	/* the job settles the offer as used; b's list is empty */
	ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM waitlist_entries WHERE "
	    "id = $1::bigint AND state = 'done' AND done_reason = 'used'", 1, p, 1, 10000), 1);
	ck_assert_ptr_null(first_entry(tb, &r));
	e2e_resp_free(&r);
}
END_TEST

Suite *
waitlist_suite(void)
{
	Suite *s = suite_create("waitlist");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, waitlist_routes_and_offer_paid);
	suite_add_tcase(s, tc);
	return s;
}
