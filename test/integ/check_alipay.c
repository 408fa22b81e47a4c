/*
 * check_alipay.c: Alipay through the channel seam (lib/channel_alipay.c,
 * lib/alipay.c) against the Alipay simulator test/alisim on its own TLS
 * listener (GYM_TEST_ALISIM_BASE, started by test/run_all.sh suite_integ):
 * a QR payment not there until scanned, then waiting, then paid; the
 * simulator's signed notification opened by the channel and a tampered
 * copy refused; close before and after the scan and of a paid trade;
 * partial refunds with out_request_no (a retry moves nothing), the last
 * one closing the trade, one too many refused; the refund query; a page
 * pay URL; the bill URL; a request signed with the wrong key and an
 * answer checked with the wrong key both fail.  The use case
 * (gym_checkout_prepay_alipay, with PostgreSQL): an order switched from a
 * WeChat Native prepay to an Alipay QR (the WeChat attempt superseded,
 * the order's payment_method alipay) and paid at the simulator is booked
 * by confirm's question; page pay's URL; bad trade types and return URLs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>

#include "alipay.h"
#include "alitest.h"
#include "attempts.h"
#include "channel.h"
#include "checkout.h"
#include "crypto.h"
#include "integ.h"
#include "json.h"
#include "pgtest.h"
#include "simtest.h"

static struct gym_config cfg;
static struct gym_channel *ch;

static void
setup(void)
{
	simt_config(&cfg);
	alit_config(&cfg);
	ck_assert_int_eq(gym_channel_new(&cfg, GYM_CHANNEL_ALIPAY, &ch), GYM_OK);
}

static void
teardown(void)
{
	gym_channel_free(ch);
	ch = NULL;
	gym_config_free(&cfg);
}

/* POST /sim/<what>?out_trade_no=no: the status, *body the answer. */
static long
ctl(const char *what, const char *no, char **body)
{
	char *path = gym_asprintf("/sim/%s?out_trade_no=%s", what, no);
	long status;

	ck_assert_ptr_nonnull(path);
	status = alit_request("POST", path, "", body);
	free(path);
	return status;
}

/* GET /sim/trade?out_trade_no=no: its number member name. */
static long long
trade_num(const char *no, const char *name)
{
	char *path = gym_asprintf("/sim/trade?out_trade_no=%s", no), *buf = NULL;
	cJSON *j;
	long long v;

	ck_assert_ptr_nonnull(path);
	ck_assert_int_eq(alit_request("GET", path, NULL, &buf), 200);
	free(path);
	ck_assert_ptr_nonnull(j = cJSON_Parse(buf));
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(j, name));
	v = (long long)cJSON_GetObjectItemCaseSensitive(j, name)->valuedouble;
	cJSON_Delete(j);
	free(buf);
	return v;
}

/* POST /sim/faults with json: the status. */
static long
sim_faults(const char *json)
{
	return alit_request("POST", "/sim/faults", json, NULL);
}

/* A fresh trade, precreated (QR) through the channel. */
static void
precreate(char *no, size_t len)
{
	struct gym_channel_payment p = { NULL, GYM_TRADE_NATIVE, NULL, 20000, 0, NULL };
	struct gym_channel_params *out = calloc(1, sizeof(*out));

	ck_assert_ptr_nonnull(out);
	p.out_trade_no = simt_trade_no(no, len);
	ck_assert_int_eq(gym_channel_pay(ch, &p, out), GYM_OK);
	ck_assert_msg(strncmp(out->code_url, "https://qr.alipay.com/", 22) == 0, "%s",
	    out->code_url);
	free(out);
}

static enum gym_err
open_form(const char *body, struct gym_channel_event *ev)
{
	const struct gym_channel_notice n = { NULL, 0, body, strlen(body) };

	memset(ev, 0, sizeof(*ev));
	return gym_channel_open_event(ch, &n, ev);
}

