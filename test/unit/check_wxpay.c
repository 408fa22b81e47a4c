/*
 * check_wxpay.c: unit tests of the WeChat client (lib/wxpay_*.c).
 *
 * - gym_wx_notify_open against the shared notification vectors, with the
 *   clock moved to each vector's "now", and against envelopes we sign
 *   and encrypt with the test platform key.
 * - gym_wx_client_new's refusal of anything but https:// bases, and the
 *   arguments refused before any I/O.
 * - The HTTP paths against a one-shot TLS server forked on 127.0.0.1
 *   (a throwaway self-signed certificate, no other network): the request
 *   bodies must equal the vectors' byte for byte, the Authorization must
 *   verify with the merchant certificate, and every answer outcome maps
 *   to its error (signature failures, WeChat codes, size cap, refused
 *   connection, timeout).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "crypto.h"
#include "unit.h"
#include "vectors.h"
#include "wxmp.h"
#include "wxpay.h"
#include "wxsign.h"

#define NNOTIFICATIONS	4
#define OUT_TRADE_NO	"GYM20261121A1B2C3D4"
#define OPENID		"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
#define NOTIFY_URL	"https://gym.example.com/api/v1/payment/wxpay/callback"
#define REFUND_URL	"https://gym.example.com/api/v1/payment/wxpay/refund-callback"
#define DESCRIPTION	"百适体操馆-体验课"
#define APP_SECRET	"s3cr3t&appsecret=x"
#define TIME_EXPIRE	"2026-11-21T16:30:00+08:00"

static cJSON *root;
static struct gym_config cfg;
static EVP_PKEY *platform_priv;		/* signs answers and notifications */
static EVP_PKEY *merchant_pub;		/* checks our Authorization */
static X509 *tls_cert;			/* the mock server's certificate */
static char tls_cert_path[64];

/* ---- fixture ---- */

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	ck_assert_ptr_nonnull(d);
	return d;
}

/* A self-signed certificate for 127.0.0.1 over key, written to a temp
 * file that becomes cfg.wx_cainfo. */
