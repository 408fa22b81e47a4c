/*
 * bill_parse_alipay.c: Alipay's daily 业务明细 read into rows (bill.h; the
 * reference §8).
 *
 * The text (UTF-8, from the zip's GBK) is comment lines starting with '#',
 * one header row, the data rows, then more comment lines, two of which
 * carry the totals: "#交易合计：N笔，商家实收共X元…" and "#退款合计：M笔，
 * 商家实收退款共-Y元…".  Columns are found by their header names; fields
 * are not quoted and identifier cells end in a tab, which is dropped.
 * 业务类型 交易 is a payment (state SUCCESS), 退款 a refund (its
 * 退款批次号/请求号 is our out_refund_no, the amounts negative in the bill,
 * positive here); any other type is kept as a payment row whose state is
 * that word, never counted as money in.  服务费 is the fee, negative on a
 * 交易 row (the gym pays it) and positive on a 退款 row (given back); here
 * a payment's fee is positive and a refund's negative, as in WeChat's bill.
 * Both totals lines must be there and agree with the rows: a bill cut short
 * or changed fails whole, with why.
 *
 * The account's 账务明细 (bill_type signcustomer) is read the same way into
 * its totals: one row per movement of the account's money, in on 收入金额
 * (+元) (zero or more), out on 支出金额（-元） (zero or less), then
 * "#支出合计：N笔，共-X元" and "#收入合计：M笔，共Y元", which must agree
 * with the rows.
 */
#include <stdio.h>
#include <string.h>

#include "bill.h"
#include "bill_text.h"

#define TYPE_PAY "交易"
#define TYPE_REFUND "退款"
#define TOTAL_PAY "#交易合计："
#define TOTAL_REFUND "#退款合计："
#define TOTAL_IN "#收入合计："
#define TOTAL_OUT "#支出合计："

enum { C_TXID, C_OTN, C_TYPE, C_TIME, C_AMOUNT, C_ORN, C_FEE, C__N };
static const char *const cols[C__N] = {
	"支付宝交易号", "商户订单号", "业务类型", "完成时间", "商家实收（元）",
	"退款批次号/请求号", "服务费（元）",
};

/* f without spaces around it and the tab Alipay ends identifiers with. */
static struct gym_bill_field
trim(struct gym_bill_field f)
{
	while (f.n > 0 && (f.s[0] == ' ' || f.s[0] == '\t')) {
		f.s++;
		f.n--;
	}
	while (f.n > 0 && (f.s[f.n - 1] == ' ' || f.s[f.n - 1] == '\t'))
		f.n--;
	return f;
}

static int
is(const struct gym_bill_field *f, const char *word)
{
	return f->n == strlen(word) && memcmp(f->s, word, f->n) == 0;
}

/* 1 when line[len] starts with word and goes on after it. */
static int
starts(const char *line, size_t len, const char *word)
{
	return len > strlen(word) && memcmp(line, word, strlen(word)) == 0;
}

/* The header row line[len] into h (trimmed), each of names[n] found in it
 * (ix); its column count, or -1 with why. */
static int
header_row(const char *line, size_t len, struct gym_bill_field *h, const char *const *names,
    int n, int *ix, char *why, size_t whylen)
{
	int nh, i;

	if ((nh = gym_bill_split(line, len, h)) < 0) {
		gym_bill_say(why, whylen, "the header has too many columns");
		return -1;
	}
	for (i = 0; i < nh; i++)
		h[i] = trim(h[i]);
	for (i = 0; i < n; i++)
		if ((ix[i] = gym_bill_col(h, nh, names[i])) < 0) {
			gym_bill_say(why, whylen, "the header has no column %s", names[i]);
			return -1;
		}
	return nh;
}

/* A data row line[len] of nh fields into f (trimmed); 0, or -1 with why. */
static int
data_row(const char *line, size_t len, int nh, struct gym_bill_field *f, size_t lineno,
    char *why, size_t whylen)
{
	int nf = gym_bill_split(line, len, f), k;

	if (nf != nh) {
		gym_bill_say(why, whylen, "line %zu: %d fields, the header has %d", lineno, nf, nh);
		return -1;
	}
	for (k = 0; k < nf; k++)
		f[k] = trim(f[k]);
	return 0;
}

