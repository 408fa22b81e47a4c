/*
 * alipay_bill.c: Alipay's daily trade bill (see alipay_bill.h and the
 * reference §8): the URL from alipay.data.dataservice.bill.downloadurl.query,
 * downloaded at once (it expires within seconds), the zip read through its
 * central directory (stored or deflated entries, zlib), the detail entry
 * picked by its first line and its header row, its GBK text turned into UTF-8 (iconv,
 * GB18030, which contains GBK).
 */
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <zlib.h>

#include "alipay.h"
#include "alipay_bill.h"
#include "log.h"

/* each kind's detail file: its first line, and the first column of its
 * header row (which its 汇总 file, should it start alike, lacks) */
static const struct {
	const char *bill_type, *first_line, *header, *name;
} kinds[] = {
	[GYM_ALI_BILL_TRADE] = { "trade", "#支付宝业务明细查询", "\n支付宝交易号,", "业务明细" },
	[GYM_ALI_BILL_ACCOUNT] = { "signcustomer", "#支付宝账务明细查询", "\n账务流水号,",
	    "账务明细" },
};

struct dl {
	unsigned char *p;
	size_t n;
	int too_large;
};

static size_t
dl_write(char *p, size_t size, size_t n, void *arg)
{
	struct dl *d = arg;
	size_t total = size * n;
	unsigned char *np;

	if (total > GYM_ALI_BILL_MAX - d->n) {
		d->too_large = 1;
		return 0;
	}
	if ((np = realloc(d->p, d->n + total + 1)) == NULL)
		return 0;
	d->p = np;
	memcpy(d->p + d->n, p, total);
	d->n += total;
	return total;
}

/* GET url (http or https) into *out; GYM_EUPSTREAM unless a 200 came. */
static enum gym_err
download(struct gym_ali_client *ac, const struct gym_config *cfg, const char *url,
    unsigned char **out, size_t *len)
{
	char msg[160];
	struct dl d = { NULL, 0, 0 };
	CURL *c = curl_easy_init();
	CURLcode cc;
	long status = 0;

	if (c == NULL)
		return GYM_ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
	if (gym_nonempty(cfg->ali_cainfo))
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ali_cainfo);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK || status != 200 || d.n == 0) {
		snprintf(msg, sizeof(msg), "the bill download failed: %s, HTTP %ld%s",
		    curl_easy_strerror(cc), status, d.too_large ? " (too large)" : "");
		gym_log_warnx("Alipay %s", msg);
		gym_ali_error_set(ac, (int)status, d.too_large ? "BAD_FILE" : "DOWNLOAD_FAILED", msg);
		free(d.p);
		return cc == CURLE_OPERATION_TIMEDOUT ? GYM_ETIMEOUT : GYM_EUPSTREAM;
	}
	*out = d.p;
	*len = d.n;
	return GYM_OK;
}

static unsigned
u16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static unsigned long
u32(const unsigned char *p)
{
	return (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
	    (unsigned long)p[3] << 24;
}

/* One entry's bytes (stored or raw deflate) into *out (NUL added). */
static enum gym_err
entry_data(const unsigned char *zip, size_t len, unsigned long off, unsigned method,
    unsigned long csize, unsigned long usize, unsigned long crc, char **out)
{
	const unsigned char *lh = zip + off, *data;
	unsigned char *buf;
	z_stream zs;
	int rc;

	if (off > len || len - off < 30 || u32(lh) != 0x04034b50UL)
		return GYM_EINVAL;
	data = lh + 30 + u16(lh + 26) + u16(lh + 28);
	if ((size_t)(data - zip) > len || csize > len - (size_t)(data - zip) ||
	    usize > GYM_ALI_BILL_MAX || (method != 0 && method != 8))
		return GYM_EINVAL;
	if ((buf = malloc(usize + 1)) == NULL)
		return GYM_ENOMEM;
	if (method == 0) {
		if (csize != usize) {
			free(buf);
			return GYM_EINVAL;
		}
		memcpy(buf, data, usize);
	} else {
		memset(&zs, 0, sizeof(zs));
		if (inflateInit2(&zs, -15) != Z_OK) {
			free(buf);
			return GYM_ENOMEM;
		}
		zs.next_in = (Bytef *)(uintptr_t)data;
		zs.avail_in = (uInt)csize;
		zs.next_out = buf;
		zs.avail_out = (uInt)usize;
		rc = inflate(&zs, Z_FINISH);
		inflateEnd(&zs);
		if (rc != Z_STREAM_END || zs.total_out != usize) {
			free(buf);
			return GYM_EINVAL;
		}
	}
	if (crc32(0L, buf, (uInt)usize) != crc) {
		free(buf);
		return GYM_EINVAL;
	}
	buf[usize] = '\0';
	*out = (char *)buf;
	return GYM_OK;
}

/* GBK (GB18030) text into UTF-8 (malloc'd). */
static enum gym_err
to_utf8(const char *s, size_t len, char **out, size_t *outlen)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	size_t cap = len * 2 + 1, left = cap - 1, inleft = len;
	char *in = (char *)(uintptr_t)s, *o, *p;

	if (cd == (iconv_t)-1)
		return GYM_ESYSTEM;
	if ((o = malloc(cap)) == NULL) {
		iconv_close(cd);
		return GYM_ENOMEM;
	}
	p = o;
	if (iconv(cd, &in, &inleft, &p, &left) == (size_t)-1) {
		iconv_close(cd);
		free(o);
		return GYM_EINVAL;
	}
	iconv_close(cd);
	*p = '\0';
	*out = o;
	*outlen = (size_t)(p - o);
	return GYM_OK;
}

