/*
 * products.c: memberships and class packs under faults (issue 15).  The
 * driver's setup makes a membership (30 days) and a class pack
 * (FAULT_PACK_CREDITS credits) through POST /admin/products, and its
 * coordinator keeps a few regular classes of FAULT_REGULAR_CAPACITY seats
 * open (POST /admin/course-schedules, kind regular).
 *
 * One client pass in four is a product pass: a new parent buys the pack
 * or the membership (paid like a trial: WeChat's JSAPI or NATIVE, or
 * Alipay's QR), one time in three a second one (a renewal, or a second
 * pack); a member then upgrades to the dearer plan one time in three
 * (paying the difference for the time left; the period keeps its end),
 * then books regular classes with the credits or the membership,
 * one more than the credits allow now and then, and cancels some of them.
 * One time in four an operator refunds one of the parent's orders: in part
 * (a third), sometimes followed by the rest, or in full.  When every answer
 * the parent got was definite (no request left unanswered that could still
 * land), the credit balance GET /me shows at the end is written down too.
 * Every 2xx is acknowledged for the checker (fault.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"

#define REFUND_WAIT_MS 8000

/* ---- the driver's setup ------------------------------------------------------------------- */

/* POST an operator's create (Idempotency-Key: key), sent again while the
 * answer is transient (at most tries); the id of what it made, or -1. */
static long long
admin_create(const char *path, const char *body, const char *key, int tries)
{
	struct fault_resp r = { 0 };
	char extra[160];
	long long id = -1;
	long st;

	snprintf(extra, sizeof(extra), "Idempotency-Key: %s", key);
	st = fault_call("POST", path, fault_sh->operator_token, body, extra, &r, tries);
	if ((st == 200 || st == 201) && fault_num(&r, "id") > 0)
		id = fault_num(&r, "id");
	else
		fault_log("POST %s: %ld %.200s", path, st, r.body != NULL ? r.body : "");
	fault_resp_free(&r);
	return id;
}

int
fault_products_setup(void)
{
	char body[256], key[96];

	snprintf(body, sizeof(body), "{\"kind\":\"membership\",\"name\":\"fault-%s 月卡\","
	    "\"price_fen\":30000,\"days\":30}", fault_sh->runid);
	snprintf(key, sizeof(key), "fault-%s-membership", fault_sh->runid);
	fault_sh->membership_id = admin_create(FAULT_API "/admin/products", body, key, 12);
	fault_sh->membership_fen = 30000;
	snprintf(body, sizeof(body), "{\"kind\":\"class_pack\",\"name\":\"fault-%s 次卡\","
	    "\"price_fen\":45000,\"days\":60,\"credits\":%d}", fault_sh->runid, FAULT_PACK_CREDITS);
	snprintf(key, sizeof(key), "fault-%s-pack", fault_sh->runid);
	fault_sh->pack_id = admin_create(FAULT_API "/admin/products", body, key, 12);
	fault_sh->pack_fen = 45000;
	snprintf(body, sizeof(body), "{\"kind\":\"membership\",\"name\":\"fault-%s 月卡 Plus\","
	    "\"price_fen\":60000,\"days\":30}", fault_sh->runid);
	snprintf(key, sizeof(key), "fault-%s-upgrade", fault_sh->runid);
	fault_sh->upgrade_id = admin_create(FAULT_API "/admin/products", body, key, 12);
	return fault_sh->membership_id > 0 && fault_sh->pack_id > 0 && fault_sh->upgrade_id > 0 ?
	    0 : -1;
}

