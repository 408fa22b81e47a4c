/*
 * check_alibillparse.c: Alipay's 业务明细 read without a network or
 * database (lib/bill_parse_alipay.c): comment lines skipped, the header
 * found among them, identifier cells' tabs dropped, 交易 and 退款 rows with
 * their fees (服务费 negative on a 交易 row), another business type kept
 * as a row in its own state and left out of the totals, the totals lines
 * checked against the rows; bills cut short, changed, or with a field too
 * many refused with why; gym_bill_parse picks the reader by channel.
 * The account's 账务明细 the same way: money in and out counted from its
 * rows and checked against its 收入合计/支出合计 lines.
 */
#include <string.h>

#include <check.h>

#include "bill.h"
#include "channel.h"
#include "unit.h"

#define TOP "#支付宝业务明细查询\r\n#账号：[20880000000000010156]\r\n" \
	"#起始日期：[2026年12月04日 00:00:00]   终止日期：[2026年12月04日 23:59:59]\r\n" \
	"#-----------------------------------------业务明细列表-------------------------------\r\n"
#define HEAD "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称," \
	"操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）," \
	"支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）," \
	"卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n"
#define PAY(no, otn, amt, fee) no "\t," otn "\t,交易\t,体操馆-体验课,2026-12-04 10:00:00," \
	"2026-12-04 10:00:05,,,,,208810******6880," amt "," amt ",0.00,0.00,0.00,0.00,0.00,," \
	"0.00,0.00,," fee ",0.00,\r\n"
#define REF(no, otn, amt, orn, fee) no "\t," otn "\t,退款\t,体操馆-体验课," \
	"2026-12-04 12:00:00,2026-12-04 12:00:01,,,,,208810******6880,-" amt ",-" amt "," \
	"0.00,0.00,0.00,0.00,0.00,,0.00,0.00," orn "\t," fee ",0.00,\r\n"
#define END "#-----------------------------------------业务明细列表结束-------------------\r\n"
#define TOTALS(np, gross, nr, ref) "#交易合计：" np "笔，商家实收共" gross "元，商家优惠共0.00元\r\n" \
	"#退款合计：" nr "笔，商家实收退款共-" ref "元，商家优惠退款共0.00元\r\n" \
	"#导出时间：[2026-12-05 10:00:00]\r\n"

#define T1 "2026120422001446880500000001"
#define T2 "2026120422001446880500000002"

START_TEST(reads_rows)
{
	static const char text[] = TOP HEAD PAY(T1, "GYMA000001", "200.00", "-1.20")
	    PAY(T2, "GYMA000002", "1680.00", "-10.08")
	    REF(T1, "GYMA000001", "50.00", "RFGYM000001", "0.30") END
	    TOTALS("2", "1880.00", "1", "50.00");
	struct gym_bill b;
	char why[256];

	ck_assert_int_eq(gym_bill_parse_alipay(text, strlen(text), &b, why, sizeof(why)), GYM_OK);
	ck_assert_uint_eq(b.n, 3);
	ck_assert_int_eq(b.rows[0].refund, 0);
	ck_assert_str_eq(b.rows[0].transaction_id, T1);
	ck_assert_str_eq(b.rows[0].out_trade_no, "GYMA000001");
	ck_assert_str_eq(b.rows[0].trade_state, "SUCCESS");
	ck_assert_str_eq(b.rows[0].time, "2026-12-04 10:00:05");
	ck_assert_str_eq(b.rows[0].out_refund_no, "");
	ck_assert_int_eq(b.rows[0].amount_fen, 20000);
	ck_assert_int_eq(b.rows[0].fee_fen, 120);
	ck_assert_int_eq(b.rows[1].amount_fen, 168000);
	ck_assert_int_eq(b.rows[1].fee_fen, 1008);
	ck_assert_int_eq(b.rows[2].refund, 1);
	ck_assert_str_eq(b.rows[2].out_refund_no, "RFGYM000001");
	ck_assert_str_eq(b.rows[2].refund_state, "SUCCESS");
	ck_assert_int_eq(b.rows[2].amount_fen, 5000);
	ck_assert_int_eq(b.rows[2].fee_fen, -30);
	ck_assert_int_eq(b.count, 3);
	ck_assert_int_eq(b.gross_fen, 188000);
	ck_assert_int_eq(b.refund_fen, 5000);
	ck_assert_int_eq(b.fee_fen, 120 + 1008 - 30);
	gym_bill_free(&b);
	ck_assert_ptr_null(b.rows);
	/* the same through the channel's reader; an empty day */
	ck_assert_int_eq(gym_bill_parse(GYM_CHANNEL_ALIPAY, text, strlen(text), &b, why,
	    sizeof(why)), GYM_OK);
	ck_assert_uint_eq(b.n, 3);
	gym_bill_free(&b);
	ck_assert_int_eq(gym_bill_parse_alipay(TOP HEAD END TOTALS("0", "0.00", "0", "0.00"),
	    strlen(TOP HEAD END TOTALS("0", "0.00", "0", "0.00")), &b, why, sizeof(why)), GYM_OK);
	ck_assert_uint_eq(b.n, 0);
	ck_assert_int_eq(gym_bill_parse("cash", text, strlen(text), &b, why, sizeof(why)),
	    GYM_EINVAL);
}
END_TEST

