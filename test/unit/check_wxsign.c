/*
 * check_wxsign.c: unit tests of lib/wxsign.c.  Every case of the shared
 * wechatpay-v3.json (computed with an independent SDK) is reproduced: the
 * request signatures and Authorization headers byte for byte, the
 * response and notification verdicts, the notification plaintexts and
 * the paySign.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "crypto.h"
#include "unit.h"
#include "vectors.h"
#include "wxsign.h"

/* How many cases of each kind the vector file holds. */
#define NREQUESTS	4
#define NRESPONSES	6
#define NNOTIFICATIONS	4

static cJSON *root;
static EVP_PKEY *merchant;
static struct gym_wx_keyring ring;

static void
setup(void)
{
	char *pub;

	root = vec_load();
	merchant = vec_key(root, "merchant_private_key", 1);
	memset(&ring, 0, sizeof(ring));
	pub = vec_key_path(root, "platform_public_key");
	ck_assert_int_eq(gym_wx_keyring_add(&ring, vec_str(root, "platform_serial"),
	    pub), GYM_OK);
	ck_assert_int_eq(gym_wx_keyring_add(&ring, vec_str(root, "public_key_id"),
	    pub), GYM_OK);
	free(pub);
}

static void
teardown(void)
{
	gym_wx_keyring_free(&ring);
	EVP_PKEY_free(merchant);
	merchant = NULL;
	cJSON_Delete(root);
	root = NULL;
}

static long
vec_long(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(cJSON_IsNumber(it), "vector number %s missing", name);
	return (long)it->valuedouble;
}

static int
vec_bool(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(cJSON_IsBool(it), "vector boolean %s missing", name);
	return cJSON_IsTrue(it);
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

/* Check the signature of notification case c at time now. */
static enum gym_err
notify_verify(const cJSON *c, time_t now)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "headers");
	const char *body = vec_str(c, "body");

	ck_assert_str_eq(vec_str(h, "Wechatpay-Signature-Type"),
	    "WECHATPAY2-SHA256-RSA2048");
	return gym_wx_verify(&ring, vec_str(h, "Wechatpay-Timestamp"),
	    vec_str(h, "Wechatpay-Nonce"), vec_str(h, "Wechatpay-Serial"),
	    vec_str(h, "Wechatpay-Signature"), body, strlen(body), now);
}

/* Decrypt the resource of notification case c with the APIv3 key. */
static enum gym_err
notify_decrypt(const cJSON *c, cJSON **plain)
{
	cJSON *body = cJSON_Parse(vec_str(c, "body"));
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(body, "resource");
	char *key = vec_read(vec_str(cJSON_GetObjectItemCaseSensitive(root,
	    "keys"), "apiv3_key"), NULL);
	char *pt = NULL;
	enum gym_err rc;

	*plain = NULL;
	ck_assert_uint_eq(strlen(key), 32);
	ck_assert_str_eq(vec_str(res, "algorithm"), "AEAD_AES_256_GCM");
	rc = gym_aesgcm_decrypt((const unsigned char *)key, vec_str(res, "nonce"),
	    vec_str(res, "associated_data"), vec_str(res, "ciphertext"), &pt, NULL);
	if (rc == GYM_OK)
		ck_assert_ptr_nonnull(*plain = cJSON_Parse(pt));
	free(pt);
	gym_wipe(key, 32);
	free(key);
	cJSON_Delete(body);
	return rc;
}

/* got and want have the same member name (compared deeply). */
static void
assert_same_member(const cJSON *got, const cJSON *want, const char *name)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(got, name);
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(want, name);

	ck_assert_msg(b != NULL && cJSON_Compare(a, b, 1), "%s differs", name);
}

START_TEST(test_vector_shape)
{
	static const struct {
		const char *name;
		int n;
	} arrays[] = {
		{ "requests", NREQUESTS }, { "responses", NRESPONSES },
		{ "notifications", NNOTIFICATIONS }, { "pay_sign", 1 },
		{ "aes_gcm", 1 },
	};
	size_t i;

	/* A new case in the file must get a test here too. */
	for (i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
		ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		    root, arrays[i].name)), arrays[i].n);
}
END_TEST

