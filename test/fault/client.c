/*
 * client.c: one client process of the fault driver.  Each loop is one
 * parent, logged in with a code of its own, trying to book: hold a seat,
 * create the order, ask for a prepay (WeChat's JSAPI or NATIVE, or one time
 * in four Alipay's QR, paid at the Alipay simulator) and then, chosen at
 * random: pay at the simulator (most of the time), cancel (and sometimes
 * pay anyway, racing the close), let it lapse (and sometimes pay late),
 * pay twice for two orders, fail the payment, release the hold, walk
 * away, steal the one seat of a lapsed order, queue on a full class's
 * waitlist and take the seat it offers, try a second trial, or (the front
 * desk) cancel a class with its bookings in flight.  One
 * order in five seen paid is then refunded by an operator.  Every 2xx is
 * written down with fault_ack for the checker.
 * Counts of what the clients saw land in fault_sh->count.
 *
 * Faults make requests fail: a request that met 502/503/504, 500 or no
 * answer is sent again a few times, as a mini program would.  What the
 * client sees is only counted; the invariant checker judges the outcome.
 *
 * gymd has no clock to move, so "let it lapse" ages the order, its hold
 * and its seat in SQL (expires_at and held_until one second ago), which is
 * what 30 minutes of waiting would leave; the sweep and the close job do
 * the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "regfields.h"

int
fault_transient(long st)
{
	return st == 0 || st == 500 || st == 502 || st == 503 || st == 504;
}

int
fault_stop_now(void)
{
	long lim = atomic_load(&fault_sh->attempt_limit);

	return atomic_load(&fault_sh->stop_clients) || fault_orphaned() ||
	    (lim > 0 && atomic_load(&fault_sh->count[FC_attempts]) >= lim);
}

/* fault_api, sent again while the answer is transient (at most tries). */
long
fault_call(const char *method, const char *path, const char *token, const char *body,
    const char *extra, struct fault_resp *r, int tries)
{
	long st = 0;

	for (int i = 0; i < tries; i++) {
		st = fault_api(method, path, token, body, extra, r);
		if (!fault_transient(st) || atomic_load(&fault_sh->stop_clients))
			break;
		fault_sleep_ms(150 + (long)fault_rand(250));
	}
	return st;
}

int
fault_login(struct client *c, struct booking *b)
{
	struct fault_resp r = { 0 };
	char body[160];
	long st;

	snprintf(body, sizeof(body), "{\"code\":\"fault-%s-%d-%lu\"}", fault_sh->runid, c->index,
	    c->seq++);
	st = fault_call("POST", FAULT_API "/auth/wx-login", NULL, body, NULL, &r, 10);
	if (st == 200 && strlen(fault_str(&r, "token")) < sizeof(b->token)) {
		snprintf(b->token, sizeof(b->token), "%s", fault_str(&r, "token"));
		fault_count(FC_logins, 1);
	} else {
		b->token[0] = '\0';
		fault_count(FC_login_failed, 1);
	}
	fault_resp_free(&r);
	return b->token[0] != '\0' ? 0 : -1;
}

/* A class of the pool: a random open one of the newest, or (probe) any. */
int
fault_pick(struct fault_pool *p, int probe, long long *sid)
{
	int n = atomic_load(&p->n), lo, i = -1;

	if (n == 0)
		return -1;
	lo = n > 24 ? n - 24 : 0;
	for (int k = 0; k < 12; k++) {
		i = lo + (int)fault_rand((unsigned long)(n - lo));
		if (probe || !atomic_load(&p->full[i]))
			break;
	}
	*sid = p->id[i];
	return i;
}

static struct fault_pool *
pool_of(const struct booking *b)
{
	return b->tight ? &fault_sh->tight : &fault_sh->normal;
}

/* Write down the hold b was given (its id, its class) for the checker. */
static void
ack_hold(const struct booking *b)
{
	char id[24], ref[24];

	snprintf(id, sizeof(id), "%lld", b->rid);
	snprintf(ref, sizeof(ref), "%lld", b->sid);
	fault_ack("hold", id, ref);
}