/* Fill r from a data row's (trimmed) fields; 0 or -1 with why. */
static int
read_row(const struct gym_bill_field *f, const int *ix, struct gym_bill_row *r,
    size_t lineno, char *why, size_t whylen)
{
	struct gym_bill_field type = f[ix[C_TYPE]];
	long long amount, fee;

	if (gym_bill_take(r->time, sizeof(r->time), &f[ix[C_TIME]]) != 0 ||
	    gym_bill_take(r->transaction_id, sizeof(r->transaction_id), &f[ix[C_TXID]]) != 0 ||
	    gym_bill_take(r->out_trade_no, sizeof(r->out_trade_no), &f[ix[C_OTN]]) != 0 ||
	    gym_bill_take(r->out_refund_no, sizeof(r->out_refund_no), &f[ix[C_ORN]]) != 0 ||
	    type.n == 0 || gym_bill_take(r->trade_state, sizeof(r->trade_state), &type) != 0) {
		gym_bill_say(why, whylen, "line %zu: a field is empty or too long", lineno);
		return -1;
	}
	if (!gym_bill_time_ok(r->time)) {
		gym_bill_say(why, whylen, "line %zu: 完成时间 is not yyyy-MM-dd HH:mm:ss", lineno);
		return -1;
	}
	if (r->out_trade_no[0] == '\0' || r->transaction_id[0] == '\0') {
		gym_bill_say(why, whylen, "line %zu: no 商户订单号 or 支付宝交易号", lineno);
		return -1;
	}
	if (gym_yuan_fen(f[ix[C_AMOUNT]].s, f[ix[C_AMOUNT]].n, &amount) != 0 ||
	    gym_yuan_fen(f[ix[C_FEE]].s, f[ix[C_FEE]].n, &fee) != 0) {
		gym_bill_say(why, whylen, "line %zu: an amount is not yuan", lineno);
		return -1;
	}
	r->fee_fen = -fee;
	if (is(&type, TYPE_REFUND)) {
		if (r->out_refund_no[0] == '\0' || amount > 0) {
			gym_bill_say(why, whylen, "line %zu: a 退款 row without its request number "
			    "or with a positive amount", lineno);
			return -1;
		}
		r->refund = 1;
		r->amount_fen = -amount;
		snprintf(r->trade_state, sizeof(r->trade_state), "REFUND");
		snprintf(r->refund_state, sizeof(r->refund_state), "SUCCESS");
		return 0;
	}
	r->out_refund_no[0] = '\0';
	r->amount_fen = amount < 0 ? -amount : amount;
	if (is(&type, TYPE_PAY)) {
		if (amount < 0) {
			gym_bill_say(why, whylen, "line %zu: a 交易 row with a negative amount",
			    lineno);
			return -1;
		}
		snprintf(r->trade_state, sizeof(r->trade_state), "SUCCESS");
	}
	return 0;
}

/* "#交易合计：12笔，商家实收共2400.00元，…" (or 退款, "商家实收退款共-…元";
 * 账务明细's "#收入合计：3笔，共+600.00元"): the count and the amount in fen
 * (made positive); 0 or -1. */
