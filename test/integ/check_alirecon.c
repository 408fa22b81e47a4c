/*
 * check_alirecon.c: the daily bill reconciliation of the Alipay channel
 * (lib/billrecon.c over lib/alipay_bill.c and lib/bill_parse_alipay.c)
 * against PostgreSQL and the Alipay simulator, whose bill is the GBK zip
 * Alipay ships, made from what it charged.  Payments are made the whole
 * way (order, QR prepay, the simulator pays, confirm asks Alipay) and
 * refunds sent through the channel, so the bill and the database each say
 * what really happened:
 * - a day with payments, a partial refund and their fees (服务费), and the
 *   account's money in and out from its 账务明细 (bill_type signcustomer)
 *   reconciles to zero discrepancies and is not fetched again unless forced;
 * - the cases every channel passes (recon_cases.c), through Alipay: each
 *   injected discrepancy is found (missing here, missing there, amount,
 *   status: a trade billed as 撤销); a zip cut short and one whose data no
 *   longer matches its CRC fail the day with one bad_file discrepancy and
 *   leave the day before untouched, a whole bill later settles it;
 * - the daily job reconciles yesterday for both channels, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "alitest.h"
#include "bill.h"
#include "checkout.h"
#include "integ.h"
#include "pgtest.h"
#include "recon_cases.h"
#include "simtest.h"

static struct gym_config cfg;
static struct gym_pay pay;
static const struct gym_registration reg = { "赵小雨", "2019-07-11", "13700137000", "" };
static const struct gym_actor op = { "operator", 1, "127.0.0.1", "check_integ", "t-op", NULL };
static char today[11], yesterday[11];

static void
setup(void)
{
	simt_config(&cfg);
	alit_config(&cfg);
	memset(&pay, 0, sizeof(pay));
	pay.db = pgt_open();
	pay.cfg = &cfg;
	simt_reset();
	ck_assert_int_eq(alit_request("POST", "/sim/reset", "", NULL), 200);
	recon_days(today, yesterday);
}

static void
teardown(void)
{
	(void)alit_request("POST", "/sim/reset", "", NULL);
	simt_reset();
	gym_pay_release(&pay);
	pgt_close(&pay.db);
	gym_config_free(&cfg);
}

/* A parent's order prepaid by Alipay QR and paid at the simulator (at
 * paid_at, unix seconds, when not 0); confirmed here (Alipay asked) when
 * confirm. */
static void
paid(const char *openid, long long paid_at, int confirm, struct gym_order *o)
{
	struct gym_prepay *pp = calloc(1, sizeof(*pp));
	struct gym_reservation r;
	struct gym_booking b;
	struct gym_actor a;
	char path[160];
	long long sid = pgt_schedule(pay.db, 2), uid = pgt_user(pay.db, openid);
	int created;

	ck_assert_ptr_nonnull(pp);
	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_hold_create(pay.db, &a, uid, sid, &r, &created), GYM_OK);
	ck_assert_int_eq(gym_checkout_order_create(&pay, &a, uid, sid, r.id, NULL, &reg, o,
	    &created), GYM_OK);
	ck_assert_int_eq(gym_checkout_prepay_alipay(&pay, &a, uid, o->order_id, GYM_TRADE_NATIVE,
	    NULL, pp), GYM_OK);
	ck_assert_str_eq(pp->order.out_trade_no, o->order_id);
	free(pp);
	snprintf(path, sizeof(path), "/sim/pay?out_trade_no=%s", o->order_id);
	if (paid_at != 0)
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "&paid_at=%lld", paid_at);
	ck_assert_int_eq(alit_request("POST", path, "", NULL), 200);
	if (confirm)
		ck_assert_int_eq(gym_checkout_confirm(&pay, uid, o->order_id, &b), GYM_OK);
}

/* An operator refunds fen of the order (0: what is left; Alipay answers
 * at once); its out_refund_no into orn. */
static void
refunded(const char *order_id, long long fen, char *orn, size_t len)
{
	struct gym_refund f;
	int created;

	ck_assert_int_eq(gym_checkout_refund_part(&pay, &op, order_id, "少上一节", 1, fen, &f,
	    &created), GYM_OK);
	ck_assert_str_eq(gym_refund_status_name(f.status), "success");
	snprintf(orn, len, "%s", f.out_refund_no);
}

static enum gym_err
recon(const char *date, int force, struct gym_recon_summary *s)
{
	return gym_recon_day(pay.db, &pay.channels, &cfg, GYM_CHANNEL_ALIPAY, date, force, s);
}

