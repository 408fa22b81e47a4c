/*
 * mkalinotify.c: Alipay trade_status_sync notifications for make bench,
 * built the way Alipay builds them: the form fields signed (RSA2) with the
 * key playing Alipay's (alipay_platform_key.pem of the shared vectors)
 * over every field but sign and sign_type, sorted, then form-encoded.
 * Signing is the slow part, so it is done here, before the clock starts,
 * in NPROC processes.
 *
 *   mkalinotify KEYS PREFIX FIRST LAST NPROC OUT
 *
 * The orders are PREFIX followed by FIRST..LAST as 8 digits, 200.00 each;
 * OUT gets one form body per line.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alipay.h"
#include "alipay_sign.h"
#include "crypto.h"

/* One notification for order oid (form-encoded, caller frees). */
static char *
notification(EVP_PKEY *key, const char *oid, long i)
{
	struct gym_ali_params ps = { 0 };
	char now[20], id[48], tno[40], *text = NULL, *sig = NULL, *body = NULL;
	size_t len;

	gym_ali_time(time(NULL), now);
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
	    gym_ali_params_add(&ps, "total_amount", "200.00") != GYM_OK ||
	    gym_ali_params_add(&ps, "buyer_pay_amount", "200.00") != GYM_OK ||
	    gym_ali_params_add(&ps, "receipt_amount", "200.00") != GYM_OK ||
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

/* Orders a..b into path; 0 or -1. */
static int
slice(const char *keys, const char *prefix, long a, long b, const char *path)
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

int
main(int argc, char *argv[])
{
	char part[1100], buf[65536];
	long first, last, per;
	int nproc, status, rc = 0;
	FILE *out, *in;
	size_t n;

	if (argc != 7 || (first = atol(argv[3])) < 0 || (last = atol(argv[4])) < first ||
	    (nproc = atoi(argv[5])) < 1 || nproc > 16) {
		fprintf(stderr, "usage: mkalinotify KEYS PREFIX FIRST LAST NPROC OUT\n");
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
			_exit(a > b ? 0 : slice(argv[1], argv[2], a, b, part) == 0 ? 0 : 1);
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