START_TEST(test_qr_paid)
{
	struct gym_channel_trade t;
	struct gym_channel_event ev;
	char no[40], *form = NULL, *p;

	precreate(no, sizeof(no));
	/* not scanned yet: Alipay knows no trade */
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_ENOTFOUND);
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "ACQ.TRADE_NOT_EXIST");
	ck_assert_int_eq(ctl("scan", no, NULL), 200);
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_OK);
	ck_assert_int_eq(t.state, GYM_CHANNEL_PAYING);
	ck_assert_str_eq(t.state_code, "WAIT_BUYER_PAY");
	gym_channel_trade_clear(&t);
	ck_assert_int_eq(ctl("pay", no, &form), 200);
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_OK);
	ck_assert_int_eq(t.state, GYM_CHANNEL_PAID);
	ck_assert_str_eq(t.out_trade_no, no);
	ck_assert_int_eq(t.amount_fen, 20000);
	ck_assert_int_eq(t.payer_fen, 20000);
	ck_assert_int_ne(t.success_us, 0);
	ck_assert_int_ne(strlen(t.transaction_id), 0);
	/* the notification the simulator sent opens into the same payment */
	ck_assert_int_eq(open_form(form, &ev), GYM_OK);
	ck_assert_int_eq(ev.kind, GYM_CHANNEL_EVENT_PAYMENT);
	ck_assert_int_eq(ev.trade.state, GYM_CHANNEL_PAID);
	ck_assert_str_eq(ev.trade.out_trade_no, no);
	ck_assert_str_eq(ev.trade.transaction_id, t.transaction_id);
	ck_assert_int_eq(ev.trade.amount_fen, 20000);
	gym_channel_event_clear(&ev);
	gym_channel_trade_clear(&t);
	/* the amount changed after signing: refused */
	ck_assert_ptr_nonnull(p = strstr(form, "total_amount=200.00"));
	p[strlen("total_amount=")] = '1';
	ck_assert_int_eq(open_form(form, &ev), GYM_ECRYPTO);
	ck_assert_int_eq(ctl("pay", no, NULL), 409);		/* paid once */
	free(form);
}
END_TEST

/* The notify URL here answers nothing: the simulator tries again after
 * Alipay's first interval (4 minutes, times 0.01 here), and again. */
START_TEST(test_notify_retried)
{
	char no[40];
	int64_t until;

	precreate(no, sizeof(no));
	ck_assert_int_eq(ctl("pay", no, NULL), 200);
	ck_assert_int_eq(trade_num(no, "notify_tries"), 1);
	ck_assert_int_eq(trade_num(no, "notified"), 0);
	until = gym_now_us() + 8000000;
	while (trade_num(no, "notify_tries") < 2 && gym_now_us() < until)
		usleep(200000);
	ck_assert_int_eq(trade_num(no, "notify_tries"), 2);
	ck_assert_int_eq(trade_num(no, "notified"), 0);
}
END_TEST

/* The WeChat simulator's fault members: the next two gateway calls answer
 * 503 (the second after doing its work), then all is well again. */
START_TEST(test_faults)
{
	struct gym_channel_trade t;
	char no[40];

	ck_assert_int_eq(sim_faults("{\"api_status\":\"x\"}"), 400);
	precreate(no, sizeof(no));
	ck_assert_int_eq(ctl("scan", no, NULL), 200);
	ck_assert_int_eq(sim_faults("{\"api_status\":503,\"api_fail_count\":1}"), 200);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_EUPSTREAM);
	ck_assert_int_eq(gym_channel_last_error(ch)->http_status, 503);
	/* after its work: the close happened, its answer was lost */
	ck_assert_int_eq(sim_faults("{\"api_status\":500,\"api_fail_count\":1,"
	    "\"api_fail_after\":true}"), 200);
	ck_assert_int_eq(gym_channel_close(ch, no), GYM_EUPSTREAM);
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_OK);
	ck_assert_int_eq(t.state, GYM_CHANNEL_CLOSED);
	gym_channel_trade_clear(&t);
	ck_assert_int_eq(sim_faults("{\"api_status\":0,\"api_fail_count\":0,"
	    "\"api_fail_after\":false}"), 200);
}
END_TEST

