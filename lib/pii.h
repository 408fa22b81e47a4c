/*
 * pii.h: the keys that seal what parents tell us about their child (the
 * registration details) and how they are sealed.  AES-256-GCM with a
 * random nonce per record, the record's order id as associated data (a
 * sealed record moved to another order does not open), and each sealed
 * record tagged with the id of its key, so a new key can be put first and
 * the old records re-sealed (gymctl pii rekey) while both still open.  The
 * phone's search hash is HMAC-SHA256 under a separate index key that does
 * not rotate with the sealing keys.
 *
 * The key file (pii_keys_file, mode 600) holds lines
 *     index <64 hex digits>
 *     <key id> <64 hex digits>        (the first of these seals; all open)
 * with '#' comments and blank lines allowed.
 */
#ifndef GYM_PII_H
#define GYM_PII_H

#include <stddef.h>

#include "gym.h"

#define GYM_PII_KEYS_MAX	8
#define GYM_PII_KEY_ID_LEN	17	/* [A-Za-z0-9_-]{1,16} and a NUL */
#define GYM_PII_NONCE_LEN	17	/* 16 random alphanumerics and a NUL */

struct gym_pii_keys {
	int n;				/* 0: no keys loaded */
	struct {
		char id[GYM_PII_KEY_ID_LEN];
		unsigned char key[32];
	} k[GYM_PII_KEYS_MAX];		/* k[0] seals */
	unsigned char index_key[32];
};

/* A sealed record as stored: key id, nonce, base64(ciphertext || tag). */
struct gym_pii_sealed {
	char key_id[GYM_PII_KEY_ID_LEN];
	char nonce[GYM_PII_NONCE_LEN];
	char *data;			/* malloc'd */
};

/* Parse the key file's text into keys; GYM_EINVAL with a message (never a
 * key) in err for a malformed line, a repeated id, no index or no key. */
enum gym_err gym_pii_keys_parse(const char *text, struct gym_pii_keys *keys,
    char *err, size_t errsz);
/* Seal plain[len] for order_id under the first key.  Free out->data. */
enum gym_err gym_pii_seal(const struct gym_pii_keys *keys, const char *order_id,
    const void *plain, size_t len, struct gym_pii_sealed *out);
/* Open a sealed record of order_id: GYM_ENOTFOUND when its key is not
 * loaded, GYM_ECRYPTO when it does not verify.  *plain is malloc'd and
 * NUL-terminated. */
enum gym_err gym_pii_open(const struct gym_pii_keys *keys, const char *order_id,
    const struct gym_pii_sealed *in, char **plain);
/* The search hash of a value (a phone): lower-case hex into out[65]. */
void gym_pii_index(const struct gym_pii_keys *keys, const char *value, char out[65]);
void gym_pii_keys_wipe(struct gym_pii_keys *keys);

#endif