/* A business type other than 交易 and 退款: a row in that state, not money in. */
START_TEST(other_type_kept)
{
	static const char text[] = TOP HEAD PAY(T1, "GYMA000001", "200.00", "-1.20")
	    T2 "\t,GYMA000002\t,撤销\t,体验课,2026-12-04 10:00:00,2026-12-04 10:01:00,,,,,"
	    "208810******6880,200.00,200.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,0.00,0.00,\r\n"
	    END TOTALS("1", "200.00", "0", "0.00");
	struct gym_bill b;
	char why[256];

	ck_assert_int_eq(gym_bill_parse_alipay(text, strlen(text), &b, why, sizeof(why)), GYM_OK);
	ck_assert_uint_eq(b.n, 2);
	ck_assert_str_eq(b.rows[1].trade_state, "撤销");
	ck_assert_int_eq(b.rows[1].refund, 0);
	ck_assert_int_eq(b.rows[1].amount_fen, 20000);
	ck_assert_int_eq(b.gross_fen, 20000);
	gym_bill_free(&b);
}
END_TEST

START_TEST(refuses_bad_bills)
{
	static const char *const bad[] = {
		/* cut short: no totals */
		TOP HEAD PAY(T1, "GYMA000001", "200.00", "-1.20"),
		/* cut short: the refund total lost */
		TOP HEAD PAY(T1, "GYMA000001", "200.00", "-1.20") END
		"#交易合计：1笔，商家实收共200.00元，商家优惠共0.00元\r\n",
		/* a row the totals do not count */
		TOP HEAD PAY(T1, "GYMA000001", "200.00", "-1.20") END
		TOTALS("2", "200.00", "0", "0.00"),
		/* an amount changed */
		TOP HEAD PAY(T1, "GYMA000001", "200.01", "-1.20") END
		TOTALS("1", "200.00", "0", "0.00"),
		/* a refund the totals do not have */
		TOP HEAD REF(T1, "GYMA000001", "50.00", "RF1", "0.30") END
		TOTALS("0", "0.00", "1", "40.00"),
		/* a refund row without its request number */
		TOP HEAD REF(T1, "GYMA000001", "50.00", "", "0.30") END
		TOTALS("0", "0.00", "1", "50.00"),
		/* a field too many (an unquoted comma) */
		TOP HEAD T1 "\t,GYMA000001\t,交易\t,体操馆,体验课,2026-12-04 10:00:00,"
		"2026-12-04 10:00:05,,,,,208810******6880,200.00,200.00,0.00,0.00,0.00,0.00,0.00,,"
		"0.00,0.00,,-1.20,0.00,\r\n" END TOTALS("1", "200.00", "0", "0.00"),
		/* a time that is not one */
		TOP HEAD T1 "\t,GYMA000001\t,交易\t,体验课,2026-12-04 10:00:00,2026/12/04 10:00,"
		",,,,208810******6880,200.00,200.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-1.20,"
		"0.00,\r\n" END TOTALS("1", "200.00", "0", "0.00"),
		/* an amount that is not yuan */
		TOP HEAD PAY(T1, "GYMA000001", "2e2", "-1.20") END TOTALS("1", "200.00", "0", "0.00"),
		/* a header without 服务费 */
		TOP "支付宝交易号,商户订单号,业务类型,完成时间,商家实收（元）,退款批次号/请求号\r\n"
		END TOTALS("0", "0.00", "0", "0.00"),
		/* a row after the totals */
		TOP HEAD END TOTALS("0", "0.00", "0", "0.00") PAY(T1, "GYMA000001", "200.00", "-1.20"),
		/* totals that do not read */
		TOP HEAD END "#交易合计：一笔，商家实收共200.00元\r\n#退款合计：0笔，商家实收退款共-0.00元\r\n",
		/* WeChat's bill */
		"交易时间,公众账号ID,商户号\r\n`2026-12-04 10:00:00,`wx1,`1900000001\r\n",
		"",
	};
	struct gym_bill b;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(gym_bill_parse_alipay(bad[i], strlen(bad[i]), &b, why,
		    sizeof(why)) == GYM_EINVAL, "bill %zu read", i);
		ck_assert_msg(why[0] != '\0', "bill %zu: no why", i);
		ck_assert_ptr_null(b.rows);
	}
}
END_TEST

