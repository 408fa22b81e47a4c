/*
 * main.c: bin/check_integ runs every suite declared in integ.h against a
 * real, already migrated PostgreSQL (GYM_TEST_PGURI).  Without
 * GYM_TEST_PGURI it prints "skipped" and exits 77 (the automake skip
 * code).  Exit status 0 only when no test failed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "integ.h"
#include "pgtest.h"

static Suite *(*const suites[])(void) = {
	db_suite,
	holds_suite,
	orders_suite,
	sweep_suite,
	audit_suite,
	migrate_suite,
	operators_suite,
	refunds_suite,
	notify_suite,
	idem_suite,
	audit_sample_suite,
	wxsim_suite,
	checkout_suite,
	channel_suite,
	registration_suite,
	alipay_suite,
	waitlist_suite,
	push_suite,
	payevent_suite,
	products_suite,
	staff_auth_suite,
	retention_suite,
	recon_suite,
	alirecon_suite,
};

int
main(void)
{
	SRunner *sr;
	size_t i;
	int failed;

	if (pgt_uri() == NULL) {
		printf("skipped: %s is not set\n", PGT_ENV);
		return 77;
	}
	sr = srunner_create(NULL);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
