/*
 * check_checkout.c: the payment use-cases of lib/checkout.c against
 * PostgreSQL and the WeChat Pay simulator (its own TLS listener, no nginx:
 * test/harness/simtest.h): prepay and its time_expire, switching trade
 * type (attempts), cancel-and-close, confirm's one question, refund
 * request-and-send, the price rule, and the hold and order lengths from
 * the config with no payment parameters served past time_expire.  The simulator's notifications go
 * nowhere here, so every payment reaches the database through a query the
 * use-case makes itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "attempts.h"
#include "checkout.h"
#include "integ.h"
#include "pgtest.h"
#include "reconcile.h"
#include "simtest.h"
#include "trial_limits.h"
#include "upstream_gate.h"

static struct gym_config cfg;
static struct gym_pay pay;
static const struct gym_registration reg = { "王小明", "2019-05-20", "13800138000", "" };

static void
setup(void)
{
	simt_config(&cfg);
	memset(&pay, 0, sizeof(pay));
	pay.db = pgt_open();
	pay.cfg = &cfg;
}

static void
teardown(void)
{
	struct gym_limits l = { GYM_HOLD_SECONDS_DEFAULT, GYM_ORDER_SECONDS_DEFAULT };

	(void)gym_limits_set(&l);
	gym_clock_set_offset(0);
	gym_pay_release(&pay);
	pgt_close(&pay.db);
	gym_config_free(&cfg);
}

/* A parent (openid) with a hold and an order on a new class of capacity
 * seats: the order into o, the parent's id returned. */
