/*
 * check_crypto.c: unit tests of lib/crypto.c against fixed vectors
 * (RFC 4648 base64, RFC 4231 HMAC, the Java SDK's AES-256-GCM vector)
 * and the test keys in the shared vectors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "crypto.h"
#include "unit.h"
#include "vectors.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 4648 section 10: base64 of the first i bytes of "foobar". */
static const char *const b64_rfc4648[] = {
	"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
};

static const char *const b64_bad[] = {
	"WECHATPAY/SIGNTEST/abc",	/* the WeChat probe */
	"Zg",				/* not a multiple of 4 */
	"Zg=",
	"Zg===",
	"Z===",				/* three '=' */
	"====",
	"=Zg=",				/* '=' not at the end */
	"Zg==Zg==",
	"Zm9v\n",			/* no whitespace */
	"Zm9 v",
	" Zm9v",
	"Zm9-",				/* base64url is not accepted */
	"Zm9_",
	"Zm9\x80",
};

static const unsigned char aes_key[32] = "0123456789abcdef0123456789ABCDEF";

static cJSON *root;

static void
setup(void)
{
	root = vec_load();
}

static void
teardown(void)
{
	cJSON_Delete(root);
	root = NULL;
}

/* Decrypt data_b64 and check it gives exactly want. */
static void
assert_decrypts(const char *nonce, const char *aad, const char *data_b64,
    const char *want, size_t wantlen)
{
	char *pt = NULL;
	size_t ptlen = 1;

	ck_assert_int_eq(gym_aesgcm_decrypt(aes_key, nonce, aad, data_b64, &pt,
	    &ptlen), GYM_OK);
	ck_assert_uint_eq(ptlen, wantlen);
	ck_assert(memcmp(pt, want, wantlen) == 0);
	ck_assert_int_eq(pt[wantlen], '\0');
	free(pt);
}

/* Decrypting must fail with want and leave no output behind. */
static void
assert_no_decrypt(const unsigned char key[32], const char *nonce,
    const char *aad, const char *data_b64, enum gym_err want)
{
	static char sentinel[] = "sentinel";
	char *pt = sentinel;

	ck_assert_int_eq(gym_aesgcm_decrypt(key, nonce, aad, data_b64, &pt, NULL),
	    want);
	ck_assert_ptr_null(pt);
}

START_TEST(test_b64_rfc4648)
{
	const char *want = b64_rfc4648[_i];
	unsigned char *dec = NULL;
	char *enc = NULL;
	size_t declen = 99;

	ck_assert_int_eq(gym_b64_encode("foobar", (size_t)_i, &enc), GYM_OK);
	ck_assert_str_eq(enc, want);
	ck_assert_int_eq(gym_b64_decode(enc, &dec, &declen), GYM_OK);
	ck_assert_uint_eq(declen, (size_t)_i);
	ck_assert(memcmp(dec, "foobar", declen) == 0);
	free(enc);
	free(dec);
}
END_TEST

START_TEST(test_b64_binary)
{
	unsigned char in[256], *dec = NULL;
	char *enc = NULL;
	size_t i, declen;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(255 - i);
	ck_assert_int_eq(gym_b64_encode(in, sizeof(in), &enc), GYM_OK);
	ck_assert_uint_eq(strlen(enc), 344);
	ck_assert_int_eq(gym_b64_decode(enc, &dec, &declen), GYM_OK);
	ck_assert_uint_eq(declen, sizeof(in));
	ck_assert(memcmp(dec, in, sizeof(in)) == 0);
	free(enc);
	free(dec);
}
END_TEST

START_TEST(test_b64_strict)
{
	static unsigned char sentinel[] = "sentinel";
	unsigned char *dec = sentinel;
	size_t declen = 99;

	ck_assert_int_eq(gym_b64_decode(b64_bad[_i], &dec, &declen), GYM_EINVAL);
	ck_assert_ptr_null(dec);
	ck_assert_uint_eq(declen, 0);
}
END_TEST