START_TEST(test_request)
{
	const cJSON *c = vec_item(root, "requests", _i);
	const char *body = vec_str(c, "body"), *nonce = vec_str(c, "nonce");
	const char *method = vec_str(c, "method"), *url = vec_str(c, "url");
	long ts = vec_long(c, "timestamp");
	char *msg = NULL, *sig = NULL, *auth = NULL;
	struct gym_wx_auth parsed;
	size_t len;

	ck_assert_int_eq(gym_wx_request_message(method, url, ts, nonce, body,
	    strlen(body), &msg, &len), GYM_OK);
	ck_assert_str_eq(msg, vec_str(c, "message"));
	ck_assert_uint_eq(len, strlen(msg));
	ck_assert_int_eq(gym_rsa_sign(merchant, msg, len, &sig), GYM_OK);
	ck_assert_str_eq(sig, vec_str(c, "signature"));
	ck_assert_int_eq(gym_wx_authorization(merchant, vec_str(root, "mchid"),
	    vec_str(root, "merchant_serial"), method, url, ts, nonce, body,
	    strlen(body), &auth), GYM_OK);
	ck_assert_str_eq(auth, vec_str(c, "authorization"));
	ck_assert_int_eq(gym_wx_parse_authorization(auth, &parsed), GYM_OK);
	ck_assert_str_eq(parsed.mchid, vec_str(root, "mchid"));
	ck_assert_str_eq(parsed.serial, vec_str(root, "merchant_serial"));
	ck_assert_str_eq(parsed.nonce, nonce);
	ck_assert_int_eq(strtol(parsed.timestamp, NULL, 10), ts);
	ck_assert_str_eq(parsed.signature, vec_str(c, "signature"));
	free(msg);
	free(sig);
	free(auth);
}
END_TEST