static long long
new_order(const char *openid, int seats, struct gym_order *o)
{
	struct gym_reservation r;
	struct gym_actor a;
	long long sid = pgt_schedule(pay.db, seats), uid = pgt_user(pay.db, openid);
	int created;

	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_hold_create(pay.db, &a, uid, sid, &r, &created), GYM_OK);
	ck_assert_int_eq(gym_checkout_order_create(&pay, &a, uid, sid, r.id, NULL, &reg, o,
	    &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	return uid;
}

static void
prepay(long long uid, const char *order_id, enum gym_trade t, struct gym_prepay *pp)
{
	struct gym_actor a = pgt_actor_user(uid);
	enum gym_err e = gym_checkout_prepay(&pay, &a, uid, order_id, t, pp);

	ck_assert_msg(e == GYM_OK, "prepay %s: %s (%s)", order_id, gym_strerror(e), pay.upstream);
}

/* The attempt's "state/error_code". */
static char *
attempt(const char *otn, char *buf, size_t len)
{
	const char *p[1] = { otn };

	pgt_textp(pay.db, "SELECT state || '/' || coalesce(error_code, '') FROM payment_attempts "
	    "WHERE out_trade_no = $1", 1, p, buf, len);
	return buf;
}

static char *
order_status(const char *order_id, char *buf, size_t len)
{
	const char *p[1] = { order_id };

	pgt_textp(pay.db, "SELECT status FROM payment_orders WHERE order_id = $1", 1, p, buf, len);
	return buf;
}

/* What the simulator recorded: a string member of /sim/orders/{no}. */
static char *
sim_str(const char *otn, const char *member, char *buf, size_t len)
{
	cJSON *o = simt_order(otn);

	ck_assert_msg(o != NULL, "the simulator knows no %s", otn);
	snprintf(buf, len, "%s", cJSON_IsString(cJSON_GetObjectItem(o, member)) ?
	    cJSON_GetObjectItem(o, member)->valuestring : "");
	cJSON_Delete(o);
	return buf;
}

/* Native prepay: a code_url, WeChat's time_expire is the hold's end; a
 * retry is the same attempt; confirm asks WeChat once and finds the
 * payment the notification has not brought. */
START_TEST(prepay_then_confirm)
{
	struct gym_prepay pp, pp2;
	struct gym_order o;
	struct gym_booking b;
	char buf[64], want[64];
	long long uid = new_order("co-confirm", 2, &o);

	prepay(uid, o.order_id, GYM_TRADE_NATIVE, &pp);
	ck_assert_msg(strncmp(pp.pay_params.code_url, "weixin://", 9) == 0, "%s", pp.pay_params.code_url);
	ck_assert_str_eq(pp.order.out_trade_no, o.order_id);
	gym_time_format_cst(pp.order.res.expires_at / 1000000 * 1000000, want, sizeof(want));
	ck_assert_str_eq(sim_str(o.order_id, "time_expire", buf, sizeof(buf)), want);
	prepay(uid, o.order_id, GYM_TRADE_NATIVE, &pp2);
	ck_assert_str_eq(pp2.pay_params.code_url, pp.pay_params.code_url);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM payment_attempts"), 1);
	/* not paid yet: pending after asking */
	ck_assert_int_eq(cfg.wx_query_spacing_s, 3);		/* the default */
	ck_assert_int_eq(gym_checkout_confirm(&pay, uid, o.order_id, &b), GYM_E_PAYMENT_PENDING);
	ck_assert_int_eq(simt_pay(o.order_id, NULL), 200);
	/* asked less than wx.query_spacing_s ago: the database answers */
	ck_assert_int_eq(gym_checkout_confirm(&pay, uid, o.order_id, &b), GYM_E_PAYMENT_PENDING);
	ck_assert_str_eq(order_status(o.order_id, buf, sizeof(buf)), "pending");
	gym_clock_set_offset(3);
	ck_assert_int_eq(gym_checkout_confirm(&pay, uid, o.order_id, &b), GYM_OK);
	ck_assert_str_eq(gym_booking_status_name(b.status), "confirmed");
	ck_assert_str_eq(order_status(o.order_id, buf, sizeof(buf)), "paid");
	ck_assert_str_eq(attempt(o.order_id, buf, sizeof(buf)), "paid/");
}
END_TEST

/* hold_minutes = 2, order_minutes = 5: the hold and the order last that
 * long, WeChat's time_expire is the hold's end, and once it has passed
 * neither the Native QR nor JSAPI parameters are served (409
 * ORDER_NOT_PAYABLE) although the order is still pending. */
START_TEST(limits_and_time_expire)
{
	struct gym_limits l = { 2 * 60, 5 * 60 }, bad = l;
	struct gym_prepay pp;
	struct gym_order o;
	struct gym_actor a;
	unsigned char *png = NULL;
	size_t len = 0;
	char buf[64], want[64];
	int64_t t0 = gym_now_us(), t1;
	long long uid;

	bad.order_s = 60;				/* shorter than the hold */
	ck_assert_int_eq(gym_limits_set(&bad), 0);
	ck_assert_int_eq(gym_limits_set(&l), 1);
	ck_assert_int_eq(GYM_HOLD_SECONDS, 120);
	ck_assert_int_eq(GYM_ORDER_SECONDS, 300);
	uid = new_order("co-limits", 2, &o);
	t1 = gym_now_us();
	ck_assert_int_ge(o.res.expires_at, t0 + 120LL * 1000000);
	ck_assert_int_le(o.res.expires_at, t1 + 120LL * 1000000);
	ck_assert_int_ge(o.expires_at, t0 + 300LL * 1000000);
	ck_assert_int_le(o.expires_at, t1 + 300LL * 1000000);
	prepay(uid, o.order_id, GYM_TRADE_NATIVE, &pp);
	gym_time_format_cst(pp.order.res.expires_at / 1000000 * 1000000, want, sizeof(want));
	ck_assert_str_eq(sim_str(o.order_id, "time_expire", buf, sizeof(buf)), want);
	ck_assert_int_eq(gym_checkout_qr_png(&pay, uid, o.order_id, &png, &len), GYM_OK);
	free(png);
	png = NULL;
	/* past time_expire, the order still has three minutes */
	gym_clock_set_offset(121);
	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_checkout_qr_png(&pay, uid, o.order_id, &png, &len),
	    GYM_E_ORDER_NOT_PAYABLE);
	ck_assert_ptr_null(png);
	ck_assert_int_eq(gym_checkout_prepay(&pay, &a, uid, o.order_id, GYM_TRADE_NATIVE, &pp),
	    GYM_E_ORDER_NOT_PAYABLE);
	ck_assert_int_eq(gym_checkout_prepay(&pay, &a, uid, o.order_id, GYM_TRADE_JSAPI, &pp),
	    GYM_E_ORDER_NOT_PAYABLE);
	ck_assert_str_eq(order_status(o.order_id, buf, sizeof(buf)), "pending");
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM payment_attempts"), 1);
	/* and past the order's own end: expired */
	gym_clock_set_offset(301);
	ck_assert_int_eq(gym_checkout_prepay(&pay, &a, uid, o.order_id, GYM_TRADE_NATIVE, &pp),
	    GYM_E_ORDER_NOT_PAYABLE);
	ck_assert_str_eq(order_status(o.order_id, buf, sizeof(buf)), "expired");
}
END_TEST

