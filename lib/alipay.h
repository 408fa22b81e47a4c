/*
 * alipay.h: the Alipay open-platform client (classic gateway, RSA2, see
 * /work/shared/docs/alipay.md): face-to-face QR (precreate), the signed
 * page/wap pay URL, query, close, refund with out_request_no, refund
 * query and the bill download URL.  Keys and ids come from the config's
 * alipay.* keys; a config without them has no client (GYM_EINTERNAL,
 * logged once by the caller).  One client per process, after fork.
 */
#ifndef GYM_ALIPAY_H
#define GYM_ALIPAY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "alipay_sign.h"
#include "config.h"
#include "gym.h"

#define GYM_ALI_MAXBODY		(256 * 1024)	/* the longest answer read */

/* The last call's failure: HTTP status, code ("40004", or our own
 * "NETWORK", "TIMEOUT", "SIGN_VERIFY_FAILED", "BAD_RESPONSE", "CONFIG"),
 * sub_code ("ACQ.TRADE_NOT_EXIST") and message; "" after a success. */
struct gym_ali_error {
	int http_status;
	char code[64];
	char sub_code[96];
	char message[256];
};

struct gym_ali_client;

/* GYM_EINTERNAL when alipay.* is not configured (the channel is not
 * available), GYM_EINVAL for a bad gateway URL. */
enum gym_err gym_ali_client_new(const struct gym_config *, struct gym_ali_client **);
void gym_ali_client_free(struct gym_ali_client *);
const struct gym_ali_error *gym_ali_last_error(const struct gym_ali_client *);
/* Record a failure found outside a gateway call (the bill's download). */
void gym_ali_error_set(struct gym_ali_client *, int http_status, const char *code,
    const char *msg);
/* 1 when the config names an Alipay account. */
int gym_ali_configured(const struct gym_config *);

/* t as China time (GMT+8) "yyyy-MM-dd HH:mm:ss" into out[20]. */
void gym_ali_time(time_t t, char out[20]);
/* "yyyy-MM-dd HH:mm:ss" China time back to a time_t: GYM_EINVAL if not
 * that shape (".SSS" milliseconds allowed and dropped). */
enum gym_err gym_ali_time_parse(const char *s, time_t *t);

/*
 * The signed parameters of one gateway call (sign included) in the
 * order they are sent: app_id, method, charset, sign_type, timestamp,
 * version, notify_url (when the config has one and with_notify),
 * return_url (non-NULL), biz_content.  Pure, for the tests.
 */
enum gym_err gym_ali_request(const struct gym_config *, const char *method,
    const char *biz_content, const char *timestamp, int with_notify,
    const char *return_url, struct gym_ali_params *out);

/* One gateway call: the answer's node verified and code "10000" gives
 * GYM_OK and *node (caller deletes); a signed business failure is
 * GYM_EUPSTREAM with the last error's code/sub_code set and *node kept;
 * transport failures GYM_ETIMEOUT / GYM_EUPSTREAM. */
enum gym_err gym_ali_call(struct gym_ali_client *, const char *method, const cJSON *biz,
    cJSON **node);

/* alipay.trade.precreate: the QR text into qr[qrsz]; timeout_min the
 * trade's own lifetime in minutes (1..1440).  GYM_ECONFLICT when the
 * trade was paid (ACQ.TRADE_HAS_SUCCESS) or closed. */
enum gym_err gym_ali_precreate(struct gym_ali_client *, const char *out_trade_no,
    long long fen, const char *subject, int timeout_min, char *qr, size_t qrsz);
/* alipay.trade.page.pay (wap 0) or .wap.pay (wap 1): the signed GET URL
 * to redirect the browser to (caller frees); expire_us 0: none. */
enum gym_err gym_ali_pay_url(struct gym_ali_client *, int wap, const char *out_trade_no,
    long long fen, const char *subject, int64_t expire_us, const char *return_url,
    char **url);
/* alipay.trade.query: GYM_ENOTFOUND for ACQ.TRADE_NOT_EXIST (not
 * scanned yet, or unknown). */
enum gym_err gym_ali_query(struct gym_ali_client *, const char *out_trade_no, cJSON **node);
/* alipay.trade.close: GYM_OK closed; GYM_ENOTFOUND never scanned;
 * GYM_ECONFLICT not closable (paid). */
enum gym_err gym_ali_close(struct gym_ali_client *, const char *out_trade_no);
/* alipay.trade.refund with out_request_no (the idempotency key). */
enum gym_err gym_ali_refund(struct gym_ali_client *, const char *out_trade_no,
    const char *out_request_no, long long fen, const char *reason, cJSON **node);
/* alipay.trade.fastpay.refund.query. */
enum gym_err gym_ali_refund_query(struct gym_ali_client *, const char *out_trade_no,
    const char *out_request_no, cJSON **node);
/* alipay.data.dataservice.bill.downloadurl.query (bill_type "trade", the
 * trades, or "signcustomer", the account's money in and out; date
 * "yyyy-MM-dd"): the URL (caller frees); GYM_ENOTFOUND when no bill. */
enum gym_err gym_ali_bill_url(struct gym_ali_client *, const char *bill_type, const char *date,
    char **url);

#endif