START_TEST(test_request_invalid)
{
	static char sentinel[] = "sentinel";
	char *out = sentinel;

	ck_assert_int_eq(gym_wx_request_message("GET", "", 1, "n", NULL, 0, &out,
	    NULL), GYM_EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(gym_wx_request_message("GET", "/v3", 1, NULL, NULL, 0,
	    &out, NULL), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_request_message("GET", "/v3", 1, "n", NULL, 1,
	    &out, NULL), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_request_message("GET", "/v3", 1, "n", NULL, 0,
	    &out, NULL), GYM_OK);
	ck_assert_str_eq(out, "GET\n/v3\n1\nn\n\n");
	free(out);
	ck_assert_int_eq(gym_wx_authorization(merchant, "1900000001", "", "GET",
	    "/v3", 1, "n", NULL, 0, &out), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_authorization(merchant, "19\"00", "S", "GET",
	    "/v3", 1, "n", NULL, 0, &out), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_authorization(merchant, "1900000001", "S", "GET",
	    "/v3", 1, "n\r\nX-Injected: 1", NULL, 0, &out), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_authorization(NULL, "1900000001", "S", "GET",
	    "/v3", 1, "n", NULL, 0, &out), GYM_EINVAL);
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_response)
{
	const cJSON *c = vec_item(root, "responses", _i);
	const char *body = vec_str(c, "body");
	EVP_PKEY *platform;
	char *sig = NULL;
	enum gym_err rc;

	rc = gym_wx_verify(&ring, vec_str(c, "timestamp"), vec_str(c, "nonce"),
	    vec_str(c, "serial"), vec_str(c, "signature"), body, strlen(body),
	    (time_t)vec_long(c, "now"));
	ck_assert_msg(rc == (vec_bool(c, "valid") ? GYM_OK : GYM_ECRYPTO),
	    "%s: got %d", vec_str(c, "case"), rc);
	if (rc != GYM_OK)
		return;
	/* The simulator's signer reproduces WeChat's signature. */
	platform = vec_key(root, "platform_private_key", 1);
	ck_assert_int_eq(gym_wx_sign_response(platform, vec_str(c, "timestamp"),
	    vec_str(c, "nonce"), body, strlen(body), &sig), GYM_OK);
	ck_assert_str_eq(sig, vec_str(c, "signature"));
	free(sig);
	EVP_PKEY_free(platform);
}
END_TEST

START_TEST(test_platform_certificate)
{
	const cJSON *c = vec_item(root, "responses", 0);
	const char *body = vec_str(c, "body");
	char *cert = vec_key_path(root, "platform_certificate");
	struct gym_wx_keyring certring;
	char serial[96];

	ck_assert_int_eq(gym_cert_serial(cert, serial, sizeof(serial)), GYM_OK);
	ck_assert_str_eq(serial, vec_str(root, "platform_serial"));
	memset(&certring, 0, sizeof(certring));
	ck_assert_int_eq(gym_wx_keyring_add(&certring, serial, cert), GYM_OK);
	ck_assert_int_eq(gym_wx_verify(&certring, vec_str(c, "timestamp"),
	    vec_str(c, "nonce"), vec_str(c, "serial"), vec_str(c, "signature"),
	    body, strlen(body), (time_t)vec_long(c, "now")), GYM_OK);
	gym_wx_keyring_free(&certring);
	free(cert);
}
END_TEST

START_TEST(test_verify_window)
{
	const cJSON *c = vec_item(root, "responses", 0);
	const char *ts = vec_str(c, "timestamp"), *nonce = vec_str(c, "nonce");
	const char *serial = vec_str(c, "serial"), *sig = vec_str(c, "signature");
	const char *body = vec_str(c, "body");
	size_t blen = strlen(body);
	time_t t = (time_t)strtol(ts, NULL, 10);

	ck_assert_int_eq(gym_wx_verify(&ring, ts, nonce, serial, sig, body, blen,
	    t + GYM_WX_WINDOW), GYM_OK);
	ck_assert_int_eq(gym_wx_verify(&ring, ts, nonce, serial, sig, body, blen,
	    t - GYM_WX_WINDOW), GYM_OK);
	ck_assert_int_eq(gym_wx_verify(&ring, ts, nonce, serial, sig, body, blen,
	    t + GYM_WX_WINDOW + 1), GYM_ECRYPTO);
	ck_assert_int_eq(gym_wx_verify(&ring, ts, nonce, serial, sig, body, blen,
	    t - GYM_WX_WINDOW - 1), GYM_ECRYPTO);
}
END_TEST

START_TEST(test_verify_invalid)
{
	const cJSON *c = vec_item(root, "responses", 0);
	const char *nonce = vec_str(c, "nonce"), *serial = vec_str(c, "serial");
	const char *sig = vec_str(c, "signature"), *body = vec_str(c, "body");
	time_t now = (time_t)vec_long(c, "now");

	/* Timestamps that are not all digits. */
	ck_assert_int_eq(gym_wx_verify(&ring, "+1763712001", nonce, serial, sig,
	    body, strlen(body), now), GYM_ECRYPTO);
	ck_assert_int_eq(gym_wx_verify(&ring, "1763712001 ", nonce, serial, sig,
	    body, strlen(body), now), GYM_ECRYPTO);
	ck_assert_int_eq(gym_wx_verify(&ring, "1763712001000", nonce, serial, sig,
	    body, strlen(body), now), GYM_ECRYPTO);
	/* Missing pieces. */
	ck_assert_int_eq(gym_wx_verify(&ring, "", nonce, serial, sig, body,
	    strlen(body), now), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_verify(&ring, "1763712001", NULL, serial, sig,
	    body, strlen(body), now), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_verify(&ring, "1763712001", nonce, "", sig, body,
	    strlen(body), now), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_verify(&ring, "1763712001", nonce, serial, NULL,
	    body, strlen(body), now), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_verify(NULL, "1763712001", nonce, serial, sig,
	    body, strlen(body), now), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_verify(&ring, "1763712001", nonce, serial, sig,
	    NULL, 3, now), GYM_EINVAL);
}
END_TEST

START_TEST(test_notification)
{
	const cJSON *c = vec_item(root, "notifications", _i);
	const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "plaintext");
	cJSON *plain = NULL;
	enum gym_err rc;

	rc = notify_verify(c, (time_t)vec_long(c, "now"));
	if (rc == GYM_OK)
		rc = notify_decrypt(c, &plain);
	ck_assert_msg((rc == GYM_OK) == vec_bool(c, "valid"), "%s: got %d",
	    vec_str(c, "case"), rc);
	if (rc == GYM_OK) {
		assert_same_member(plain, want, "out_trade_no");
		assert_same_member(plain, want, "amount");
		ck_assert(cJSON_Compare(plain, want, 1));
	} else
		ck_assert(cJSON_IsNull(want));
	cJSON_Delete(plain);
}
END_TEST