START_TEST(test_close)
{
	struct gym_channel_trade t;
	char no[40];

	precreate(no, sizeof(no));
	ck_assert_int_eq(gym_channel_close(ch, no), GYM_ENOTFOUND);	/* never scanned */
	ck_assert_int_eq(ctl("scan", no, NULL), 200);
	ck_assert_int_eq(gym_channel_close(ch, no), GYM_OK);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_OK);
	ck_assert_int_eq(t.state, GYM_CHANNEL_CLOSED);
	gym_channel_trade_clear(&t);
	ck_assert_int_eq(ctl("pay", no, NULL), 409);
	/* a paid trade cannot be closed */
	precreate(no, sizeof(no));
	ck_assert_int_eq(ctl("pay", no, NULL), 200);
	ck_assert_int_eq(gym_channel_close(ch, no), GYM_ECONFLICT);
}
END_TEST

START_TEST(test_refunds)
{
	struct gym_channel_refund_req r = { NULL, "RF1", "trial", 5000, 20000 };
	struct gym_channel_refund f;
	struct gym_channel_trade t;
	struct gym_ali_client *c;
	cJSON *node;
	char no[40];

	precreate(no, sizeof(no));
	ck_assert_int_eq(ctl("pay", no, NULL), 200);
	r.out_trade_no = no;
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(gym_channel_refund_send(ch, &r, &f), GYM_OK);
	ck_assert_int_eq(f.state, GYM_CHANNEL_REFUND_SUCCESS);
	ck_assert_int_eq(f.refund_fen, 5000);
	ck_assert_str_eq(gym_json_string(f.doc, "fund_change"), "Y");
	gym_channel_refund_clear(&f);
	/* the same out_request_no again: done already, nothing moves */
	ck_assert_int_eq(gym_channel_refund_send(ch, &r, &f), GYM_OK);
	ck_assert_str_eq(gym_json_string(f.doc, "fund_change"), "N");
	ck_assert_str_eq(gym_json_string(f.doc, "refund_fee"), "50.00");
	gym_channel_refund_clear(&f);
	r.out_refund_no = "RF2";
	r.refund_fen = 15000;
	ck_assert_int_eq(gym_channel_refund_send(ch, &r, &f), GYM_OK);
	ck_assert_str_eq(gym_json_string(f.doc, "refund_fee"), "200.00");
	gym_channel_refund_clear(&f);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_OK);
	ck_assert_int_eq(t.state, GYM_CHANNEL_REFUNDED);
	gym_channel_trade_clear(&t);
	r.out_refund_no = "RF3";
	r.refund_fen = 1;
	ck_assert_int_eq(gym_channel_refund_send(ch, &r, &f), GYM_EUPSTREAM);
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
	/* the refund query through the seam (it names the trade) */
	ck_assert_int_eq(gym_channel_refund_query(ch, no, "RF1", &f), GYM_OK);
	ck_assert_int_eq(f.state, GYM_CHANNEL_REFUND_SUCCESS);
	ck_assert_int_eq(f.refund_fen, 5000);
	ck_assert_str_eq(f.out_refund_no, "RF1");
	gym_channel_refund_clear(&f);
	ck_assert_int_eq(gym_channel_refund_query(ch, no, "RF9", &f), GYM_ENOTFOUND);
	ck_assert_int_eq(gym_ali_client_new(&cfg, &c), GYM_OK);
	ck_assert_int_eq(gym_ali_refund_query(c, no, "RF1", &node), GYM_OK);
	ck_assert_str_eq(gym_json_string(node, "refund_status"), "REFUND_SUCCESS");
	ck_assert_str_eq(gym_json_string(node, "refund_amount"), "50.00");
	cJSON_Delete(node);
	ck_assert_int_eq(gym_ali_refund_query(c, no, "RF9", &node), GYM_OK);
	ck_assert_ptr_null(gym_json_string(node, "refund_status"));	/* none */
	cJSON_Delete(node);
	gym_ali_client_free(c);
}
END_TEST

