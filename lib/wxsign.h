/*
 * wxsign.h: WeChat Pay APIv3 message signing and verification (the
 * Authorization header, response and notification signatures, the mini
 * program's paySign).  Pure functions over crypto.h: no I/O, no clock.
 */
#ifndef GYM_WXSIGN_H
#define GYM_WXSIGN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/evp.h>

#include "gym.h"

/* The replay window for responses and notifications, in seconds: a
 * timestamp more than this far from now is refused. */
#define GYM_WX_WINDOW 300

/* A set of WeChat Pay verification keys by serial: platform certificate
 * serials and PUB_KEY_ID_ ids, several at once during rotation. */
#define GYM_WX_MAXKEYS 8
struct gym_wx_keyring {
	size_t n;
	struct {
		char serial[96];
		EVP_PKEY *key;	/* owned */
		int64_t not_after;	/* a certificate's expiry (Unix s); 0: a bare public key */
	} k[GYM_WX_MAXKEYS];
};

/* Add a key read from a PEM file (public key or certificate). */
enum gym_err gym_wx_keyring_add(struct gym_wx_keyring *, const char *serial, const char *path);
void gym_wx_keyring_free(struct gym_wx_keyring *);
EVP_PKEY *gym_wx_keyring_get(const struct gym_wx_keyring *, const char *serial);

/* "METHOD\nURL\nTS\nNONCE\nBODY\n", caller frees. */
enum gym_err gym_wx_request_message(const char *method, const char *url, long ts,
    const char *nonce, const char *body, size_t blen, char **out, size_t *outlen);

/* The whole Authorization header value:
 * WECHATPAY2-SHA256-RSA2048 mchid="..",serial_no="..",timestamp="..",nonce_str="..",signature=".."
 * (the parameter order of the vectors in test/vectors). */
enum gym_err gym_wx_authorization(EVP_PKEY *merchant_key, const char *mchid,
    const char *serial, const char *method, const char *url, long ts,
    const char *nonce, const char *body, size_t blen, char **out);

/* Verify a response or notification: serial picks the key, the timestamp
 * must be within GYM_WX_WINDOW of now, the signature must verify over
 * "TS\nNONCE\nBODY\n".  GYM_OK or GYM_ECRYPTO (any failure, including a
 * probe signature, an unknown serial or a stale timestamp); GYM_EINVAL for
 * missing pieces. */
enum gym_err gym_wx_verify(const struct gym_wx_keyring *, const char *ts,
    const char *nonce, const char *serial, const char *signature,
    const char *body, size_t blen, time_t now);

/* Sign a response or notification the way WeChat does (for the simulator):
 * base64 RSA-SHA256 over "TS\nNONCE\nBODY\n". */
enum gym_err gym_wx_sign_response(EVP_PKEY *key, const char *ts, const char *nonce,
    const char *body, size_t blen, char **sig_b64);

/* paySign = base64(RSA-SHA256("appId\ntimeStamp\nnonceStr\npackage\n")). */
enum gym_err gym_wx_paysign(EVP_PKEY *merchant_key, const char *appid, const char *ts,
    const char *nonce, const char *package, char **out);

/* Parse an Authorization header value (params in any order) into its
 * parts, for the simulator.  Outputs are copied into the given buffers. */
struct gym_wx_auth {
	char mchid[64], serial[96], nonce[96], timestamp[32], signature[512];
};
enum gym_err gym_wx_parse_authorization(const char *header, struct gym_wx_auth *out);

#endif