static void
make_tls_cert(EVP_PKEY *key)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509_NAME *name;
	FILE *f;
	int fd;

	ck_assert_ptr_nonnull(tls_cert = X509_new());
	ck_assert_int_eq(X509_set_version(tls_cert, 2), 1);
	ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(tls_cert), 1), 1);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(tls_cert), -3600));
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(tls_cert), 3600));
	ck_assert_int_eq(X509_set_pubkey(tls_cert, key), 1);
	name = X509_get_subject_name(tls_cert);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"127.0.0.1", -1, -1, 0), 1);
	ck_assert_int_eq(X509_set_issuer_name(tls_cert, name), 1);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, tls_cert, tls_cert, NULL, NULL, 0);
	ck_assert_ptr_nonnull(ext = X509V3_EXT_conf_nid(NULL, &v3,
	    NID_subject_alt_name, "IP:127.0.0.1"));
	ck_assert_int_eq(X509_add_ext(tls_cert, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ck_assert_ptr_nonnull(ext = X509V3_EXT_conf_nid(NULL, &v3,
	    NID_basic_constraints, "critical,CA:TRUE"));
	ck_assert_int_eq(X509_add_ext(tls_cert, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ck_assert_int_gt(X509_sign(tls_cert, key, EVP_sha256()), 0);

	snprintf(tls_cert_path, sizeof(tls_cert_path), "/tmp/check_wxpay.XXXXXX");
	ck_assert_int_ge(fd = mkstemp(tls_cert_path), 0);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	ck_assert_int_eq(PEM_write_X509(f, tls_cert), 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void
setup(void)
{
	char *pub, *key;
	size_t len;

	gym_clock_set_offset(0);
	root = vec_load();
	memset(&cfg, 0, sizeof(cfg));
	pub = vec_key_path(root, "platform_public_key");
	ck_assert_int_eq(gym_wx_keyring_add(&cfg.wx_platform,
	    vec_str(root, "platform_serial"), pub), GYM_OK);
	ck_assert_int_eq(gym_wx_keyring_add(&cfg.wx_platform,
	    vec_str(root, "public_key_id"), pub), GYM_OK);
	free(pub);
	key = vec_read(vec_str(cJSON_GetObjectItemCaseSensitive(root, "keys"),
	    "apiv3_key"), &len);
	ck_assert_uint_eq(len, 32);
	memcpy(cfg.wx_apiv3_key, key, 32);
	cfg.wx_have_apiv3_key = 1;
	gym_wipe(key, len);
	free(key);

	cfg.wx_appid = xstrdup(vec_str(root, "appid"));
	cfg.wx_mchid = xstrdup(vec_str(root, "mchid"));
	cfg.wx_merchant_serial = xstrdup(vec_str(root, "merchant_serial"));
	cfg.wx_app_secret = xstrdup(APP_SECRET);
	cfg.wx_merchant_key = vec_key(root, "merchant_private_key", 1);
	cfg.wx_notify_url = xstrdup(NOTIFY_URL);
	cfg.wx_refund_notify_url = xstrdup(REFUND_URL);
	cfg.wx_description = xstrdup(DESCRIPTION);
	cfg.wx_pay_base = xstrdup("https://127.0.0.1:9");
	cfg.wx_api_base = xstrdup("https://127.0.0.1:9");
	cfg.wx_connect_timeout_ms = 2000;
	cfg.wx_timeout_ms = 3000;

	platform_priv = vec_key(root, "platform_private_key", 1);
	merchant_pub = vec_key(root, "merchant_certificate", 0);
	make_tls_cert(platform_priv);
	cfg.wx_cainfo = xstrdup(tls_cert_path);
}

static void
teardown(void)
{
	char **strs[] = { &cfg.wx_appid, &cfg.wx_mchid, &cfg.wx_merchant_serial,
	    &cfg.wx_app_secret, &cfg.wx_notify_url, &cfg.wx_refund_notify_url,
	    &cfg.wx_description, &cfg.wx_pay_base, &cfg.wx_api_base, &cfg.wx_cainfo };
	size_t i;

	gym_clock_set_offset(0);
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	EVP_PKEY_free(cfg.wx_merchant_key);
	gym_wx_keyring_free(&cfg.wx_platform);
	memset(&cfg, 0, sizeof(cfg));
	EVP_PKEY_free(platform_priv);
	platform_priv = NULL;
	EVP_PKEY_free(merchant_pub);
	merchant_pub = NULL;
	X509_free(tls_cert);
	tls_cert = NULL;
	if (tls_cert_path[0] != '\0')
		unlink(tls_cert_path);
	tls_cert_path[0] = '\0';
	cJSON_Delete(root);
	root = NULL;
}

/* ---- notifications ---- */

static long
vec_long(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(cJSON_IsNumber(it), "vector number %s missing", name);
	return (long)it->valuedouble;
}

/* The notification case whose name contains part. */
static const cJSON *
notification_named(const char *part)
{
	const cJSON *c;
	int i;

	for (i = 0; i < NNOTIFICATIONS; i++) {
		c = vec_item(root, "notifications", i);
		if (strstr(vec_str(c, "case"), part) != NULL)
			return c;
	}
	ck_abort_msg("no notification case \"%s\"", part);
	return NULL;
}

/* Move gym_now() to the vector's "now". */
static void
clock_to(const cJSON *c)
{
	gym_clock_set_offset((int64_t)vec_long(c, "now") - (int64_t)time(NULL));
}

/* Open notification case c, optionally with another serial or signature. */
static enum gym_err
open_case(const cJSON *c, const char *serial, const char *signature,
    char *event_type, size_t etlen, char **plain)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "headers");
	const char *body = vec_str(c, "body");

	return gym_wx_notify_open(&cfg, vec_str(h, "Wechatpay-Timestamp"),
	    vec_str(h, "Wechatpay-Nonce"),
	    serial != NULL ? serial : vec_str(h, "Wechatpay-Serial"),
	    signature != NULL ? signature : vec_str(h, "Wechatpay-Signature"),
	    body, strlen(body), event_type, etlen, plain);
}

START_TEST(test_notify_valid)
{
	static const char *const cases[] = { "payment success", "refund success" };
	static const char *const events[] = { "TRANSACTION.SUCCESS", "REFUND.SUCCESS" };
	const cJSON *c = notification_named(cases[_i]);
	const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "plaintext");
	char et[64], *plain = NULL;
	cJSON *got;

	clock_to(c);
	ck_assert_int_eq(open_case(c, NULL, NULL, et, sizeof(et), &plain), GYM_OK);
	ck_assert_str_eq(et, events[_i]);
	ck_assert_ptr_nonnull(plain);
	ck_assert_ptr_nonnull(got = cJSON_Parse(plain));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(got, "out_trade_no")->valuestring,
	    OUT_TRADE_NO);
	ck_assert(cJSON_Compare(got, want, 1));
	cJSON_Delete(got);
	free(plain);
}
END_TEST

/* The same platform key is also registered under the PUB_KEY_ID. */
START_TEST(test_notify_public_key_id)
{
	const cJSON *c = notification_named("payment success");
	char *plain = NULL;

	clock_to(c);
	ck_assert_int_eq(open_case(c, vec_str(root, "public_key_id"), NULL, NULL, 0,
	    &plain), GYM_OK);
	ck_assert_ptr_nonnull(strstr(plain, OUT_TRADE_NO));
	free(plain);
}
END_TEST

START_TEST(test_notify_altered)
{
	const cJSON *c = notification_named("ciphertext altered");
	char et[64], *plain = (char *)1;

	clock_to(c);
	ck_assert_int_eq(open_case(c, NULL, NULL, et, sizeof(et), &plain), GYM_EINVAL);
	ck_assert_ptr_null(plain);
	ck_assert_str_eq(et, "");
}
END_TEST

START_TEST(test_notify_replay)
{
	const cJSON *c = notification_named("replayed");
	char *plain = (char *)1;

	clock_to(c);
	ck_assert_int_eq(open_case(c, NULL, NULL, NULL, 0, &plain), GYM_ECRYPTO);
	ck_assert_ptr_null(plain);
	/* the same bytes inside the window are fine */
	gym_clock_set_offset(vec_long(notification_named("payment success"), "now") -
	    (int64_t)time(NULL));
	ck_assert_int_eq(open_case(c, NULL, NULL, NULL, 0, &plain), GYM_OK);
	free(plain);
}
END_TEST

START_TEST(test_notify_window_edges)
{
	const cJSON *c = notification_named("payment success");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "headers");
	int64_t ts = strtoll(vec_str(h, "Wechatpay-Timestamp"), NULL, 10);
	char *plain = NULL;

	/* one second of slack: the clock may tick between setting the offset
	 * and the check (the exact edge is tested in check_wxsign.c, where
	 * "now" is a parameter) */
	gym_clock_set_offset(ts + GYM_WX_WINDOW - 1 - (int64_t)time(NULL));
	ck_assert_int_eq(open_case(c, NULL, NULL, NULL, 0, &plain), GYM_OK);
	free(plain);
	gym_clock_set_offset(ts + GYM_WX_WINDOW + 2 - (int64_t)time(NULL));
	ck_assert_int_eq(open_case(c, NULL, NULL, NULL, 0, &plain), GYM_ECRYPTO);
	gym_clock_set_offset(ts - GYM_WX_WINDOW - 2 - (int64_t)time(NULL));
	ck_assert_int_eq(open_case(c, NULL, NULL, NULL, 0, &plain), GYM_ECRYPTO);
}
END_TEST

START_TEST(test_notify_probe)
{
	const cJSON *c = notification_named("payment success");
	const cJSON *r = vec_item(root, "responses", 5);
	char *plain = (char *)1;

	ck_assert_ptr_nonnull(strstr(vec_str(r, "signature"), "WECHATPAY/SIGNTEST/"));
	clock_to(c);
	ck_assert_int_eq(open_case(c, NULL, vec_str(r, "signature"), NULL, 0, &plain),
	    GYM_ECRYPTO);
	ck_assert_ptr_null(plain);
	ck_assert_int_eq(open_case(c, NULL, "WECHATPAY/SIGNTEST/", NULL, 0, &plain),
	    GYM_ECRYPTO);
}
END_TEST

START_TEST(test_notify_unknown_serial)
{
	const cJSON *c = notification_named("payment success");
	char *plain = (char *)1;

	clock_to(c);
	ck_assert_int_eq(open_case(c, "1111111111111111111111111111111111111111", NULL,
	    NULL, 0, &plain), GYM_ECRYPTO);
	ck_assert_ptr_null(plain);
	ck_assert_int_eq(open_case(c, vec_str(root, "merchant_serial"), NULL,
	    NULL, 0, &plain), GYM_ECRYPTO);
}
END_TEST

