/*
 * mknotify.c: payment notifications for make bench, built the way the
 * channel builds them.  Signing is the slow part (RSA-2048), so it is done
 * here, before the clock starts, in NPROC processes.
 *
 *   mknotify [-a] KEYS PREFIX FIRST LAST NPROC OUT [AMOUNT_FEN]
 *
 * WeChat Pay (default): a TRANSACTION.SUCCESS transaction encrypted with
 * the APIv3 key (AEAD_AES_256_GCM, aad "transaction"), the envelope signed
 * with the platform key over "TS\nNONCE\nBODY\n"; OUT gets one notification
 * per line: TS <tab> NONCE <tab> SIGNATURE <tab> BODY.
 * Alipay (-a): a trade_status_sync form signed (RSA2) with the key playing
 * Alipay's (alipay_platform_key.pem) over every field but sign and
 * sign_type, sorted, then form-encoded; OUT gets one form body per line.
 *
 * KEYS is the folder of the shared vectors' keys; the orders are PREFIX
 * followed by FIRST..LAST as 8 digits, each paid AMOUNT_FEN (default 20000,
 * the trial's price).
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alipay.h"
#include "alipay_sign.h"
#include "crypto.h"
#include "wxsign.h"

static long amount_fen = 20000;

static int
read_key(const char *dir, unsigned char key[32])
{
	char path[1024], line[128] = "";
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/apiv3_key.txt", dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	ok = fgets(line, sizeof(line), f) != NULL && strcspn(line, "\r\n") == 32;
	fclose(f);
	if (ok)
		memcpy(key, line, 32);
	return ok ? 0 : -1;
}

/* The plaintext transaction for order oid (caller frees). */
static char *
transaction(const char *oid, const char *txid)
{
	cJSON *o = cJSON_CreateObject(), *a, *p;
	char when[40], *out;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	cJSON_AddStringToObject(o, "appid", "wxd678efh567hg6787");
	cJSON_AddStringToObject(o, "mchid", "1900000001");
	cJSON_AddStringToObject(o, "out_trade_no", oid);
	cJSON_AddStringToObject(o, "transaction_id", txid);
	cJSON_AddStringToObject(o, "trade_type", "JSAPI");
	cJSON_AddStringToObject(o, "trade_state", "SUCCESS");
	cJSON_AddStringToObject(o, "trade_state_desc", "支付成功");
	cJSON_AddStringToObject(o, "bank_type", "OTHERS");
	cJSON_AddStringToObject(o, "attach", "");
	cJSON_AddStringToObject(o, "success_time", when);
	p = cJSON_AddObjectToObject(o, "payer");
	cJSON_AddStringToObject(p, "openid", "oBenchOpenid0000000000000000");
	a = cJSON_AddObjectToObject(o, "amount");
	cJSON_AddNumberToObject(a, "total", (double)amount_fen);
	cJSON_AddNumberToObject(a, "payer_total", (double)amount_fen);
	cJSON_AddStringToObject(a, "currency", "CNY");
	cJSON_AddStringToObject(a, "payer_currency", "CNY");
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

/* The signed envelope line for one order; 0 or -1. */
static int
one(FILE *out, EVP_PKEY *pk, const unsigned char key[32], const char *oid, const char *txid)
{
	char nonce[13], hnonce[33], id[37], ts[24], *plain, *ct = NULL, *body = NULL, *sig = NULL;
	cJSON *o = NULL, *res;
	int rc = -1;

	if ((plain = transaction(oid, txid)) == NULL ||
	    gym_random_alnum(nonce, 12) != GYM_OK || gym_random_alnum(hnonce, 32) != GYM_OK ||
	    gym_random_alnum(id, 36) != GYM_OK ||
	    gym_aesgcm_encrypt(key, nonce, "transaction", plain, strlen(plain), &ct) != GYM_OK)
		goto out;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "create_time", "2025-01-15T10:00:00+08:00");
	cJSON_AddStringToObject(o, "resource_type", "encrypt-resource");
	cJSON_AddStringToObject(o, "event_type", "TRANSACTION.SUCCESS");
	cJSON_AddStringToObject(o, "summary", "支付成功");
	res = cJSON_AddObjectToObject(o, "resource");
	cJSON_AddStringToObject(res, "original_type", "transaction");
	cJSON_AddStringToObject(res, "algorithm", "AEAD_AES_256_GCM");
	cJSON_AddStringToObject(res, "ciphertext", ct);
	cJSON_AddStringToObject(res, "associated_data", "transaction");
	cJSON_AddStringToObject(res, "nonce", nonce);
	if ((body = cJSON_PrintUnformatted(o)) == NULL)
		goto out;
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	if (gym_wx_sign_response(pk, ts, hnonce, body, strlen(body), &sig) != GYM_OK)
		goto out;
	rc = fprintf(out, "%s\t%s\t%s\t%s\n", ts, hnonce, sig, body) < 0 ? -1 : 0;
out:
	cJSON_Delete(o);
	free(plain);
	free(ct);
	free(body);
	free(sig);
	return rc;
}