START_TEST(test_b64_null)
{
	unsigned char *dec;
	size_t declen;
	char *enc;

	ck_assert_int_eq(gym_b64_decode(NULL, &dec, &declen), GYM_EINVAL);
	ck_assert_int_eq(gym_b64_encode(NULL, 1, &enc), GYM_EINVAL);
	ck_assert_int_eq(gym_b64_encode(NULL, 0, &enc), GYM_OK);
	ck_assert_str_eq(enc, "");
	free(enc);
}
END_TEST

START_TEST(test_key_load)
{
	EVP_PKEY *pub = vec_key(root, "platform_public_key", 0);
	EVP_PKEY *fromcert = vec_key(root, "platform_certificate", 0);
	EVP_PKEY *key = NULL;
	char *cert = vec_key_path(root, "merchant_certificate");

	/* The SPKI file and the certificate carry the same key. */
	ck_assert_int_eq(EVP_PKEY_eq(pub, fromcert), 1);
	ck_assert_int_eq(gym_key_load_private("/nonexistent/key.pem", &key),
	    GYM_ESYSTEM);
	ck_assert_int_eq(gym_key_load_public("/nonexistent/key.pem", &key),
	    GYM_ESYSTEM);
	ck_assert_int_eq(gym_key_load_private(cert, &key), GYM_ECRYPTO);
	ck_assert_ptr_null(key);
	ck_assert_int_eq(gym_key_load_private(NULL, &key), GYM_EINVAL);
	free(cert);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(fromcert);
}
END_TEST

START_TEST(test_cert_serial)
{
	char *merchant = vec_key_path(root, "merchant_certificate");
	char *platform = vec_key_path(root, "platform_certificate");
	char *pub = vec_key_path(root, "platform_public_key");
	char serial[96];

	ck_assert_int_eq(gym_cert_serial(merchant, serial, sizeof(serial)), GYM_OK);
	ck_assert_str_eq(serial, vec_str(root, "merchant_serial"));
	ck_assert_str_eq(serial, "3775B6A45ACD588826D15E583A95F5DD2C0B1A44");
	ck_assert_int_eq(gym_cert_serial(platform, serial, sizeof(serial)), GYM_OK);
	ck_assert_str_eq(serial, vec_str(root, "platform_serial"));
	ck_assert_str_eq(serial, "5157F09EFDC096DE15EBE81A47057A7232F4DC7C");
	/* 40 digits do not fit 40 bytes: the NUL needs one more. */
	ck_assert_int_eq(gym_cert_serial(platform, serial, 40), GYM_EINVAL);
	ck_assert_int_eq(gym_cert_serial(platform, serial, 41), GYM_OK);
	ck_assert_int_eq(gym_cert_serial(pub, serial, sizeof(serial)), GYM_ECRYPTO);
	ck_assert_str_eq(serial, "");
	free(merchant);
	free(platform);
	free(pub);
}
END_TEST

START_TEST(test_rsa_sign_verify)
{
	EVP_PKEY *priv = vec_key(root, "merchant_private_key", 1);
	EVP_PKEY *pub = vec_key(root, "merchant_certificate", 0);
	EVP_PKEY *other = vec_key(root, "platform_public_key", 0);
	const char msg[] = "GET\n/v3/certificates\n1\nn\n\n";
	char *sig = NULL;

	ck_assert_int_eq(gym_rsa_sign(priv, msg, strlen(msg), &sig), GYM_OK);
	ck_assert_uint_eq(strlen(sig), 344);	/* RSA-2048: 256 bytes */
	ck_assert_int_eq(gym_rsa_verify(pub, msg, strlen(msg), sig), GYM_OK);
	ck_assert_int_eq(gym_rsa_verify(pub, msg, strlen(msg) - 1, sig),
	    GYM_ECRYPTO);
	ck_assert_int_eq(gym_rsa_verify(other, msg, strlen(msg), sig),
	    GYM_ECRYPTO);
	ck_assert_int_eq(gym_rsa_verify(pub, msg, strlen(msg),
	    "WECHATPAY/SIGNTEST/abc"), GYM_ECRYPTO);
	ck_assert_int_eq(gym_rsa_verify(pub, msg, strlen(msg), ""), GYM_ECRYPTO);
	ck_assert_int_eq(gym_rsa_verify(NULL, msg, strlen(msg), sig), GYM_EINVAL);
	free(sig);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(other);
}
END_TEST