/* Missing headers and a body changed by one byte are signature failures. */
START_TEST(test_notify_bad_input)
{
	const cJSON *c = notification_named("payment success");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "headers");
	const char *ts = vec_str(h, "Wechatpay-Timestamp");
	const char *nonce = vec_str(h, "Wechatpay-Nonce");
	const char *serial = vec_str(h, "Wechatpay-Serial");
	const char *sig = vec_str(h, "Wechatpay-Signature");
	char *body = xstrdup(vec_str(c, "body")), *plain = NULL;
	size_t len = strlen(body);

	clock_to(c);
	ck_assert_int_eq(gym_wx_notify_open(&cfg, NULL, nonce, serial, sig, body, len,
	    NULL, 0, &plain), GYM_ECRYPTO);
	ck_assert_int_eq(gym_wx_notify_open(&cfg, ts, "", serial, sig, body, len,
	    NULL, 0, &plain), GYM_ECRYPTO);
	ck_assert_int_eq(gym_wx_notify_open(&cfg, ts, nonce, NULL, sig, body, len,
	    NULL, 0, &plain), GYM_ECRYPTO);
	ck_assert_int_eq(gym_wx_notify_open(&cfg, ts, nonce, serial, NULL, body, len,
	    NULL, 0, &plain), GYM_ECRYPTO);
	/* a length one short: the signed text differs */
	ck_assert_int_eq(gym_wx_notify_open(&cfg, ts, nonce, serial, sig, body, len - 1,
	    NULL, 0, &plain), GYM_ECRYPTO);
	body[10] ^= 1;
	ck_assert_int_eq(gym_wx_notify_open(&cfg, ts, nonce, serial, sig, body, len,
	    NULL, 0, &plain), GYM_ECRYPTO);
	body[10] ^= 1;
	ck_assert_int_eq(gym_wx_notify_open(&cfg, ts, nonce, serial, sig, body, len,
	    NULL, 0, NULL), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_notify_open(NULL, ts, nonce, serial, sig, body, len,
	    NULL, 0, &plain), GYM_EINVAL);
	/* the event type must fit */
	{
		char small[8];

		ck_assert_int_eq(gym_wx_notify_open(&cfg, ts, nonce, serial, sig, body,
		    len, small, sizeof(small), &plain), GYM_EINVAL);
		ck_assert_ptr_null(plain);
	}
	/* a configuration without the APIv3 key cannot open anything */
	cfg.wx_have_apiv3_key = 0;
	ck_assert_int_eq(gym_wx_notify_open(&cfg, ts, nonce, serial, sig, body, len,
	    NULL, 0, &plain), GYM_EINTERNAL);
	ck_assert_ptr_null(plain);
	free(body);
}
END_TEST

/*
 * Envelopes of our own, signed with the test platform key now: each must
 * pass the signature check and then fail on its content.
 */
static enum gym_err
open_signed(const char *body, char **plain)
{
	char ts[24], *sig = NULL;
	enum gym_err rc;

	snprintf(ts, sizeof(ts), "%lld", (long long)gym_now());
	ck_assert_int_eq(gym_wx_sign_response(platform_priv, ts, "N0nce", body,
	    strlen(body), &sig), GYM_OK);
	rc = gym_wx_notify_open(&cfg, ts, "N0nce", vec_str(root, "platform_serial"),
	    sig, body, strlen(body), NULL, 0, plain);
	free(sig);
	return rc;
}

/* An envelope around plaintext encrypted with the APIv3 key. */
static char *
envelope(const char *algorithm, const char *aad_sent, const char *aad_used,
    const char *plaintext, int with_event)
{
	char *ct = NULL, *out;
	size_t n;

	ck_assert_int_eq(gym_aesgcm_encrypt(cfg.wx_apiv3_key, "Kj7QIyUiYx1q", aad_used,
	    plaintext, strlen(plaintext), &ct), GYM_OK);
	n = strlen(ct) + 512;
	ck_assert_ptr_nonnull(out = malloc(n));
	snprintf(out, n, "{\"id\":\"EV-1\",%s\"resource_type\":\"encrypt-resource\","
	    "\"resource\":{\"original_type\":\"transaction\",\"algorithm\":\"%s\","
	    "\"ciphertext\":\"%s\",\"associated_data\":\"%s\",\"nonce\":\"Kj7QIyUiYx1q\"}}",
	    with_event ? "\"event_type\":\"TRANSACTION.SUCCESS\"," : "", algorithm, ct,
	    aad_sent);
	free(ct);
	return out;
}

START_TEST(test_notify_envelopes)
{
	static const char pt[] = "{\"out_trade_no\":\"" OUT_TRADE_NO "\"}";
	char *body, *plain = NULL;

	/* our own envelope opens: the construction is right */
	body = envelope("AEAD_AES_256_GCM", "transaction", "transaction", pt, 1);
	ck_assert_int_eq(open_signed(body, &plain), GYM_OK);
	ck_assert_str_eq(plain, pt);
	free(plain);
	free(body);
	/* the documentation's empty associated_data */
	body = envelope("AEAD_AES_256_GCM", "", "", pt, 1);
	ck_assert_int_eq(open_signed(body, &plain), GYM_OK);
	free(plain);
	free(body);

	body = envelope("AEAD_AES_128_GCM", "transaction", "transaction", pt, 1);
	ck_assert_int_eq(open_signed(body, &plain), GYM_EINVAL);
	free(body);
	body = envelope("AEAD_AES_256_GCM", "refund", "transaction", pt, 1);
	ck_assert_int_eq(open_signed(body, &plain), GYM_EINVAL);
	free(body);
	body = envelope("AEAD_AES_256_GCM", "transaction", "transaction", pt, 0);
	ck_assert_int_eq(open_signed(body, &plain), GYM_EINVAL);
	free(body);
	body = envelope("AEAD_AES_256_GCM", "transaction", "transaction", "not json", 1);
	ck_assert_int_eq(open_signed(body, &plain), GYM_EINVAL);
	free(body);
	ck_assert_int_eq(open_signed("not json", &plain), GYM_EINVAL);
	ck_assert_int_eq(open_signed("{\"event_type\":\"TRANSACTION.SUCCESS\"}", &plain),
	    GYM_EINVAL);
	ck_assert_int_eq(open_signed("{\"event_type\":\"TRANSACTION.SUCCESS\","
	    "\"resource\":{\"algorithm\":\"AEAD_AES_256_GCM\",\"ciphertext\":\"!!\","
	    "\"nonce\":\"Kj7QIyUiYx1q\"}}", &plain), GYM_EINVAL);
	ck_assert_int_eq(open_signed("", &plain), GYM_EINVAL);
	ck_assert_ptr_null(plain);
}
END_TEST

