/*
 * simtest.h: integration tests against the WeChat Pay simulator
 * (bin/wxsim) without nginx.  `make check-integ` (test/run_all.sh,
 * suite_integ) starts wxsim for bin/check_integ with its own TLS listener
 * on the test profile's SIM_TLS_PORT (lib/wxpay_http.c speaks only https) and
 * its plain control API on SIM_PORT (both + GYM_PORT_OFFSET), with the
 * test keys of test/vectors/keys, stops it afterwards, and passes:
 *
 *   GYM_TEST_SIM_BASE  https://127.0.0.1:PORT  the APIv3 and mini program API
 *   GYM_TEST_SIM_CTL   http://127.0.0.1:PORT   the control API (/sim/...)
 *   GYM_TEST_SIM_CA    the CA file that verifies the TLS listener
 *   GYM_TEST_SIM_CONF  a gymd config whose wx.* keys (mchid, appid, serials,
 *                      merchant key, platform keys, APIv3 key) match the
 *                      simulator's (var/test/integ.conf)
 *
 * A suite that needs the simulator asks simt_available() in its
 * constructor and, when it answers 0 (someone ran bin/check_integ by hand
 * without these), adds no test and says "skipped" on stderr.
 *
 * Typical test:
 *   struct gym_config cfg;
 *   struct gym_wx_client *wx;
 *   simt_config(&cfg); wx = simt_client(&cfg);
 *   ... gym_wx_prepay_native(wx, simt_trade_no(no, sizeof(no)), ...) ...
 *   ck_assert_int_eq(simt_pay(no, NULL), 200);   (WeChat pays it)
 *   gym_wx_client_free(wx); gym_config_free(&cfg);
 *
 * Functions that are not _nock stop the test with a Check failure when the
 * simulator cannot be reached or answers something unusable.  The
 * simulator keeps its state between tests; use fresh out_trade_no values
 * (simt_trade_no) or simt_reset().
 */
#ifndef GYM_SIMTEST_H
#define GYM_SIMTEST_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "wxpay.h"

#define SIMT_ENV_BASE "GYM_TEST_SIM_BASE"
#define SIMT_ENV_CTL "GYM_TEST_SIM_CTL"
#define SIMT_ENV_CA "GYM_TEST_SIM_CA"
#define SIMT_ENV_CONF "GYM_TEST_SIM_CONF"

/* 1 when the four variables above are set; else 0 after printing
 * "skipped: <what>: ... not set" on stderr. */
int simt_available(const char *what);

/* gym_config_load(GYM_TEST_SIM_CONF) with wx_pay_base and wx_api_base
 * set to GYM_TEST_SIM_BASE and wx_cainfo to GYM_TEST_SIM_CA; the caller
 * gym_config_free()s it. */
void simt_config(struct gym_config *);
/* gym_wx_client_new on cfg (which must outlive the client). */
struct gym_wx_client *simt_client(const struct gym_config *);
/* A fresh out_trade_no ("SIMT" + pid + time + counter, 32 chars at most)
 * in buf; returns buf. */
char *simt_trade_no(char *buf, size_t len);

/* One control request: method, path ("/sim/..."), JSON body or NULL.
 * Returns the HTTP status, *out (may be NULL) the parsed JSON answer or
 * NULL (caller cJSON_Delete()s). */
long simt_ctl(const char *method, const char *path, const char *json, cJSON **out);
/* Pay out_trade_no as WeChat would (POST /sim/pay; trade_state NULL or
 * "SUCCESS", or "PAYERROR" / "CLOSED" to make the payment fail); the
 * simulator sends its notification to cfg's wx.notify_url, which nobody
 * serves in check_integ.  The HTTP status: 200, 404 ORDER_NOT_EXIST, 409
 * ORDERPAID / ORDER_CLOSED / ORDER_EXPIRED. */
long simt_pay(const char *out_trade_no, const char *trade_state);
/* POST /sim/faults with json (e.g. {"api_status":500,"api_fail_count":1});
 * the test fails unless it answers 200.  simt_reset() clears them. */
void simt_faults(const char *json);
/* POST /sim/reset: no orders, refunds, faults or clock offset. */
void simt_reset(void);
/* What the simulator recorded for out_trade_no (GET /sim/orders/{no}:
 * trade_state, total, refunded, prepay_count, close_count, code_url, ...),
 * or NULL when it knows no such order; caller cJSON_Delete()s. */
cJSON *simt_order(const char *out_trade_no);
/* A string / number member of j ("" / -1 when absent). */
const char *simt_str(const cJSON *j, const char *name);
long long simt_num(const cJSON *j, const char *name);

#endif