START_TEST(test_aes_vector)
{
	const cJSON *v = vec_item(root, "aes_gcm", 0);
	const char *key = vec_str(v, "key"), *nonce = vec_str(v, "nonce");
	const char *aad = vec_str(v, "associated_data");
	const char *plain = vec_str(v, "plaintext");
	char *data = NULL, *pt = NULL;
	size_t ptlen;

	ck_assert_uint_eq(strlen(key), 32);
	ck_assert_int_eq(gym_aesgcm_encrypt((const unsigned char *)key, nonce, aad,
	    plain, strlen(plain), &data), GYM_OK);
	ck_assert_str_eq(data, vec_str(v, "ciphertext"));
	ck_assert_int_eq(gym_aesgcm_decrypt((const unsigned char *)key, nonce, aad,
	    vec_str(v, "ciphertext"), &pt, &ptlen), GYM_OK);
	ck_assert_str_eq(pt, plain);
	ck_assert_uint_eq(ptlen, strlen(plain));
	free(data);
	free(pt);
}
END_TEST

START_TEST(test_aes_roundtrip)
{
	static const char *const plains[] = {
		"", "x", "{\"out_trade_no\":\"GYM1\",\"summary\":\"支付成功\"}",
	};
	char *data = NULL;
	size_t i;

	for (i = 0; i < NELEM(plains); i++) {
		ck_assert_int_eq(gym_aesgcm_encrypt(aes_key, "Kj7QIyUiYx1q",
		    "transaction", plains[i], strlen(plains[i]), &data), GYM_OK);
		assert_decrypts("Kj7QIyUiYx1q", "transaction", data, plains[i],
		    strlen(plains[i]));
		free(data);
	}
	/* A nonce that is not 12 bytes still works (IV length = strlen). */
	ck_assert_int_eq(gym_aesgcm_encrypt(aes_key, "a longer nonce of 28 chars!!",
	    "", "hi", 2, &data), GYM_OK);
	assert_decrypts("a longer nonce of 28 chars!!", NULL, data, "hi", 2);
	free(data);
}
END_TEST

START_TEST(test_aes_tamper)
{
	unsigned char other[32];
	char *data = NULL;

	memcpy(other, aes_key, sizeof(other));
	other[31] ^= 1;
	ck_assert_int_eq(gym_aesgcm_encrypt(aes_key, "Kj7QIyUiYx1q", "transaction",
	    "paid", 4, &data), GYM_OK);
	assert_no_decrypt(aes_key, "Kj7QIyUiYx1q", "refund", data, GYM_ECRYPTO);
	assert_no_decrypt(aes_key, "Kj7QIyUiYx1q", "", data, GYM_ECRYPTO);
	assert_no_decrypt(aes_key, "Kj7QIyUiYx1r", "transaction", data,
	    GYM_ECRYPTO);
	assert_no_decrypt(other, "Kj7QIyUiYx1q", "transaction", data, GYM_ECRYPTO);
	assert_no_decrypt(aes_key, "", "transaction", data, GYM_EINVAL);
	free(data);
}
END_TEST

