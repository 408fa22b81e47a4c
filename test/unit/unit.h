/*
 * unit.h: the suite constructors of bin/check_unit, one per line.
 * Each lives in test/unit/check_<module>.c; main.c runs them all.
 */
#ifndef GYM_UNIT_H
#define GYM_UNIT_H

#include <check.h>

Suite *crypto_suite(void);
Suite *wxsign_suite(void);
Suite *wxpay_suite(void);
Suite *httputil_suite(void);
Suite *metrics_suite(void);
Suite *config_suite(void);
Suite *token_suite(void);
Suite *json_suite(void);
Suite *door_suite(void);
Suite *door_hostile_suite(void);
Suite *price_suite(void);
Suite *channel_suite(void);
Suite *registration_suite(void);
Suite *status_suite(void);
Suite *alipay_suite(void);
Suite *qrpng_suite(void);
Suite *client_config_suite(void);
Suite *billparse_suite(void);
Suite *alibillparse_suite(void);
Suite *csv_suite(void);

#endif
