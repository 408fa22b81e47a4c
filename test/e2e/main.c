/*
 * main.c: bin/check_e2e runs every suite declared in e2e.h against the
 * running test stack.  Without GYM_E2E_BASE it prints "skipped" and exits
 * 77 (the automake skip code).  Exit status 0 only when no test failed.
 * A suite whose file is not there yet is left out (weak references), so
 * the program links while the suites are being written.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "e2e.h"

#pragma weak api_suite
#pragma weak pay_suite
#pragma weak process_suite
#pragma weak admin_suite
#pragma weak refund_suite
#pragma weak notify_suite
#pragma weak multi_suite
#pragma weak hostile_suite
#pragma weak fcgi_suite
#pragma weak waitlist_suite
#pragma weak push_suite
#pragma weak classes_suite
#pragma weak alipay_suite
#pragma weak products_suite
#pragma weak staff_suite
#pragma weak recon_suite

int
main(void)
{
	Suite *(*const suites[])(void) = { api_suite, pay_suite, process_suite,
	    admin_suite, refund_suite, notify_suite, multi_suite,
	    hostile_suite, fcgi_suite, waitlist_suite, push_suite, classes_suite, alipay_suite,
	    products_suite, staff_suite, recon_suite };
	const char *base = getenv("GYM_E2E_BASE");
	SRunner *sr;
	size_t i;
	int failed;

	if (base == NULL || *base == '\0') {
		printf("skipped: GYM_E2E_BASE is not set\n");
		return 77;
	}
	/* a suite's own tcase_set_timeout wins; this is the floor */
	setenv("CK_DEFAULT_TIMEOUT", "60", 0);
	sr = srunner_create(NULL);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i] != NULL)
			srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_ENV);	/* CK_VERBOSITY=verbose lists every test */
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