/* ---- the client without I/O ---- */

START_TEST(test_client_https_only)
{
	static const char *const bad[] = {
		"http://127.0.0.1:8080", "ftp://api.mch.weixin.qq.com", "https://",
		"https:///v3", "api.mch.weixin.qq.com", "", "https://a b",
		"https://host/?q=1",
	};
	struct gym_wx_client *c = (struct gym_wx_client *)1;
	char *keep_pay = cfg.wx_pay_base, *keep_api = cfg.wx_api_base;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.wx_pay_base = (char *)(uintptr_t)bad[i];
		ck_assert_msg(gym_wx_client_new(&cfg, &c) == GYM_EINVAL, "%s", bad[i]);
		ck_assert_ptr_null(c);
	}
	cfg.wx_pay_base = keep_pay;
	cfg.wx_api_base = (char *)(uintptr_t)"http://api.weixin.qq.com";
	ck_assert_int_eq(gym_wx_client_new(&cfg, &c), GYM_EINVAL);
	ck_assert_ptr_null(c);
	cfg.wx_api_base = NULL;
	ck_assert_int_eq(gym_wx_client_new(&cfg, &c), GYM_EINVAL);
	cfg.wx_api_base = keep_api;
	ck_assert_int_eq(gym_wx_client_new(NULL, &c), GYM_EINVAL);

	ck_assert_int_eq(gym_wx_client_new(&cfg, &c), GYM_OK);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(gym_wx_last_error(c)->http_status, 0);
	gym_wx_client_free(c);
	gym_wx_client_free(NULL);
}
END_TEST

/* Bad arguments are refused before anything is sent (port 9 would
 * answer "NETWORK" if something were). */
START_TEST(test_client_bad_arguments)
{
	struct gym_wx_client *c;
	struct gym_wx_payparams pp;
	char buf[128];
	cJSON *j = (cJSON *)1;

	ck_assert_int_eq(gym_wx_client_new(&cfg, &c), GYM_OK);
	ck_assert_int_eq(gym_wx_prepay_jsapi(c, "short", OPENID, 20000, 0, &pp), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_prepay_jsapi(c, "GYM 1234567", OPENID, 20000, 0, &pp),
	    GYM_EINVAL);
	ck_assert_int_eq(gym_wx_prepay_jsapi(c, "GYM123456789012345678901234567890",
	    OPENID, 20000, 0, &pp), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_prepay_jsapi(c, OUT_TRADE_NO, OPENID, 0, 0, &pp), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_prepay_jsapi(c, OUT_TRADE_NO, "", 20000, 0, &pp), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_prepay_jsapi(c, OUT_TRADE_NO, "o\"x", 20000, 0, &pp),
	    GYM_EINVAL);
	ck_assert_int_eq(gym_wx_prepay_native(c, OUT_TRADE_NO, -1, 0, buf, sizeof(buf)),
	    GYM_EINVAL);
	ck_assert_int_eq(gym_wx_query(c, "GYM/../x", &j), GYM_EINVAL);
	ck_assert_ptr_null(j);
	ck_assert_int_eq(gym_wx_close(c, "GYM?mchid=1"), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_refund_create(c, OUT_TRADE_NO, "RF1", NULL, 20001, 20000,
	    &j), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_refund_create(c, OUT_TRADE_NO, "", NULL, 1, 20000, &j),
	    GYM_EINVAL);
	ck_assert_int_eq(gym_wx_refund_query(c, "RF 1", &j), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_code2session(c, "", buf, sizeof(buf)), GYM_E_INVALID_CODE);
	ck_assert_int_eq(gym_wx_subscribe_send(c, "", "{}"), GYM_EINVAL);
	ck_assert_str_eq(gym_wx_last_error(c)->code, "");
	gym_wx_client_free(c);
}
END_TEST

/* ---- the HTTP paths against a one-shot TLS server ---- */

struct mock {
	pid_t pid;
	int port;
	int reqfd;			/* the request the server read */
};

/* A loopback TCP socket bound to an ephemeral port, listening if asked. */
static int
loopback_socket(int listening, int *port)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (listening)
		ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Content-Length of a request head, 0 when none. */
static size_t
content_length(const char *head)
{
	const char *p;

	for (p = head; (p = strchr(p, '\n')) != NULL; p++)
		if (strncasecmp(p + 1, "Content-Length:", 15) == 0)
			return (size_t)strtoul(p + 16, NULL, 10);
	return 0;
}