enum gym_err
gym_ali_bill_unzip(enum gym_ali_bill_kind kind, const unsigned char *zip, size_t len,
    char **text, size_t *tlen)
{
	const unsigned char *eocd = NULL, *cd;
	unsigned long cdoff, cdsize;
	unsigned n;
	enum gym_err e;

	*text = NULL;
	*tlen = 0;
	/* the end of central directory record, its comment at most 64 KiB */
	for (size_t i = len >= 22 ? len - 22 : 0; len >= 22; i--) {
		if (u32(zip + i) == 0x06054b50UL) {
			eocd = zip + i;
			break;
		}
		if (i == 0 || len - i > 22 + 65535)
			break;
	}
	if (eocd == NULL)
		return GYM_EINVAL;
	n = u16(eocd + 10);
	cdsize = u32(eocd + 12);
	cdoff = u32(eocd + 16);
	if (cdoff > len || cdsize > len - cdoff)
		return GYM_EINVAL;
	cd = zip + cdoff;
	for (unsigned i = 0; i < n; i++) {
		char *raw = NULL, *utf = NULL;
		size_t ulen;
		unsigned long recl;

		if ((size_t)(cd - zip) + 46 > cdoff + cdsize || u32(cd) != 0x02014b50UL)
			return GYM_EINVAL;
		recl = 46UL + u16(cd + 28) + u16(cd + 30) + u16(cd + 32);
		e = entry_data(zip, len, u32(cd + 42), u16(cd + 10), u32(cd + 20), u32(cd + 24),
		    u32(cd + 16), &raw);
		if (e != GYM_OK)
			return e;
		e = to_utf8(raw, u32(cd + 24), &utf, &ulen);
		free(raw);
		if (e != GYM_OK)
			return e;
		/* the detail file: its first line and header name it (not the
		 * entry name, which is GBK without the UTF-8 flag) */
		if (strncmp(utf, kinds[kind].first_line, strlen(kinds[kind].first_line)) == 0 &&
		    strstr(utf, kinds[kind].header) != NULL) {
			*text = utf;
			*tlen = ulen;
			return GYM_OK;
		}
		free(utf);
		cd += recl;
	}
	return GYM_ENOTFOUND;
}

enum gym_err
gym_ali_bill_fetch(struct gym_ali_client *c, const struct gym_config *cfg,
    enum gym_ali_bill_kind kind, const char *date, char **text, size_t *len)
{
	unsigned char *zip = NULL;
	size_t zlen = 0;
	char *url = NULL;
	enum gym_err e;

	*text = NULL;
	*len = 0;
	if ((e = gym_ali_bill_url(c, kinds[kind].bill_type, date, &url)) != GYM_OK)
		return e;
	e = download(c, cfg, url, &zip, &zlen);
	free(url);
	if (e != GYM_OK)
		return e;
	if ((e = gym_ali_bill_unzip(kind, zip, zlen, text, len)) == GYM_EINVAL ||
	    e == GYM_ENOTFOUND) {
		char msg[96];

		if (e == GYM_EINVAL)
			snprintf(msg, sizeof(msg), "the bill zip does not read (cut short, a bad "
			    "CRC or not GBK)");
		else
			snprintf(msg, sizeof(msg), "the bill zip holds no %s file",
			    kinds[kind].name);
		gym_ali_error_set(c, 200, "BAD_FILE", msg);
		gym_log_warnx("Alipay %s bill of %s: %s", kinds[kind].bill_type, date, msg);
		e = GYM_EUPSTREAM;
	}
	free(zip);
	return e;
}
