/*
 * wxpay.h: the merchant's WeChat client: WeChat Pay APIv3 (JSAPI and
 * native prepay, query, close, refunds: wxpay_pay.c) and the opening of
 * signed, encrypted payment and refund notifications (wxpay_notify.c).
 * The mini program server APIs on the same client are in wxmp.h.  Outside
 * the wxpay_*.c files the payment calls here are made only by the WeChat
 * payment channel (channel_wechat.c): everything else pays through the
 * channel seam (channel.h).  Login and subscribe messages make a client
 * of their own (gym_wx_client_new) for wxmp.h.
 *
 * One client per worker process, made after fork: it holds one libcurl
 * easy handle, reset between requests so connections are kept.  Nothing
 * is retried inside; a caller that retries sends the same out_trade_no or
 * out_refund_no again.  Every function leaves the details of its last
 * failure (HTTP status, WeChat's code, message) in gym_wx_last_error.
 */
#ifndef GYM_WXPAY_H
#define GYM_WXPAY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "gym.h"

struct gym_wx_client;

/* The largest answer body kept; a longer one fails RESPONSE_TOO_LARGE. */
#define GYM_WX_MAXBODY (256 * 1024)

/*
 * A new client over cfg, which must outlive it.  GYM_EINVAL when
 * wx_pay_base or wx_api_base is not an https:// URL; GYM_ENOMEM or
 * GYM_ESYSTEM when libcurl cannot start.  The caller frees the client.
 */
enum gym_err gym_wx_client_new(const struct gym_config *, struct gym_wx_client **);
void gym_wx_client_free(struct gym_wx_client *);

/*
 * The last call's details, for error answers and logs: the HTTP status
 * (0 when none came back), WeChat's error code ("PARAM_ERROR",
 * "ORDERPAID", a mini program errcode such as "40029") or one of ours
 * ("NETWORK", "TIMEOUT", "SIGN_VERIFY_FAILED", "RESPONSE_TOO_LARGE",
 * "BAD_RESPONSE"), and the message.  Cleared at the start of each call;
 * borrowed from the client.
 */
struct gym_wx_error {
	int http_status;
	char code[64];
	char message[256];
};
const struct gym_wx_error *gym_wx_last_error(const struct gym_wx_client *);

/*
 * JSAPI prepay for the mini program: the prepay_id and what
 * wx.requestPayment needs (timeStamp in seconds as a string, a 32
 * character nonceStr, package "prepay_id=...", signType "RSA" and
 * paySign made with cfg->wx_appid).  time_expire_us 0 leaves
 * time_expire out (WeChat's default); otherwise it is sent as RFC 3339
 * +08:00 and must be the same on every retry.
 */
struct gym_wx_payparams {
	char prepay_id[128];
	char timestamp[24];
	char nonce[40];
	char package[160];
	char pay_sign[512];
};
enum gym_err gym_wx_prepay_jsapi(struct gym_wx_client *, const char *out_trade_no,
    const char *openid, long long total_fen, int64_t time_expire_us,
    struct gym_wx_payparams *out);
/* Native (QR code) prepay: the weixin:// code_url into code_url[len]. */
enum gym_err gym_wx_prepay_native(struct gym_wx_client *, const char *out_trade_no,
    long long total_fen, int64_t time_expire_us, char *code_url, size_t len);

/* Query by out_trade_no: *txn is the verified Transaction (caller
 * cJSON_Delete()s).  GYM_ENOTFOUND on 404 ORDER_NOT_EXIST. */
enum gym_err gym_wx_query(struct gym_wx_client *, const char *out_trade_no, cJSON **txn);

/* Close: GYM_OK on 204; GYM_ECONFLICT when WeChat says the order is paid
 * (ORDERPAID, ORDER_PAID or 268449538); GYM_ENOTFOUND on ORDER_NOT_EXIST.
 * Query after any other failure. */
enum gym_err gym_wx_close(struct gym_wx_client *, const char *out_trade_no);

/* Refund create (the same out_refund_no on every retry; reason may be
 * NULL; notify_url is cfg->wx_refund_notify_url when set) and query by
 * out_refund_no: *refund is the verified Refund (caller cJSON_Delete()s).
 * The query answers GYM_ENOTFOUND on 404 RESOURCE_NOT_EXISTS. */
enum gym_err gym_wx_refund_create(struct gym_wx_client *, const char *out_trade_no,
    const char *out_refund_no, const char *reason, long long refund_fen,
    long long total_fen, cJSON **refund);
enum gym_err gym_wx_refund_query(struct gym_wx_client *, const char *out_refund_no,
    cJSON **refund);

/*
 * The daily bill of date ("YYYY-MM-DD", China time): the trade bill (ALL)
 * or the fund-flow bill (the basic account), asked for gzip'd; the file is
 * fetched with a signed GET under wx_pay_base, unpacked and checked
 * against hash_value (SHA1).  *text is the bill's CSV, NUL-terminated
 * (caller frees).  GYM_ENOTFOUND when WeChat has no bill that day
 * (NO_STATEMENT_EXIST); GYM_EUPSTREAM with code BAD_FILE (not a whole
 * gzip file) or BAD_HASH when the file does not hold.
 */
enum gym_wx_bill_kind { GYM_WX_BILL_TRADE, GYM_WX_BILL_FUNDFLOW };
enum gym_err gym_wx_bill(struct gym_wx_client *, enum gym_wx_bill_kind, const char *date,
    char **text, size_t *len);

/*
 * Open a notification: verify the Wechatpay-* headers over the raw body
 * with cfg->wx_platform (GYM_WX_WINDOW seconds around gym_now()), then
 * decrypt resource with the APIv3 key; resource.algorithm must be
 * AEAD_AES_256_GCM.  GYM_ECRYPTO for any signature, serial or timestamp
 * failure (missing headers and WECHATPAY/SIGNTEST probes included);
 * GYM_EINVAL for an unparseable envelope, a failed decryption or a
 * plaintext that is not a JSON object; GYM_EINTERNAL when no APIv3 key
 * is configured.  event_type (may be NULL) receives the envelope's
 * event_type; *plain the decrypted JSON text (caller frees).
 */
enum gym_err gym_wx_notify_open(const struct gym_config *, const char *ts,
    const char *nonce, const char *serial, const char *signature,
    const char *body, size_t len, char *event_type, size_t etlen, char **plain);

#endif