START_TEST(test_page_and_bill)
{
	struct gym_channel_payment p = { NULL, GYM_TRADE_PAGE, NULL, 20000, 0,
	    "https://gym.example.com/pay/return" };
	struct gym_channel_params *out = calloc(1, sizeof(*out));
	struct gym_ali_client *c;
	char no[40], *url;

	ck_assert_ptr_nonnull(out);
	p.out_trade_no = simt_trade_no(no, sizeof(no));
	ck_assert_int_eq(gym_channel_pay(ch, &p, out), GYM_OK);
	ck_assert(strncmp(out->pay_url, cfg.ali_gateway_url, strlen(cfg.ali_gateway_url)) == 0);
	ck_assert_ptr_nonnull(strstr(out->pay_url, "method=alipay.trade.page.pay"));
	free(out);
	ck_assert_int_eq(gym_ali_client_new(&cfg, &c), GYM_OK);
	ck_assert_int_eq(gym_ali_bill_url(c, "trade", "2026-11-21", &url), GYM_OK);
	ck_assert_ptr_nonnull(strstr(url, "billDate=2026-11-21"));
	free(url);
	gym_ali_client_free(c);
}
END_TEST

/* Our request signed with a key Alipay does not know; Alipay's answer
 * checked with a key that is not Alipay's. */
START_TEST(test_wrong_keys)
{
	struct gym_channel_trade t;
	EVP_PKEY *good;
	char no[40];

	precreate(no, sizeof(no));
	good = cfg.ali_app_key;
	cfg.ali_app_key = alit_key("alipay_platform_key.pem", 1);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_EUPSTREAM);
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "isv.invalid-signature");
	EVP_PKEY_free(cfg.ali_app_key);
	cfg.ali_app_key = good;
	good = cfg.ali_public_key;
	cfg.ali_public_key = alit_key("alipay_app_pub.pem", 0);
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_EUPSTREAM);
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "SIGN_VERIFY_FAILED");
	EVP_PKEY_free(cfg.ali_public_key);
	cfg.ali_public_key = good;
}
END_TEST

/* ---- the use case: gym_checkout_prepay_alipay ------------------------------------------ */

static struct gym_pay pay;
static const struct gym_registration reg = { "李小花", "2019-03-02", "13900139000", "" };

static void
setup_checkout(void)
{
	setup();
	memset(&pay, 0, sizeof(pay));
	pay.db = pgt_open();
	pay.cfg = &cfg;
}

static void
teardown_checkout(void)
{
	gym_pay_release(&pay);
	pgt_close(&pay.db);
	teardown();
}

/* A parent with a hold and an order: the order into o, the parent's id. */
static long long
new_order(const char *openid, struct gym_order *o)
{
	struct gym_reservation r;
	struct gym_actor a;
	long long sid = pgt_schedule(pay.db, 3), uid = pgt_user(pay.db, openid);
	int created;

	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_hold_create(pay.db, &a, uid, sid, &r, &created), GYM_OK);
	ck_assert_int_eq(gym_checkout_order_create(&pay, &a, uid, sid, r.id, NULL, &reg, o,
	    &created), GYM_OK);
	return uid;
}

/* The order's "payment_method/status". */
static char *
order_row(const char *oid, char *buf, size_t len)
{
	const char *p[1] = { oid };

	pgt_textp(pay.db, "SELECT payment_method || '/' || status FROM payment_orders "
	    "WHERE order_id = $1", 1, p, buf, len);
	return buf;
}

/* The attempt's "channel/trade_type/state". */
static char *
attempt_row(const char *otn, char *buf, size_t len)
{
	const char *p[1] = { otn };

	pgt_textp(pay.db, "SELECT channel || '/' || trade_type || '/' || state "
	    "FROM payment_attempts WHERE out_trade_no = $1", 1, p, buf, len);
	return buf;
}