/* JSAPI then Native: a second attempt with its own out_trade_no, the
 * first closed at WeChat before; paying the second pays the order. */
START_TEST(switch_trade_type)
{
	struct gym_prepay pp;
	struct gym_order o;
	struct gym_booking b;
	char buf[64], otn2[48];
	long long uid = new_order("co-switch", 2, &o);

	prepay(uid, o.order_id, GYM_TRADE_JSAPI, &pp);
	ck_assert_str_ne(pp.pay_params.pay_sign, "");
	prepay(uid, o.order_id, GYM_TRADE_NATIVE, &pp);
	snprintf(otn2, sizeof(otn2), "%s-2", o.order_id);
	ck_assert_str_eq(pp.order.out_trade_no, otn2);
	ck_assert_str_eq(sim_str(o.order_id, "trade_state", buf, sizeof(buf)), "CLOSED");
	ck_assert_str_eq(attempt(o.order_id, buf, sizeof(buf)), "superseded/");
	ck_assert_str_eq(attempt(otn2, buf, sizeof(buf)), "open/");
	/* the closed one cannot be paid; the new one can */
	ck_assert_int_eq(simt_pay(o.order_id, NULL), 409);
	ck_assert_int_eq(simt_pay(otn2, NULL), 200);
	ck_assert_int_eq(gym_checkout_confirm(&pay, uid, o.order_id, &b), GYM_OK);
	ck_assert_str_eq(attempt(otn2, buf, sizeof(buf)), "paid/");
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM payment_transactions"), 1);
}
END_TEST

/* The first attempt was paid before the switch could close it: the
 * payment is applied, and there is nothing left to pay. */
START_TEST(switch_after_paid)
{
	struct gym_prepay pp;
	struct gym_order o;
	char buf[64];
	struct gym_actor a;
	long long uid = new_order("co-switch-paid", 2, &o);

	prepay(uid, o.order_id, GYM_TRADE_JSAPI, &pp);
	ck_assert_int_eq(simt_pay(o.order_id, NULL), 200);
	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_checkout_prepay(&pay, &a, uid, o.order_id, GYM_TRADE_NATIVE, &pp),
	    GYM_E_ORDER_NOT_PAYABLE);
	ck_assert_str_eq(order_status(o.order_id, buf, sizeof(buf)), "paid");
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM payment_attempts"), 1);
}
END_TEST

/* Cancel: the order and hold end, WeChat's order is closed, the attempt
 * records it. */
START_TEST(cancel_and_close)
{
	struct gym_prepay pp;
	struct gym_order o, c;
	struct gym_actor a;
	char buf[64];
	long long uid = new_order("co-cancel", 1, &o);

	prepay(uid, o.order_id, GYM_TRADE_NATIVE, &pp);
	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_checkout_cancel(&pay, &a, uid, o.order_id, &c), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(c.status), "cancelled");
	ck_assert_int_eq(pgt_available(pay.db, o.schedule_id), 1);
	ck_assert_str_eq(sim_str(o.order_id, "trade_state", buf, sizeof(buf)), "CLOSED");
	ck_assert_str_eq(attempt(o.order_id, buf, sizeof(buf)), "closed/");
}
END_TEST

/* Paid at WeChat while the parent cancelled: the close says so, the
 * payment is fetched and the late-payment rules keep the seat. */