/* The server child: one connection, one request, one canned answer. */
static void
mock_serve(int lfd, int wfd, const char *resp, size_t rlen)
{
	static char req[65536];
	SSL_CTX *ctx;
	SSL *ssl;
	size_t n = 0, w = 0;
	char *end;
	int fd, r;

	alarm(10);
	signal(SIGPIPE, SIG_IGN);
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate(ctx, tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, platform_priv) != 1 ||
	    (fd = accept(lfd, NULL, NULL)) == -1 || (ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
		_exit(1);
	for (;;) {
		if (n == sizeof(req) - 1 || (r = SSL_read(ssl, req + n,
		    (int)(sizeof(req) - 1 - n))) <= 0)
			_exit(2);
		n += (size_t)r;
		req[n] = '\0';
		if ((end = strstr(req, "\r\n\r\n")) != NULL &&
		    n >= (size_t)(end + 4 - req) + content_length(req))
			break;
	}
	if (write(wfd, req, n) != (ssize_t)n)
		_exit(3);
	close(wfd);
	while (w < rlen && (r = SSL_write(ssl, resp + w, (int)(rlen - w))) > 0)
		w += (size_t)r;
	SSL_shutdown(ssl);
	_exit(0);
}

/* Start a server that answers resp; point both bases at it. */
static void
mock_start(struct mock *m, const char *resp, const char *prefix)
{
	char base[96];
	int lfd, p[2];

	lfd = loopback_socket(1, &m->port);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ge(m->pid = fork(), 0);
	if (m->pid == 0) {
		close(p[0]);
		mock_serve(lfd, p[1], resp, strlen(resp));
	}
	close(p[1]);
	close(lfd);
	m->reqfd = p[0];
	snprintf(base, sizeof(base), "https://127.0.0.1:%d%s", m->port, prefix);
	free(cfg.wx_pay_base);
	free(cfg.wx_api_base);
	cfg.wx_pay_base = xstrdup(base);
	cfg.wx_api_base = xstrdup(base);
}

/* The request the server read (caller frees); reaps the server. */
static char *
mock_finish(struct mock *m)
{
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int status;

	do {
		ck_assert_ptr_nonnull(buf = realloc(buf, n + 4096 + 1));
		r = read(m->reqfd, buf + n, 4096);
		ck_assert_int_ge(r, 0);
		n += (size_t)r;
	} while (r > 0);
	buf[n] = '\0';
	close(m->reqfd);
	ck_assert_int_eq(waitpid(m->pid, &status, 0), m->pid);
	return buf;
}

/* An HTTP answer; signed with the platform key when sign is 1, over
 * other bytes when 2, with lower-case header names when 3. */
static char *
answer(int status, const char *body, int sign)
{
	char ts[24], *sig = NULL, *out, head[1024];
	const char *signed_body = sign == 2 ? "{\"other\":1}" : body;
	size_t n;

	head[0] = '\0';
	if (sign) {
		snprintf(ts, sizeof(ts), "%lld", (long long)gym_now());
		ck_assert_int_eq(gym_wx_sign_response(platform_priv, ts, "RespN0nce",
		    signed_body, strlen(signed_body), &sig), GYM_OK);
		snprintf(head, sizeof(head), sign == 3 ?
		    "wechatpay-timestamp: %s\r\nWECHATPAY-NONCE:   RespN0nce \r\n"
		    "wechatpay-serial: %s\r\nwechatpay-signature: %s\r\n" :
		    "Wechatpay-Timestamp: %s\r\nWechatpay-Nonce: RespN0nce\r\n"
		    "Wechatpay-Serial: %s\r\nWechatpay-Signature: %s\r\n",
		    ts, vec_str(root, "platform_serial"), sig);
		free(sig);
	}
	n = strlen(head) + strlen(body) + 256;
	ck_assert_ptr_nonnull(out = malloc(n));
	snprintf(out, n, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n"
	    "Request-ID: 08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-%s\r\n%s\r\n%s",
	    status, strlen(body), status == 400 ? "268449538" : "0", head, body);
	return out;
}

/* The value of header name in a request, NUL-terminated in buf. */
static const char *
req_header(const char *req, const char *name, char *buf, size_t len)
{
	const char *p, *v;
	size_t nl = strlen(name), vl;

	for (p = req; (p = strstr(p, "\r\n")) != NULL; p += 2) {
		if (strncasecmp(p + 2, name, nl) != 0 || p[2 + nl] != ':')
			continue;
		v = p + 2 + nl + 1;
		v += strspn(v, " ");
		vl = strcspn(v, "\r");
		ck_assert_uint_lt(vl, len);
		memcpy(buf, v, vl);
		buf[vl] = '\0';
		return buf;
	}
	return NULL;
}

/*
 * Check a /v3 request: the request line, the fixed headers, the body
 * byte for byte, and an Authorization that verifies with the merchant
 * certificate over the exact target and body.
 */
static void
assert_v3_request(const char *req, const char *method, const char *target,
    const char *body)
{
	struct gym_wx_auth a;
	char line[512], hv[1024], *msg = NULL;
	const char *got_body = strstr(req, "\r\n\r\n") + 4;
	size_t mlen;

	snprintf(line, sizeof(line), "%s %s HTTP/1.1\r\n", method, target);
	ck_assert_msg(strncmp(req, line, strlen(line)) == 0, "request line: %.80s", req);
	ck_assert_str_eq(got_body, body);
	ck_assert_str_eq(req_header(req, "Accept", hv, sizeof(hv)), "application/json");
	ck_assert_str_eq(req_header(req, "Content-Type", hv, sizeof(hv)),
	    "application/json");
	ck_assert_str_eq(req_header(req, "User-Agent", hv, sizeof(hv)), "gymd/1.0");
	ck_assert_str_eq(req_header(req, "Wechatpay-Serial", hv, sizeof(hv)),
	    vec_str(root, "platform_serial"));
	ck_assert_ptr_null(req_header(req, "Expect", hv, sizeof(hv)));
	ck_assert_ptr_nonnull(req_header(req, "Authorization", hv, sizeof(hv)));
	ck_assert_int_eq(gym_wx_parse_authorization(hv, &a), GYM_OK);
	ck_assert_str_eq(a.mchid, vec_str(root, "mchid"));
	ck_assert_str_eq(a.serial, vec_str(root, "merchant_serial"));
	ck_assert_uint_eq(strlen(a.nonce), 32);
	ck_assert_uint_eq(strspn(a.nonce, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz"), 32);
	ck_assert(llabs(strtoll(a.timestamp, NULL, 10) - (long long)gym_now()) <= 5);
	ck_assert_int_eq(gym_wx_request_message(method, target,
	    strtol(a.timestamp, NULL, 10), a.nonce, body, strlen(body), &msg, &mlen),
	    GYM_OK);
	ck_assert_int_eq(gym_rsa_verify(merchant_pub, msg, mlen, a.signature), GYM_OK);
	free(msg);
}

/* The body of request case i of the vectors. */
static const char *
vector_body(int i)
{
	return vec_str(vec_item(root, "requests", i), "body");
}

static int64_t
time_expire_us(void)
{
	int64_t us;

	ck_assert_int_eq(gym_time_parse(TIME_EXPIRE, &us), 0);
	return us;
}

/* A fresh one-shot server answering resp, and a client pointed at it. */
#define WITH_SERVER(m, c, resp, prefix) do {				\
	mock_start(&(m), (resp), (prefix));				\
	ck_assert_int_eq(gym_wx_client_new(&cfg, &(c)), GYM_OK);	\
} while (0)

START_TEST(test_http_jsapi)
{
	struct gym_wx_client *c;
	struct gym_wx_payparams pp;
	struct mock m;
	char *resp, *req, *msg = NULL;
	size_t mlen;

	resp = answer(200, "{\"prepay_id\":\"wx21000000000000000000000000000000\"}", 1);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_prepay_jsapi(c, OUT_TRADE_NO, OPENID, 20000,
	    time_expire_us(), &pp), GYM_OK);
	req = mock_finish(&m);
	assert_v3_request(req, "POST", "/v3/pay/transactions/jsapi", vector_body(0));
	ck_assert_int_eq(gym_wx_last_error(c)->http_status, 200);

	ck_assert_str_eq(pp.prepay_id, "wx21000000000000000000000000000000");
	ck_assert_str_eq(pp.package, "prepay_id=wx21000000000000000000000000000000");
	ck_assert_uint_eq(strlen(pp.nonce), 32);
	ck_assert(llabs(strtoll(pp.timestamp, NULL, 10) - (long long)gym_now()) <= 5);
	mlen = strlen(cfg.wx_appid) + strlen(pp.timestamp) + strlen(pp.nonce) +
	    strlen(pp.package) + 5;
	ck_assert_ptr_nonnull(msg = malloc(mlen));
	snprintf(msg, mlen, "%s\n%s\n%s\n%s\n", cfg.wx_appid, pp.timestamp, pp.nonce,
	    pp.package);
	ck_assert_int_eq(gym_rsa_verify(merchant_pub, msg, strlen(msg), pp.pay_sign),
	    GYM_OK);
	free(msg);
	free(req);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

/* A base URL with a path: the signed URL is the whole path sent. */
START_TEST(test_http_native_prefix)
{
	struct gym_wx_client *c;
	struct mock m;
	char *resp, *req, url[64], body[512];

	resp = answer(200, "{\"code_url\":\"weixin://wxpay/bizpayurl?pr=JyC91EIz1\"}", 3);
	WITH_SERVER(m, c, resp, "/wx/");
	ck_assert_int_eq(gym_wx_prepay_native(c, OUT_TRADE_NO, 20000, 0, url,
	    sizeof(url)), GYM_OK);
	req = mock_finish(&m);
	snprintf(body, sizeof(body), "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":"
	    "\"%s\",\"out_trade_no\":\"%s\",\"notify_url\":\"%s\",\"amount\":"
	    "{\"total\":20000,\"currency\":\"CNY\"}}", cfg.wx_appid, cfg.wx_mchid,
	    DESCRIPTION, OUT_TRADE_NO, NOTIFY_URL);
	assert_v3_request(req, "POST", "/wx/v3/pay/transactions/native", body);
	ck_assert_str_eq(url, "weixin://wxpay/bizpayurl?pr=JyC91EIz1");
	free(req);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

/* A 2xx answer is never used unverified. */
START_TEST(test_http_sign_verify_failed)
{
	static const int modes[] = { 0, 2 };
	struct gym_wx_client *c;
	struct gym_wx_payparams pp;
	struct mock m;
	char *resp;

	resp = answer(200, "{\"prepay_id\":\"wx21000000000000000000000000000000\"}",
	    modes[_i]);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_prepay_jsapi(c, OUT_TRADE_NO, OPENID, 20000,
	    time_expire_us(), &pp), GYM_EUPSTREAM);
	free(mock_finish(&m));
	ck_assert_str_eq(gym_wx_last_error(c)->code, "SIGN_VERIFY_FAILED");
	ck_assert_int_eq(gym_wx_last_error(c)->http_status, 200);
	ck_assert_str_eq(pp.prepay_id, "");
	ck_assert_str_eq(pp.pay_sign, "");
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

/* A stale answer (replayed from 10 minutes ago) is refused too. */
START_TEST(test_http_stale_answer)
{
	struct gym_wx_client *c;
	struct mock m;
	char *resp;
	cJSON *j = NULL;

	gym_clock_set_offset(-600);
	resp = answer(200, "{\"out_trade_no\":\"" OUT_TRADE_NO "\"}", 1);
	gym_clock_set_offset(0);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_query(c, OUT_TRADE_NO, &j), GYM_EUPSTREAM);
	free(mock_finish(&m));
	ck_assert_ptr_null(j);
	ck_assert_str_eq(gym_wx_last_error(c)->code, "SIGN_VERIFY_FAILED");
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_query)
{
	struct gym_wx_client *c;
	struct mock m;
	char *resp, *req;
	cJSON *j = NULL;

	resp = answer(200, "{\"mchid\":\"1900000001\",\"out_trade_no\":\"" OUT_TRADE_NO
	    "\",\"trade_state\":\"SUCCESS\",\"amount\":{\"total\":20000}}", 1);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_query(c, OUT_TRADE_NO, &j), GYM_OK);
	req = mock_finish(&m);
	assert_v3_request(req, "GET", vec_str(vec_item(root, "requests", 1), "url"), "");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "trade_state")->valuestring,
	    "SUCCESS");
	cJSON_Delete(j);
	free(req);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

