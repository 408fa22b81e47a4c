/*
 * check_recon.c: the daily bill reconciliation (lib/billrecon.c) against
 * PostgreSQL and the WeChat Pay simulator's bills (its own TLS listener,
 * no nginx).  Payments are made the whole way (order, prepay, the
 * simulator pays, confirm asks WeChat) and refunds sent and polled, so
 * the bill and the database each say what really happened:
 * - a day with payments, a refund and their fees reconciles to zero
 *   discrepancies, with each line's fee and the fund-flow totals, and is
 *   not fetched again unless forced;
 * - each injected discrepancy is found, and a bill whose hash does not
 *   match and a truncated one fail the day and leave the day before
 *   untouched: the cases every channel passes (recon_cases.c), here
 *   through WeChat;
 * - four processes reconciling the same day fetch and write it once;
 * - the job does yesterday once, and catches up the days it missed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "alipay.h"
#include "bill.h"
#include "checkout.h"
#include "integ.h"
#include "pgtest.h"
#include "recon_cases.h"
#include "refunds.h"
#include "simtest.h"

#define CONCURRENT 4

static struct gym_config cfg;
static struct gym_pay pay;
static const struct gym_registration reg = { "王小明", "2019-05-20", "13800138000", "" };
static const struct gym_actor op = { "operator", 1, "127.0.0.1", "check_integ", "t-op", NULL };
static char today[11], yesterday[11];

static void
setup(void)
{
	simt_config(&cfg);
	memset(&pay, 0, sizeof(pay));
	pay.db = pgt_open();
	pay.cfg = &cfg;
	simt_reset();
	simt_faults("{\"refund_delay_ms\":0}");
	recon_days(today, yesterday);
}

static void
teardown(void)
{
	simt_reset();
	gym_clock_set_offset(0);
	gym_pay_release(&pay);
	pgt_close(&pay.db);
	gym_config_free(&cfg);
}

/* A parent's order prepaid (NATIVE) and paid at WeChat, at success_time
 * (RFC 3339) when not NULL; confirmed here (WeChat asked) when confirm. */
static long long
paid(const char *openid, const char *success_time, int confirm, struct gym_order *o)
{
	struct gym_reservation r;
	struct gym_prepay pp;
	struct gym_booking b;
	struct gym_actor a;
	char body[256];
	long long sid = pgt_schedule(pay.db, 2), uid = pgt_user(pay.db, openid);
	int created;

	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_hold_create(pay.db, &a, uid, sid, &r, &created), GYM_OK);
	ck_assert_int_eq(gym_checkout_order_create(&pay, &a, uid, sid, r.id, NULL, &reg, o,
	    &created), GYM_OK);
	ck_assert_int_eq(gym_checkout_prepay(&pay, &a, uid, o->order_id, GYM_TRADE_NATIVE, &pp),
	    GYM_OK);
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\"%s%s%s}", o->order_id,
	    success_time != NULL ? ",\"success_time\":\"" : "",
	    success_time != NULL ? success_time : "", success_time != NULL ? "\"" : "");
	ck_assert_int_eq(simt_ctl("POST", "/sim/pay", body, NULL), 200);
	if (confirm)
		ck_assert_int_eq(gym_checkout_confirm(&pay, uid, o->order_id, &b), GYM_OK);
	return uid;
}

/* An operator refunds the order; WeChat settles it; the refund is polled
 * until it is a success here.  Its out_refund_no into orn. */
static void
refunded(const char *order_id, char *orn, size_t len)
{
	struct gym_refund f;
	char outcome[64], st[32];
	const char *p[1];
	int created, i;

	ck_assert_int_eq(gym_checkout_refund(&pay, &op, order_id, "家长取消", 1, &f, &created),
	    GYM_OK);
	snprintf(orn, len, "%s", f.out_refund_no);
	p[0] = orn;
	for (i = 0; i < 50; i++) {
		(void)gym_refund_poll(pay.db, &pay.channels, &cfg, orn, outcome, sizeof(outcome));
		pgt_textp(pay.db, "SELECT status FROM refunds WHERE out_refund_no = $1", 1, p, st,
		    sizeof(st));
		if (strcmp(st, "success") == 0)
			return;
		usleep(100 * 1000);
	}
	ck_abort_msg("refund %s never succeeded (%s)", orn, st);
}

static enum gym_err
recon(const char *date, int force, struct gym_recon_summary *s)
{
	return gym_recon_day(pay.db, &pay.channels, &cfg, GYM_CHANNEL_WECHAT, date, force, s);
}

