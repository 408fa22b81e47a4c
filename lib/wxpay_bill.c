/*
 * wxpay_bill.c: WeChat Pay's daily bills.  Two steps: a signed, verified
 * GET of /v3/bill/tradebill (or /v3/bill/fundflowbill) answers the
 * download_url and the SHA1 of the bill; a signed GET of that URL, whose
 * answer WeChat does not sign, brings the file (gzip).  The file is
 * unpacked and its SHA1 checked against hash_value before anyone reads it.
 *
 * The download URL must lie under wx_pay_base: the request carries our
 * Authorization, which is not sent anywhere else.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "json.h"
#include "wxpay_transport.h"

#define BILL_FILE_MAX	(64u * 1024 * 1024)	/* the gzip'd file */
#define BILL_TEXT_MAX	(512u * 1024 * 1024)	/* the bill unpacked */

/* gunzip in[len] into *out (NUL-terminated, caller frees); 0, or -1 when
 * it is not a whole gzip stream (cut short, corrupt) or too large. */
static int
gunzip(const char *in, size_t len, char **out, size_t *olen)
{
	z_stream zs;
	size_t cap = len * 4 + 4096;
	char *buf, *nb;
	int rc;

	*out = NULL;
	*olen = 0;
	if ((buf = malloc(cap)) == NULL)
		return -1;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK) {
		free(buf);
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	for (;;) {
		if (cap - zs.total_out < 2) {
			if (cap >= BILL_TEXT_MAX || (nb = realloc(buf, cap * 2)) == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		zs.next_out = (Bytef *)buf + zs.total_out;
		zs.avail_out = (uInt)(cap - zs.total_out - 1);
		rc = inflate(&zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END && zs.avail_in == 0) {
			*olen = zs.total_out;
			buf[*olen] = '\0';
			inflateEnd(&zs);
			*out = buf;
			return 0;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			break;
		if (rc == Z_BUF_ERROR && zs.avail_in == 0)
			break;		/* the input ended before the stream did */
	}
	inflateEnd(&zs);
	free(buf);
	return -1;
}

/* 1 when the SHA1 of text[len] is hex (either case). */
static int
sha1_is(const char *text, size_t len, const char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	char got[2 * EVP_MAX_MD_SIZE + 1];

	if (EVP_Digest(text, len, md, &mdlen, EVP_sha1(), NULL) != 1)
		return 0;
	for (i = 0; i < mdlen; i++)
		snprintf(got + 2 * i, 3, "%02x", md[i]);
	return strlen(hex) == 2 * mdlen && strcasecmp(got, hex) == 0;
}

enum gym_err
gym_wx_bill(struct gym_wx_client *c, enum gym_wx_bill_kind kind, const char *date,
    char **text, size_t *len)
{
	static const char *const none[] = { "NO_STATEMENT_EXIST", NULL };
	char path[160], *file = NULL;
	const char *url, *hash_type, *hash;
	size_t flen = 0, base = strlen(c->pay_base);
	cJSON *j = NULL;
	enum gym_err rc;

	gym__wx_begin(c);
	*text = NULL;
	*len = 0;
	if (date == NULL || strlen(date) != 10 || strspn(date, "0123456789-") != 10)
		return GYM_EINVAL;
	if (kind == GYM_WX_BILL_TRADE)
		snprintf(path, sizeof(path), "/v3/bill/tradebill?bill_date=%s&bill_type=ALL"
		    "&tar_type=GZIP", date);
	else
		snprintf(path, sizeof(path), "/v3/bill/fundflowbill?bill_date=%s"
		    "&account_type=BASIC&tar_type=GZIP", date);
	if ((rc = gym__wx_v3_call(c, "GET", path, NULL, &j)) != GYM_OK) {
		if (rc == GYM_EUPSTREAM && gym__wx_err_is(c, none))
			rc = GYM_ENOTFOUND;
		goto out;
	}
	url = gym_json_string(j, "download_url");
	hash_type = gym_json_string(j, "hash_type");
	hash = gym_json_string(j, "hash_value");
	if (url == NULL || hash == NULL || hash_type == NULL || strcmp(hash_type, "SHA1") != 0) {
		rc = gym__wx_bad_response(c, "GET", path, "no download_url or SHA1 hash_value");
		goto out;
	}
	if (strncmp(url, c->pay_base, base) != 0 || url[base] != '/') {
		rc = gym__wx_bad_response(c, "GET", path, "download_url is not under wx_pay_base");
		goto out;
	}
	if ((rc = gym__wx_v3_download(c, url + base, BILL_FILE_MAX, &file, &flen)) != GYM_OK)
		goto out;
	rc = GYM_EUPSTREAM;
	if (flen >= 2 && (unsigned char)file[0] == 0x1f && (unsigned char)file[1] == 0x8b) {
		if (gunzip(file, flen, text, len) != 0) {
			gym__wx_own_error(c, "BAD_FILE", "the bill file is not a whole gzip file");
			gym__wx_log_failure(c, "GET", "/v3/billdownload/file", rc);
			goto out;
		}
	} else {
		*text = file;
		*len = flen;
		file = NULL;
	}
	if (!sha1_is(*text, *len, hash)) {
		gym__wx_own_error(c, "BAD_HASH", "the bill's SHA1 is not its hash_value");
		gym__wx_log_failure(c, "GET", "/v3/billdownload/file", rc);
		free(*text);
		*text = NULL;
		*len = 0;
		goto out;
	}
	rc = GYM_OK;
out:
	free(file);
	cJSON_Delete(j);
	return rc;
}