/* POST seat-reserve: 0 with b->rid, or -1 (SOLD_OUT marks the class full). */
static int
reserve(struct booking *b)
{
	struct fault_resp r = { 0 };
	char body[80];
	long st;

	fault_count(FC_attempts, 1);
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", b->sid);
	st = fault_call("POST", FAULT_API "/bookings/seat-reserve", b->token, body, NULL, &r, 12);
	b->rid = 0;
	if (st == 200 || st == 201) {
		b->rid = fault_num(&r, "reservation_id");
		fault_count(FC_holds, 1);
		if (b->rid > 0)
			ack_hold(b);
	} else if (st == 409 && strcmp(fault_str(&r, "code"), "SOLD_OUT") == 0) {
		atomic_store(&pool_of(b)->full[b->slot], 1);
		fault_count(FC_sold_out, 1);
	} else if (st == 409 && strcmp(fault_str(&r, "code"), "TRIAL_ALREADY_BOOKED") == 0)
		fault_count(FC_trial_refused, 1);
	else
		fault_count(FC_hold_failed, 1);
	fault_resp_free(&r);
	return b->rid > 0 ? 0 : -1;
}

static void
release(struct booking *b)
{
	struct fault_resp r = { 0 };
	char path[128];

	snprintf(path, sizeof(path), FAULT_API "/bookings/seat-release?reservation_id=%lld", b->rid);
	if (fault_call("DELETE", path, b->token, NULL, NULL, &r, 8) == 200)
		fault_count(FC_released, 1);
	fault_resp_free(&r);
}

/* POST orders/create (with an Idempotency-Key): 0 with b->oid, or -1. */
static int
create_order(struct client *c, struct booking *b)
{
	struct fault_resp r = { 0 };
	char body[512], key[96];
	long st;

	snprintf(body, sizeof(body), "{" TEST_REGISTRATION ",\"course_schedule_id\":%lld,\"reservation_id\":%lld}",
	    b->sid, b->rid);
	snprintf(key, sizeof(key), "Idempotency-Key: fault-%s-%d-%lu", fault_sh->runid, c->index,
	    c->seq++);
	st = fault_call("POST", FAULT_API "/payment/orders/create", b->token, body, key, &r, 12);
	b->oid[0] = '\0';
	if ((st == 200 || st == 201) && strlen(fault_str(&r, "order_id")) < sizeof(b->oid)) {
		char ref[24];

		snprintf(b->oid, sizeof(b->oid), "%s", fault_str(&r, "order_id"));
		fault_count(FC_orders_created, 1);
		snprintf(ref, sizeof(ref), "%lld", b->rid);
		fault_ack("order", b->oid, ref);
	} else {
		if (st == 409 && strcmp(fault_str(&r, "code"), "SOLD_OUT") == 0)
			atomic_store(&pool_of(b)->full[b->slot], 1);
		fault_count(FC_order_failed, 1);
	}
	fault_resp_free(&r);
	return b->oid[0] != '\0' ? 0 : -1;
}

/* POST wxpay/create (or one time in four alipay/create QR): 0 when the
 * channel gave a prepay. */
int
fault_prepay(struct booking *b)
{
	struct fault_resp r = { 0 };
	char body[128];
	long st;

	b->alipay = fault_env_alisim()[0] != '\0' && fault_rand(4) == 0;
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"trade_type\":\"%s\"}", b->oid,
	    b->alipay ? "QR" : fault_rand(2) ? "JSAPI" : "NATIVE");
	/* a timeout costs wx.timeout_ms: three tries at most */
	st = fault_call("POST", b->alipay ? FAULT_API "/payment/alipay/create" :
	    FAULT_API "/payment/wxpay/create", b->token, body, NULL, &r, 3);
	fault_resp_free(&r);
	fault_count(st == 200 ? FC_prepays : FC_prepay_failed, 1);
	if (st == 200 && b->alipay)
		fault_count(FC_alipay_prepays, 1);
	if (st == 200)
		fault_ack("prepay", b->oid, NULL);
	return st == 200 ? 0 : -1;
}

static void
cancel(struct booking *b)
{
	struct fault_resp r = { 0 };
	char path[128];

	snprintf(path, sizeof(path), FAULT_API "/payment/orders/%s/cancel", b->oid);
	if (fault_call("POST", path, b->token, NULL, NULL, &r, 8) == 200)
		fault_count(FC_cancels, 1);
	fault_resp_free(&r);
}