/* ---- the account's 账务明细 (bill_type signcustomer) ---- */

#define ATOP "#支付宝账务明细查询\r\n#账号：[20880000000000010156]\r\n" \
	"#起始日期：[2026年12月04日 00:00:00]   终止日期：[2026年12月05日 00:00:00]\r\n" \
	"#-----------------------------------------账务明细列表-------------------------------\r\n"
#define AHEAD "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）," \
	"支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注\r\n"
#define AROW(seq, otn, in, out, bal, type) "2026120400000" seq "\t," T1 "\t," otn "\t," \
	"体操馆-体验课,2026-12-04 10:00:05,208810******6880\t," in "," out "," bal ",支付宝," \
	type ",\r\n"
#define AEND "#-----------------------------------------账务明细列表结束-------------------\r\n"
#define ATOTALS(nout, out, nin, in) "#支出合计：" nout "笔，共" out "元\r\n" \
	"#收入合计：" nin "笔，共" in "元\r\n#导出时间：[2026-12-05 10:00:00]\r\n"

/* Payments and a fee given back in, fees and a refund out; a row moving
 * nothing counted but in neither; the channel's reader picked by name. */
START_TEST(reads_account)
{
	static const char text[] = ATOP AHEAD AROW("1", "GYMA000001", "+200.00", "0.00",
	    "200.00", "在线支付") AROW("2", "GYMA000001", "0.00", "-1.20", "198.80", "收费")
	    AROW("3", "GYMA000002", "1680.00", "0.00", "1878.80", "在线支付")
	    AROW("4", "GYMA000001", "0.00", "-50.00", "1828.80", "交易退款")
	    AROW("5", "GYMA000001", "0.30", "0.00", "1829.10", "收费")
	    AROW("6", "", "0.00", "0.00", "1829.10", "其他") AEND
	    ATOTALS("2", "-51.20", "3", "+1880.30");
	struct gym_fundflow ff;
	char why[256] = "";

	ck_assert_msg(gym_bill_parse_alipay_fundflow(text, strlen(text), &ff, why, sizeof(why)) ==
	    GYM_OK, "%s", why);
	ck_assert_int_eq(ff.count, 6);
	ck_assert_int_eq(ff.in_n, 3);
	ck_assert_int_eq(ff.in_fen, 20000 + 168000 + 30);
	ck_assert_int_eq(ff.out_n, 2);
	ck_assert_int_eq(ff.out_fen, 120 + 5000);
	memset(&ff, 0, sizeof(ff));
	ck_assert_int_eq(gym_bill_parse_fundflow(GYM_CHANNEL_ALIPAY, text, strlen(text), &ff, why,
	    sizeof(why)), GYM_OK);
	ck_assert_int_eq(ff.in_fen, 188030);
	/* an empty day */
	ck_assert_int_eq(gym_bill_parse_alipay_fundflow(ATOP AHEAD AEND ATOTALS("0", "0.00", "0",
	    "0.00"), strlen(ATOP AHEAD AEND ATOTALS("0", "0.00", "0", "0.00")), &ff, why,
	    sizeof(why)), GYM_OK);
	ck_assert_int_eq(ff.count, 0);
	ck_assert_int_eq(gym_bill_parse_fundflow("cash", text, strlen(text), &ff, why, sizeof(why)),
	    GYM_EINVAL);
}
END_TEST

