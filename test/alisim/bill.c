/*
 * bill.c: alisim's daily bills, as Alipay ships them (reference §8): a
 * zip "<PID>0156_<yyyyMMdd>.csv.zip" holding "..._业务明细.csv" (one 交易
 * row per trade paid that day, China time, one 退款 row per refund made
 * that day, negative, with its out_request_no) and "..._业务明细(汇总).csv";
 * for bill_type signcustomer "..._账务明细(汇总).csv", first and starting
 * with the same line as its detail, and "..._账务明细.csv": the account's
 * money, a row each for a payment in, its fee out, a refund out and the
 * fee given back in, with the running balance and the 支出合计/收入合计
 * lines.
 * The CSV text and the entry names are GBK (iconv), identifier cells end
 * in a tab, nothing is quoted; the zip's entries are deflated (zlib, raw)
 * with their CRC-32, without the UTF-8 name flag.  服务费 is 0.6% of the
 * amount (rounded half up, as the WeChat simulator's fee): negative on a
 * 交易 row, given back on a 退款 row.  The bill faults (alisim.h) change
 * what is billed, or the file.
 */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "alipay.h"
#include "alipay_sign.h"
#include "alisim.h"
#include "json.h"

#define PID "20880000000000010156"
#define FEE_PERMILLE 6

struct alisim_bill_faults alisim_bill_faults;

static long long
fee_of(long long fen)
{
	return (fen * FEE_PERMILLE + 500) / 1000;
}

/* s without the commas and line ends that would move Alipay's unquoted
 * columns (into out[len]). */