/* The payer at the simulator: 1 when WeChat took the money. */
int
fault_pay(struct client *c, const struct booking *b, const char *state)
{
	struct fault_resp r = { 0 };
	char body[160];
	long st;

	if (b->alipay && state != NULL)
		return 0;		/* a failed Alipay payment: nothing arrives */
	if (b->alipay) {
		/* the buyer scans the QR and pays; the simulator notifies gymd */
		snprintf(body, sizeof(body), "/sim/pay?out_trade_no=%s", b->oid);
		st = fault_alisim("POST", body, NULL, &r);
		if (st == 200)
			fault_count(FC_alipay_payments, 1);
	} else {
		snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\"%s%s%s}", b->oid,
		    state ? ",\"trade_state\":\"" : "", state ? state : "", state ? "\"" : "");
		st = fault_sim("POST", "/sim/pay", body, &r);
	}
	fault_resp_free(&r);
	if (st != 200) {
		fault_count(FC_pay_refused, 1);
		return 0;
	}
	if (state != NULL)
		return 0;
	fault_count(FC_payments, 1);
	if (b->product)
		return 1;	/* no trial: not one for second_trial */
	snprintf(c->paid_tokens[c->npaid % PAID_RING], sizeof(c->paid_tokens[0]), "%s", b->token);
	c->npaid++;
	return 1;
}

/* The mini program polls the order for a while after paying: 1 when it
 * saw the order paid. */
int
fault_poll_paid(const struct booking *b, const char *kind)
{
	struct fault_resp r = { 0 };
	char path[128];

	snprintf(path, sizeof(path), FAULT_API "/payment/orders/%s", b->oid);
	for (int i = 0; i < 6; i++) {
		if (fault_api("GET", path, b->token, NULL, NULL, &r) == 200 &&
		    strcmp(fault_str(&r, "status"), "paid") == 0) {
			fault_count(FC_paid_seen, 1);
			fault_ack(kind, b->oid, NULL);
			fault_resp_free(&r);
			return 1;
		}
		fault_sleep_ms(100);
	}
	fault_resp_free(&r);
	return 0;
}

/* An operator refunds a paid order (POST /admin/refunds, one
 * Idempotency-Key for every try). */
static void
refund(struct client *c, const struct booking *b)
{
	struct fault_resp r = { 0 };
	char body[160], key[96];
	long st;

	if (fault_sh->operator_token[0] == '\0')
		return;
	fault_count(FC_refunds_asked, 1);
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"fault run\"}", b->oid);
	snprintf(key, sizeof(key), "Idempotency-Key: fault-%s-%d-%lu", fault_sh->runid, c->index,
	    c->seq++);
	st = fault_call("POST", FAULT_API "/admin/refunds", fault_sh->operator_token, body, key, &r, 10);
	if (st >= 200 && st < 300 && fault_str(&r, "out_refund_no")[0] != '\0') {
		fault_count(FC_refunds_acked, 1);
		fault_ack("refund", fault_str(&r, "out_refund_no"), b->oid);
	} else
		fault_count(FC_refund_refused, 1);
	fault_resp_free(&r);
}

/* Age the order, its hold and its seat as if 30 minutes had passed. */
static int
lapse(struct client *c, const struct booking *b)
{
	static const char *sql =
	    "WITH o AS (UPDATE payment_orders SET expires_at = now() - interval '1 second' "
	    " WHERE order_id = $1 AND status = 'pending' RETURNING reservation_id), "
	    "r AS (UPDATE seat_reservations SET expires_at = now() - interval '1 second' "
	    " WHERE id IN (SELECT reservation_id FROM o) AND status = 'temporary' RETURNING id) "
	    "UPDATE seats SET held_until = now() - interval '1 second' "
	    " WHERE reservation_id IN (SELECT id FROM r) AND state = 'held'";
	const char *p[1] = { b->oid };
	PGresult *res;
	int ok;

	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
		if (c->pg != NULL)
			PQfinish(c->pg);
		c->pg = PQconnectdb(fault_env_pguri());
		if (PQstatus(c->pg) != CONNECTION_OK)
			return -1;
	}
	res = PQexecParams(c->pg, sql, 1, NULL, p, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (ok)
		fault_count(FC_lapses, 1);
	return ok ? 0 : -1;
}

/* Log in a new parent, hold a seat, create the order, get a prepay.
 * 0 when all of it worked; what failed is left as it is (a hold or an
 * order nobody pays lapses, as in life). */