START_TEST(clean_day)
{
	struct gym_recon_summary s, s2;
	struct gym_order o1, o2, o3;
	char orn[72];
	const char *p[1] = { orn };

	paid("rc-clean-1", NULL, 1, &o1);
	paid("rc-clean-2", NULL, 1, &o2);
	paid("rc-clean-3", NULL, 1, &o3);
	refunded(o2.order_id, orn, sizeof(orn));
	ck_assert_int_eq(recon(today, 0, &s), GYM_OK);
	ck_assert_str_eq(s.state, "done");
	ck_assert_int_eq(s.fetched, 1);
	ck_assert_int_eq(s.bill_rows, 4);
	ck_assert_int_eq(s.matched, 4);
	ck_assert_int_eq(s.discrepancies, 0);
	ck_assert_int_eq(s.gross_fen, 60000);
	ck_assert_int_eq(s.refund_fen, 20000);
	ck_assert_int_eq(s.fee_fen, 3 * 120 - 120);
	/* the fund flow: the payments and the fee given back in; fees and the
	 * refund out */
	ck_assert_int_eq(s.fund_in_fen, 60000 + 120);
	ck_assert_int_eq(s.fund_out_fen, 3 * 120 + 20000);
	/* each line's fee, the refund's given back */
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM recon_lines "
	    "WHERE kind = 'payment' AND fee_fen = 120 AND order_id IS NOT NULL"), 3);
	ck_assert_int_eq(pgt_countp(pay.db, "SELECT count(*) FROM recon_lines WHERE kind = 'refund' "
	    "AND fee_fen = -120 AND amount_fen = 20000 AND out_refund_no = $1", 1, p), 1);
	/* done: not fetched again, the same answer */
	ck_assert_int_eq(recon(today, 0, &s2), GYM_OK);
	ck_assert_int_eq(s2.fetched, 0);
	ck_assert_int_eq(s2.run_id, s.run_id);
	ck_assert_int_eq(s2.bill_rows, 4);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT tries FROM recon_runs"), 1);
	/* forced: fetched again, the same lines, not twice */
	ck_assert_int_eq(recon(today, 1, &s2), GYM_OK);
	ck_assert_int_eq(s2.fetched, 1);
	ck_assert_int_eq(s2.discrepancies, 0);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM recon_lines"), 4);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT tries FROM recon_runs"), 2);
	/* a day with nothing at WeChat and nothing here: done, empty */
	ck_assert_int_eq(recon(yesterday, 0, &s), GYM_OK);
	ck_assert_str_eq(s.state, "done");
	ck_assert_int_eq(s.bill_rows, 0);
	ck_assert_int_eq(s.discrepancies, 0);
}
END_TEST

/* ---- the cases every channel passes (recon_cases.c), through WeChat ---- */

static void
wx_paid(struct gym_pay *p, const char *openid, long long paid_at, int confirm,
    struct gym_order *o)
{
	char at[40];

	(void)p;
	if (paid_at != 0)
		gym_time_format_cst(paid_at * 1000000, at, sizeof(at));
	paid(openid, paid_at != 0 ? at : NULL, confirm, o);
}

static void
wx_refunded(struct gym_pay *p, const char *order_id, char *orn, size_t len)
{
	(void)p;
	refunded(order_id, orn, len);
}

static void
wx_bill_faults(const char *json)
{
	ck_assert_int_eq(simt_ctl("POST", "/sim/bill-faults", json, NULL), 200);
}

static const struct recon_driver wechat = {
	GYM_CHANNEL_WECHAT, wx_paid, wx_refunded, wx_bill_faults,
	{ "{\"bad_hash\":true}", "{\"bad_hash\":false,\"truncate\":true}" },
	{ "BAD_HASH", "BAD_FILE" }, "{\"truncate\":false}", "REVOKED",
};

START_TEST(each_discrepancy)
{
	recon_case_each_discrepancy(&pay, &wechat);
}
END_TEST

START_TEST(bad_files)
{
	simt_faults("{}");
	recon_case_bad_files(&pay, &wechat);
}
END_TEST

/* Each child reconciles today with its own channels; text: its state. */
static void
child_recon(struct pgt_client *c)
{
	struct gym_channels chans = { { NULL } };
	struct gym_recon_summary s;

	c->err = gym_recon_day(c->db, &chans, &cfg, GYM_CHANNEL_WECHAT, today, 0, &s);
	c->created = s.fetched;
	snprintf(c->text, sizeof(c->text), "%s", s.state);
	gym_channels_release(&chans);
}

START_TEST(concurrent_once)
{
	struct pgt_client out[CONCURRENT];
	struct gym_order o1, o2;
	int reported, bad, fetched = 0, i;

	paid("rc-conc-1", NULL, 1, &o1);
	paid("rc-conc-2", NULL, 1, &o2);
	reported = pgt_fork_clients(CONCURRENT, NULL, child_recon, NULL, out, &bad);
	ck_assert_int_eq(reported, CONCURRENT);
	ck_assert_int_eq(bad, 0);
	for (i = 0; i < CONCURRENT; i++) {
		ck_assert_msg(out[i].err == GYM_OK, "child %d: %d", i, out[i].err);
		fetched += out[i].created;
	}
	ck_assert_int_eq(fetched, 1);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM recon_runs"), 1);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT tries FROM recon_runs"), 1);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM recon_runs WHERE state = 'done'"),
	    1);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM recon_lines"), 2);
}
END_TEST

