/*
 * check_billparse.c: WeChat's bills read without a network or database
 * (lib/bill_parse.c): yuan to fen with integers only, backtick fields (a
 * comma inside one stays in it), payment and refund rows with their fees,
 * the summary checked against the rows, and bills cut short, with a
 * changed amount, a field too many or a wrong header refused with why.
 */
#include <string.h>

#include <check.h>

#include "bill.h"
#include "unit.h"

#define HEAD "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识," \
	"交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号," \
	"商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包," \
	"手续费,费率,订单金额,申请退款金额,费率备注\r\n"
#define PAY1 "`2026-12-04 10:00:00,`wx1,`1900000001,`0,`,`4200001,`GYMA000001,`o1,`NATIVE," \
	"`SUCCESS,`OTHERS,`CNY,`200.00,`0.00,`0,`0,`0.00,`0.00,`,`,`体验课, 周六,`,`1.20," \
	"`0.60%,`200.00,`0.00,`\r\n"
#define REF1 "`2026-12-04 12:00:00,`wx1,`1900000001,`0,`,`4200001,`GYMA000001,`o1,`NATIVE," \
	"`REFUND,`OTHERS,`CNY,`0.00,`0.00,`5000001,`RFGYM1,`200.00,`0.00,`ORIGINAL,`SUCCESS," \
	"`体验课,`,`-1.20,`0.60%,`0.00,`200.00,`\r\n"
#define SUMHEAD "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额," \
	"订单总金额,申请退款总金额\r\n"

START_TEST(yuan_to_fen)
{
	static const struct { const char *s; long long fen; } ok[] = {
		{ "200.00", 20000 }, { "0", 0 }, { "1.2", 120 }, { "-1.20", -120 },
		{ "0.01", 1 }, { "+3.05", 305 }, { "999999999999.99", 99999999999999LL },
	};
	static const char *const bad[] = { "", "-", "1.234", "1.", ".5", "1,00", " 1",
	    "1e3", "abc", "1.2x", "1234567890123456" };
	long long v;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(gym_yuan_fen(ok[i].s, strlen(ok[i].s), &v) == 0, "%s", ok[i].s);
		ck_assert_int_eq(v, ok[i].fen);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(gym_yuan_fen(bad[i], strlen(bad[i]), &v) == -1, "%s", bad[i]);
}
END_TEST

START_TEST(reads_rows)
{
	static const char text[] = "\xEF\xBB\xBF" HEAD PAY1 REF1 SUMHEAD
	    "`2,`200.00,`200.00,`0.00,`0.00,`200.00,`200.00\r\n";
	struct gym_bill b;
	char why[256];

	ck_assert_int_eq(gym_bill_parse_wechat(text, strlen(text), &b, why, sizeof(why)), GYM_OK);
	ck_assert_uint_eq(b.n, 2);
	ck_assert_int_eq(b.rows[0].refund, 0);
	ck_assert_str_eq(b.rows[0].out_trade_no, "GYMA000001");
	ck_assert_str_eq(b.rows[0].transaction_id, "4200001");
	ck_assert_str_eq(b.rows[0].time, "2026-12-04 10:00:00");
	ck_assert_int_eq(b.rows[0].amount_fen, 20000);
	ck_assert_int_eq(b.rows[0].fee_fen, 120);
	ck_assert_str_eq(b.rows[0].out_refund_no, "");
	ck_assert_int_eq(b.rows[1].refund, 1);
	ck_assert_str_eq(b.rows[1].out_refund_no, "RFGYM1");
	ck_assert_str_eq(b.rows[1].refund_state, "SUCCESS");
	ck_assert_int_eq(b.rows[1].amount_fen, 20000);
	ck_assert_int_eq(b.rows[1].fee_fen, -120);
	ck_assert_int_eq(b.count, 2);
	ck_assert_int_eq(b.gross_fen, 20000);
	ck_assert_int_eq(b.refund_fen, 20000);
	gym_bill_free(&b);
}
END_TEST

START_TEST(refuses_bad_bills)
{
	static const char *const bad[] = {
		/* cut short: no summary */
		HEAD PAY1,
		/* the summary's total is not the rows' */
		HEAD PAY1 SUMHEAD "`1,`200.01,`0.00,`0.00,`1.20,`200.01,`0.00\r\n",
		/* one row fewer than the summary says */
		HEAD PAY1 SUMHEAD "`2,`200.00,`0.00,`0.00,`1.20,`200.00,`0.00\r\n",
		/* a row cut in the middle */
		HEAD "`2026-12-04 10:00:00,`wx1,`1900000001\r\n" SUMHEAD "`0,`0,`0,`0,`0,`0,`0\r\n",
		/* a header without 手续费 */
		"交易时间,商户订单号\r\n" SUMHEAD "`0,`0,`0,`0,`0,`0,`0\r\n",
		/* text after the summary */
		HEAD PAY1 SUMHEAD "`1,`200.00,`0.00,`0.00,`1.20,`200.00,`0.00\r\nmore\r\n",
		"",
	};
	struct gym_bill b;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(gym_bill_parse_wechat(bad[i], strlen(bad[i]), &b, why,
		    sizeof(why)) == GYM_EINVAL, "bill %zu read", i);
		ck_assert_msg(why[0] != '\0', "bill %zu: no why", i);
		ck_assert_ptr_null(b.rows);
	}
}
END_TEST

START_TEST(fundflow_summary)
{
	static const char good[] = "记账时间,微信支付业务单号\r\n`a,`b\r\n`c,`d\r\n"
	    "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n`2,`1,`200.00,`1,`1.20\r\n";
	static const char bad[] = "记账时间,微信支付业务单号\r\n`a,`b\r\n"
	    "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n`2,`1,`200.00,`1,`1.20\r\n";
	struct gym_fundflow ff;
	char why[128];

	ck_assert_int_eq(gym_bill_parse_wechat_fundflow(good, strlen(good), &ff, why,
	    sizeof(why)), GYM_OK);
	ck_assert_int_eq(ff.in_fen, 20000);
	ck_assert_int_eq(ff.out_fen, 120);
	ck_assert_int_eq(gym_bill_parse_wechat_fundflow(bad, strlen(bad), &ff, why,
	    sizeof(why)), GYM_EINVAL);
	/* money below zero, money with no row, half a row: refused, nothing kept */
	{
		static const char *const sums[] = { "`2,`1,`-200.00,`1,`1.20", "`2,`2,`200.00,`0,`1.20",
		    "`2,`1.5,`200.00,`0.5,`1.20" };
		char text[256];

		for (size_t i = 0; i < sizeof(sums) / sizeof(sums[0]); i++) {
			snprintf(text, sizeof(text), "记账时间,微信支付业务单号\r\n`a,`b\r\n`c,`d\r\n"
			    "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n%s\r\n", sums[i]);
			ck_assert_msg(gym_bill_parse_wechat_fundflow(text, strlen(text), &ff, why,
			    sizeof(why)) == GYM_EINVAL, "%s read", sums[i]);
			ck_assert_int_eq(ff.in_fen, 0);
		}
	}
}
END_TEST

Suite *
billparse_suite(void)
{
	Suite *s = suite_create("billparse");
	TCase *tc = tcase_create("billparse");

	tcase_add_test(tc, yuan_to_fen);
	tcase_add_test(tc, reads_rows);
	tcase_add_test(tc, refuses_bad_bills);
	tcase_add_test(tc, fundflow_summary);
	suite_add_tcase(s, tc);
	return s;
}