static int
book(struct client *c, struct booking *b, int tight, int probe)
{
	memset(b, 0, sizeof(*b));
	b->tight = tight;
	if (fault_login(c, b) != 0 || (b->slot = fault_pick(pool_of(b), probe, &b->sid)) < 0 ||
	    reserve(b) != 0 || create_order(c, b) != 0)
		return -1;
	if (fault_prepay(b) != 0) {
		if (fault_rand(2))
			cancel(b);
		return -1;
	}
	return 0;
}

/* ---- the cases ------------------------------------------------------------------------- */

/* A parent who paid tries again: TRIAL_ALREADY_BOOKED (unless the payment
 * has not arrived yet or was refunded). */
static void
second_trial(struct client *c)
{
	struct booking b;

	memset(&b, 0, sizeof(b));
	snprintf(b.token, sizeof(b.token), "%s",
	    c->paid_tokens[fault_rand((unsigned long)(c->npaid < PAID_RING ? c->npaid : PAID_RING))]);
	if ((b.slot = fault_pick(&fault_sh->normal, 0, &b.sid)) < 0)
		return;
	if (reserve(&b) == 0)
		release(&b);
}

/* A lapses on the only seat of a class, B takes the seat, then A's
 * payment arrives: no seat is left for it (a late refund). */
static void
steal(struct client *c)
{
	struct booking a, b;

	if (book(c, &a, 1, 0) != 0)
		return;
	if (lapse(c, &a) != 0) {
		cancel(&a);
		return;
	}
	memset(&b, 0, sizeof(b));
	b.tight = 1;
	b.slot = a.slot;
	b.sid = a.sid;
	if (fault_login(c, &b) != 0)
		return;
	if (reserve(&b) == 0)
		fault_count(FC_steals, 1);
	fault_count(FC_lapse_then_pay, 1);
	(void)fault_pay(c, &a, NULL);
	if (b.rid > 0 && create_order(c, &b) == 0 && fault_prepay(&b) == 0 && fault_pay(c, &b, NULL))
		fault_poll_paid(&b, "paid");
	atomic_store(&fault_sh->tight.full[a.slot], 1);
}

/* Two orders paid: A lapses, its parent books again (B), and then pays
 * A's old QR code before WeChat closed it.  A's payment finds B open: a
 * second trial, refunded (or, when the close won, WeChat refuses it). */
static void
double_pay(struct client *c, struct booking *a)
{
	struct booking b;

	fault_count(FC_double_orders, 1);
	if (lapse(c, a) != 0) {
		cancel(a);
		return;
	}
	b = *a;
	b.rid = 0;
	b.oid[0] = '\0';
	if (reserve(&b) != 0 || create_order(c, &b) != 0)
		return;
	(void)fault_pay(c, a, NULL);
	if (fault_prepay(&b) == 0 && fault_pay(c, &b, NULL))
		fault_poll_paid(&b, "paid");
}

/* b's waitlist offer for b->sid, polled for up to 5 s as the mini program
 * would: 0 with b->rid (the offer's hold), or -1. */
static int
wait_offer(struct booking *b)
{
	struct fault_resp r = { 0 };
	const cJSON *it, *h;
	long long until = fault_now_ms() + 5000;

	b->rid = 0;
	while (b->rid == 0 && fault_now_ms() < until && !atomic_load(&fault_sh->stop_clients)) {
		if (fault_call("GET", FAULT_API "/bookings/waitlist", b->token, NULL, NULL, &r, 3) == 200)
			cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r.json, "items")) {
				h = cJSON_GetObjectItemCaseSensitive(it, "hold");
				if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it,
				    "course_schedule_id")) == (double)b->sid && cJSON_IsObject(h))
					b->rid = (long long)cJSON_GetNumberValue(
					    cJSON_GetObjectItemCaseSensitive(h, "reservation_id"));
			}
		fault_resp_free(&r);
		if (b->rid == 0)
			fault_sleep_ms(200);
	}
	return b->rid > 0 ? 0 : -1;
}

static void
leave(struct booking *b)
{
	struct fault_resp r = { 0 };
	char path[128];

	snprintf(path, sizeof(path), FAULT_API "/bookings/waitlist?course_schedule_id=%lld", b->sid);
	if (fault_call("DELETE", path, b->token, NULL, NULL, &r, 8) == 200)
		fault_count(FC_waitlist_left, 1);
	fault_resp_free(&r);
}

/* A holds the one seat of a class; B joins its waitlist; A cancels; the
 * job offers the seat to B as a hold, which B pays (one time in four B
 * leaves instead, giving the hold back). */