static int
read_total(const char *line, size_t len, const char *amount_label, long long *count,
    long long *fen)
{
	const char *end = line + len, *p = line, *q;
	size_t alen = strlen(amount_label);
	int digits = 0;

	while (p < end && (*p < '0' || *p > '9'))
		p++;
	for (*count = 0; p < end && *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
		*count = *count * 10 + (*p - '0');
	if (digits == 0 || end - p < 3 || memcmp(p, "笔", 3) != 0)
		return -1;
	for (q = p; q + alen <= end && memcmp(q, amount_label, alen) != 0; q++)
		;
	if (q + alen > end)
		return -1;
	q += alen;
	for (p = q; p < end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+');
	    p++)
		;
	if (end - p < 3 || memcmp(p, "元", 3) != 0 || gym_yuan_fen(q, (size_t)(p - q), fen) != 0)
		return -1;
	if (*fen < 0)
		*fen = -*fen;
	return 0;
}

/*
 * One walk of an Alipay detail CSV: comment lines skipped but for its two
 * totals lines ("<prefix>N笔，…<label>X元", read into total_n/total_fen;
 * each must be there), the header row (every one of cols found), then each
 * data row handed to row() with the columns' indexes; no row after the
 * totals.  row() answers 0, -1 (refused, why said) or -2 (out of memory).
 */
struct ali_walk {
	const char *const *cols;
	int ncols;
	const char *total_prefix[2], *total_label[2], *total_name[2];
	int (*row)(void *ctx, const struct gym_bill_field *f, const int *ix, size_t lineno,
	    char *why, size_t whylen);
	void *ctx;
	long long total_n[2], total_fen[2];	/* out */
};

static enum gym_err
walk(const char *text, size_t len, struct ali_walk *w, char *why, size_t whylen)
{
	struct gym_bill_field h[GYM_BILL_MAX_COLS], f[GYM_BILL_MAX_COLS];
	const char *p, *end, *line;
	size_t ll, lineno = 0;
	int nh = 0, ix[GYM_BILL_MAX_COLS], t, rc;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	w->total_n[0] = w->total_n[1] = -1;
	w->total_fen[0] = w->total_fen[1] = 0;
	p = gym_bill_skip_bom(text, &len);
	end = p + len;
	while (gym_bill_next_line(&p, end, &line, &ll)) {
		lineno++;
		if (ll == 0)
			continue;
		if (line[0] == '#') {
			for (t = 0; t < 2; t++)
				if (starts(line, ll, w->total_prefix[t]) &&
				    read_total(line, ll, w->total_label[t], &w->total_n[t],
				    &w->total_fen[t]) != 0) {
					gym_bill_say(why, whylen, "line %zu: the totals line does not "
					    "read", lineno);
					return GYM_EINVAL;
				}
			continue;
		}
		if (w->total_n[0] >= 0 || w->total_n[1] >= 0) {
			gym_bill_say(why, whylen, "line %zu: a row after the totals", lineno);
			return GYM_EINVAL;
		}
		if (nh == 0) {
			if ((nh = header_row(line, ll, h, w->cols, w->ncols, ix, why, whylen)) < 0)
				return GYM_EINVAL;
			continue;
		}
		if (data_row(line, ll, nh, f, lineno, why, whylen) != 0)
			return GYM_EINVAL;
		if ((rc = w->row(w->ctx, f, ix, lineno, why, whylen)) != 0)
			return rc == -2 ? GYM_ENOMEM : GYM_EINVAL;
	}
	if (nh == 0) {
		gym_bill_say(why, whylen, "no header row");
		return GYM_EINVAL;
	}
	for (t = 0; t < 2; t++)
		if (w->total_n[t] < 0) {
			gym_bill_say(why, whylen, "no %s line (the bill is cut short)",
			    w->total_name[t]);
			return GYM_EINVAL;
		}
	return GYM_OK;
}

/* The 业务明细's rows into the bill, with what they add up to. */
struct trade_sums {
	struct gym_bill *b;
	size_t cap, counted;
	long long gross, refunds, fees;
};

static int
trade_row(void *ctx, const struct gym_bill_field *f, const int *ix, size_t lineno, char *why,
    size_t whylen)
{
	struct trade_sums *t = ctx;
	struct gym_bill_row *r;

	if ((r = gym_bill_push(t->b, &t->cap)) == NULL)
		return -2;
	if (read_row(f, ix, r, lineno, why, whylen) != 0)
		return -1;
	t->fees += r->fee_fen;
	if (r->refund)
		t->refunds += r->amount_fen;
	else if (strcmp(r->trade_state, "SUCCESS") == 0)
		t->gross += r->amount_fen;
	else
		return 0;		/* another business type: not in the totals */
	t->counted++;
	return 0;
}

enum gym_err
gym_bill_parse_alipay(const char *text, size_t len, struct gym_bill *b, char *why,
    size_t whylen)
{
	struct trade_sums t = { b, 0, 0, 0, 0, 0 };
	struct ali_walk w = { cols, C__N, { TOTAL_PAY, TOTAL_REFUND },
	    { "商家实收共", "商家实收退款共" }, { "交易合计", "退款合计" }, trade_row, &t,
	    { 0, 0 }, { 0, 0 } };
	enum gym_err e;

	memset(b, 0, sizeof(*b));
	if ((e = walk(text, len, &w, why, whylen)) != GYM_OK) {
		gym_bill_free(b);
		return e;
	}
	b->count = w.total_n[0] + w.total_n[1];
	b->gross_fen = w.total_fen[0];
	b->refund_fen = w.total_fen[1];
	b->fee_fen = t.fees;
	if (b->count != (long long)t.counted || b->gross_fen != t.gross ||
	    b->refund_fen != t.refunds) {
		gym_bill_say(why, whylen, "the totals (%lld rows, %lld/%lld fen) are not the rows "
		    "(%zu, %lld/%lld)", b->count, b->gross_fen, b->refund_fen, t.counted, t.gross,
		    t.refunds);
		gym_bill_free(b);
		return GYM_EINVAL;
	}
	return GYM_OK;
}

enum { A_IN, A_OUT, A__N };
static const char *const account_cols[A__N] = { "收入金额（+元）", "支出金额（-元）" };

/* A 账务明细 row: money in (zero or more) and out (zero or less). */
static int
account_row(void *ctx, const struct gym_bill_field *f, const int *ix, size_t lineno,
    char *why, size_t whylen)
{
	struct gym_fundflow *ff = ctx;
	long long in, out;

	if (gym_yuan_fen(f[ix[A_IN]].s, f[ix[A_IN]].n, &in) != 0 ||
	    gym_yuan_fen(f[ix[A_OUT]].s, f[ix[A_OUT]].n, &out) != 0) {
		gym_bill_say(why, whylen, "line %zu: an amount is not yuan", lineno);
		return -1;
	}
	if (in < 0 || out > 0) {
		gym_bill_say(why, whylen, "line %zu: money in below zero or out above it", lineno);
		return -1;
	}
	ff->count++;
	if (in > 0) {
		ff->in_n++;
		ff->in_fen += in;
	}
	if (out < 0) {
		ff->out_n++;
		ff->out_fen -= out;
	}
	return 0;
}

enum gym_err
gym_bill_parse_alipay_fundflow(const char *text, size_t len, struct gym_fundflow *ff,
    char *why, size_t whylen)
{
	struct ali_walk w = { account_cols, A__N, { TOTAL_IN, TOTAL_OUT }, { "共", "共" },
	    { "收入合计", "支出合计" }, account_row, ff, { 0, 0 }, { 0, 0 } };
	enum gym_err e;

	memset(ff, 0, sizeof(*ff));
	if ((e = walk(text, len, &w, why, whylen)) != GYM_OK)
		goto fail;
	if (w.total_n[0] != ff->in_n || w.total_fen[0] != ff->in_fen ||
	    w.total_n[1] != ff->out_n || w.total_fen[1] != ff->out_fen) {
		gym_bill_say(why, whylen, "the totals (in %lld/%lld fen, out %lld/%lld) are not "
		    "the rows (in %lld/%lld, out %lld/%lld)", w.total_n[0], w.total_fen[0],
		    w.total_n[1], w.total_fen[1], ff->in_n, ff->in_fen, ff->out_n, ff->out_fen);
		e = GYM_EINVAL;
		goto fail;
	}
	return GYM_OK;
fail:
	memset(ff, 0, sizeof(*ff));
	return e;
}

enum gym_err
gym_bill_parse_fundflow(const char *channel, const char *text, size_t len,
    struct gym_fundflow *ff, char *why, size_t whylen)
{
	memset(ff, 0, sizeof(*ff));
	if (strcmp(channel, GYM_CHANNEL_WECHAT) == 0)
		return gym_bill_parse_wechat_fundflow(text, len, ff, why, whylen);
	if (strcmp(channel, GYM_CHANNEL_ALIPAY) == 0)
		return gym_bill_parse_alipay_fundflow(text, len, ff, why, whylen);
	gym_bill_say(why, whylen, "the channel %s has no fund-flow reader", channel);
	return GYM_EINVAL;
}

enum gym_err
gym_bill_parse(const char *channel, const char *text, size_t len, struct gym_bill *b,
    char *why, size_t whylen)
{
	memset(b, 0, sizeof(*b));
	if (strcmp(channel, GYM_CHANNEL_WECHAT) == 0)
		return gym_bill_parse_wechat(text, len, b, why, whylen);
	if (strcmp(channel, GYM_CHANNEL_ALIPAY) == 0)
		return gym_bill_parse_alipay(text, len, b, why, whylen);
	gym_bill_say(why, whylen, "the channel %s has no bill reader", channel);
	return GYM_EINVAL;
}