static const char *
plain(const char *s, char *out, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = s[i] == ',' || s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
	out[i] = '\0';
	return out;
}

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
	const struct alisim_bill_faults *bf = &alisim_bill_faults;
	char line[1024], y[24], fee[24], when[20], subject[257];
	struct alisim_trade *t;
	long long amt;

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
		plain(t->subject, subject, sizeof(subject));
		if (on(t->paid_at, date) && strcmp(bf->drop, t->out_trade_no) != 0) {
			int revoked = strcmp(bf->status, t->out_trade_no) == 0;

			amt = t->total_fen + (strcmp(bf->amount, t->out_trade_no) == 0 ? 1 : 0);
			gym_ali_yuan(amt, y, sizeof(y));
			gym_ali_yuan(fee_of(amt), fee, sizeof(fee));
			gym_ali_time(t->paid_at, when);
			snprintf(line, sizeof(line), "%s\t,%s\t,%s\t,%s,%s,%s,,,,,"
			    "208810******6880,%s,%s,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-%s,0.00,\r\n",
			    t->trade_no, t->out_trade_no, revoked ? "撤销" : "交易", subject, when,
			    when, y, y, fee);
			puts_(b, line);
			if (!revoked) {
				*paid_fen += amt;
				(*npaid)++;
			}
		}
		for (int r = 0; r < t->nrefunds; r++) {
			if (!on(t->refunds[r].at, date) || strcmp(bf->drop, t->refunds[r].no) == 0)
				continue;
			amt = t->refunds[r].fen +
			    (strcmp(bf->amount, t->refunds[r].no) == 0 ? 1 : 0);
			gym_ali_yuan(amt, y, sizeof(y));
			gym_ali_yuan(fee_of(amt), fee, sizeof(fee));
			gym_ali_time(t->refunds[r].at, when);
			snprintf(line, sizeof(line), "%s\t,%s\t,退款\t,%s,%s,%s,,,,,"
			    "208810******6880,-%s,-%s,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,%s\t,%s,0.00,\r\n",
			    t->trade_no, t->out_trade_no, subject, when, when, y, y,
			    t->refunds[r].no, fee);
			puts_(b, line);
			*ref_fen += amt;
			(*nref)++;
		}
	}
	if (bf->unknown) {
		/* a trade paid at Alipay that nobody here made */
		snprintf(line, sizeof(line), "2026%.4s%.2s%.2s22001499990000000001\t,SIMUNKNOWN%.4s%.2s%.2s\t,"
		    "交易\t,体验课,%.10s 12:00:00,%.10s 12:00:00,,,,,208810******9999,200.00,200.00,"
		    "0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-1.20,0.00,\r\n", date, date + 5, date + 8,
		    date, date + 5, date + 8, date, date);
		puts_(b, line);
		*paid_fen += 20000;
		(*npaid)++;
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

/* One 账务明细 row: money in (fen > 0) or out (fen < 0) of the account. */
static void
account_row(struct buf *b, int seq, const struct alisim_trade *t, const char *subject,
    time_t at, long long fen, const char *type, const char *note, long long *balance)
{
	char line[1024], in[24], out[24], bal[24], when[20];

	*balance += fen;
	gym_ali_yuan(fen > 0 ? fen : 0, in, sizeof(in));
	gym_ali_yuan(fen < 0 ? -fen : 0, out, sizeof(out));
	gym_ali_yuan(*balance, bal, sizeof(bal));
	gym_ali_time(at, when);
	snprintf(line, sizeof(line), "%.8s%012d\t,%s\t,%s\t,%s,%s,208810******6880\t,%s%s,%s%s,"
	    "%s,支付宝,%s,%s\r\n", t->trade_no, seq, t->trade_no, t->out_trade_no, subject, when,
	    fen > 0 ? "+" : "", in, fen < 0 ? "-" : "", out, bal, type, note);
	puts_(b, line);
}

/* The account's 账务明细 of date: what the money did (no bill faults). */
static void
account(struct buf *b, const char *date)
{
	char line[512], note[128], subject[257], in[24], out[24];
	struct alisim_trade *t;
	long long balance = 0, in_fen = 0, out_fen = 0, fee;
	int seq = 0, in_n = 0, out_n = 0;

	snprintf(line, sizeof(line), "#支付宝账务明细查询\r\n#账号：[%s]\r\n"
	    "#起始日期：[%.4s年%.2s月%.2s日 00:00:00]   终止日期：[%.4s年%.2s月%.2s日 23:59:59]\r\n"
	    "#-----------------------------------------账务明细列表----------------------------------------\r\n",
	    PID, date, date + 5, date + 8, date, date + 5, date + 8);
	puts_(b, line);
	puts_(b, "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,"
	    "支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注\r\n");
	for (int i = 0; (t = alisim_nth(i)) != NULL; i++) {
		plain(t->subject, subject, sizeof(subject));
		if (on(t->paid_at, date)) {
			fee = fee_of(t->total_fen);
			account_row(b, ++seq, t, subject, t->paid_at, t->total_fen, "在线支付", "",
			    &balance);
			snprintf(note, sizeof(note), "服务费[%s]", t->trade_no);
			account_row(b, ++seq, t, subject, t->paid_at, -fee, "收费", note, &balance);
			in_fen += t->total_fen;
			out_fen += fee;
			in_n++;
			out_n++;
		}
		for (int r = 0; r < t->nrefunds; r++) {
			if (!on(t->refunds[r].at, date))
				continue;
			fee = fee_of(t->refunds[r].fen);
			account_row(b, ++seq, t, subject, t->refunds[r].at, -t->refunds[r].fen,
			    "交易退款", t->refunds[r].no, &balance);
			snprintf(note, sizeof(note), "服务费退回[%s]", t->refunds[r].no);
			account_row(b, ++seq, t, subject, t->refunds[r].at, fee, "收费", note,
			    &balance);
			out_fen += t->refunds[r].fen;
			in_fen += fee;
			in_n++;
			out_n++;
		}
	}
	puts_(b, "#-----------------------------------------账务明细列表结束------------------------------------\r\n");
	gym_ali_yuan(in_fen, in, sizeof(in));
	gym_ali_yuan(out_fen, out, sizeof(out));
	snprintf(line, sizeof(line), "#支出合计：%d笔，共%s%s元\r\n#收入合计：%d笔，共%s%s元\r\n",
	    out_n, out_fen > 0 ? "-" : "", out, in_n, in_fen > 0 ? "+" : "", in);
	puts_(b, line);
	gym_ali_time(time(NULL), note);
	snprintf(line, sizeof(line), "#导出时间：[%s]\r\n", note);
	puts_(b, line);
}

/* The 账务明细(汇总): one line per business type.  It starts with the
 * detail's own first line, so a reader must know it by its header. */
static void
account_summary(struct buf *b, const char *date)
{
	char line[512];

	snprintf(line, sizeof(line), "#支付宝账务明细查询\r\n#账号：[%s]\r\n#日期：[%.10s]\r\n"
	    "业务类型,收入笔数,收入金额（+元）,支出笔数,支出金额（-元）\r\n", PID, date);
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
alisim_bill_zip(const char *date, enum alisim_bill_kind kind, unsigned char **zip, size_t *len)
{
	struct buf text[2] = { { 0 }, { 0 } }, z = { 0 };
	struct entry e[2];
	char ymd[9], name[128];
	long long paid = 0, ref = 0;
	int npaid = 0, nref = 0, rc = -1;
	int d = kind == ALISIM_BILL_ACCOUNT;	/* the detail: e[0] of trades, e[1] of the account */
	unsigned long cd;

	memset(e, 0, sizeof(e));
	snprintf(ymd, sizeof(ymd), "%.4s%.2s%.2s", date, date + 5, date + 8);
	if (kind == ALISIM_BILL_ACCOUNT) {
		account_summary(&text[0], date);
		account(&text[1], date);
	} else {
		detail(&text[0], date, &paid, &npaid, &ref, &nref);
		summary(&text[1], date, paid, npaid, ref, nref);
	}
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%s_%s_%s%s.csv", PID, ymd,
		    kind == ALISIM_BILL_ACCOUNT ? "账务明细" : "业务明细", i == d ? "" : "(汇总)");
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
	if (alisim_bill_faults.corrupt)		/* a byte of the detail's deflate data */
		z.p[e[d].offset + 30 + e[d].nlen + e[d].zlen / 2] ^= 0x5a;
	*zip = z.p;
	*len = alisim_bill_faults.truncate ? z.n / 2 : z.n;
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

static cJSON *
faults_json(void)
{
	const struct alisim_bill_faults *f = &alisim_bill_faults;
	cJSON *j = cJSON_CreateObject();

	if (j == NULL || cJSON_AddStringToObject(j, "drop", f->drop) == NULL ||
	    cJSON_AddStringToObject(j, "amount", f->amount) == NULL ||
	    cJSON_AddStringToObject(j, "status", f->status) == NULL ||
	    cJSON_AddBoolToObject(j, "unknown", f->unknown) == NULL ||
	    cJSON_AddBoolToObject(j, "truncate", f->truncate) == NULL ||
	    cJSON_AddBoolToObject(j, "corrupt", f->corrupt) == NULL) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static void
answer(struct wxsim_resp *resp, int status, cJSON *j)
{
	char *text = j != NULL ? cJSON_PrintUnformatted(j) : NULL;

	if (text == NULL)
		wxsim_resp_set(resp, 500, "text/plain", "nomem", 5);
	else
		wxsim_resp_set(resp, status, "application/json", text, strlen(text));
	free(text);
	cJSON_Delete(j);
}

void
alisim_bill_faults_get(struct wxsim_resp *resp)
{
	answer(resp, 200, faults_json());
}

void
alisim_bill_faults_post(const struct wxsim_req *req, struct wxsim_resp *resp)
{
	struct alisim_bill_faults f = alisim_bill_faults;
	struct { const char *name; char *s; int *flag; } m[] = {
		{ "drop", f.drop, NULL }, { "amount", f.amount, NULL },
		{ "status", f.status, NULL }, { "unknown", NULL, &f.unknown },
		{ "truncate", NULL, &f.truncate }, { "corrupt", NULL, &f.corrupt },
	};
	cJSON *j = cJSON_ParseWithLength(req->body != NULL ? req->body : "", req->blen), *it;
	size_t i;

	if (!cJSON_IsObject(j))
		goto bad;
	cJSON_ArrayForEach(it, j) {
		for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
			if (strcmp(it->string, m[i].name) == 0)
				break;
		if (i == sizeof(m) / sizeof(m[0]))
			goto bad;
		if (m[i].s != NULL) {
			if (!cJSON_IsString(it) || strlen(it->valuestring) >= sizeof(f.drop))
				goto bad;
			snprintf(m[i].s, sizeof(f.drop), "%s", it->valuestring);
		} else if (cJSON_IsBool(it))
			*m[i].flag = cJSON_IsTrue(it);
		else
			goto bad;
	}
	cJSON_Delete(j);
	alisim_bill_faults = f;
	fprintf(stderr, "alisim: bill faults: drop=%s amount=%s status=%s unknown=%d "
	    "truncate=%d corrupt=%d\n", f.drop, f.amount, f.status, f.unknown, f.truncate,
	    f.corrupt);
	answer(resp, 200, faults_json());
	return;
bad:
	cJSON_Delete(j);
	wxsim_resp_set(resp, 400, "text/plain", "bad bill faults", 15);
}