static void
waitlist(struct client *c)
{
	struct fault_resp r = { 0 };
	struct booking a, b;
	char body[80];
	long st;

	if (book(c, &a, 1, 0) != 0)
		return;
	memset(&b, 0, sizeof(b));
	b.tight = 1;
	b.slot = a.slot;
	b.sid = a.sid;
	if (fault_login(c, &b) != 0) {
		cancel(&a);
		return;
	}
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", b.sid);
	st = fault_call("POST", FAULT_API "/bookings/waitlist", b.token, body, NULL, &r, 8);
	fault_resp_free(&r);
	cancel(&a);
	if (st != 200 && st != 201)
		return;
	fault_count(FC_waitlist_joined, 1);
	if (wait_offer(&b) != 0) {
		leave(&b);
		return;
	}
	fault_count(FC_waitlist_offers, 1);
	ack_hold(&b);
	if (fault_rand(4) == 0) {
		leave(&b);
		return;
	}
	if (create_order(c, &b) == 0 && fault_prepay(&b) == 0 && fault_pay(c, &b, NULL))
		fault_poll_paid(&b, "paid");
}

/* The front desk cancels a class of the normal pool, with whatever is in
 * flight on it, and now and then presses again. */
static void
cancel_class(void)
{
	struct fault_resp r = { 0 };
	char path[128], id[24];
	long long sid;
	int slot, presses = 1 + (int)fault_rand(2);

	if (fault_sh->operator_token[0] == '\0' || (slot = fault_pick(&fault_sh->normal, 1, &sid)) < 0)
		return;
	snprintf(path, sizeof(path), FAULT_API "/admin/course-schedules/%lld/cancel", sid);
	snprintf(id, sizeof(id), "%lld", sid);
	for (int i = 0; i < presses; i++) {
		if (fault_call("POST", path, fault_sh->operator_token, "{\"reason\":\"故障测试取消\"}",
		    NULL, &r, 10) == 200 && !fault_bool(&r, "already_cancelled")) {
			fault_count(FC_classes_cancelled, 1);
			fault_ack("class_cancel", id, "");
		}
		fault_resp_free(&r);
	}
	atomic_store(&fault_sh->normal.full[slot], 1);
}

static void
attempt(struct client *c)
{
	struct booking b;
	unsigned long r = fault_rand(100);

	if (r < 5 && c->npaid > 0) {
		second_trial(c);
		return;
	}
	if (r < 9) {
		steal(c);
		return;
	}
	if (r >= 39 && r < 43) {
		waitlist(c);
		return;
	}
	if (r == 43 && fault_rand(2) == 0) {
		cancel_class();
		return;
	}
	if (r >= 9 && r < 13) {
		memset(&b, 0, sizeof(b));
		if (fault_login(c, &b) == 0 && (b.slot = fault_pick(&fault_sh->normal, 0, &b.sid)) >= 0 &&
		    reserve(&b) == 0)
			release(&b);
		return;
	}
	/* one in ten tries a class that was full */
	if (book(c, &b, 0, fault_rand(10) == 0) != 0)
		return;
	if (r < 21) {
		cancel(&b);
		if (fault_rand(2)) {
			fault_count(FC_cancel_then_pay, 1);
			(void)fault_pay(c, &b, NULL);
		}
	} else if (r < 28) {
		if (lapse(c, &b) == 0 && fault_rand(10) < 6) {
			fault_count(FC_lapse_then_pay, 1);
			(void)fault_pay(c, &b, NULL);
		}
	} else if (r < 32)
		double_pay(c, &b);
	else if (r < 35) {
		fault_count(FC_payerrors, 1);
		(void)fault_pay(c, &b, "PAYERROR");
	} else if (r < 39)
		fault_count(FC_abandoned, 1);
	else if (fault_pay(c, &b, NULL) && fault_poll_paid(&b, "paid") && fault_rand(5) == 0)
		refund(c, &b);
}

void
fault_client_run(int index, unsigned long long seed)
{
	struct client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return;
	c->index = index;
	fault_rand_seed(seed);
	/* one pass in four buys products and books members' classes */
	while (!fault_stop_now())
		if (fault_sh->pack_id > 0 && fault_rand(4) == 0)
			fault_product_pass(c);
		else
			attempt(c);
	if (c->pg != NULL)
		PQfinish(c->pg);
	fault_http_done();
	free(c);
}
