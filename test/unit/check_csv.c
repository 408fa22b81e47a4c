/*
 * check_csv.c: lib/csv.c, the spreadsheet CSV writer: the byte-order mark,
 * quotes doubled, commas and line breaks kept inside a field, a formula
 * kept as text, numbers (negative ones too) left as numbers.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "csv.h"
#include "unit.h"

START_TEST(csv_quotes_and_formulas)
{
	struct gym_csv c;

	ck_assert_int_eq(gym_csv_begin(&c), 0);
	ck_assert_int_eq(gym_csv_field(&c, "王小明, \"小明\"", 0), 0);
	ck_assert_int_eq(gym_csv_field(&c, "=HYPERLINK(\"x\")", 0), 0);
	ck_assert_int_eq(gym_csv_field(&c, "-12.50", 0), 0);
	ck_assert_int_eq(gym_csv_field(&c, "-cmd", 0), 0);
	ck_assert_int_eq(gym_csv_field(&c, NULL, 0), 0);
	ck_assert_int_eq(gym_csv_field(&c, "a\r\nb", 1), 0);
	ck_assert_str_eq(c.p, "\xEF\xBB\xBF\"王小明, \"\"小明\"\"\",\"'=HYPERLINK(\"\"x\"\")\","
	    "\"-12.50\",\"'-cmd\",\"\",\"a\r\nb\"\r\n");
	ck_assert_uint_eq(c.len, strlen(c.p));
	free(c.p);
}
END_TEST

START_TEST(csv_signs_that_are_not_numbers)
{
	struct gym_csv c;

	ck_assert_int_eq(gym_csv_begin(&c), 0);
	ck_assert_int_eq(gym_csv_field(&c, "-", 0), 0);
	ck_assert_int_eq(gym_csv_field(&c, "-1.", 0), 0);
	ck_assert_int_eq(gym_csv_field(&c, "+1", 0), 0);
	ck_assert_int_eq(gym_csv_field(&c, "@x", 1), 0);
	ck_assert_str_eq(c.p + 3, "\"'-\",\"'-1.\",\"'+1\",\"'@x\"\r\n");
	free(c.p);
}
END_TEST

Suite *
csv_suite(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("csv");

	tcase_add_test(tc, csv_quotes_and_formulas);
	tcase_add_test(tc, csv_signs_that_are_not_numbers);
	suite_add_tcase(s, tc);
	return s;
}
