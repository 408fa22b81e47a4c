/*
 * bill.c: alisim's daily trade bill, as Alipay ships it (reference §8): a
 * zip "<PID>0156_<yyyyMMdd>.csv.zip" holding "..._业务明细.csv" (one 交易
 * row per trade paid that day, China time, one 退款 row per refund made
 * that day, negative, with its out_request_no) and "..._业务明细(汇总).csv".
 * The CSV text and the entry names are GBK (iconv), identifier cells end
 * in a tab, nothing is quoted; the zip's entries are deflated (zlib, raw)
 * with their CRC-32, without the UTF-8 name flag.
 */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "alipay.h"
#include "alipay_sign.h"
#include "alisim.h"

#define PID "20880000000000010156"

struct buf {
	unsigned char *p;
	size_t n, cap;
	int bad;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	unsigned char *np;

	if (b->bad)
		return;
	if (b->n + n > b->cap) {
		size_t cap = (b->n + n) * 2 + 256;

		if ((np = realloc(b->p, cap)) == NULL) {
			b->bad = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
le16(struct buf *b, unsigned v)
{
	unsigned char c[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

	put(b, c, 2);
}

static void
le32(struct buf *b, unsigned long v)
{
	unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	put(b, c, 4);
}

/* UTF-8 s as GBK into out (malloc'd); 0 or -1. */
static int
gbk(const char *s, size_t len, char **out, size_t *outlen)
{
	iconv_t cd = iconv_open("GBK", "UTF-8");
	size_t cap = len * 2 + 1, left = cap;
	char *in = (char *)(uintptr_t)s, *o, *p;
	size_t inleft = len;
	int rc = -1;

	if (cd == (iconv_t)-1)
		return -1;
	if ((o = malloc(cap)) != NULL) {
		p = o;
		if (iconv(cd, &in, &inleft, &p, &left) != (size_t)-1) {
			*out = o;
			*outlen = cap - left;
			rc = 0;
		} else
			free(o);
	}
	iconv_close(cd);
	return rc;
}

/* 1 when t happened on date ("yyyy-MM-dd", China time). */
static int
on(time_t t, const char *date)
{
	char s[20];

	if (t == 0)
		return 0;
	gym_ali_time(t, s);
	return strncmp(s, date, 10) == 0;
}

static void
detail(struct buf *b, const char *date, long long *paid_fen, int *npaid, long long *ref_fen,
    int *nref)
{
	char line[1024], y[24], when[20];
	struct alisim_trade *t;

	snprintf(line, sizeof(line), "#支付宝业务明细查询\r\n#账号：[%s]\r\n"
	    "#起始日期：[%.4s年%.2s月%.2s日 00:00:00]   终止日期：[%.4s年%.2s月%.2s日 23:59:59]\r\n"
	    "#-----------------------------------------业务明细列表----------------------------------------\r\n",
	    PID, date, date + 5, date + 8, date, date + 5, date + 8);
	puts_(b, line);
	puts_(b, "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,"
	    "操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,"
	    "支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,"
	    "卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n");
	for (int i = 0; (t = alisim_nth(i)) != NULL; i++) {
		if (on(t->paid_at, date)) {
			gym_ali_yuan(t->total_fen, y, sizeof(y));
			gym_ali_time(t->paid_at, when);
			snprintf(line, sizeof(line), "%s\t,%s\t,交易\t,%s,%s,%s,,,,,"
			    "208810******6880,%s,%s,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,0.00,0.00,\r\n",
			    t->trade_no, t->out_trade_no, t->subject, when, when, y, y);
			puts_(b, line);
			*paid_fen += t->total_fen;
			(*npaid)++;
		}
		for (int r = 0; r < t->nrefunds; r++) {
			if (!on(t->refunds[r].at, date))
				continue;
			gym_ali_yuan(t->refunds[r].fen, y, sizeof(y));
			gym_ali_time(t->refunds[r].at, when);
			snprintf(line, sizeof(line), "%s\t,%s\t,退款\t,%s,%s,%s,,,,,"
			    "208810******6880,-%s,-%s,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,%s\t,0.00,0.00,\r\n",
			    t->trade_no, t->out_trade_no, t->subject, when, when, y, y,
			    t->refunds[r].no);
			puts_(b, line);
			*ref_fen += t->refunds[r].fen;
			(*nref)++;
		}
	}
	puts_(b, "#-----------------------------------------业务明细列表结束------------------------------------\r\n");
	gym_ali_yuan(*paid_fen, y, sizeof(y));
	snprintf(line, sizeof(line), "#交易合计：%d笔，商家实收共%s元，商家优惠共0.00元\r\n", *npaid, y);
	puts_(b, line);
	gym_ali_yuan(*ref_fen, y, sizeof(y));
	snprintf(line, sizeof(line), "#退款合计：%d笔，商家实收退款共-%s元，商家优惠退款共0.00元\r\n",
	    *nref, y);
	puts_(b, line);
	gym_ali_time(time(NULL), when);
	snprintf(line, sizeof(line), "#导出时间：[%s]\r\n", when);
	puts_(b, line);
}

static void
summary(struct buf *b, const char *date, long long paid_fen, int npaid, long long ref_fen,
    int nref)
{
	char line[512], p[24], r[24];

	gym_ali_yuan(paid_fen, p, sizeof(p));
	gym_ali_yuan(ref_fen, r, sizeof(r));
	snprintf(line, sizeof(line), "#支付宝业务汇总查询\r\n#账号：[%s]\r\n#日期：[%.10s]\r\n"
	    "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,退款金额（元）\r\n"
	    ",合计,%d,%d,%s,%s,-%s\r\n#导出时间：[%.10s]\r\n", PID, date, npaid, nref, p, p, r,
	    date);
	puts_(b, line);
}

struct entry {
	char *name, *data;		/* GBK */
	size_t nlen, dlen, zlen;
	unsigned char *z;
	unsigned long crc;
	unsigned long offset;
};

/* Raw deflate of e's data into e->z. */
static int
deflated(struct entry *e)
{
	z_stream zs;
	uLong cap = compressBound((uLong)e->dlen) + 64;
	int rc;

	memset(&zs, 0, sizeof(zs));
	if ((e->z = malloc(cap)) == NULL ||
	    deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)e->data;
	zs.avail_in = (uInt)e->dlen;
	zs.next_out = e->z;
	zs.avail_out = (uInt)cap;
	rc = deflate(&zs, Z_FINISH);
	e->zlen = zs.total_out;
	deflateEnd(&zs);
	e->crc = crc32(0L, (const Bytef *)e->data, (uInt)e->dlen);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* The local header (central 0) or central directory record of e. */
static void
header(struct buf *b, const struct entry *e, int central)
{
	le32(b, central ? 0x02014b50UL : 0x04034b50UL);
	if (central)
		le16(b, 20);		/* made by */
	le16(b, 20);			/* needed */
	le16(b, 0);			/* flags: no UTF-8 bit, the names are GBK */
	le16(b, 8);			/* deflate */
	le16(b, 0);			/* time */
	le16(b, (unsigned)((2026 - 1980) << 9 | 12 << 5 | 1));
	le32(b, e->crc);
	le32(b, (unsigned long)e->zlen);
	le32(b, (unsigned long)e->dlen);
	le16(b, (unsigned)e->nlen);
	le16(b, 0);			/* extra */
	if (central) {
		le16(b, 0);		/* comment */
		le16(b, 0);		/* disk */
		le16(b, 0);		/* internal attributes */
		le32(b, 0);		/* external attributes */
		le32(b, e->offset);
	}
	put(b, e->name, e->nlen);
}

int
alisim_bill_zip(const char *date, unsigned char **zip, size_t *len)
{
	struct buf text[2] = { { 0 }, { 0 } }, z = { 0 };
	struct entry e[2];
	char ymd[9], name[128];
	long long paid = 0, ref = 0;
	int npaid = 0, nref = 0, rc = -1;
	unsigned long cd;

	memset(e, 0, sizeof(e));
	snprintf(ymd, sizeof(ymd), "%.4s%.2s%.2s", date, date + 5, date + 8);
	detail(&text[0], date, &paid, &npaid, &ref, &nref);
	summary(&text[1], date, paid, npaid, ref, nref);
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%s_%s_业务明细%s.csv", PID, ymd, i == 0 ? "" : "(汇总)");
		if (text[i].bad || gbk(name, strlen(name), &e[i].name, &e[i].nlen) != 0 ||
		    gbk((const char *)text[i].p, text[i].n, &e[i].data, &e[i].dlen) != 0 ||
		    deflated(&e[i]) != 0)
			goto out;
	}
	for (int i = 0; i < 2; i++) {
		e[i].offset = (unsigned long)z.n;
		header(&z, &e[i], 0);
		put(&z, e[i].z, e[i].zlen);
	}
	cd = (unsigned long)z.n;
	for (int i = 0; i < 2; i++)
		header(&z, &e[i], 1);
	le32(&z, 0x06054b50UL);
	le16(&z, 0);
	le16(&z, 0);
	le16(&z, 2);
	le16(&z, 2);
	le32(&z, (unsigned long)z.n - cd);
	le32(&z, cd);
	le16(&z, 0);
	if (z.bad)
		goto out;
	*zip = z.p;
	*len = z.n;
	z.p = NULL;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		free(text[i].p);
		free(e[i].name);
		free(e[i].data);
		free(e[i].z);
	}
	free(z.p);
	return rc;
}