START_TEST(clean_day)
{
	struct gym_recon_summary s, s2;
	struct gym_order o1, o2, o3;
	char orn[72];
	const char *p[1] = { orn };

	paid("ar-clean-1", 0, 1, &o1);
	paid("ar-clean-2", 0, 1, &o2);
	paid("ar-clean-3", 0, 1, &o3);
	refunded(o2.order_id, 5000, orn, sizeof(orn));
	ck_assert_int_eq(recon(today, 0, &s), GYM_OK);
	ck_assert_str_eq(s.state, "done");
	ck_assert_str_eq(s.channel, "alipay");
	ck_assert_int_eq(s.fetched, 1);
	ck_assert_int_eq(s.bill_rows, 4);
	ck_assert_int_eq(s.matched, 4);
	ck_assert_int_eq(s.discrepancies, 0);
	ck_assert_int_eq(s.gross_fen, 60000);
	ck_assert_int_eq(s.refund_fen, 5000);
	ck_assert_int_eq(s.fee_fen, 3 * 120 - 30);	/* 0.6%, the refund's share given back */
	/* the account's 账务明细: the payments and the fee given back in, the
	 * fees and the refund out */
	ck_assert_int_eq(s.fund_in_fen, 60000 + 30);
	ck_assert_int_eq(s.fund_out_fen, 3 * 120 + 5000);
	/* each line tied to its order, with its fee */
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM recon_lines WHERE channel = "
	    "'alipay' AND kind = 'payment' AND fee_fen = 120 AND amount_fen = 20000 "
	    "AND order_id IS NOT NULL AND transaction_id LIKE '2026%'"), 3);
	ck_assert_int_eq(pgt_countp(pay.db, "SELECT count(*) FROM recon_lines WHERE kind = "
	    "'refund' AND fee_fen = -30 AND amount_fen = 5000 AND out_refund_no = $1", 1, p), 1);
	/* done: not fetched again; forced: the same lines, not twice */
	ck_assert_int_eq(recon(today, 0, &s2), GYM_OK);
	ck_assert_int_eq(s2.fetched, 0);
	ck_assert_int_eq(s2.run_id, s.run_id);
	ck_assert_int_eq(recon(today, 1, &s2), GYM_OK);
	ck_assert_int_eq(s2.fetched, 1);
	ck_assert_int_eq(s2.discrepancies, 0);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT count(*) FROM recon_lines"), 4);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT tries FROM recon_runs"), 2);
	/* the day before: nothing at Alipay, nothing here */
	ck_assert_int_eq(recon(yesterday, 0, &s), GYM_OK);
	ck_assert_str_eq(s.state, "done");
	ck_assert_int_eq(s.bill_rows, 0);
}
END_TEST

/* ---- the cases every channel passes (recon_cases.c), through Alipay ---- */

static void
ali_paid(struct gym_pay *p, const char *openid, long long paid_at, int confirm,
    struct gym_order *o)
{
	(void)p;
	paid(openid, paid_at, confirm, o);
}

static void
ali_refunded(struct gym_pay *p, const char *order_id, char *orn, size_t len)
{
	(void)p;
	refunded(order_id, 0, orn, len);
}

static void
ali_bill_faults(const char *json)
{
	ck_assert_int_eq(alit_request("POST", "/sim/bill-faults", json, NULL), 200);
}

static const struct recon_driver alipay = {
	GYM_CHANNEL_ALIPAY, ali_paid, ali_refunded, ali_bill_faults,
	{ "{\"truncate\":true}", "{\"truncate\":false,\"corrupt\":true}" },
	{ "BAD_FILE", "BAD_FILE" }, "{\"corrupt\":false}", "撤销",
};

START_TEST(each_discrepancy)
{
	recon_case_each_discrepancy(&pay, &alipay);
}
END_TEST

START_TEST(bad_files)
{
	recon_case_bad_files(&pay, &alipay);
}
END_TEST

/* The job: yesterday for each channel with a bill, once. */
START_TEST(job_both_channels)
{
	struct gym_recon_summary s;
	struct gym_order o;

	paid("ar-job", (long long)time(NULL) - 86400, 1, &o);
	free(cfg.reconcile_bill_time);
	ck_assert_ptr_nonnull(cfg.reconcile_bill_time = strdup("00:00"));
	ck_assert_int_eq(gym_recon_job_run(pay.db, &pay.channels, &cfg), 2);
	ck_assert_int_eq(gym_recon_get(pay.db, GYM_CHANNEL_ALIPAY, yesterday, &s), GYM_OK);
	ck_assert_str_eq(s.state, "done");
	ck_assert_int_eq(s.bill_rows, 1);
	ck_assert_int_eq(s.discrepancies, 0);
	ck_assert_int_eq(gym_recon_get(pay.db, GYM_CHANNEL_WECHAT, yesterday, &s), GYM_OK);
	ck_assert_str_eq(s.state, "done");
	ck_assert_int_eq(s.bill_rows, 0);
	ck_assert_int_eq(gym_recon_job_run(pay.db, &pay.channels, &cfg), 0);
	ck_assert_int_eq(pgt_count(pay.db, "SELECT sum(tries) FROM recon_runs"), 2);
}
END_TEST

Suite *
alirecon_suite(void)
{
	Suite *s = suite_create("alirecon");
	TCase *tc = tcase_create("alirecon");

	if (!simt_available("alirecon") || !alit_available("alirecon"))
		return s;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, clean_day);
	tcase_add_test(tc, each_discrepancy);
	tcase_add_test(tc, bad_files);
	tcase_add_test(tc, job_both_channels);
	suite_add_tcase(s, tc);
	return s;
}
