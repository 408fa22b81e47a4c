/*
 * check_wxsim.c: lib's WeChat Pay client (lib/wxpay_*.c) end to
 * end against the simulator's own TLS listener, without nginx
 * (test/harness/simtest.h): Native prepay, query before and after the
 * payer pays through the control API, a failed payment, close, and an
 * order the simulator does not know.  No database is touched.
 */
#include <string.h>

#include <check.h>

#include "integ.h"
#include "simtest.h"
#include "wxpay.h"

static struct gym_config cfg;
static struct gym_wx_client *wx;

static void
setup(void)
{
	simt_config(&cfg);
	wx = simt_client(&cfg);
}

static void
teardown(void)
{
	gym_wx_client_free(wx);
	wx = NULL;
	gym_config_free(&cfg);
}

/* Native prepay of total_fen for a fresh out_trade_no (into no). */
static void
prepay(char *no, size_t len, long long total_fen)
{
	char code_url[512] = "";
	enum gym_err e;

	simt_trade_no(no, len);
	e = gym_wx_prepay_native(wx, no, total_fen, 0, code_url, sizeof(code_url));
	ck_assert_msg(e == GYM_OK, "prepay %s: %d %d %s %s", no, (int)e,
	    gym_wx_last_error(wx)->http_status, gym_wx_last_error(wx)->code,
	    gym_wx_last_error(wx)->message);
	ck_assert_msg(strncmp(code_url, "weixin://", 9) == 0, "code_url %s", code_url);
}

/* gym_wx_query of no: its trade_state into state, amount.total returned. */
static long long
query(const char *no, char *state, size_t len)
{
	const cJSON *amount;
	cJSON *txn = NULL;
	long long total;
	enum gym_err e;

	e = gym_wx_query(wx, no, &txn);
	ck_assert_msg(e == GYM_OK && txn != NULL, "query %s: %d %s", no, (int)e,
	    gym_wx_last_error(wx)->code);
	ck_assert_str_eq(simt_str(txn, "out_trade_no"), no);
	ck_assert_str_eq(simt_str(txn, "mchid"), cfg.wx_mchid);
	snprintf(state, len, "%s", simt_str(txn, "trade_state"));
	amount = cJSON_GetObjectItemCaseSensitive(txn, "amount");
	total = simt_num(amount, "total");
	cJSON_Delete(txn);
	return total;
}

START_TEST(test_native_prepay_query_pay)
{
	char no[40], state[32];
	cJSON *o;

	prepay(no, sizeof(no), 20000);
	ck_assert_int_eq(query(no, state, sizeof(state)), 20000);
	ck_assert_str_eq(state, "NOTPAY");
	ck_assert_int_eq(simt_pay(no, NULL), 200);
	ck_assert_int_eq(query(no, state, sizeof(state)), 20000);
	ck_assert_str_eq(state, "SUCCESS");
	/* what the simulator recorded: one Native prepay, paid, 200 yuan */
	ck_assert_ptr_nonnull(o = simt_order(no));
	ck_assert_str_eq(simt_str(o, "trade_state"), "SUCCESS");
	ck_assert_str_eq(simt_str(o, "trade_type"), "NATIVE");
	ck_assert_int_eq(simt_num(o, "total"), 20000);
	ck_assert_int_eq(simt_num(o, "prepay_count"), 1);
	ck_assert_str_ne(simt_str(o, "transaction_id"), "");
	cJSON_Delete(o);
	/* paid once: paying again is refused, closing is a conflict */
	ck_assert_int_eq(simt_pay(no, NULL), 409);
	ck_assert_int_eq(gym_wx_close(wx, no), GYM_ECONFLICT);
}
END_TEST

START_TEST(test_payment_fails)
{
	char no[40], state[32];

	prepay(no, sizeof(no), 20000);
	ck_assert_int_eq(simt_pay(no, "PAYERROR"), 200);
	query(no, state, sizeof(state));
	ck_assert_str_eq(state, "PAYERROR");
}
END_TEST

START_TEST(test_close_fresh_order)
{
	char no[40], state[32];
	cJSON *o;

	prepay(no, sizeof(no), 20000);
	ck_assert_int_eq(gym_wx_close(wx, no), GYM_OK);
	query(no, state, sizeof(state));
	ck_assert_str_eq(state, "CLOSED");
	ck_assert_ptr_nonnull(o = simt_order(no));
	ck_assert_int_eq(simt_num(o, "close_count"), 1);
	cJSON_Delete(o);
	/* the payer cannot pay a closed order */
	ck_assert_int_eq(simt_pay(no, NULL), 409);
}
END_TEST

START_TEST(test_unknown_order)
{
	char no[40];
	cJSON *txn = NULL;

	simt_trade_no(no, sizeof(no));
	ck_assert_int_eq(gym_wx_query(wx, no, &txn), GYM_ENOTFOUND);
	ck_assert_ptr_null(txn);
	ck_assert_ptr_null(simt_order(no));
	ck_assert_int_eq(simt_pay(no, NULL), 404);
}
END_TEST

START_TEST(test_upstream_fault)
{
	char no[40], code_url[512];

	simt_faults("{\"api_status\":500,\"api_fail_count\":1}");
	simt_trade_no(no, sizeof(no));
	ck_assert_int_ne(gym_wx_prepay_native(wx, no, 20000, 0, code_url, sizeof(code_url)),
	    GYM_OK);
	ck_assert_int_eq(gym_wx_last_error(wx)->http_status, 500);
	/* one failure only: the same out_trade_no goes through on retry */
	ck_assert_int_eq(gym_wx_prepay_native(wx, no, 20000, 0, code_url, sizeof(code_url)),
	    GYM_OK);
	simt_reset();
}
END_TEST

Suite *
wxsim_suite(void)
{
	Suite *s = suite_create("wxsim");
	TCase *tc = tcase_create("client");

	if (!simt_available("wxsim suite"))
		return s;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_native_prepay_query_pay);
	tcase_add_test(tc, test_payment_fails);
	tcase_add_test(tc, test_close_fresh_order);
	tcase_add_test(tc, test_unknown_order);
	tcase_add_test(tc, test_upstream_fault);
	suite_add_tcase(s, tc);
	return s;
}
