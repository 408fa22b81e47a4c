/*
 * integ.h: the suite constructors of bin/check_integ, one per line.
 * Each lives in test/integ/check_<flow>.c; main.c runs them all against
 * the migrated database named by GYM_TEST_PGURI.
 */
#ifndef GYM_INTEG_H
#define GYM_INTEG_H

#include <check.h>

Suite *db_suite(void);
Suite *holds_suite(void);
Suite *orders_suite(void);
Suite *sweep_suite(void);
Suite *audit_suite(void);
Suite *migrate_suite(void);
Suite *operators_suite(void);
Suite *refunds_suite(void);
Suite *notify_suite(void);
Suite *idem_suite(void);
Suite *audit_sample_suite(void);
Suite *wxsim_suite(void);
Suite *checkout_suite(void);
Suite *channel_suite(void);
Suite *registration_suite(void);
Suite *alipay_suite(void);
Suite *waitlist_suite(void);
Suite *push_suite(void);
Suite *payevent_suite(void);
Suite *products_suite(void);
Suite *staff_auth_suite(void);
Suite *retention_suite(void);
Suite *recon_suite(void);
Suite *alirecon_suite(void);

#endif