START_TEST(test_checkout_switch_and_pay)
{
	struct gym_prepay *pp = calloc(1, sizeof(*pp));
	struct gym_order o;
	struct gym_booking b;
	struct gym_actor a;
	char buf[128], otn[GYM_OUT_TRADE_NO_LEN];
	long long uid;

	ck_assert_ptr_nonnull(pp);
	uid = new_order(simt_trade_no(buf, sizeof(buf)), &o);
	a = pgt_actor_user(uid);
	/* first WeChat's Native QR (wxsim), then the parent switches to Alipay */
	ck_assert_int_eq(gym_checkout_prepay(&pay, &a, uid, o.order_id, GYM_TRADE_NATIVE, pp),
	    GYM_OK);
	ck_assert_str_eq(order_row(o.order_id, buf, sizeof(buf)), "wechat/pending");
	ck_assert_int_eq(gym_checkout_prepay_alipay(&pay, &a, uid, o.order_id, GYM_TRADE_NATIVE,
	    NULL, pp), GYM_OK);
	ck_assert_msg(strncmp(pp->pay_params.code_url, "https://qr.alipay.com/", 22) == 0, "%s",
	    pp->pay_params.code_url);
	ck_assert_str_eq(pp->order.payment_method, "alipay");
	snprintf(otn, sizeof(otn), "%s", pp->order.out_trade_no);
	ck_assert_str_ne(otn, o.order_id);
	ck_assert_str_eq(attempt_row(o.order_id, buf, sizeof(buf)), "wechat/NATIVE/superseded");
	ck_assert_str_eq(attempt_row(otn, buf, sizeof(buf)), "alipay/QR/open");
	ck_assert_str_eq(order_row(o.order_id, buf, sizeof(buf)), "alipay/pending");
	/* asked again: the same attempt and the same QR */
	ck_assert_int_eq(gym_checkout_prepay_alipay(&pay, &a, uid, o.order_id, GYM_TRADE_NATIVE,
	    NULL, pp), GYM_OK);
	ck_assert_str_eq(pp->order.out_trade_no, otn);
	/* the buyer pays at Alipay; confirm's question books it */
	ck_assert_int_eq(ctl("pay", otn, NULL), 200);
	ck_assert_int_eq(gym_checkout_confirm(&pay, uid, o.order_id, &b), GYM_OK);
	ck_assert_str_eq(order_row(o.order_id, buf, sizeof(buf)), "alipay/paid");
	ck_assert_str_eq(attempt_row(otn, buf, sizeof(buf)), "alipay/QR/paid");
	/* paid: no more prepays on either channel */
	ck_assert_int_eq(gym_checkout_prepay_alipay(&pay, &a, uid, o.order_id, GYM_TRADE_PAGE,
	    NULL, pp), GYM_E_ORDER_NOT_PAYABLE);
	free(pp);
}
END_TEST

/* The refund's status word. */
static const char *
refund_status(const struct gym_refund *f)
{
	return gym_refund_status_name(f->status);
}