/* A verified answer about another order is not accepted. */
START_TEST(test_http_query_other_order)
{
	struct gym_wx_client *c;
	struct mock m;
	char *resp;
	cJSON *j = NULL;

	resp = answer(200, "{\"out_trade_no\":\"GYM_OTHER_ORDER\"}", 1);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_query(c, OUT_TRADE_NO, &j), GYM_EUPSTREAM);
	free(mock_finish(&m));
	ck_assert_ptr_null(j);
	ck_assert_str_eq(gym_wx_last_error(c)->code, "BAD_RESPONSE");
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_query_not_found)
{
	struct gym_wx_client *c;
	struct mock m;
	char *resp;
	cJSON *j = NULL;

	resp = answer(404, "{\"code\":\"ORDER_NOT_EXIST\",\"message\":\"订单不存在\"}", 1);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_query(c, OUT_TRADE_NO, &j), GYM_ENOTFOUND);
	free(mock_finish(&m));
	ck_assert_ptr_null(j);
	ck_assert_int_eq(gym_wx_last_error(c)->http_status, 404);
	ck_assert_str_eq(gym_wx_last_error(c)->code, "ORDER_NOT_EXIST");
	ck_assert_str_eq(gym_wx_last_error(c)->message, "订单不存在");
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_close)
{
	struct gym_wx_client *c;
	struct mock m;
	char *resp, *req;

	resp = answer(204, "", 1);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_close(c, OUT_TRADE_NO), GYM_OK);
	req = mock_finish(&m);
	assert_v3_request(req, "POST", vec_str(vec_item(root, "requests", 2), "url"),
	    vector_body(2));
	ck_assert_int_eq(gym_wx_last_error(c)->http_status, 204);
	free(req);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

