/*
 * e2e.h: the suite constructors of bin/check_e2e, one per line, and the
 * harness (test/harness/e2e.h, included here because both files are
 * named e2e.h: a test in test/e2e/ includes "e2e.h" and gets both).
 * Each suite lives in test/e2e/check_<area>.c; main.c runs them all
 * against the running test stack (test/env/stack.sh start test).
 */
#ifndef GYM_E2E_SUITES_H
#define GYM_E2E_SUITES_H

#include <check.h>

#include "../harness/e2e.h"

Suite *api_suite(void);		/* check_api.c: contract, auth, booking, race */
Suite *pay_suite(void);		/* check_pay.c: WeChat Pay flows and notifications */
Suite *process_suite(void);	/* check_process.c: master/worker behaviour */
Suite *admin_suite(void);	/* check_admin.c: operators' API and gymctl operator */
Suite *refund_suite(void);	/* check_refund.c: refunds, their notifications and job */
Suite *notify_suite(void);	/* check_notify.c: messages to parents */
Suite *multi_suite(void);	/* check_multi.c: two instances, one database, one upstream */
Suite *hostile_suite(void);	/* check_hostile.c: hostile input and auth failures */
Suite *classes_suite(void);	/* check_classes.c: class changes, roster, cancel */
Suite *push_suite(void);		/* check_push.c: live push through Nchan */
Suite *alipay_suite(void);	/* check_alipay.c: Alipay's notify URL */
Suite *fcgi_suite(void);	/* check_fcgi.c: the FastCGI listener, reached directly */
Suite *waitlist_suite(void);	/* check_waitlist.c: a full class's waitlist and its offers */
Suite *products_suite(void);	/* check_products.c: memberships, class packs, member bookings */
Suite *staff_suite(void);	/* check_staff.c: staff sign-in, cookie session, CSRF, lockout */
Suite *recon_suite(void);	/* check_recon.c: bill reconciliation, its admin API, the report */

#endif
