/*
 * wxpay_transport.h: PRIVATE to the wxpay_*.c files (never included
 * elsewhere): the WeChat client's insides, the signed APIv3 call with its
 * answer's signature check against the platform keyring (wx_platform),
 * the unsigned mini program call, and the HTTPS transport under both
 * (wxpay_http.c).
 */
#ifndef GYM_WXPAY_TRANSPORT_H
#define GYM_WXPAY_TRANSPORT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "wxpay.h"

#define HTTPS			"https://"
#define NONCE_LEN		32
#define MAX_TOTAL_FEN		2147483647LL	/* WeChat's amount is an int32 */
#define MAX_JS_CODE		256
#define MAX_OPENID		128
#define ALG_AES_GCM		"AEAD_AES_256_GCM"
#define OUT_TRADE_NO_CHARS	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-|*"
#define OUT_REFUND_NO_CHARS	OUT_TRADE_NO_CHARS "@"
#define OPENID_CHARS		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"

struct gym__wxhttp;
struct gym_wx_client {
	const struct gym_config *cfg;
	struct gym__wxhttp *http;
	char *pay_base;			/* wx_pay_base, no trailing '/' */
	const char *pay_prefix;		/* its path part, inside pay_base */
	char *api_base;			/* wx_api_base, no trailing '/' */
	struct gym_wx_error err;
	char request_id[128];		/* Request-ID of the last answer */
};

/* Small helpers (wxpay_transport.c). */
void gym__wx_free_secret(char *);		/* wipe, then free */
void gym__wx_json_delete_secret(cJSON *);	/* wipe every string, then delete */
/* 1 when s is min to max characters, all from set. */
int gym__wx_id_ok(const char *s, size_t min, size_t max, const char *set);
/* 1 when s is printable ASCII of 1 to max bytes (an openid, a token). */
int gym__wx_token_ok(const char *s, size_t max);
/* Percent-encode all but RFC 3986's unreserved characters; malloc'd. */
char *gym__wx_pct_escape(const char *);
/* Copy src into dst[len]; 0, or -1 when it does not fit. */
int gym__wx_copy_out(char *dst, size_t len, const char *src);

/* The client's last error and its one log line per failed call. */
void gym__wx_begin(struct gym_wx_client *);	/* every public call: clean error */
void gym__wx_own_error(struct gym_wx_client *, const char *code, const char *msg);
int gym__wx_err_is(const struct gym_wx_client *, const char *const *codes);
const char *gym__wx_rid_code(const struct gym_wx_client *);
void gym__wx_log_failure(const struct gym_wx_client *, const char *method,
    const char *path, enum gym_err);
/*
 * A signed GET of path (with its query) under wx_pay_base whose answer is
 * not signed (a bill file): a 2xx body of at most max bytes copied into
 * *out (caller frees), its length in *len.
 */
enum gym_err gym__wx_v3_download(struct gym_wx_client *, const char *path, size_t max,
    char **out, size_t *len);

/* A verified answer that lacks what we asked for: BAD_RESPONSE, logged. */
enum gym_err gym__wx_bad_response(struct gym_wx_client *, const char *method,
    const char *path, const char *what);

/*
 * One signed APIv3 call: path (with its query) under wx_pay_base, body
 * NULL for GET.  A verified 2xx with json NULL is GYM_OK whatever the
 * body; with json, the body must be a JSON object (caller deletes).
 */
enum gym_err gym__wx_v3_call(struct gym_wx_client *, const char *method, const char *path,
    const char *body, cJSON **json);
/*
 * One unsigned mini program call under wx_api_base: path_query may hold a
 * secret and is never logged past its '?'.  200 with a JSON object and no
 * non-zero errcode, else GYM_EUPSTREAM (the errcode as the last error's
 * code).  *json (caller deletes) on GYM_OK.
 */
enum gym_err gym__wx_mp_call(struct gym_wx_client *, const char *method,
    const char *path_query, const char *body, cJSON **json);

/*
 * The HTTPS transport in wxpay_http.c.  It
 * performs one request on a reset easy handle (https only, peer
 * verification, cfg timeouts, no Expect: 100-continue), captures the
 * Wechatpay-* and Request-ID headers and the body up to
 * GYM__WXHTTP_MAXBODY bytes.  GYM_OK when any HTTP answer came back;
 * otherwise err is filled: GYM_ETIMEOUT "TIMEOUT", GYM_EUPSTREAM
 * "NETWORK" or "RESPONSE_TOO_LARGE".  It never logs: the URL may hold a
 * secret.
 */
#define GYM__WXHTTP_MAXBODY GYM_WX_MAXBODY
struct gym__wxhttp_req {
	const char *method;		/* "GET" or "POST" */
	const char *url;		/* absolute https URL */
	const char *authorization;	/* NULL: none */
	const char *wechatpay_serial;	/* NULL: none */
	const char *body;		/* POST only */
	size_t blen;
	size_t maxbody;			/* 0: GYM__WXHTTP_MAXBODY (a bill file is
					 * larger) */
};
struct gym__wxhttp_resp {
	long status;
	char *body;			/* NUL-terminated; the transport's buffer,
					 * valid until its next request */
	size_t len;
	char timestamp[32];		/* each "" when absent or too long */
	char nonce[96];
	char serial[96];
	char signature[512];
	char request_id[128];
};
enum gym_err gym__wxhttp_new(const struct gym_config *, struct gym__wxhttp **);
void gym__wxhttp_free(struct gym__wxhttp *);
enum gym_err gym__wxhttp_perform(struct gym__wxhttp *, const struct gym__wxhttp_req *,
    struct gym__wxhttp_resp *, struct gym_wx_error *);

#endif