/* One Alipay notification for order oid (form-encoded, caller frees). */
static char *
notification(EVP_PKEY *key, const char *oid, long i)
{
	struct gym_ali_params ps = { 0 };
	char now[20], id[48], tno[40], yuan[24], *text = NULL, *sig = NULL, *body = NULL;
	size_t len;

	gym_ali_time(time(NULL), now);
	snprintf(yuan, sizeof(yuan), "%ld.%02ld", amount_fen / 100, amount_fen % 100);
	snprintf(id, sizeof(id), "2026120400222bench%010ld", i);
	snprintf(tno, sizeof(tno), "20261204220014%014ld", i);
	if (gym_ali_params_add(&ps, "gmt_create", now) != GYM_OK ||
	    gym_ali_params_add(&ps, "charset", "utf-8") != GYM_OK ||
	    gym_ali_params_add(&ps, "notify_time", now) != GYM_OK ||
	    gym_ali_params_add(&ps, "notify_type", "trade_status_sync") != GYM_OK ||
	    gym_ali_params_add(&ps, "notify_id", id) != GYM_OK ||
	    gym_ali_params_add(&ps, "app_id", "2021000000000001") != GYM_OK ||
	    gym_ali_params_add(&ps, "seller_id", "2088000000000001") != GYM_OK ||
	    gym_ali_params_add(&ps, "buyer_id", "2088102177846880") != GYM_OK ||
	    gym_ali_params_add(&ps, "trade_status", "TRADE_SUCCESS") != GYM_OK ||
	    gym_ali_params_add(&ps, "out_trade_no", oid) != GYM_OK ||
	    gym_ali_params_add(&ps, "trade_no", tno) != GYM_OK ||
	    gym_ali_params_add(&ps, "total_amount", yuan) != GYM_OK ||
	    gym_ali_params_add(&ps, "buyer_pay_amount", yuan) != GYM_OK ||
	    gym_ali_params_add(&ps, "receipt_amount", yuan) != GYM_OK ||
	    gym_ali_params_add(&ps, "gmt_payment", now) != GYM_OK ||
	    gym_ali_params_add(&ps, "version", "1.0") != GYM_OK ||
	    gym_ali_params_add(&ps, "sign_type", "RSA2") != GYM_OK ||
	    gym_ali_sign_content(&ps, 1, &text, &len) != GYM_OK ||
	    gym_rsa_sign(key, text, len, &sig) != GYM_OK ||
	    gym_ali_params_add(&ps, "sign", sig) != GYM_OK ||
	    gym_ali_form_encode(&ps, &body) != GYM_OK)
		body = NULL;
	free(text);
	free(sig);
	gym_ali_params_free(&ps);
	return body;
}