/* The job: nothing before reconcile_bill_time, yesterday once after. */
START_TEST(job_yesterday)
{
	struct gym_recon_summary s;
	struct gym_order o;
	char at[40];

	gym_time_format_cst(gym_now_us() - 86400LL * 1000000, at, sizeof(at));
	paid("rc-job", at, 1, &o);
	free(cfg.reconcile_bill_time);
	ck_assert_ptr_nonnull(cfg.reconcile_bill_time = strdup("off"));
	ck_assert_int_eq(gym_recon_job_run(pay.db, &pay.channels, &cfg), 0);
	free(cfg.reconcile_bill_time);
	ck_assert_ptr_nonnull(cfg.reconcile_bill_time = strdup("00:00"));
	/* WeChat's day, and Alipay's when the test stack configures it
	 * (check_alirecon.c tests that one) */
	ck_assert_int_eq(gym_recon_job_run(pay.db, &pay.channels, &cfg),
	    gym_ali_configured(&cfg) ? 2 : 1);
	ck_assert_int_eq(gym_recon_get(pay.db, GYM_CHANNEL_WECHAT, yesterday, &s), GYM_OK);
	ck_assert_str_eq(s.state, "done");
	ck_assert_int_eq(s.bill_rows, 1);
	ck_assert_int_eq(gym_recon_job_run(pay.db, &pay.channels, &cfg), 0);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT tries FROM recon_runs "
	    "WHERE channel = 'wechat'"), 1);
}
END_TEST

/* The job after days it missed (a host down, WeChat failing): each day
 * not done since the channel's first reconciled day, reconcile_catchup_days
 * back at most, oldest first and once; a done day is left alone. */
START_TEST(job_catches_up)
{
	struct gym_recon_summary s;
	struct gym_order o;
	char at[40], d[7][11];
	const char *p[1];
	int k;

	for (k = 1; k < 7; k++) {
		gym_time_format_cst(gym_now_us() - k * 86400LL * 1000000, at, sizeof(at));
		snprintf(d[k], sizeof(d[k]), "%.10s", at);
	}
	gym_time_format_cst(gym_now_us() - 3 * 86400LL * 1000000, at, sizeof(at));
	paid("rc-up3", at, 1, &o);
	gym_time_format_cst(gym_now_us() - 86400LL * 1000000, at, sizeof(at));
	paid("rc-up1", at, 1, &o);
	/* reconciled by hand: 6 days ago (the channel's first day) and 2 */
	ck_assert_int_eq(gym_recon_day(pay.db, &pay.channels, &cfg, GYM_CHANNEL_WECHAT, d[6], 0,
	    &s), GYM_OK);
	ck_assert_int_eq(gym_recon_day(pay.db, &pay.channels, &cfg, GYM_CHANNEL_WECHAT, d[2], 0,
	    &s), GYM_OK);
	free(cfg.reconcile_bill_time);
	ck_assert_ptr_nonnull(cfg.reconcile_bill_time = strdup("00:00"));
	cfg.reconcile_catchup_days = 4;
	/* WeChat: 4, 3 and 1 days ago (5 is past the window); Alipay, with
	 * no day of its own yet, yesterday alone */
	ck_assert_int_eq(gym_recon_job_run(pay.db, &pay.channels, &cfg),
	    gym_ali_configured(&cfg) ? 4 : 3);
	for (k = 1; k <= 4; k++) {
		ck_assert_int_eq(gym_recon_get(pay.db, GYM_CHANNEL_WECHAT, d[k], &s), GYM_OK);
		ck_assert_msg(strcmp(s.state, "done") == 0, "%s: %s", d[k], s.state);
		ck_assert_int_eq(s.bill_rows, k == 1 || k == 3 ? 1 : 0);
		ck_assert_int_eq(s.discrepancies, 0);
	}
	ck_assert_int_eq(gym_recon_get(pay.db, GYM_CHANNEL_WECHAT, d[5], &s), GYM_ENOTFOUND);
	ck_assert_int_eq(gym_recon_job_run(pay.db, &pay.channels, &cfg), 0);
	p[0] = GYM_CHANNEL_WECHAT;
	ck_assert_int_eq(pgt_countp(pay.db, "SELECT count(*) FROM recon_runs WHERE channel = $1 "
	    "AND tries = 1 AND state = 'done'", 1, p), 5);
	if (gym_ali_configured(&cfg)) {
		p[0] = GYM_CHANNEL_ALIPAY;
		ck_assert_int_eq(pgt_countp(pay.db, "SELECT count(*) FROM recon_runs "
		    "WHERE channel = $1", 1, p), 1);
	}
}
END_TEST

Suite *
recon_suite(void)
{
	Suite *s = suite_create("recon");
	TCase *tc = tcase_create("recon");

	if (!simt_available("recon"))
		return s;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, clean_day);
	tcase_add_test(tc, each_discrepancy);
	tcase_add_test(tc, bad_files);
	tcase_add_test(tc, concurrent_once);
	tcase_add_test(tc, job_yesterday);
	tcase_add_test(tc, job_catches_up);
	suite_add_tcase(s, tc);
	return s;
}