START_TEST(cancel_paid_meanwhile)
{
	struct gym_prepay pp;
	struct gym_order o, c;
	struct gym_actor a;
	char buf[64];
	long long uid = new_order("co-cancel-paid", 1, &o);

	prepay(uid, o.order_id, GYM_TRADE_NATIVE, &pp);
	ck_assert_int_eq(simt_pay(o.order_id, NULL), 200);
	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_checkout_cancel(&pay, &a, uid, o.order_id, &c), GYM_OK);
	ck_assert_str_eq(order_status(o.order_id, buf, sizeof(buf)), "paid");
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM payment_transactions "
	    "WHERE outcome = 'late_paid'"), 1);
}
END_TEST

/* A failed payment (PAYERROR, no notification): confirm's question fails
 * the order, frees the seat, and the attempt keeps WeChat's code. */
START_TEST(payerror_frees_seat)
{
	struct gym_prepay pp;
	struct gym_order o;
	struct gym_booking b;
	char buf[64];
	long long uid = new_order("co-payerror", 1, &o);

	prepay(uid, o.order_id, GYM_TRADE_NATIVE, &pp);
	ck_assert_int_eq(pgt_available(pay.db, o.schedule_id), 0);
	ck_assert_int_eq(simt_pay(o.order_id, "PAYERROR"), 200);
	ck_assert_int_eq(gym_checkout_confirm(&pay, uid, o.order_id, &b), GYM_E_ORDER_NOT_PAYABLE);
	ck_assert_str_eq(order_status(o.order_id, buf, sizeof(buf)), "failed");
	ck_assert_str_eq(attempt(o.order_id, buf, sizeof(buf)), "failed/PAYERROR");
	ck_assert_int_eq(pgt_available(pay.db, o.schedule_id), 1);
}
END_TEST

/* An operator's refund is recorded and sent at once, against the attempt
 * that paid (here the second, after a switch); a repeat is the same. */
START_TEST(refund_sent)
{
	static const struct gym_actor op = { "operator", 1, "127.0.0.1", "check_integ", "t-op",
	    NULL };
	struct gym_prepay pp;
	struct gym_order o;
	struct gym_booking b;
	struct gym_refund f, f2;
	char otn2[48], path[96];
	cJSON *refunds = NULL;
	long long uid = new_order("co-refund", 2, &o);
	int created = 0, found = 0;

	prepay(uid, o.order_id, GYM_TRADE_JSAPI, &pp);
	prepay(uid, o.order_id, GYM_TRADE_NATIVE, &pp);
	snprintf(otn2, sizeof(otn2), "%s-2", o.order_id);
	ck_assert_int_eq(simt_pay(otn2, NULL), 200);
	ck_assert_int_eq(gym_checkout_confirm(&pay, uid, o.order_id, &b), GYM_OK);
	ck_assert_int_eq(gym_checkout_refund(&pay, &op, o.order_id, "家长取消", 1, &f, &created),
	    GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_str_eq(f.out_trade_no, otn2);
	ck_assert_str_ne(gym_refund_status_name(f.status), "pending");		/* WeChat has it */
	ck_assert_int_eq(gym_checkout_refund(&pay, &op, o.order_id, "家长取消", 1, &f2, &created),
	    GYM_OK);
	ck_assert_int_eq(created, 0);
	ck_assert_str_eq(f2.out_refund_no, f.out_refund_no);
	snprintf(path, sizeof(path), "/sim/refunds");
	ck_assert_int_eq(simt_ctl("GET", path, NULL, &refunds), 200);
	for (cJSON *r = refunds != NULL ? refunds->child : NULL; r != NULL; r = r->next) {
		cJSON *items = cJSON_IsArray(r) ? r : NULL;

		for (cJSON *i = items != NULL ? items->child : NULL; i != NULL; i = i->next)
			if (cJSON_IsString(cJSON_GetObjectItem(i, "out_refund_no")) &&
			    strcmp(cJSON_GetObjectItem(i, "out_refund_no")->valuestring,
			    f.out_refund_no) == 0) {
				found++;
				ck_assert_str_eq(cJSON_GetObjectItem(i, "out_trade_no")->valuestring,
				    otn2);
			}
	}
	cJSON_Delete(refunds);
	ck_assert_int_eq(found, 1);
}
END_TEST

/* The price is the server's: a client that names another is refused and
 * audited; one that names the price is fine. */
START_TEST(price_rule)
{
	struct gym_client_amount ca = { "1.00", 0, 0, 0, 0 };
	struct gym_reservation r;
	struct gym_order o;
	struct gym_actor a;
	long long sid = pgt_schedule(pay.db, 1), uid = pgt_user(pay.db, "co-price");
	int created;

	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_hold_create(pay.db, &a, uid, sid, &r, &created), GYM_OK);
	ck_assert_int_eq(gym_checkout_order_create(&pay, &a, uid, sid, r.id, &ca, &reg, &o,
	    &created), GYM_E_AMOUNT_MISMATCH);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM payment_audit_log "
	    "WHERE action_type = 'amount_mismatch'"), 1);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM payment_orders"), 0);
	ca.yuan_text = "200.00";
	ck_assert_int_eq(gym_checkout_order_create(&pay, &a, uid, sid, r.id, &ca, &reg, &o,
	    &created), GYM_OK);
	ck_assert_int_eq(o.amount_fen, GYM_PRICE_FEN);
}
END_TEST