/* Close answers: paid (by code or by the Request-ID number), not found,
 * and an unsigned 204 (refused). */
START_TEST(test_http_close_errors)
{
	static const struct {
		int status;
		const char *body;
		int sign;
		enum gym_err rc;
	} t[] = {
		{ 400, "{\"code\":\"ORDERPAID\",\"message\":\"该订单已支付\"}", 1, GYM_ECONFLICT },
		{ 400, "{\"code\":\"ORDER_PAID\",\"message\":\"x\"}", 0, GYM_ECONFLICT },
		{ 400, "{\"code\":\"INVALID_REQUEST\",\"message\":\"x\"}", 0, GYM_ECONFLICT },
		{ 404, "{\"code\":\"ORDER_NOT_EXIST\",\"message\":\"x\"}", 0, GYM_ENOTFOUND },
		{ 500, "{\"code\":\"SYSTEM_ERROR\",\"message\":\"x\"}", 1, GYM_EUPSTREAM },
		{ 204, "", 0, GYM_EUPSTREAM },
	};
	struct gym_wx_client *c;
	struct mock m;
	char *resp;

	resp = answer(t[_i].status, t[_i].body, t[_i].sign);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_close(c, OUT_TRADE_NO), t[_i].rc);
	free(mock_finish(&m));
	ck_assert_int_eq(gym_wx_last_error(c)->http_status, t[_i].status);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_refund)
{
	struct gym_wx_client *c;
	struct mock m;
	char *resp, *req;
	cJSON *j = NULL;

	resp = answer(200, "{\"refund_id\":\"50300002026112200000000000001\","
	    "\"out_refund_no\":\"RF20261122000001\",\"status\":\"PROCESSING\"}", 1);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_refund_create(c, OUT_TRADE_NO, "RF20261122000001",
	    "运营退款", 20000, 20000, &j), GYM_OK);
	req = mock_finish(&m);
	assert_v3_request(req, "POST", "/v3/refund/domestic/refunds", vector_body(3));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "status")->valuestring,
	    "PROCESSING");
	cJSON_Delete(j);
	free(req);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_refund_query)
{
	struct gym_wx_client *c;
	struct mock m;
	char *resp, *req;
	cJSON *j = NULL;

	resp = answer(404, "{\"code\":\"RESOURCE_NOT_EXISTS\",\"message\":\"退款单不存在\"}", 1);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_refund_query(c, "RF|2026*1", &j), GYM_ENOTFOUND);
	req = mock_finish(&m);
	/* '|' and '*' go percent-encoded, and are signed that way */
	assert_v3_request(req, "GET", "/v3/refund/domestic/refunds/RF%7C2026%2A1", "");
	ck_assert_ptr_null(j);
	free(req);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_param_error)
{
	struct gym_wx_client *c;
	struct mock m;
	char *resp, url[64];

	resp = answer(400, "{\"code\":\"PARAM_ERROR\",\"detail\":{\"location\":\"body\"},"
	    "\"message\":\"time_expire\"}", 0);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_prepay_native(c, OUT_TRADE_NO, 20000, 0, url,
	    sizeof(url)), GYM_EUPSTREAM);
	free(mock_finish(&m));
	ck_assert_int_eq(gym_wx_last_error(c)->http_status, 400);
	ck_assert_str_eq(gym_wx_last_error(c)->code, "PARAM_ERROR");
	ck_assert_str_eq(gym_wx_last_error(c)->message, "time_expire");
	ck_assert_str_eq(url, "");
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_too_large)
{
	struct gym_wx_client *c;
	struct mock m;
	size_t n = GYM_WX_MAXBODY + 1024;
	char *resp, *body;
	cJSON *j = NULL;

	ck_assert_ptr_nonnull(body = malloc(n + 1));
	memset(body, ' ', n);
	body[n] = '\0';
	body[0] = '{';
	body[n - 1] = '}';
	resp = answer(200, body, 1);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_query(c, OUT_TRADE_NO, &j), GYM_EUPSTREAM);
	free(mock_finish(&m));
	ck_assert_str_eq(gym_wx_last_error(c)->code, "RESPONSE_TOO_LARGE");
	ck_assert_ptr_null(j);
	free(body);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_code2session)
{
	struct gym_wx_client *c;
	struct mock m;
	static const char want[] = "GET /sns/jscode2session?appid=wxd678efh567hg6787"
	    "&secret=s3cr3t%26appsecret%3Dx&js_code=0a1%2Fb%2Bc%3D"
	    "&grant_type=authorization_code HTTP/1.1\r\n";
	char *resp, *req, openid[64], hv[64];

	resp = answer(200, "{\"session_key\":\"c2Vzc2lvbg==\",\"openid\":\"" OPENID "\"}", 0);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_code2session(c, "0a1/b+c=", openid, sizeof(openid)),
	    GYM_OK);
	req = mock_finish(&m);
	ck_assert_str_eq(openid, OPENID);
	ck_assert_msg(strncmp(req, want, strlen(want)) == 0, "%.160s", req);
	ck_assert_ptr_null(req_header(req, "Authorization", hv, sizeof(hv)));
	free(req);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_code2session_errors)
{
	static const struct {
		const char *body;
		enum gym_err rc;
		const char *code;
	} t[] = {
		{ "{\"errcode\":40029,\"errmsg\":\"invalid code\"}", GYM_E_INVALID_CODE, "40029" },
		{ "{\"errcode\":40163,\"errmsg\":\"code been used\"}", GYM_E_INVALID_CODE, "40163" },
		{ "{\"errcode\":40226,\"errmsg\":\"high risk\"}", GYM_E_INVALID_CODE, "40226" },
		{ "{\"errcode\":-1,\"errmsg\":\"system error\"}", GYM_EUPSTREAM, "-1" },
		{ "{\"errcode\":45011,\"errmsg\":\"api minute-quota\"}", GYM_EUPSTREAM, "45011" },
		{ "{\"errcode\":0,\"errmsg\":\"ok\"}", GYM_EUPSTREAM, "BAD_RESPONSE" },
		{ "<html>busy</html>", GYM_EUPSTREAM, "BAD_RESPONSE" },
	};
	struct gym_wx_client *c;
	struct mock m;
	char *resp, openid[64];

	resp = answer(200, t[_i].body, 0);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_code2session(c, "061abc", openid, sizeof(openid)),
	    t[_i].rc);
	free(mock_finish(&m));
	ck_assert_str_eq(gym_wx_last_error(c)->code, t[_i].code);
	ck_assert_str_eq(openid, "");
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_stable_token)
{
	struct gym_wx_client *c;
	struct mock m;
	char *resp, *req, token[128];
	int exp = 0;

	resp = answer(200, "{\"access_token\":\"SIMTOKEN123\",\"expires_in\":7200}", 0);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_stable_token(c, 1, token, sizeof(token), &exp), GYM_OK);
	req = mock_finish(&m);
	ck_assert_str_eq(token, "SIMTOKEN123");
	ck_assert_int_eq(exp, 7200);
	ck_assert_msg(strncmp(req, "POST /cgi-bin/stable_token HTTP/1.1\r\n",
	    strlen("POST /cgi-bin/stable_token HTTP/1.1\r\n")) == 0, "%.80s", req);
	ck_assert_str_eq(strstr(req, "\r\n\r\n") + 4, "{\"grant_type\":\"client_credential\","
	    "\"appid\":\"wxd678efh567hg6787\",\"secret\":\"" APP_SECRET "\","
	    "\"force_refresh\":true}");
	free(req);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_subscribe)
{
	static const struct {
		int status;
		const char *body;
		enum gym_err rc;
		const char *code;
	} t[] = {
		{ 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":1}", GYM_OK, "" },
		{ 200, "{\"errcode\":43101,\"errmsg\":\"user refuse\"}", GYM_EUPSTREAM, "43101" },
		{ 500, "system error\n", GYM_EUPSTREAM, "HTTP_500" },
	};
	static const char msg[] = "{\"touser\":\"" OPENID "\",\"template_id\":\"T\"}";
	static const char want[] = "POST /cgi-bin/message/subscribe/send?"
	    "access_token=TOK%2B%2F%3D HTTP/1.1\r\n";
	struct gym_wx_client *c;
	struct mock m;
	char *resp, *req;

	resp = answer(t[_i].status, t[_i].body, 0);
	WITH_SERVER(m, c, resp, "");
	ck_assert_int_eq(gym_wx_subscribe_send(c, "TOK+/=", msg), t[_i].rc);
	req = mock_finish(&m);
	ck_assert_msg(strncmp(req, want, strlen(want)) == 0, "%.80s", req);
	ck_assert_str_eq(strstr(req, "\r\n\r\n") + 4, msg);
	ck_assert_str_eq(gym_wx_last_error(c)->code, t[_i].code);
	free(req);
	free(resp);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_refused)
{
	struct gym_wx_client *c;
	cJSON *j = NULL;
	char base[64];
	int fd, port;

	/* bound but not listening: the connection is refused */
	fd = loopback_socket(0, &port);
	snprintf(base, sizeof(base), "https://127.0.0.1:%d", port);
	free(cfg.wx_pay_base);
	cfg.wx_pay_base = xstrdup(base);
	ck_assert_int_eq(gym_wx_client_new(&cfg, &c), GYM_OK);
	ck_assert_int_eq(gym_wx_query(c, OUT_TRADE_NO, &j), GYM_EUPSTREAM);
	ck_assert_str_eq(gym_wx_last_error(c)->code, "NETWORK");
	ck_assert_int_eq(gym_wx_last_error(c)->http_status, 0);
	ck_assert_ptr_null(j);
	close(fd);
	gym_wx_client_free(c);
}
END_TEST

