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
 */
#include <stdio.h>
#include <string.h>

#include "bill.h"
#include "bill_text.h"

#define TYPE_PAY "交易"
#define TYPE_REFUND "退款"
#define TOTAL_PAY "#交易合计："
#define TOTAL_REFUND "#退款合计："

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

/* "#交易合计：12笔，商家实收共2400.00元，…" (or 退款, "商家实收退款共-…元"):
 * the count and the amount in fen (made positive); 0 or -1. */
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
	for (p = q; p < end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == '-'); p++)
		;
	if (end - p < 3 || memcmp(p, "元", 3) != 0 || gym_yuan_fen(q, (size_t)(p - q), fen) != 0)
		return -1;
	if (*fen < 0)
		*fen = -*fen;
	return 0;
}

enum gym_err
gym_bill_parse_alipay(const char *text, size_t len, struct gym_bill *b, char *why,
    size_t whylen)
{
	struct gym_bill_field h[GYM_BILL_MAX_COLS], f[GYM_BILL_MAX_COLS];
	const char *p, *end, *line;
	size_t ll, lineno = 0, cap = 0, counted = 0;
	long long gross = 0, refunds = 0, fees = 0, npay = -1, nref = -1;
	struct gym_bill_row *r;
	int nh = 0, nf, ix[C__N], i, k;

	memset(b, 0, sizeof(*b));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	p = gym_bill_skip_bom(text, &len);
	end = p + len;
	while (gym_bill_next_line(&p, end, &line, &ll)) {
		lineno++;
		if (ll == 0)
			continue;
		if (line[0] == '#') {
			if (ll > strlen(TOTAL_PAY) && memcmp(line, TOTAL_PAY, strlen(TOTAL_PAY)) == 0) {
				if (read_total(line, ll, "商家实收共", &npay, &b->gross_fen) != 0)
					goto bad_total;
			} else if (ll > strlen(TOTAL_REFUND) &&
			    memcmp(line, TOTAL_REFUND, strlen(TOTAL_REFUND)) == 0) {
				if (read_total(line, ll, "商家实收退款共", &nref, &b->refund_fen) != 0)
					goto bad_total;
			}
			continue;
		}
		if (npay >= 0 || nref >= 0) {
			gym_bill_say(why, whylen, "line %zu: a row after the totals", lineno);
			goto fail;
		}
		if (nh == 0) {
			if ((nh = gym_bill_split(line, ll, h)) < 0) {
				gym_bill_say(why, whylen, "line %zu: the header has too many columns",
				    lineno);
				goto fail;
			}
			for (i = 0; i < nh; i++)
				h[i] = trim(h[i]);
			for (i = 0; i < C__N; i++)
				if ((ix[i] = gym_bill_col(h, nh, cols[i])) < 0) {
					gym_bill_say(why, whylen, "the header has no column %s",
					    cols[i]);
					goto fail;
				}
			continue;
		}
		if ((nf = gym_bill_split(line, ll, f)) != nh) {
			gym_bill_say(why, whylen, "line %zu: %d fields, the header has %d", lineno,
			    nf, nh);
			goto fail;
		}
		for (k = 0; k < nf; k++)
			f[k] = trim(f[k]);
		if ((r = gym_bill_push(b, &cap)) == NULL) {
			gym_bill_free(b);
			return GYM_ENOMEM;
		}
		if (read_row(f, ix, r, lineno, why, whylen) != 0)
			goto fail;
		fees += r->fee_fen;
		if (r->refund)
			refunds += r->amount_fen;
		else if (strcmp(r->trade_state, "SUCCESS") == 0)
			gross += r->amount_fen;
		else
			continue;		/* another business type: not in the totals */
		counted++;
	}
	if (nh == 0) {
		gym_bill_say(why, whylen, "no header row");
		goto fail;
	}
	if (npay < 0 || nref < 0) {
		gym_bill_say(why, whylen, "no %s line (the bill is cut short)",
		    npay < 0 ? "交易合计" : "退款合计");
		goto fail;
	}
	b->count = npay + nref;
	b->fee_fen = fees;
	if (b->count != (long long)counted || b->gross_fen != gross || b->refund_fen != refunds) {
		gym_bill_say(why, whylen, "the totals (%lld rows, %lld/%lld fen) are not the rows "
		    "(%zu, %lld/%lld)", b->count, b->gross_fen, b->refund_fen, counted, gross,
		    refunds);
		goto fail;
	}
	return GYM_OK;
bad_total:
	gym_bill_say(why, whylen, "line %zu: the totals line does not read", lineno);
fail:
	gym_bill_free(b);
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