START_TEST(test_notification_altered)
{
	const cJSON *c = notification_named("ciphertext altered");
	cJSON *plain = NULL;

	ck_assert_int_eq(notify_verify(c, (time_t)vec_long(c, "now")), GYM_OK);
	ck_assert_int_eq(notify_decrypt(c, &plain), GYM_ECRYPTO);
	ck_assert_ptr_null(plain);
}
END_TEST

START_TEST(test_notification_replay)
{
	const cJSON *c = notification_named("replayed");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "headers");
	time_t sent = (time_t)strtol(vec_str(h, "Wechatpay-Timestamp"), NULL, 10);
	cJSON *plain = NULL;

	ck_assert_int_eq(notify_verify(c, (time_t)vec_long(c, "now")),
	    GYM_ECRYPTO);
	/* Only the clock makes it fail: it was genuine when sent. */
	ck_assert_int_eq(notify_verify(c, sent), GYM_OK);
	ck_assert_int_eq(notify_decrypt(c, &plain), GYM_OK);
	cJSON_Delete(plain);
}
END_TEST

START_TEST(test_paysign)
{
	const cJSON *c = vec_item(root, "pay_sign", 0);
	EVP_PKEY *pub = vec_key(root, "merchant_certificate", 0);
	const char *m = vec_str(c, "message");
	char *sig = NULL;

	ck_assert_str_eq(vec_str(c, "signType"), "RSA");
	ck_assert_int_eq(gym_wx_paysign(merchant, vec_str(c, "appId"),
	    vec_str(c, "timeStamp"), vec_str(c, "nonceStr"), vec_str(c, "package"),
	    &sig), GYM_OK);
	ck_assert_str_eq(sig, vec_str(c, "paySign"));
	ck_assert_int_eq(gym_rsa_verify(pub, m, strlen(m), sig), GYM_OK);
	free(sig);
	ck_assert_int_eq(gym_wx_paysign(merchant, vec_str(c, "appId"), "",
	    vec_str(c, "nonceStr"), vec_str(c, "package"), &sig), GYM_EINVAL);
	ck_assert_ptr_null(sig);
	EVP_PKEY_free(pub);
}
END_TEST

/* Go/Java order, the official WXPayUtility order, spaces after commas. */
static const char *const auth_good[] = {
	"WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"N1\","
	    "timestamp=\"1554208460\",serial_no=\"ABC\",signature=\"c2ln\"",
	"WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"N1\","
	    "signature=\"c2ln\",timestamp=\"1554208460\",serial_no=\"ABC\"",
	"WECHATPAY2-SHA256-RSA2048 signature=\"c2ln\", serial_no=\"ABC\", "
	    "timestamp=\"1554208460\", nonce_str=\"N1\", mchid=\"1900000001\"",
	"WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"N1\","
	    "extra=\"x\",timestamp=\"1554208460\",serial_no=\"ABC\",signature=\"c2ln\"",
};

