/*
 * crypto.c: every OpenSSL call of libgym.  Owns base64, PEM key and
 * certificate loading, RSASSA-PKCS1-v1_5/SHA-256, AES-256-GCM as WeChat
 * Pay uses it, HMAC-SHA256, SHA-256, random nonces and secret hygiene.
 *
 * Invariants: only EVP interfaces; every OpenSSL call is checked and a
 * failure leaves the thread's error queue empty (ERR_clear_error), so one
 * failed call never pollutes the next caller's diagnostics.  Plaintext
 * leaves gym_aesgcm_decrypt only after the GCM tag verified.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto.h"

#define GCM_TAGLEN 16

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char alnum[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

enum pem_kind { PEM_PRIVATE, PEM_PUBLIC, PEM_CERT };

/* Value of a base64 character, or -1 when it is not in the alphabet. */
static int
b64_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64_alphabet, c)) == NULL)
		return -1;
	return (int)(p - b64_alphabet);
}

/*
 * Number of '=' at the end of a base64 string of length n (a multiple of
 * 4, at least 4), or -1 when the string has a character outside the
 * alphabet or padding anywhere else.
 */
static int
b64_padding(const char *in, size_t n)
{
	size_t i, pad;

	pad = (in[n - 1] == '=') + (in[n - 1] == '=' && in[n - 2] == '=');
	for (i = 0; i < n - pad; i++)
		if (b64_value(in[i]) < 0)
			return -1;
	return (int)pad;
}

/* Never prompt for a passphrase: our keys are not encrypted. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static void *
pem_read(BIO *bio, enum pem_kind kind)
{
	switch (kind) {
	case PEM_PRIVATE:
		return PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	case PEM_PUBLIC:
		return PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	case PEM_CERT:
		return PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	}
	return NULL;
}

/* Read the first PEM object of the given kind from path. */
static enum gym_err
pem_load(const char *path, enum pem_kind kind, void **out)
{
	BIO *bio;

	*out = NULL;
	if (path == NULL)
		return GYM_EINVAL;
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		return GYM_ESYSTEM;
	}
	*out = pem_read(bio, kind);
	BIO_free(bio);
	if (*out == NULL) {
		ERR_clear_error();
		return GYM_ECRYPTO;
	}
	return GYM_OK;
}

/* A digest context for RSASSA-PKCS1-v1_5 with SHA-256, or NULL. */
static EVP_MD_CTX *
rsa_ctx(EVP_PKEY *key, int sign)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (sign)
		ok = EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key);
	else
		ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key);
	/* Fails for a non-RSA key, so we never sign with ECDSA by mistake. */
	if (ok != 1 || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * A cipher context for AES-256-GCM with the ASCII nonce as IV and aad
 * already fed in; enc is 1 to encrypt, 0 to decrypt.  NULL on failure.
 */
static EVP_CIPHER_CTX *
gcm_ctx(const unsigned char key[32], const char *nonce, const char *aad, int enc)
{
	EVP_CIPHER_CTX *ctx;
	size_t ivlen = strlen(nonce), aadlen = aad == NULL ? 0 : strlen(aad);
	int n;

	if (ivlen > INT_MAX || aadlen > INT_MAX)
		return NULL;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)ivlen, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key,
	    (const unsigned char *)nonce, enc) != 1 ||
	    (aadlen > 0 && EVP_CipherUpdate(ctx, NULL, &n,
	    (const unsigned char *)aad, (int)aadlen) != 1)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

enum gym_err
gym_b64_encode(const void *in, size_t len, char **out)
{
	size_t outsz;

	if (out == NULL || (in == NULL && len > 0))
		return GYM_EINVAL;
	*out = NULL;
	if (len > (size_t)INT_MAX / 4 * 3)
		return GYM_EINVAL;
	outsz = (len + 2) / 3 * 4 + 1;
	if ((*out = malloc(outsz)) == NULL)
		return GYM_ENOMEM;
	if (EVP_EncodeBlock((unsigned char *)*out, in, (int)len) !=
	    (int)(outsz - 1)) {
		free(*out);
		*out = NULL;
		return GYM_EINTERNAL;
	}
	return GYM_OK;
}