START_TEST(test_http_timeout)
{
	struct gym_wx_client *c;
	struct timespec t0, t1;
	char base[64];
	int fd, port;
	long ms;

	/* listening but never accepting: the TLS handshake stalls */
	fd = loopback_socket(1, &port);
	snprintf(base, sizeof(base), "https://127.0.0.1:%d", port);
	free(cfg.wx_pay_base);
	cfg.wx_pay_base = xstrdup(base);
	cfg.wx_timeout_ms = 300;
	ck_assert_int_eq(gym_wx_client_new(&cfg, &c), GYM_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(gym_wx_close(c, OUT_TRADE_NO), GYM_ETIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 250);
	ck_assert_int_lt(ms, 2000);
	ck_assert_str_eq(gym_wx_last_error(c)->code, "TIMEOUT");
	close(fd);
	gym_wx_client_free(c);
}
END_TEST

Suite *
wxpay_suite(void)
{
	Suite *s = suite_create("wxpay");
	TCase *tc;

	tc = tcase_create("notify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_notify_valid, 0, 2);
	tcase_add_test(tc, test_notify_public_key_id);
	tcase_add_test(tc, test_notify_altered);
	tcase_add_test(tc, test_notify_replay);
	tcase_add_test(tc, test_notify_window_edges);
	tcase_add_test(tc, test_notify_probe);
	tcase_add_test(tc, test_notify_unknown_serial);
	tcase_add_test(tc, test_notify_bad_input);
	tcase_add_test(tc, test_notify_envelopes);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_client_https_only);
	tcase_add_test(tc, test_client_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("http");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_http_jsapi);
	tcase_add_test(tc, test_http_native_prefix);
	tcase_add_loop_test(tc, test_http_sign_verify_failed, 0, 2);
	tcase_add_test(tc, test_http_stale_answer);
	tcase_add_test(tc, test_http_query);
	tcase_add_test(tc, test_http_query_other_order);
	tcase_add_test(tc, test_http_query_not_found);
	tcase_add_test(tc, test_http_close);
	tcase_add_loop_test(tc, test_http_close_errors, 0, 6);
	tcase_add_test(tc, test_http_refund);
	tcase_add_test(tc, test_http_refund_query);
	tcase_add_test(tc, test_http_param_error);
	tcase_add_test(tc, test_http_too_large);
	tcase_add_test(tc, test_http_code2session);
	tcase_add_loop_test(tc, test_http_code2session_errors, 0, 7);
	tcase_add_test(tc, test_http_stable_token);
	tcase_add_loop_test(tc, test_http_subscribe, 0, 3);
	tcase_add_test(tc, test_http_refused);
	tcase_add_test(tc, test_http_timeout);
	suite_add_tcase(s, tc);
	return s;
}
