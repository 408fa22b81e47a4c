/*
 * alipay_sign.h: Alipay open-platform (classic gateway) signing and
 * verification, as /work/shared/docs/alipay.md sections 1-3 describe:
 * the sorted "k=v&..." text, RSA2 (SHA256withRSA) request signatures,
 * the signed node of a JSON answer (its exact bytes), and async
 * notifications (form fields decoded once).  Pure: no I/O but what
 * crypto.c does, no clock.
 */
#ifndef GYM_ALIPAY_SIGN_H
#define GYM_ALIPAY_SIGN_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "gym.h"

/* An ordered list of parameters (request or form), each key and value
 * owned, NUL-terminated. */
struct gym_ali_params {
	size_t n, cap;
	struct gym_ali_param {
		char *key, *value;
	} *p;
};

/* Append key=value (copied); a key already present is GYM_ECONFLICT. */
enum gym_err gym_ali_params_add(struct gym_ali_params *, const char *key, const char *value);
/* The value of key, or NULL. */
const char *gym_ali_params_get(const struct gym_ali_params *, const char *key);
void gym_ali_params_free(struct gym_ali_params *);

/* Decode an application/x-www-form-urlencoded body exactly once ('+' is
 * a space, %XX strict): GYM_EINVAL for a malformed body, a repeated key
 * or a NUL byte in a value. */
enum gym_err gym_ali_form_parse(const char *body, size_t len, struct gym_ali_params *);
/* The parameters URL-encoded, "k=v&k=v" in their order (only
 * [A-Za-z0-9-_.~] kept as they are). */
enum gym_err gym_ali_form_encode(const struct gym_ali_params *, char **out);

/* The text that gets signed: every parameter with a non-empty value
 * except sign (and sign_type when drop_sign_type), sorted by key in byte
 * order, "k=v" joined with '&', values raw. */
enum gym_err gym_ali_sign_content(const struct gym_ali_params *, int drop_sign_type,
    char **out, size_t *len);
/* A request's sign (sign_type included in the text), base64. */
enum gym_err gym_ali_sign(EVP_PKEY *app_key, const struct gym_ali_params *, char **sig_b64);
/* An async notification: GYM_OK when sign verifies over the parameters
 * without sign and sign_type with Alipay's public key; GYM_ECRYPTO when
 * not (no sign included). */
enum gym_err gym_ali_verify_notify(EVP_PKEY *alipay_pub, const struct gym_ali_params *);

/* The exact bytes of the top-level member name's value in a JSON answer
 * (from its first byte to its last).  GYM_ENOTFOUND when absent,
 * GYM_EINVAL when the body is not one JSON object or names it twice. */
enum gym_err gym_ali_response_member(const char *body, size_t len, const char *name,
    const char **start, size_t *n);
/* The node an answer to method is in: "alipay_trade_query_response". */
enum gym_err gym_ali_response_node(const char *method, char *out, size_t outsz);
/*
 * Verify an answer to method with Alipay's public key: the signed node is
 * the method's node, or "error_response" when it is absent; sign must
 * verify over its exact bytes.  GYM_OK with *node (the parsed node,
 * caller cJSON_Deletes) when it does; GYM_ECRYPTO when the signature does
 * not hold or a non-error answer is unsigned; GYM_EUPSTREAM for an
 * unsigned error_response (*node set: a failed call, never a business
 * answer); GYM_EINVAL when the body does not parse.
 */
enum gym_err gym_ali_verify_response(EVP_PKEY *alipay_pub, const char *method,
    const char *body, size_t len, cJSON **node);

/*
 * OpenAPI v3 (the documented alternative, not used by the client yet):
 * the Authorization header "ALIPAY-SHA256withRSA app_id=..,nonce=..,
 * timestamp=<ms>,sign=.." over "<auth>\n<METHOD>\n<uri>\n<body>\n"
 * (caller frees *out), and an answer's alipay-signature over
 * "<alipay-timestamp>\n<alipay-nonce>\n<body>\n": GYM_OK or GYM_ECRYPTO.
 */
enum gym_err gym_ali_v3_authorization(EVP_PKEY *app_key, const char *app_id,
    const char *nonce, const char *ts_ms, const char *method, const char *uri,
    const char *body, size_t blen, char **out);
enum gym_err gym_ali_v3_verify(EVP_PKEY *alipay_pub, const char *ts_ms, const char *nonce,
    const char *body, size_t blen, const char *sig_b64);

/* Amounts: integer fen to "200.00" (out at least 24 bytes), and a yuan
 * string back to fen, strictly ("0.01".."99999999.99" digits, at most
 * two decimals, no sign, no exponent): GYM_EINVAL otherwise. */
void gym_ali_yuan(long long fen, char *out, size_t outsz);
enum gym_err gym_ali_fen(const char *yuan, long long *fen);

#endif