static const char *const auth_bad[] = {
	"",
	"mchid=\"1900000001\",nonce_str=\"N1\",timestamp=\"1554208460\","
	    "serial_no=\"ABC\",signature=\"c2ln\"",
	"Bearer mchid=\"1900000001\",nonce_str=\"N1\",timestamp=\"1554208460\","
	    "serial_no=\"ABC\",signature=\"c2ln\"",
	"WECHATPAY2-SHA256-RSA2048mchid=\"1900000001\",nonce_str=\"N1\","
	    "timestamp=\"1554208460\",serial_no=\"ABC\",signature=\"c2ln\"",
	/* signature missing */
	"WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"N1\","
	    "timestamp=\"1554208460\",serial_no=\"ABC\"",
	/* mchid twice */
	"WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"N1\","
	    "timestamp=\"1554208460\",serial_no=\"ABC\",signature=\"c2ln\","
	    "mchid=\"1900000002\"",
	/* unquoted, unterminated, empty, junk after the last one */
	"WECHATPAY2-SHA256-RSA2048 mchid=1900000001,nonce_str=\"N1\","
	    "timestamp=\"1554208460\",serial_no=\"ABC\",signature=\"c2ln\"",
	"WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"N1\","
	    "timestamp=\"1554208460\",serial_no=\"ABC\",signature=\"c2ln",
	"WECHATPAY2-SHA256-RSA2048 mchid=\"\",nonce_str=\"N1\","
	    "timestamp=\"1554208460\",serial_no=\"ABC\",signature=\"c2ln\"",
	"WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"N1\","
	    "timestamp=\"1554208460\",serial_no=\"ABC\",signature=\"c2ln\"x",
	"WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"N1\","
	    "timestamp=\"1554208460\",serial_no=\"ABC\",signature=\"c2ln\",",
	/* a parameter without a name */
	"WECHATPAY2-SHA256-RSA2048 =\"x\",mchid=\"1900000001\",nonce_str=\"N1\","
	    "timestamp=\"1554208460\",serial_no=\"ABC\",signature=\"c2ln\"",
	/* timestamp longer than its 32-byte buffer */
	"WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"N1\","
	    "timestamp=\"12345678901234567890123456789012\",serial_no=\"ABC\","
	    "signature=\"c2ln\"",
};

START_TEST(test_parse_authorization)
{
	struct gym_wx_auth a;

	ck_assert_int_eq(gym_wx_parse_authorization(auth_good[_i], &a), GYM_OK);
	ck_assert_str_eq(a.mchid, "1900000001");
	ck_assert_str_eq(a.serial, "ABC");
	ck_assert_str_eq(a.timestamp, "1554208460");
	ck_assert_str_eq(a.nonce, "N1");
	ck_assert_str_eq(a.signature, "c2ln");
}
END_TEST

START_TEST(test_parse_authorization_bad)
{
	struct gym_wx_auth a;

	ck_assert_int_eq(gym_wx_parse_authorization(auth_bad[_i], &a), GYM_EINVAL);
	ck_assert_str_eq(a.mchid, "");
}
END_TEST

START_TEST(test_parse_authorization_overlong)
{
	struct gym_wx_auth a;
	char sig[sizeof(a.signature) + 1], *hdr;
	size_t n;

	memset(sig, 'A', sizeof(sig) - 1);
	sig[sizeof(sig) - 1] = '\0';
	n = strlen(auth_good[0]) + sizeof(sig);
	ck_assert_ptr_nonnull(hdr = malloc(n));
	/* 511 characters fit (with the NUL), 512 do not. */
	snprintf(hdr, n, "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",nonce_str=\"N\","
	    "timestamp=\"1\",serial_no=\"S\",signature=\"%s\"", sig + 1);
	ck_assert_int_eq(gym_wx_parse_authorization(hdr, &a), GYM_OK);
	ck_assert_uint_eq(strlen(a.signature), sizeof(a.signature) - 1);
	snprintf(hdr, n, "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",nonce_str=\"N\","
	    "timestamp=\"1\",serial_no=\"S\",signature=\"%s\"", sig);
	ck_assert_int_eq(gym_wx_parse_authorization(hdr, &a), GYM_EINVAL);
	free(hdr);
}
END_TEST

