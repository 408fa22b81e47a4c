/*
 * pii.c: the registration details' keys and sealing (see pii.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "pii.h"

#define PII_AAD_PREFIX "gym-pii-v1:"

/* 64 hex digits into key[32]; -1 when s is not exactly that. */
static int
hex32(const char *s, size_t len, unsigned char key[32])
{
	if (len != 64)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int hi = gym_hexval((unsigned char)s[2 * i]);
		int lo = gym_hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
valid_id(const char *s, size_t len)
{
	if (len == 0 || len >= GYM_PII_KEY_ID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* One line's two words into keys; -1 with err on a bad one. */
static int
parse_line(const char *p, size_t len, int lineno, int *have_index, struct gym_pii_keys *keys,
    char *err, size_t errsz)
{
	size_t idlen = strcspn(p, " \t"), sp;
	const char *hex;
	unsigned char key[32];

	if (idlen >= len) {
		snprintf(err, errsz, "pii keys line %d: want \"ID HEX\"", lineno);
		return -1;
	}
	sp = idlen + strspn(p + idlen, " \t");
	hex = p + sp;
	if (!valid_id(p, idlen) || hex32(hex, len - sp, key) != 0) {
		snprintf(err, errsz, "pii keys line %d: want an id of 1-16 of [A-Za-z0-9_-] "
		    "and 64 hex digits", lineno);
		gym_wipe(key, sizeof(key));
		return -1;
	}
	if (idlen == 5 && memcmp(p, "index", 5) == 0) {
		if (*have_index) {
			snprintf(err, errsz, "pii keys line %d: a second index key", lineno);
			return -1;
		}
		memcpy(keys->index_key, key, 32);
		*have_index = 1;
	} else {
		for (int i = 0; i < keys->n; i++)
			if (strlen(keys->k[i].id) == idlen && memcmp(keys->k[i].id, p, idlen) == 0) {
				snprintf(err, errsz, "pii keys line %d: key id used twice", lineno);
				return -1;
			}
		if (keys->n == GYM_PII_KEYS_MAX) {
			snprintf(err, errsz, "pii keys line %d: more than %d keys", lineno,
			    GYM_PII_KEYS_MAX);
			return -1;
		}
		memcpy(keys->k[keys->n].id, p, idlen);
		keys->k[keys->n].id[idlen] = '\0';
		memcpy(keys->k[keys->n].key, key, 32);
		keys->n++;
	}
	gym_wipe(key, sizeof(key));
	return 0;
}

enum gym_err
gym_pii_keys_parse(const char *text, struct gym_pii_keys *keys, char *err, size_t errsz)
{
	const char *p = text;
	int lineno = 0, have_index = 0;

	memset(keys, 0, sizeof(*keys));
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n'), *end = nl != NULL ? nl : p + strlen(p);
		size_t len;

		lineno++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len > 0 && *p != '#' &&
		    parse_line(p, len, lineno, &have_index, keys, err, errsz) != 0)
			goto fail;
		p = nl != NULL ? nl + 1 : NULL;
	}
	if (!have_index || keys->n == 0) {
		snprintf(err, errsz, "pii keys: want an \"index\" line and at least one key line");
		goto fail;
	}
	return GYM_OK;
fail:
	gym_pii_keys_wipe(keys);
	return GYM_EINVAL;
}

static char *
aad_of(const char *order_id)
{
	return gym_asprintf(PII_AAD_PREFIX "%s", order_id != NULL ? order_id : "");
}

enum gym_err
gym_pii_seal(const struct gym_pii_keys *keys, const char *order_id, const void *plain,
    size_t len, struct gym_pii_sealed *out)
{
	char *aad;
	enum gym_err e;

	memset(out, 0, sizeof(*out));
	if (keys == NULL || keys->n == 0 || !gym_nonempty(order_id))
		return GYM_EINVAL;
	if ((e = gym_random_alnum(out->nonce, GYM_PII_NONCE_LEN - 1)) != GYM_OK)
		return e;
	if ((aad = aad_of(order_id)) == NULL)
		return GYM_ENOMEM;
	gym_strcopy(out->key_id, sizeof(out->key_id), keys->k[0].id);
	e = gym_aesgcm_encrypt(keys->k[0].key, out->nonce, aad, plain, len, &out->data);
	free(aad);
	return e;
}

enum gym_err
gym_pii_open(const struct gym_pii_keys *keys, const char *order_id,
    const struct gym_pii_sealed *in, char **plain)
{
	size_t n;
	char *aad;
	enum gym_err e;

	*plain = NULL;
	if (keys == NULL || in == NULL || in->data == NULL || !gym_nonempty(in->nonce))
		return GYM_EINVAL;
	for (int i = 0; i < keys->n; i++) {
		if (strcmp(keys->k[i].id, in->key_id) != 0)
			continue;
		if ((aad = aad_of(order_id)) == NULL)
			return GYM_ENOMEM;
		e = gym_aesgcm_decrypt(keys->k[i].key, in->nonce, aad, in->data, plain, &n);
		free(aad);
		return e;
	}
	return GYM_ENOTFOUND;
}

void
gym_pii_index(const struct gym_pii_keys *keys, const char *value, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[32];

	gym_hmac_sha256(keys->index_key, sizeof(keys->index_key), value, strlen(value), mac);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[64] = '\0';
}

void
gym_pii_keys_wipe(struct gym_pii_keys *keys)
{
	gym_wipe(keys, sizeof(*keys));
	keys->n = 0;
}