long long
fault_regular_add(void)
{
	static unsigned k;
	char body[320], key[96], starts[40], ends[40];
	time_t t = time(NULL) + 2 * 86400 + (time_t)(k % 600) * 60;
	struct tm tm;
	long long id;

	gmtime_r(&t, &tm);
	strftime(starts, sizeof(starts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	t += 3600;
	gmtime_r(&t, &tm);
	strftime(ends, sizeof(ends), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(body, sizeof(body), "{\"course_name\":\"fault-%s-regular-%u\",\"starts_at\":\"%s\","
	    "\"ends_at\":\"%s\",\"capacity\":%d,\"kind\":\"regular\"}", fault_sh->runid, k, starts,
	    ends, FAULT_REGULAR_CAPACITY);
	snprintf(key, sizeof(key), "fault-%s-regular-%u", fault_sh->runid, k++);
	if ((id = admin_create(FAULT_API "/admin/course-schedules", body, key, 3)) > 0)
		fault_count(FC_regular_added, 1);
	return id;
}

/* ---- one parent's products ---------------------------------------------------------------- */

struct pass {
	struct client *c;
	struct booking b;
	int definite;		/* no request unanswered that could still change the balance */
};

/* POST orders/create for product pid (an upgrade to it when upgrade): 0
 * with p->b.oid, or -1. */
static int
order(struct pass *p, long long pid, int upgrade)
{
	struct fault_resp r = { 0 };
	char body[96], key[96], ref[24];
	long st;

	snprintf(body, sizeof(body), "{\"product_id\":%lld%s}", pid,
	    upgrade ? ",\"upgrade\":true" : "");
	snprintf(key, sizeof(key), "Idempotency-Key: fault-%s-%d-%lu", fault_sh->runid,
	    p->c->index, p->c->seq++);
	st = fault_call("POST", FAULT_API "/payment/orders/create", p->b.token, body, key, &r, 12);
	p->b.oid[0] = '\0';
	if ((st == 200 || st == 201) && strlen(fault_str(&r, "order_id")) < sizeof(p->b.oid)) {
		snprintf(p->b.oid, sizeof(p->b.oid), "%s", fault_str(&r, "order_id"));
		snprintf(ref, sizeof(ref), "%lld", pid);
		fault_ack("product_order", p->b.oid, ref);
		fault_count(FC_product_orders, 1);
	} else {
		if (fault_transient(st))
			p->definite = 0;
		fault_count(FC_order_failed, 1);
	}
	fault_resp_free(&r);
	return p->b.oid[0] != '\0' ? 0 : -1;
}

/* Order pid (an upgrade to it when upgrade), prepay, pay and see it
 * paid: 1 when the parent saw it paid.  An order left unseen may still be
 * paid later. */
static int
buy(struct pass *p, long long pid, int upgrade)
{
	if (order(p, pid, upgrade) != 0)
		return 0;
	if (fault_prepay(&p->b) != 0 || !fault_pay(p->c, &p->b, NULL) ||
	    !fault_poll_paid(&p->b, "product_paid")) {
		p->definite = 0;
		return 0;
	}
	fault_count(FC_product_paid_seen, 1);
	return 1;
}

/* POST /bookings with pay_with: the booking's id, or 0. */
static long long
member_book(struct pass *p, const char *with)
{
	struct fault_resp r = { 0 };
	char body[96], key[96], id[24];
	long long sid, bid = 0;
	int slot;
	long st;

	if ((slot = fault_pick(&fault_sh->regular, 0, &sid)) < 0)
		return 0;
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld,\"pay_with\":\"%s\"}", sid, with);
	snprintf(key, sizeof(key), "Idempotency-Key: fault-%s-%d-%lu", fault_sh->runid,
	    p->c->index, p->c->seq++);
	st = fault_call("POST", FAULT_API "/bookings", p->b.token, body, key, &r, 12);
	if ((st == 200 || st == 201) && (bid = fault_num(&r, "booking_id")) > 0) {
		snprintf(id, sizeof(id), "%lld", bid);
		fault_ack("member_booking", id, with);
		fault_count(FC_member_bookings, 1);
	} else {
		if (st == 409 && strcmp(fault_str(&r, "code"), "SOLD_OUT") == 0)
			atomic_store(&fault_sh->regular.full[slot], 1);
		if (fault_transient(st))
			p->definite = 0;
		fault_count(FC_member_refused, 1);
		bid = 0;
	}
	fault_resp_free(&r);
	return bid;
}

/* DELETE /bookings/{id}. */
static void
member_cancel(struct pass *p, long long bid)
{
	struct fault_resp r = { 0 };
	char path[96], id[24];
	long st;

	snprintf(path, sizeof(path), FAULT_API "/bookings/%lld", bid);
	st = fault_call("DELETE", path, p->b.token, NULL, NULL, &r, 10);
	if (st == 200 && strcmp(fault_str(&r, "status"), "cancelled") == 0) {
		snprintf(id, sizeof(id), "%lld", bid);
		fault_ack("member_cancel", id, NULL);
		fault_count(FC_member_cancels, 1);
	} else if (fault_transient(st))
		p->definite = 0;
	fault_resp_free(&r);
}

/* The operator refunds oid (fen 0: all that is left) and waits for the
 * refund to succeed: 1 when it was seen to. */
static int
refund(struct pass *p, const char *oid, long long fen)
{
	struct fault_resp r = { 0 };
	char body[200], key[96], no[80] = "", path[160];
	long long until;
	int done = 0;
	long st;

	if (fault_sh->operator_token[0] == '\0')
		return 0;
	if (fen > 0)
		snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"fault run part\","
		    "\"amount_fen\":%lld}", oid, fen);
	else
		snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"fault run rest\"}",
		    oid);
	snprintf(key, sizeof(key), "Idempotency-Key: fault-%s-%d-%lu", fault_sh->runid,
	    p->c->index, p->c->seq++);
	st = fault_call("POST", FAULT_API "/admin/refunds", fault_sh->operator_token, body, key,
	    &r, 10);
	if (st >= 200 && st < 300 && fault_str(&r, "out_refund_no")[0] != '\0' &&
	    strlen(fault_str(&r, "out_refund_no")) < sizeof(no)) {
		snprintf(no, sizeof(no), "%s", fault_str(&r, "out_refund_no"));
		fault_ack("product_refund", no, oid);
		fault_count(FC_product_refunds_acked, 1);
	} else {
		fault_count(FC_product_refund_refused, 1);
		p->definite = 0;
	}
	fault_resp_free(&r);
	if (no[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), FAULT_API "/admin/refunds/%s", no);
	until = fault_now_ms() + REFUND_WAIT_MS;
	while (!done && fault_now_ms() < until && !atomic_load(&fault_sh->stop_clients)) {
		if (fault_api("GET", path, fault_sh->operator_token, NULL, NULL, &r) == 200 &&
		    strcmp(fault_str(&r, "status"), "success") == 0)
			done = 1;
		fault_resp_free(&r);
		if (!done)
			fault_sleep_ms(200);
	}
	if (!done)
		p->definite = 0;
	return done;
}