/* The parent's WeChat lock across two connections (two workers or hosts):
 * the second attempt fails while the first holds it, another parent is not
 * held up, and it is free again after the leave or when the holder's
 * session ends (a worker killed mid-call). */
START_TEST(gate_parent_lock)
{
	struct gym_db *db2 = pgt_open(), *db3 = pgt_open();
	struct gym_gate g1, g2, g3;
	enum gym_err e;
	int i;
	long long u1 = pgt_user(pay.db, "gate-one"), u2 = pgt_user(pay.db, "gate-two");

	ck_assert_int_eq(gym_gate_enter(pay.db, &cfg, u1, &g1), GYM_OK);
	ck_assert_int_eq(gym_gate_enter(db2, &cfg, u1, &g2), GYM_E_TOO_MANY_REQUESTS);
	ck_assert_int_eq(gym_gate_enter(db2, &cfg, u2, &g2), GYM_OK);
	gym_gate_leave(pay.db, &g1);
	ck_assert_int_eq(gym_gate_enter(db3, &cfg, u1, &g3), GYM_OK);
	/* the holder's connection ends without a leave: the lock goes with it
	 * (once its backend has seen the end: up to 5 s) */
	pgt_close(&db3);
	for (i = 0; (e = gym_gate_enter(pay.db, &cfg, u1, &g1)) == GYM_E_TOO_MANY_REQUESTS &&
	    i < 100; i++)
		usleep(50000);
	ck_assert_int_eq(e, GYM_OK);
	gym_gate_leave(pay.db, &g1);
	gym_gate_leave(db2, &g2);
	/* a user of 0 (a login) takes no lock */
	ck_assert_int_eq(gym_gate_enter(pay.db, &cfg, 0, &g1), GYM_OK);
	ck_assert_int_eq(gym_gate_enter(db2, &cfg, 0, &g2), GYM_OK);
	gym_gate_leave(pay.db, &g1);
	gym_gate_leave(db2, &g2);
	pgt_close(&db2);
}
END_TEST

/* Query spacing: one claim per order per spacing, agreed between two
 * connections; the clock moved past it claims again; an order that is not
 * pending is never claimed. */