START_TEST(refuses_bad_accounts)
{
	static const char *const bad[] = {
		/* cut short: no totals, or one of them */
		ATOP AHEAD AROW("1", "GYMA000001", "200.00", "0.00", "200.00", "在线支付"),
		ATOP AHEAD AROW("1", "GYMA000001", "200.00", "0.00", "200.00", "在线支付") AEND
		"#支出合计：0笔，共0.00元\r\n",
		/* a row the totals do not have */
		ATOP AHEAD AROW("1", "GYMA000001", "200.00", "0.00", "200.00", "在线支付")
		AROW("2", "GYMA000001", "0.00", "-1.20", "198.80", "收费") AEND
		ATOTALS("0", "0.00", "1", "200.00"),
		/* an amount changed */
		ATOP AHEAD AROW("1", "GYMA000001", "200.01", "0.00", "200.01", "在线支付") AEND
		ATOTALS("0", "0.00", "1", "200.00"),
		/* money in below zero, out above it */
		ATOP AHEAD AROW("1", "GYMA000001", "-200.00", "0.00", "0.00", "在线支付") AEND
		ATOTALS("0", "0.00", "1", "200.00"),
		ATOP AHEAD AROW("1", "GYMA000001", "0.00", "1.20", "0.00", "收费") AEND
		ATOTALS("1", "-1.20", "0", "0.00"),
		/* an amount that is not yuan, a field too many */
		ATOP AHEAD AROW("1", "GYMA000001", "2e2", "0.00", "200.00", "在线支付") AEND
		ATOTALS("0", "0.00", "1", "200.00"),
		ATOP AHEAD AROW("1", "GYMA,000001", "200.00", "0.00", "200.00", "在线支付") AEND
		ATOTALS("0", "0.00", "1", "200.00"),
		/* a header without 支出金额, a row after the totals */
		ATOP "账务流水号,业务流水号,商户订单号,收入金额（+元）\r\n" AEND
		ATOTALS("0", "0.00", "0", "0.00"),
		ATOP AHEAD AEND ATOTALS("0", "0.00", "0", "0.00")
		AROW("1", "GYMA000001", "200.00", "0.00", "200.00", "在线支付"),
		/* totals that do not read */
		ATOP AHEAD AEND "#支出合计：零笔，共0.00元\r\n#收入合计：0笔，共0.00元\r\n",
		/* the trade bill is not the account's */
		TOP HEAD PAY(T1, "GYMA000001", "200.00", "-1.20") END
		TOTALS("1", "200.00", "0", "0.00"),
		"",
	};
	struct gym_fundflow ff;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(gym_bill_parse_alipay_fundflow(bad[i], strlen(bad[i]), &ff, why,
		    sizeof(why)) == GYM_EINVAL, "account bill %zu read", i);
		ck_assert_msg(why[0] != '\0', "account bill %zu: no why", i);
		ck_assert_int_eq(ff.in_fen, 0);
	}
}
END_TEST

Suite *
alibillparse_suite(void)
{
	Suite *s = suite_create("alibillparse");
	TCase *tc = tcase_create("alibillparse");

	tcase_add_test(tc, reads_rows);
	tcase_add_test(tc, other_type_kept);
	tcase_add_test(tc, refuses_bad_bills);
	tcase_add_test(tc, reads_account);
	tcase_add_test(tc, refuses_bad_accounts);
	suite_add_tcase(s, tc);
	return s;
}
