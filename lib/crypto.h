/*
 * crypto.h: the primitives WeChat Pay APIv3 and our session tokens need,
 * over OpenSSL's EVP interfaces.  Every function returns GYM_OK or an
 * error; outputs are malloc'd and owned by the caller unless said.
 */
#ifndef GYM_CRYPTO_H
#define GYM_CRYPTO_H

#include <stddef.h>
#include <openssl/evp.h>

#include "gym.h"

/* Standard base64 with padding; *out is NUL-terminated, caller frees. */
enum gym_err gym_b64_encode(const void *in, size_t len, char **out);
/* Strict decode: any character outside the alphabet or bad padding is
 * GYM_EINVAL (a "WECHATPAY/SIGNTEST/..." probe is one). */
enum gym_err gym_b64_decode(const char *in, unsigned char **out, size_t *outlen);

/* PEM private key (PKCS#8 or PKCS#1).  Caller EVP_PKEY_free()s. */
enum gym_err gym_key_load_private(const char *path, EVP_PKEY **out);
/* PEM SPKI public key, or the public key of a PEM X.509 certificate. */
enum gym_err gym_key_load_public(const char *path, EVP_PKEY **out);
/* Serial of a PEM certificate as upper-case hex, no leading zeros stripped
 * beyond what OpenSSL prints. */
enum gym_err gym_cert_serial(const char *path, char *out, size_t outsz);

/* RSASSA-PKCS1-v1_5 with SHA-256, base64 output. */
enum gym_err gym_rsa_sign(EVP_PKEY *key, const void *msg, size_t len, char **sig_b64);
/* GYM_OK when the signature verifies, GYM_ECRYPTO when not (including
 * signatures that are not base64). */
enum gym_err gym_rsa_verify(EVP_PKEY *key, const void *msg, size_t len, const char *sig_b64);

/* AEAD_AES_256_GCM as WeChat uses it: key = 32 bytes, nonce = the ASCII
 * bytes of nonce, aad = ASCII bytes (may be ""), data = base64(ct || tag16).
 * Decrypt returns GYM_ECRYPTO when the tag does not verify, GYM_EINVAL for
 * bad base64 or a short input; *plain is NUL-terminated. */
enum gym_err gym_aesgcm_decrypt(const unsigned char key[32], const char *nonce,
    const char *aad, const char *data_b64, char **plain, size_t *plainlen);
enum gym_err gym_aesgcm_encrypt(const unsigned char key[32], const char *nonce,
    const char *aad, const void *plain, size_t plainlen, char **data_b64);

void gym_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
    unsigned char out[32]);
/* Lower-case hex SHA-256 of msg into out[65]. */
void gym_sha256_hex(const void *msg, size_t len, char out[65]);
/* n random characters of [0-9A-Za-z] then a NUL into out[n + 1]. */
enum gym_err gym_random_alnum(char *out, size_t n);
/* Constant-time comparison; 1 when equal. */
int gym_ct_equal(const void *a, const void *b, size_t n);
/* Overwrite a secret buffer. */
void gym_wipe(void *p, size_t n);

#endif