START_TEST(gate_query_spacing)
{
	struct gym_db *db2 = pgt_open();
	struct gym_order o;
	char ids[4][33];
	int c1 = 0, c2 = 0, n = 0;

	new_order("gate-spacing", 2, &o);
	ck_assert_int_eq(gym_gate_query_claim(pay.db, o.order_id, 3, &c1), GYM_OK);
	ck_assert_int_eq(gym_gate_query_claim(db2, o.order_id, 3, &c2), GYM_OK);
	ck_assert_int_eq(c1, 1);
	ck_assert_int_eq(c2, 0);
	gym_clock_set_offset(2);
	ck_assert_int_eq(gym_gate_query_claim(db2, o.order_id, 3, &c2), GYM_OK);
	ck_assert_int_eq(c2, 0);
	gym_clock_set_offset(3);
	ck_assert_int_eq(gym_gate_query_claim(db2, o.order_id, 3, &c2), GYM_OK);
	ck_assert_int_eq(c2, 1);
	ck_assert_int_eq(gym_gate_query_claim(pay.db, o.order_id, 3, &c1), GYM_OK);
	ck_assert_int_eq(c1, 0);
	/* the job's reconcile claim still finds the order once its own
	 * interval has passed since the last question */
	pgt_exec(pay.db, "UPDATE payment_orders SET prepay_at = now() - interval '1 hour'");
	gym_clock_set_offset(3 + cfg.wx_reconcile_after_s);
	ck_assert_int_eq(gym_reconcile_claim(pay.db, cfg.wx_reconcile_schedule,
	    cfg.wx_reconcile_points, ids, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	pgt_close(&db2);
}
END_TEST

/* The job's questions follow the schedule: at 10, 30, 60, 120 and 300 s
 * after the prepay, then every 300 s; a point passed since the last
 * question makes the order due once, a claim (or a confirm's question) in
 * between moves the next one on. */
START_TEST(reconcile_schedule)
{
	static const int sched[] = { 10, 30, 60, 120, 300 };
	static const struct {
		int at;		/* seconds after the prepay */
		int due;
	} steps[] = {
		{ 5, 0 }, { 10, 1 }, { 12, 0 }, { 29, 0 }, { 31, 1 }, { 59, 0 }, { 61, 1 },
		{ 100, 0 }, { 130, 1 }, { 200, 0 }, { 299, 0 }, { 300, 1 }, { 500, 0 },
		{ 600, 1 }, { 601, 0 }, { 1000, 1 }, { 1100, 0 }, { 1200, 1 },
	};
	struct gym_order o;
	char ids[4][33], at[40];
	const char *p[1] = { at };
	int n;

	new_order("reconcile-schedule", 2, &o);
	pgt_time(at, sizeof(at), 0);
	pgt_execp(pay.db, "UPDATE payment_orders SET prepay_at = $1::timestamptz, "
	    "reconciled_at = NULL", 1, p);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		gym_clock_set_offset(steps[i].at);
		ck_assert_int_eq(gym_reconcile_claim(pay.db, sched, 5, ids, 4, &n), GYM_OK);
		ck_assert_msg(n == steps[i].due, "%d s after the prepay: %d claimed, want %d",
		    steps[i].at, n, steps[i].due);
		if (n == 1)
			ck_assert_str_eq(ids[0], o.order_id);
	}
	/* a confirm's question counts: asked at 1250 (reconciled_at), the
	 * job's next question is at 1500 */
	gym_clock_set_offset(1250);
	pgt_time(at, sizeof(at), 0);
	pgt_execp(pay.db, "UPDATE payment_orders SET reconciled_at = $1::timestamptz", 1, p);
	gym_clock_set_offset(1499);
	ck_assert_int_eq(gym_reconcile_claim(pay.db, sched, 5, ids, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	gym_clock_set_offset(1501);
	ck_assert_int_eq(gym_reconcile_claim(pay.db, sched, 5, ids, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	/* a schedule that cannot be */
	ck_assert_int_eq(gym_reconcile_claim(pay.db, sched, 0, ids, 4, &n), GYM_EINVAL);
}
END_TEST

Suite *
checkout_suite(void)
{
	Suite *s = suite_create("checkout");
	TCase *tc = tcase_create("use-cases");

	if (!simt_available("checkout suite"))
		return s;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, prepay_then_confirm);
	tcase_add_test(tc, reconcile_schedule);
	tcase_add_test(tc, limits_and_time_expire);
	tcase_add_test(tc, switch_trade_type);
	tcase_add_test(tc, switch_after_paid);
	tcase_add_test(tc, cancel_and_close);
	tcase_add_test(tc, cancel_paid_meanwhile);
	tcase_add_test(tc, payerror_frees_seat);
	tcase_add_test(tc, refund_sent);
	tcase_add_test(tc, price_rule);
	suite_add_tcase(s, tc);
	tc = tcase_create("gate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, gate_parent_lock);
	tcase_add_test(tc, gate_query_spacing);
	suite_add_tcase(s, tc);
	return s;
}