START_TEST(test_keyring)
{
	struct gym_wx_keyring kr;
	char *pub = vec_key_path(root, "platform_public_key");
	char *cert = vec_key_path(root, "merchant_certificate");
	EVP_PKEY *mpub = vec_key(root, "merchant_certificate", 0);
	char serial[16], big[sizeof(kr.k[0].serial) + 1];
	int i;

	memset(&kr, 0, sizeof(kr));
	for (i = 0; i < GYM_WX_MAXKEYS; i++) {
		snprintf(serial, sizeof(serial), "S%d", i);
		ck_assert_int_eq(gym_wx_keyring_add(&kr, serial, pub), GYM_OK);
	}
	ck_assert_int_eq(gym_wx_keyring_add(&kr, "one too many", pub), GYM_EINVAL);
	/* Adding a known serial again replaces its key, even when full. */
	ck_assert_int_eq(EVP_PKEY_eq(mpub, gym_wx_keyring_get(&kr, "S0")), 0);
	ck_assert_int_eq(gym_wx_keyring_add(&kr, "S0", cert), GYM_OK);
	ck_assert_uint_eq(kr.n, GYM_WX_MAXKEYS);
	ck_assert_int_eq(EVP_PKEY_eq(mpub, gym_wx_keyring_get(&kr, "S0")), 1);
	ck_assert_ptr_null(gym_wx_keyring_get(&kr, "S8"));
	ck_assert_ptr_null(gym_wx_keyring_get(&kr, NULL));
	gym_wx_keyring_free(&kr);
	ck_assert_uint_eq(kr.n, 0);
	ck_assert_int_eq(gym_wx_keyring_add(&kr, "S", "/nonexistent.pem"),
	    GYM_ESYSTEM);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(gym_wx_keyring_add(&kr, big, pub), GYM_EINVAL);
	ck_assert_int_eq(gym_wx_keyring_add(&kr, "", pub), GYM_EINVAL);
	ck_assert_uint_eq(kr.n, 0);
	EVP_PKEY_free(mpub);
	free(pub);
	free(cert);
}
END_TEST

Suite *
wxsign_suite(void)
{
	Suite *s = suite_create("wxsign");
	TCase *tc;

	tc = tcase_create("requests");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_vector_shape);
	tcase_add_loop_test(tc, test_request, 0, NREQUESTS);
	tcase_add_test(tc, test_request_invalid);
	tcase_add_test(tc, test_paysign);
	suite_add_tcase(s, tc);

	tc = tcase_create("responses");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_response, 0, NRESPONSES);
	tcase_add_test(tc, test_platform_certificate);
	tcase_add_test(tc, test_verify_window);
	tcase_add_test(tc, test_verify_invalid);
	tcase_add_test(tc, test_keyring);
	suite_add_tcase(s, tc);

	tc = tcase_create("notifications");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_notification, 0, NNOTIFICATIONS);
	tcase_add_test(tc, test_notification_altered);
	tcase_add_test(tc, test_notification_replay);
	suite_add_tcase(s, tc);

	tc = tcase_create("authorization");
	tcase_add_loop_test(tc, test_parse_authorization, 0,
	    sizeof(auth_good) / sizeof(auth_good[0]));
	tcase_add_loop_test(tc, test_parse_authorization_bad, 0,
	    sizeof(auth_bad) / sizeof(auth_bad[0]));
	tcase_add_test(tc, test_parse_authorization_overlong);
	suite_add_tcase(s, tc);
	return s;
}