START_TEST(test_checkout_partial_refunds)
{
	struct gym_prepay *pp = calloc(1, sizeof(*pp));
	struct gym_actor a, op = { "operator", 7, NULL, "check", NULL, NULL };
	struct gym_booking b;
	struct gym_refund f, f2;
	struct gym_order o;
	char buf[128];
	long long uid;
	int created;

	ck_assert_ptr_nonnull(pp);
	uid = new_order(simt_trade_no(buf, sizeof(buf)), &o);
	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_checkout_prepay_alipay(&pay, &a, uid, o.order_id, GYM_TRADE_NATIVE,
	    NULL, pp), GYM_OK);
	ck_assert_int_eq(ctl("pay", o.order_id, NULL), 200);
	ck_assert_int_eq(gym_checkout_confirm(&pay, uid, o.order_id, &b), GYM_OK);
	/* 50.00 back: Alipay's answer is the refund's success; the order is paid again */
	ck_assert_int_eq(gym_checkout_refund_part(&pay, &op, o.order_id, "少上一节", 7, 5000, &f,
	    &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_str_eq(refund_status(&f), "success");
	ck_assert_int_eq(f.amount_fen, 5000);
	ck_assert_str_eq(order_row(o.order_id, buf, sizeof(buf)), "alipay/paid");
	ck_assert_int_eq(gym_booking_get(pay.db, uid, o.order_id, &b), GYM_OK);
	ck_assert_int_eq(b.status, GYM_BOOKING_CONFIRMED);
	/* pressed again: the same refund, nothing sent */
	ck_assert_int_eq(gym_checkout_refund_part(&pay, &op, o.order_id, "少上一节", 7, 5000, &f2,
	    &created), GYM_OK);
	ck_assert_int_eq(created, 0);
	ck_assert_str_eq(f2.out_refund_no, f.out_refund_no);
	ck_assert_int_eq(trade_num(o.order_id, "refunds"), 1);
	/* more than is left */
	ck_assert_int_eq(gym_checkout_refund_part(&pay, &op, o.order_id, "全部退", 7, 20000, &f2,
	    &created), GYM_EINVAL);
	/* the rest (0: what is left): the order is refunded, its booking cancelled */
	ck_assert_int_eq(gym_checkout_refund_part(&pay, &op, o.order_id, "全部退", 7, 0, &f2,
	    &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_str_ne(f2.out_refund_no, f.out_refund_no);
	ck_assert_int_eq(f2.amount_fen, 15000);
	ck_assert_str_eq(refund_status(&f2), "success");
	ck_assert_str_eq(order_row(o.order_id, buf, sizeof(buf)), "alipay/refunded");
	ck_assert_int_eq(trade_num(o.order_id, "refunds"), 2);
	ck_assert_int_eq(trade_num(o.order_id, "refunded_fen"), 20000);
	ck_assert_int_eq(gym_checkout_refund_part(&pay, &op, o.order_id, "再退", 7, 1, &f2,
	    &created), GYM_E_NOT_REFUNDABLE);
	free(pp);
}
END_TEST

START_TEST(test_checkout_page)
{
	struct gym_prepay *pp = calloc(1, sizeof(*pp));
	struct gym_order o;
	struct gym_actor a;
	char buf[128];
	long long uid;

	ck_assert_ptr_nonnull(pp);
	uid = new_order(simt_trade_no(buf, sizeof(buf)), &o);
	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_checkout_prepay_alipay(&pay, &a, uid, o.order_id, GYM_TRADE_JSAPI,
	    NULL, pp), GYM_EINVAL);
	ck_assert_int_eq(gym_checkout_prepay_alipay(&pay, &a, uid, o.order_id, GYM_TRADE_PAGE,
	    "javascript:alert(1)", pp), GYM_EINVAL);
	ck_assert_int_eq(gym_checkout_prepay_alipay(&pay, &a, uid, o.order_id, GYM_TRADE_PAGE,
	    "https://gym.example.com/demo/?paid=1", pp), GYM_OK);
	ck_assert(strncmp(pp->pay_params.pay_url, cfg.ali_gateway_url,
	    strlen(cfg.ali_gateway_url)) == 0);
	ck_assert_ptr_nonnull(strstr(pp->pay_params.pay_url, "method=alipay.trade.page.pay"));
	ck_assert_ptr_nonnull(strstr(pp->pay_params.pay_url, "return_url=https%3A%2F%2Fgym."));
	ck_assert_str_eq(attempt_row(o.order_id, buf, sizeof(buf)), "alipay/PAGE/open");
	/* then wap: the page attempt is superseded (Alipay never saw it) */
	ck_assert_int_eq(gym_checkout_prepay_alipay(&pay, &a, uid, o.order_id, GYM_TRADE_WAP,
	    NULL, pp), GYM_OK);
	ck_assert_ptr_nonnull(strstr(pp->pay_params.pay_url, "method=alipay.trade.wap.pay"));
	ck_assert_str_eq(attempt_row(o.order_id, buf, sizeof(buf)), "alipay/PAGE/superseded");
	ck_assert_str_eq(attempt_row(pp->order.out_trade_no, buf, sizeof(buf)),
	    "alipay/WAP/open");
	ck_assert(gym_return_url_ok("http://127.0.0.1:8443/demo/"));
	ck_assert(!gym_return_url_ok("https://a b"));
	ck_assert(!gym_return_url_ok("ftp://x"));
	ck_assert(!gym_return_url_ok(""));
	free(pp);
}
END_TEST

Suite *
alipay_suite(void)
{
	Suite *s = suite_create("alipay");
	TCase *tc = tcase_create("alisim");

	if (!simt_available("alipay") || !alit_available("alipay"))
		return s;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_qr_paid);
	tcase_add_test(tc, test_close);
	tcase_add_test(tc, test_notify_retried);
	tcase_add_test(tc, test_faults);
	tcase_add_test(tc, test_refunds);
	tcase_add_test(tc, test_page_and_bill);
	tcase_add_test(tc, test_wrong_keys);
	suite_add_tcase(s, tc);
	tc = tcase_create("checkout");
	tcase_add_checked_fixture(tc, setup_checkout, teardown_checkout);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_checkout_switch_and_pay);
	tcase_add_test(tc, test_checkout_page);
	tcase_add_test(tc, test_checkout_partial_refunds);
	suite_add_tcase(s, tc);
	return s;
}