START_TEST(test_aes_truncated)
{
	unsigned char *raw = NULL;
	char *data = NULL, *cut = NULL;
	size_t rawlen;

	ck_assert_int_eq(gym_aesgcm_encrypt(aes_key, "Kj7QIyUiYx1q", "", "payload",
	    7, &data), GYM_OK);
	ck_assert_int_eq(gym_b64_decode(data, &raw, &rawlen), GYM_OK);
	ck_assert_uint_eq(rawlen, 7 + 16);
	/* Last byte of the tag missing. */
	ck_assert_int_eq(gym_b64_encode(raw, rawlen - 1, &cut), GYM_OK);
	assert_no_decrypt(aes_key, "Kj7QIyUiYx1q", "", cut, GYM_ECRYPTO);
	free(cut);
	/* Shorter than a tag. */
	ck_assert_int_eq(gym_b64_encode(raw, 15, &cut), GYM_OK);
	assert_no_decrypt(aes_key, "Kj7QIyUiYx1q", "", cut, GYM_EINVAL);
	assert_no_decrypt(aes_key, "Kj7QIyUiYx1q", "", "", GYM_EINVAL);
	assert_no_decrypt(aes_key, "Kj7QIyUiYx1q", "", "not base64!", GYM_EINVAL);
	free(cut);
	free(raw);
	free(data);
}
END_TEST

START_TEST(test_hmac_rfc4231)
{
	static const char data[] = "what do ya want for nothing?";
	unsigned char mac[32];
	char hex[65];
	size_t i;

	gym_hmac_sha256("Jefe", 4, data, strlen(data), mac);
	for (i = 0; i < sizeof(mac); i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	ck_assert_str_eq(hex,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(test_sha256_hex)
{
	char hex[65];

	gym_sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	gym_sha256_hex("", 0, hex);
	ck_assert_str_eq(hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_random_alnum)
{
	char a[33], b[33], big[1001];

	memset(a, 'X', sizeof(a));
	ck_assert_int_eq(gym_random_alnum(a, 32), GYM_OK);
	ck_assert_int_eq(gym_random_alnum(b, 32), GYM_OK);
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_uint_eq(strspn(a, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz"), 32);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(gym_random_alnum(big, 1000), GYM_OK);
	ck_assert_uint_eq(strspn(big, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz"), 1000);
	ck_assert_int_eq(gym_random_alnum(a, 0), GYM_OK);
	ck_assert_str_eq(a, "");
	ck_assert_int_eq(gym_random_alnum(NULL, 1), GYM_EINVAL);
}
END_TEST

START_TEST(test_ct_equal_wipe)
{
	char secret[] = "k3Yh7TqLp9Wz2Rv8";
	size_t i;

	ck_assert_int_eq(gym_ct_equal("abcd", "abcd", 4), 1);
	ck_assert_int_eq(gym_ct_equal("abcd", "abce", 4), 0);
	ck_assert_int_eq(gym_ct_equal("xbcd", "abcd", 4), 0);
	ck_assert_int_eq(gym_ct_equal("abcd", "abce", 3), 1);
	ck_assert_int_eq(gym_ct_equal("a", "b", 0), 1);
	gym_wipe(secret, sizeof(secret));
	for (i = 0; i < sizeof(secret); i++)
		ck_assert_int_eq(secret[i], 0);
	gym_wipe(NULL, 10);
}
END_TEST

Suite *
crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc;

	tc = tcase_create("base64");
	tcase_add_loop_test(tc, test_b64_rfc4648, 0, NELEM(b64_rfc4648));
	tcase_add_test(tc, test_b64_binary);
	tcase_add_loop_test(tc, test_b64_strict, 0, NELEM(b64_bad));
	tcase_add_test(tc, test_b64_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_key_load);
	tcase_add_test(tc, test_cert_serial);
	tcase_add_test(tc, test_rsa_sign_verify);
	suite_add_tcase(s, tc);

	tc = tcase_create("aesgcm");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_aes_vector);
	tcase_add_test(tc, test_aes_roundtrip);
	tcase_add_test(tc, test_aes_tamper);
	tcase_add_test(tc, test_aes_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_hmac_rfc4231);
	tcase_add_test(tc, test_sha256_hex);
	tcase_add_test(tc, test_random_alnum);
	tcase_add_test(tc, test_ct_equal_wipe);
	suite_add_tcase(s, tc);
	return s;
}
