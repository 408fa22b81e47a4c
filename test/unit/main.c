/*
 * main.c: bin/check_unit runs every suite declared in unit.h.
 * Exit status 0 only when no test failed.
 */
#include <stddef.h>
#include <stdlib.h>

#include <check.h>

#include "unit.h"

static Suite *(*const suites[])(void) = {
	crypto_suite,
	wxsign_suite,
	wxpay_suite,
	httputil_suite,
	metrics_suite,
	config_suite,
	token_suite,
	json_suite,
	door_suite,
	door_hostile_suite,
	price_suite,
	channel_suite,
	registration_suite,
	status_suite,
	alipay_suite,
	qrpng_suite,
	client_config_suite,
	billparse_suite,
	alibillparse_suite,
	csv_suite,
};

int
main(void)
{
	SRunner *sr;
	size_t i;
	int failed;

	sr = srunner_create(NULL);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
