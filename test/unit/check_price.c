/*
 * check_price.c: unit tests of lib/price.c, the one price rule: yuan text
 * parsed to fen exactly, fen formatted back, and what a client may say
 * the amount is.
 */
#include <math.h>
#include <string.h>

#include <check.h>

#include "price.h"
#include "unit.h"

static const struct {
	const char *text;
	enum gym_err e;
	long long fen;
} parse_rows[] = {
	{ "200", GYM_OK, 20000 },
	{ "200.0", GYM_OK, 20000 },
	{ "200.00", GYM_OK, 20000 },
	{ "0.01", GYM_OK, 1 },
	{ "199.99", GYM_OK, 19999 },
	{ "200.5", GYM_OK, 20050 },
	{ "200.001", GYM_EINVAL, 0 },
	{ "200.", GYM_EINVAL, 0 },
	{ ".50", GYM_EINVAL, 0 },
	{ "-200", GYM_EINVAL, 0 },
	{ "+200", GYM_EINVAL, 0 },
	{ "2e2", GYM_EINVAL, 0 },
	{ " 200", GYM_EINVAL, 0 },
	{ "200 ", GYM_EINVAL, 0 },
	{ "", GYM_EINVAL, 0 },
	{ "0x10", GYM_EINVAL, 0 },
	{ "1234567890123", GYM_EINVAL, 0 },	/* 13 digits of yuan */
	{ "200,00", GYM_EINVAL, 0 },
};

START_TEST(test_parse_yuan)
{
	long long fen = -1;
	enum gym_err e = gym_price_parse_yuan(parse_rows[_i].text, &fen);

	ck_assert_msg(e == parse_rows[_i].e, "\"%s\": %d, want %d", parse_rows[_i].text, e,
	    parse_rows[_i].e);
	if (e == GYM_OK)
		ck_assert_int_eq(fen, parse_rows[_i].fen);
}
END_TEST

START_TEST(test_parse_null)
{
	long long fen;

	ck_assert_int_eq(gym_price_parse_yuan(NULL, &fen), GYM_EINVAL);
}
END_TEST

START_TEST(test_format)
{
	char buf[24];

	ck_assert_str_eq(gym_price_format(20000, buf, sizeof(buf)), "200.00");
	ck_assert_str_eq(gym_price_format(1, buf, sizeof(buf)), "0.01");
	ck_assert_str_eq(gym_price_format(0, buf, sizeof(buf)), "0.00");
	ck_assert_str_eq(gym_price_format(-150, buf, sizeof(buf)), "-1.50");
	ck_assert_str_eq(gym_price_format(123456789, buf, sizeof(buf)), "1234567.89");
}
END_TEST

START_TEST(test_format_parse_round_trip)
{
	char buf[24];
	long long fen;

	for (long long v = 0; v < 100000; v += 37) {
		gym_price_format(v, buf, sizeof(buf));
		ck_assert_int_eq(gym_price_parse_yuan(buf, &fen), GYM_OK);
		ck_assert_int_eq(fen, v);
	}
}
END_TEST

START_TEST(test_client_matches)
{
	struct gym_client_amount a;

	ck_assert(gym_price_client_matches(NULL, 20000));
	memset(&a, 0, sizeof(a));
	ck_assert(gym_price_client_matches(&a, 20000));		/* nothing said */

	a.yuan_text = "200.00";
	ck_assert(gym_price_client_matches(&a, 20000));
	a.yuan_text = "0.01";
	ck_assert(!gym_price_client_matches(&a, 20000));
	a.yuan_text = "200.001";
	ck_assert(!gym_price_client_matches(&a, 20000));
	a.yuan_text = NULL;

	a.has_yuan_number = 1;
	a.yuan_number = 200.0;
	ck_assert(gym_price_client_matches(&a, 20000));
	a.yuan_number = 199.999;
	ck_assert(!gym_price_client_matches(&a, 20000));
	a.yuan_number = 200.004;
	ck_assert(!gym_price_client_matches(&a, 20000));
	a.yuan_number = NAN;
	ck_assert(!gym_price_client_matches(&a, 20000));
	a.yuan_number = INFINITY;
	ck_assert(!gym_price_client_matches(&a, 20000));
	a.yuan_number = 1e308;
	ck_assert(!gym_price_client_matches(&a, 20000));
	a.has_yuan_number = 0;

	a.has_fen = 1;
	a.fen = 20000;
	ck_assert(gym_price_client_matches(&a, 20000));
	a.fen = 20000.5;
	ck_assert(!gym_price_client_matches(&a, 20000));
	a.fen = 1;
	ck_assert(!gym_price_client_matches(&a, 20000));
	a.fen = NAN;
	ck_assert(!gym_price_client_matches(&a, 20000));

	/* every part must agree: a right fen does not excuse a wrong text */
	a.fen = 20000;
	a.yuan_text = "1.00";
	ck_assert(!gym_price_client_matches(&a, 20000));
}
END_TEST

Suite *
price_suite(void)
{
	Suite *s = suite_create("price");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse_yuan, 0, (int)(sizeof(parse_rows) / sizeof(parse_rows[0])));
	tcase_add_test(tc, test_parse_null);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_parse_round_trip);
	tcase_add_test(tc, test_client_matches);
	suite_add_tcase(s, tc);
	return s;
}
