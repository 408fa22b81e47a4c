/*
 * fuzz_notify.c: WeChat Pay notifications (lib/wxpay_notify.c
 * gym_wx_notify_open: the Wechatpay-* headers and the envelope), then
 * what h_notify.c does with the plaintext (cJSON_Parse and the field
 * checks of gym_txn_apply_json, against a database that is never there,
 * so nothing is applied).  The test keys of test/vectors are used:
 * the platform key signs, the APIv3 key encrypts.
 *
 * The first byte picks a mode:
 *   0  headers and body from the bytes: "ts\nnonce\nserial\nsignature\nbody",
 *      where a ts of "now" is replaced by the current time (the signature
 *      never verifies: this reaches the header checks, the timestamp
 *      window, base64 of the signature and the RSA verification);
 *   1  the rest is an envelope, signed by the harness with the platform
 *      key and a fresh timestamp (reaches the envelope parser and the
 *      decryption of whatever resource it names);
 *   2  the rest is a plaintext, encrypted into a well-formed envelope and
 *      signed (reaches the plaintext checks and gym_txn_apply_json).
 *
 * Properties checked: mode 0 never opens (the fuzzer cannot sign); in
 * mode 2 the envelope opens exactly when the plaintext (up to a NUL) is a
 * JSON object, and the plaintext comes back unchanged; a refusal leaves
 * *plain NULL and the event type empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crypto.h"
#include "fuzz.h"
#include "log.h"
#include "reconcile.h"
#include "wxpay.h"
#include "wxsign.h"

static EVP_PKEY *platform_key;
static struct gym_db *deaddb;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[1024];

	(void)argc;
	(void)argv;
	fuzz_quiet();
	(void)fuzz_config();
	if (gym_key_load_private(fuzz_key_path("platform_key.pem", path, sizeof(path)),
	    &platform_key) != GYM_OK) {
		fprintf(stderr, "fuzz_notify: cannot load %s (set GYM_VECTORS_DIR)\n", path);
		exit(2);
	}
	/* a unix socket folder that does not exist: every connect fails at once */
	if (gym_db_new("host=/nonexistent/gym-fuzz dbname=none", 0, &deaddb) != GYM_OK)
		exit(2);
	return 0;
}

/* gym_wx_notify_open, and the checks every refusal must pass. */
static enum gym_err
open_it(const char *ts, const char *nonce, const char *serial, const char *sig,
    const char *body, size_t len, char **plain)
{
	char event[64];
	enum gym_err e;

	memset(event, 'x', sizeof(event));
	e = gym_wx_notify_open(fuzz_config(), ts, nonce, serial, sig, body, len, event,
	    sizeof(event), plain);
	if (e != GYM_OK && (*plain != NULL || event[0] != '\0'))
		fuzz_fail("refused notification left plaintext or event type behind");
	if (e == GYM_OK && (*plain == NULL || memchr(event, '\0', sizeof(event)) == NULL))
		fuzz_fail("opened notification without plaintext or event type");
	return e;
}

/* What h_notify.c does with an opened payment notification. */
static void
apply(const char *plain)
{
	struct gym_actor a = { "wechat", 0, "127.0.0.1", "fuzz", "fuzz", NULL };
	char outcome[32];
	cJSON *txn = cJSON_Parse(plain);

	if (txn == NULL)
		return;
	/* the database is unreachable, so at most the checks run */
	(void)gym_txn_apply_json(deaddb, &a, fuzz_config(), txn, "notify", outcome,
	    sizeof(outcome));
	cJSON_Delete(txn);
}

static void
raw(const uint8_t *data, size_t size)
{
	char *p[5], *plain = NULL, now[24];
	size_t blen = 0;

	fuzz_split(data, size, p, 5, &blen);
	if (strcmp(p[0], "now") == 0) {
		snprintf(now, sizeof(now), "%lld", (long long)gym_now());
		free(p[0]);
		p[0] = fuzz_cstr((const uint8_t *)now, strlen(now));
	}
	if (open_it(*p[0] ? p[0] : NULL, *p[1] ? p[1] : NULL, *p[2] ? p[2] : NULL,
	    *p[3] ? p[3] : NULL, p[4], blen, &plain) == GYM_OK)
		fuzz_fail("an unsigned notification opened");
	fuzz_free_parts(p, 5);
}

/* Sign body as WeChat would, now, and open it. */
static void
signed_body(const char *body, size_t len, const char *want_plain)
{
	char ts[24], *sig = NULL, *plain = NULL;
	enum gym_err e;

	snprintf(ts, sizeof(ts), "%lld", (long long)gym_now());
	if (gym_wx_sign_response(platform_key, ts, "fuzznonce0123456", body, len, &sig) != GYM_OK)
		fuzz_fail("could not sign");
	e = open_it(ts, "fuzznonce0123456", FUZZ_SERIAL, sig, body, len, &plain);
	if (want_plain != NULL) {
		cJSON *j = cJSON_Parse(want_plain);
		int object = cJSON_IsObject(j);

		cJSON_Delete(j);
		if ((e == GYM_OK) != object)
			fuzz_fail("plaintext %s an object but the envelope %s",
			    object ? "is" : "is not", e == GYM_OK ? "opened" : "did not open");
		if (e == GYM_OK && strcmp(plain, want_plain) != 0)
			fuzz_fail("the plaintext changed on the way");
	}
	if (e == GYM_OK)
		apply(plain);
	free(plain);
	free(sig);
}

static void
encrypted(const uint8_t *data, size_t size)
{
	char *pt = fuzz_cstr(data, size), *ct = NULL, *env;
	cJSON *o, *r;

	if (gym_aesgcm_encrypt(fuzz_config()->wx_apiv3_key, "fuzz0123abcd", "transaction",
	    pt, strlen(pt), &ct) != GYM_OK)
		fuzz_fail("could not encrypt");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", "EV-2018022511223320873");
	cJSON_AddStringToObject(o, "create_time", "2015-05-20T13:29:35+08:00");
	cJSON_AddStringToObject(o, "resource_type", "encrypt-resource");
	cJSON_AddStringToObject(o, "event_type", "TRANSACTION.SUCCESS");
	cJSON_AddStringToObject(o, "summary", "fuzz");
	r = cJSON_AddObjectToObject(o, "resource");
	cJSON_AddStringToObject(r, "original_type", "transaction");
	cJSON_AddStringToObject(r, "algorithm", "AEAD_AES_256_GCM");
	cJSON_AddStringToObject(r, "ciphertext", ct);
	cJSON_AddStringToObject(r, "associated_data", "transaction");
	cJSON_AddStringToObject(r, "nonce", "fuzz0123abcd");
	if ((env = cJSON_PrintUnformatted(o)) == NULL)
		fuzz_fail("could not print the envelope");
	signed_body(env, strlen(env), pt);
	free(env);
	cJSON_Delete(o);
	free(ct);
	free(pt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		raw(data + 1, size - 1);
		break;
	case 1:
		body = fuzz_cstr(data + 1, size - 1);
		signed_body(body, size - 1, NULL);
		free(body);
		break;
	default:
		encrypted(data + 1, size - 1);
		break;
	}
	return 0;
}