enum gym_err
gym_b64_decode(const char *in, unsigned char **out, size_t *outlen)
{
	size_t n;
	int pad = 0, got;

	if (in == NULL || out == NULL || outlen == NULL)
		return GYM_EINVAL;
	*out = NULL;
	*outlen = 0;
	n = strlen(in);
	if (n % 4 != 0 || n > INT_MAX)
		return GYM_EINVAL;
	if (n > 0 && (pad = b64_padding(in, n)) < 0)
		return GYM_EINVAL;
	if ((*out = malloc(n / 4 * 3 + 1)) == NULL)
		return GYM_ENOMEM;
	if (n == 0)
		return GYM_OK;
	/* Validated above, so this only fails on an internal error. */
	got = EVP_DecodeBlock(*out, (const unsigned char *)in, (int)n);
	if (got != (int)(n / 4 * 3)) {
		ERR_clear_error();
		free(*out);
		*out = NULL;
		return GYM_EINVAL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	*outlen = (size_t)(got - pad);
	return GYM_OK;
}

enum gym_err
gym_key_load_private(const char *path, EVP_PKEY **out)
{
	void *key;
	enum gym_err rc;

	if (out == NULL)
		return GYM_EINVAL;
	rc = pem_load(path, PEM_PRIVATE, &key);
	*out = key;
	return rc;
}

enum gym_err
gym_key_load_public(const char *path, EVP_PKEY **out)
{
	void *obj;
	X509 *cert;
	enum gym_err rc;

	if (out == NULL)
		return GYM_EINVAL;
	rc = pem_load(path, PEM_PUBLIC, &obj);
	*out = obj;
	if (rc != GYM_ECRYPTO)
		return rc;
	/* Not an SPKI public key: try a certificate. */
	if ((rc = pem_load(path, PEM_CERT, &obj)) != GYM_OK)
		return rc;
	cert = obj;
	if ((*out = X509_get_pubkey(cert)) == NULL) {
		ERR_clear_error();
		rc = GYM_ECRYPTO;
	}
	X509_free(cert);
	return rc;
}

enum gym_err
gym_cert_serial(const char *path, char *out, size_t outsz)
{
	void *obj = NULL;
	X509 *cert;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	enum gym_err rc;

	if (out == NULL || outsz == 0)
		return GYM_EINVAL;
	out[0] = '\0';
	rc = pem_load(path, PEM_CERT, &obj);
	cert = obj;
	if (rc != GYM_OK)
		goto out;
	rc = GYM_ECRYPTO;
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	rc = GYM_EINVAL;
	if (strlen(hex) >= outsz)
		goto out;
	memcpy(out, hex, strlen(hex) + 1);
	rc = GYM_OK;
out:
	if (rc != GYM_OK)
		ERR_clear_error();
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(cert);
	return rc;
}

enum gym_err
gym_rsa_sign(EVP_PKEY *key, const void *msg, size_t len, char **sig_b64)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	enum gym_err rc = GYM_EINVAL;

	if (sig_b64 != NULL)
		*sig_b64 = NULL;
	if (key == NULL || sig_b64 == NULL || (msg == NULL && len > 0))
		goto out;
	rc = GYM_ECRYPTO;
	if ((ctx = rsa_ctx(key, 1)) == NULL ||
	    EVP_DigestSign(ctx, NULL, &siglen, msg, len) != 1)
		goto out;
	rc = GYM_ENOMEM;
	if ((sig = malloc(siglen)) == NULL)
		goto out;
	rc = GYM_ECRYPTO;
	if (EVP_DigestSign(ctx, sig, &siglen, msg, len) != 1)
		goto out;
	rc = gym_b64_encode(sig, siglen, sig_b64);
out:
	if (rc != GYM_OK)
		ERR_clear_error();
	free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

enum gym_err
gym_rsa_verify(EVP_PKEY *key, const void *msg, size_t len, const char *sig_b64)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *sig = NULL;
	size_t siglen;
	enum gym_err rc = GYM_ECRYPTO;

	if (key == NULL || sig_b64 == NULL || (msg == NULL && len > 0))
		return GYM_EINVAL;
	/* A probe like "WECHATPAY/SIGNTEST/..." ends here. */
	if (gym_b64_decode(sig_b64, &sig, &siglen) != GYM_OK)
		goto out;
	if ((ctx = rsa_ctx(key, 0)) == NULL ||
	    EVP_DigestVerify(ctx, sig, siglen, msg, len) != 1)
		goto out;
	rc = GYM_OK;
out:
	if (rc != GYM_OK)
		ERR_clear_error();
	free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

enum gym_err
gym_aesgcm_decrypt(const unsigned char key[32], const char *nonce,
    const char *aad, const char *data_b64, char **plain, size_t *plainlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *data = NULL, *pt = NULL;
	size_t datalen = 0, ctlen = 0;
	int n, fin;
	enum gym_err rc;

	if (plain != NULL)
		*plain = NULL;
	if (plainlen != NULL)
		*plainlen = 0;
	rc = GYM_EINVAL;
	if (key == NULL || !gym_nonempty(nonce) || data_b64 == NULL || plain == NULL)
		goto out;
	if ((rc = gym_b64_decode(data_b64, &data, &datalen)) != GYM_OK)
		goto out;
	rc = GYM_EINVAL;
	if (datalen < GCM_TAGLEN || datalen - GCM_TAGLEN > INT_MAX)
		goto out;
	ctlen = datalen - GCM_TAGLEN;
	rc = GYM_ENOMEM;
	if ((pt = malloc(ctlen + 1)) == NULL)
		goto out;
	rc = GYM_ECRYPTO;
	if ((ctx = gcm_ctx(key, nonce, aad, 0)) == NULL ||
	    EVP_DecryptUpdate(ctx, pt, &n, data, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAGLEN,
	    data + ctlen) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + n, &fin) <= 0)
		goto out;
	pt[ctlen] = '\0';
	*plain = (char *)pt;
	pt = NULL;
	if (plainlen != NULL)
		*plainlen = ctlen;
	rc = GYM_OK;
out:
	if (rc != GYM_OK)
		ERR_clear_error();
	if (pt != NULL)
		gym_wipe(pt, ctlen + 1);
	free(pt);
	free(data);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

enum gym_err
gym_aesgcm_encrypt(const unsigned char key[32], const char *nonce,
    const char *aad, const void *plain, size_t plainlen, char **data_b64)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *data = NULL;
	int n, fin;
	enum gym_err rc = GYM_EINVAL;

	if (data_b64 != NULL)
		*data_b64 = NULL;
	if (key == NULL || !gym_nonempty(nonce) || data_b64 == NULL ||
	    (plain == NULL && plainlen > 0) || plainlen > INT_MAX - GCM_TAGLEN)
		goto out;
	rc = GYM_ENOMEM;
	if ((data = malloc(plainlen + GCM_TAGLEN)) == NULL)
		goto out;
	rc = GYM_ECRYPTO;
	if ((ctx = gcm_ctx(key, nonce, aad, 1)) == NULL ||
	    EVP_EncryptUpdate(ctx, data, &n, plain, (int)plainlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, data + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAGLEN,
	    data + plainlen) != 1)
		goto out;
	rc = gym_b64_encode(data, plainlen + GCM_TAGLEN, data_b64);
out:
	if (rc != GYM_OK)
		ERR_clear_error();
	free(data);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* On misuse or failure (which needs a broken OpenSSL) out is all zeros. */
void
gym_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
    unsigned char out[32])
{
	static const unsigned char empty[1];
	size_t outlen = 0;

	if ((key == NULL && klen > 0) || (msg == NULL && mlen > 0)) {
		OPENSSL_cleanse(out, 32);
		return;
	}
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL,
	    key == NULL ? empty : key, klen, msg == NULL ? empty : msg, mlen,
	    out, 32, &outlen) == NULL || outlen != 32) {
		ERR_clear_error();
		OPENSSL_cleanse(out, 32);
	}
}

/* On failure (which needs a broken OpenSSL) out is the empty string. */
void
gym_sha256_hex(const void *msg, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	out[0] = '\0';
	if (EVP_Digest(msg == NULL ? "" : msg, len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != 32) {
		ERR_clear_error();
		return;
	}
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[64] = '\0';
}

enum gym_err
gym_random_alnum(char *out, size_t n)
{
	unsigned char buf[64];
	size_t i = 0, j;
	/* The largest multiple of 62 that fits a byte: no modulo bias. */
	const unsigned limit = 256 - 256 % (sizeof(alnum) - 1);

	if (out == NULL)
		return GYM_EINVAL;
	while (i < n) {
		if (RAND_bytes(buf, sizeof(buf)) != 1) {
			ERR_clear_error();
			out[0] = '\0';
			return GYM_ECRYPTO;
		}
		for (j = 0; j < sizeof(buf) && i < n; j++)
			if (buf[j] < limit)
				out[i++] = alnum[buf[j] % (sizeof(alnum) - 1)];
	}
	out[n] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	return GYM_OK;
}

int
gym_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
gym_wipe(void *p, size_t n)
{
	if (p != NULL)
		OPENSSL_cleanse(p, n);
}