/* GET /me: the credit balance, written down against oid. */
static void
ack_balance(struct pass *p, const char *oid)
{
	struct fault_resp r = { 0 };
	const cJSON *cr, *bal;
	char v[24];

	if (fault_call("GET", FAULT_API "/me", p->b.token, NULL, NULL, &r, 8) == 200) {
		cr = cJSON_GetObjectItemCaseSensitive(r.json, "credits");
		bal = cJSON_GetObjectItemCaseSensitive(cr, "balance");
		if (cJSON_IsNumber(bal)) {
			snprintf(v, sizeof(v), "%lld", (long long)cJSON_GetNumberValue(bal));
			fault_ack("balance", oid, v);
			fault_count(FC_balances_seen, 1);
		}
	}
	fault_resp_free(&r);
}

void
fault_product_pass(struct client *c)
{
	struct pass p;
	char oids[3][40];
	long long pid, fen;
	int pack, orders = 0, nbook, which;

	memset(&p, 0, sizeof(p));
	p.c = c;
	p.definite = 1;
	p.b.product = 1;
	fault_count(FC_product_passes, 1);
	if (fault_login(c, &p.b) != 0)
		return;
	pack = fault_rand(10) < 6;
	pid = pack ? fault_sh->pack_id : fault_sh->membership_id;
	fen = pack ? fault_sh->pack_fen : fault_sh->membership_fen;
	if (!buy(&p, pid, 0))
		return;
	snprintf(oids[orders++], sizeof(oids[0]), "%s", p.b.oid);
	/* a renewal (or a second pack), sometimes */
	if (fault_rand(3) == 0 && buy(&p, pid, 0)) {
		snprintf(oids[orders++], sizeof(oids[0]), "%s", p.b.oid);
		fault_count(FC_renewals, 1);
	}
	/* a member's upgrade to the dearer plan, sometimes */
	if (!pack && fault_rand(3) == 0 && buy(&p, fault_sh->upgrade_id, 1)) {
		snprintf(oids[orders++], sizeof(oids[0]), "%s", p.b.oid);
		fault_count(FC_upgrades, 1);
	}
	/* bookings: with a pack, now and then one more than the credits */
	nbook = pack ? 1 + (int)fault_rand((unsigned long)(FAULT_PACK_CREDITS * orders + 1)) :
	    1 + (int)fault_rand(3);
	for (int i = 0; i < nbook && !fault_stop_now(); i++) {
		long long bid = member_book(&p, pack ? "credits" : "membership");

		if (bid > 0 && fault_rand(3) == 0)
			member_cancel(&p, bid);
	}
	/* an operator refunds one order: a third (then maybe the rest), or all */
	if (fault_rand(4) == 0) {
		which = (int)fault_rand((unsigned long)orders);
		if (fault_rand(2) == 0) {
			if (refund(&p, oids[which], fen / 3) && fault_rand(2) == 0)
				(void)refund(&p, oids[which], 0);
		} else
			(void)refund(&p, oids[which], 0);
	}
	if (p.definite)
		ack_balance(&p, oids[0]);
}