/* Alipay's lines a..b into path; 0 or -1. */
static int
ali_slice(const char *keys, const char *prefix, long a, long b, const char *path)
{
	char kp[1024], oid[64], *body;
	EVP_PKEY *key = NULL;
	FILE *out;
	int rc = 0;

	snprintf(kp, sizeof(kp), "%s/alipay_platform_key.pem", keys);
	if (gym_key_load_private(kp, &key) != GYM_OK || (out = fopen(path, "w")) == NULL) {
		EVP_PKEY_free(key);
		return -1;
	}
	for (long i = a; rc == 0 && i <= b; i++) {
		snprintf(oid, sizeof(oid), "%s%08ld", prefix, i);
		if ((body = notification(key, oid, i)) == NULL || fprintf(out, "%s\n", body) < 0)
			rc = -1;
		free(body);
	}
	if (fclose(out) != 0)
		rc = -1;
	EVP_PKEY_free(key);
	return rc;
}

/* Lines first..last into path; 0 or -1. */
static int
slice(const char *keys, const char *prefix, long first, long last, const char *path)
{
	unsigned char key[32];
	char kpath[1024], oid[64], txid[64];
	EVP_PKEY *pk = NULL;
	FILE *out;
	int rc = -1;

	snprintf(kpath, sizeof(kpath), "%s/platform_key.pem", keys);
	if (read_key(keys, key) == -1 || gym_key_load_private(kpath, &pk) != GYM_OK) {
		fprintf(stderr, "mknotify: cannot read the keys in %s\n", keys);
		return -1;
	}
	if ((out = fopen(path, "w")) == NULL)
		goto done;
	for (long n = first; n <= last; n++) {
		snprintf(oid, sizeof(oid), "%s%08ld", prefix, n);
		snprintf(txid, sizeof(txid), "4200%s%08ld", prefix, n);
		if (one(out, pk, key, oid, txid) == -1)
			goto done;
	}
	rc = 0;
done:
	if (out != NULL && fclose(out) != 0)
		rc = -1;
	EVP_PKEY_free(pk);
	gym_wipe(key, sizeof(key));
	return rc;
}

int
main(int argc, char *argv[])
{
	char part[1100], buf[65536];
	long first, last, per;
	int nproc, status, rc = 0;
	FILE *out, *in;
	size_t n;
	int ali = argc > 1 && strcmp(argv[1], "-a") == 0;

	if (ali) {
		argv++;
		argc--;
	}
	if (argc == 8)
		amount_fen = atol(argv[7]);
	if ((argc != 7 && argc != 8) || (first = atol(argv[3])) < 0 ||
	    (last = atol(argv[4])) < first || (nproc = atoi(argv[5])) < 1 || nproc > 16 ||
	    amount_fen < 1 || amount_fen > 10000000) {
		fprintf(stderr, "usage: mknotify [-a] KEYS PREFIX FIRST LAST NPROC OUT "
		    "[AMOUNT_FEN]\n");
		return 2;
	}
	per = (last - first + nproc) / nproc;
	for (int i = 0; i < nproc; i++) {
		long a = first + i * per, b = a + per - 1 < last ? a + per - 1 : last;
		pid_t pid;

		snprintf(part, sizeof(part), "%s.%d", argv[6], i);
		if ((pid = fork()) == -1)
			return 1;
		if (pid == 0)
			_exit(a > b ? 0 : (ali ? ali_slice : slice)(argv[1], argv[2], a, b, part) ==
			    0 ? 0 : 1);
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			rc = 1;
	if (rc != 0 || (out = fopen(argv[6], "w")) == NULL)
		return 1;
	for (int i = 0; i < nproc; i++) {
		snprintf(part, sizeof(part), "%s.%d", argv[6], i);
		if ((in = fopen(part, "r")) == NULL)
			continue;
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			if (fwrite(buf, 1, n, out) != n)
				rc = 1;
		fclose(in);
		unlink(part);
	}
	return fclose(out) == 0 ? rc : 1;
}
