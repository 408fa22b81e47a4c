/*
 * bill_parse.c: WeChat Pay's daily bills read into rows (bill.h).
 *
 * Columns are found by their header names, so a bill with more columns or
 * another order still reads.  A data row's fields each start with a
 * backtick; the row is split at ",`", so a comma inside a field (a
 * product name) does not move the columns.  Every amount goes through
 * gym_yuan_fen: integers only.  The summary row must be there and agree
 * with the rows (count, gross, refunds, fees): a bill cut short or changed
 * fails whole, with why.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bill.h"
#include "bill_text.h"


#define MAX_COLS GYM_BILL_MAX_COLS
#define MAX_FEN_DIGITS 15

int
gym_yuan_fen(const char *s, size_t len, long long *fen)
{
	long long whole = 0, cents = 0;
	size_t i = 0, digits = 0, dec = 0;
	int neg = 0;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (++digits > MAX_FEN_DIGITS)
			return -1;
		whole = whole * 10 + (s[i] - '0');
	}
	if (digits == 0)
		return -1;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (++dec > 2)
				return -1;
			cents = cents * 10 + (s[i] - '0');
		}
		if (dec == 0)
			return -1;
		if (dec == 1)
			cents *= 10;
	}
	if (i != len)
		return -1;
	*fen = (whole * 100 + cents) * (neg ? -1 : 1);
	return 0;
}

int
gym_bill_date_ok(const char *d)
{
	struct tm t, back;
	time_t at;
	char tail;

	memset(&t, 0, sizeof(t));
	if (d == NULL || strlen(d) != 10 || d[4] != '-' || d[7] != '-' ||
	    strspn(d, "0123456789-") != 10 ||
	    sscanf(d, "%4d-%2d-%2d%c", &t.tm_year, &t.tm_mon, &t.tm_mday, &tail) != 3 ||
	    t.tm_year < 2000 || t.tm_year > 2999)
		return 0;
	t.tm_year -= 1900;
	t.tm_mon--;
	at = timegm(&t);
	if (gmtime_r(&at, &back) == NULL)
		return 0;
	return back.tm_year == t.tm_year && back.tm_mon == t.tm_mon && back.tm_mday == t.tm_mday;
}

void
gym_bill_say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

int
gym_bill_next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *nl;

	if (*p >= end)
		return 0;
	*line = *p;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*len = (size_t)((nl != NULL ? nl : end) - *p);
	*p = nl != NULL ? nl + 1 : end;
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	return 1;
}

int
gym_bill_split(const char *line, size_t len, struct gym_bill_field *f)
{
	size_t i, start = 0;
	int n = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != ',')
			continue;
		if (n == MAX_COLS)
			return -1;
		f[n].s = line + start;
		f[n].n = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

/* Split a data line: '`' first, fields separated by ",`"; how many, or
 * -1 when it is not such a line. */
static int
split_row(const char *line, size_t len, struct gym_bill_field *f)
{
	const char *p = line, *end = line + len, *q;
	int n = 0;

	if (len == 0 || line[0] != '`')
		return -1;
	p++;
	for (;;) {
		if (n == MAX_COLS)
			return -1;
		for (q = p; q + 1 < end && !(q[0] == ',' && q[1] == '`'); q++)
			;
		if (q + 1 >= end)
			q = end;
		f[n].s = p;
		f[n].n = (size_t)(q - p);
		n++;
		if (q == end)
			return n;
		p = q + 2;
	}
}

int
gym_bill_col(const struct gym_bill_field *h, int n, const char *name)
{
	size_t l = strlen(name);
	int i;

	for (i = 0; i < n; i++)
		if (h[i].n == l && memcmp(h[i].s, name, l) == 0)
			return i;
	return -1;
}

int
gym_bill_take(char *dst, size_t len, const struct gym_bill_field *f)
{
	if (f->n >= len || memchr(f->s, '\0', f->n) != NULL)
		return -1;
	memcpy(dst, f->s, f->n);
	dst[f->n] = '\0';
	return 0;
}

const char *
gym_bill_skip_bom(const char *text, size_t *len)
{
	if (*len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		*len -= 3;
		return text + 3;
	}
	return text;
}

int
gym_bill_time_ok(const char *t)
{
	return strlen(t) == 19 && t[4] == '-' && t[7] == '-' && t[10] == ' ' && t[13] == ':' &&
	    t[16] == ':' && strspn(t, "0123456789-: ") == 19;
}

struct gym_bill_row *
gym_bill_push(struct gym_bill *b, size_t *cap)
{
	struct gym_bill_row *nr;

	if (b->n == *cap) {
		size_t ncap = *cap == 0 ? 64 : *cap * 2;

		if ((nr = realloc(b->rows, ncap * sizeof(*nr))) == NULL)
			return NULL;
		b->rows = nr;
		*cap = ncap;
	}
	memset(&b->rows[b->n], 0, sizeof(b->rows[b->n]));
	return &b->rows[b->n++];
}

enum {
	C_TIME, C_TXID, C_OTN, C_STATE, C_AMOUNT, C_REFUND_ID, C_ORN, C_REFUND_AMT,
	C_REFUND_STATE, C_FEE, C__N
};
static const char *const trade_cols[C__N] = {
	"交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "微信退款单号",
	"商户退款单号", "退款金额", "退款状态", "手续费",
};

/* Fill r from a data row's fields; 0 or -1 with why. */
static int
read_row(const struct gym_bill_field *f, const int *ix, struct gym_bill_row *r, size_t lineno,
    char *why, size_t whylen)
{
	long long amount, refund_amt;

	memset(r, 0, sizeof(*r));
	if (gym_bill_take(r->time, sizeof(r->time), &f[ix[C_TIME]]) != 0 ||
	    gym_bill_take(r->transaction_id, sizeof(r->transaction_id), &f[ix[C_TXID]]) != 0 ||
	    gym_bill_take(r->out_trade_no, sizeof(r->out_trade_no), &f[ix[C_OTN]]) != 0 ||
	    gym_bill_take(r->trade_state, sizeof(r->trade_state), &f[ix[C_STATE]]) != 0 ||
	    gym_bill_take(r->refund_id, sizeof(r->refund_id), &f[ix[C_REFUND_ID]]) != 0 ||
	    gym_bill_take(r->out_refund_no, sizeof(r->out_refund_no), &f[ix[C_ORN]]) != 0 ||
	    gym_bill_take(r->refund_state, sizeof(r->refund_state), &f[ix[C_REFUND_STATE]]) != 0) {
		gym_bill_say(why, whylen, "line %zu: a field is too long", lineno);
		return -1;
	}
	if (!gym_bill_time_ok(r->time)) {
		gym_bill_say(why, whylen, "line %zu: the time is not YYYY-MM-DD HH:MM:SS", lineno);
		return -1;
	}
	if (r->out_trade_no[0] == '\0' || r->trade_state[0] == '\0') {
		gym_bill_say(why, whylen, "line %zu: no out_trade_no or trade state", lineno);
		return -1;
	}
	if (gym_yuan_fen(f[ix[C_AMOUNT]].s, f[ix[C_AMOUNT]].n, &amount) != 0 ||
	    gym_yuan_fen(f[ix[C_REFUND_AMT]].s, f[ix[C_REFUND_AMT]].n, &refund_amt) != 0 ||
	    gym_yuan_fen(f[ix[C_FEE]].s, f[ix[C_FEE]].n, &r->fee_fen) != 0) {
		gym_bill_say(why, whylen, "line %zu: an amount is not yuan", lineno);
		return -1;
	}
	r->refund = strcmp(r->trade_state, "REFUND") == 0;
	if (!r->refund) {
		/* a payment row's refund columns say "0" */
		r->refund_id[0] = '\0';
		r->out_refund_no[0] = '\0';
		r->refund_state[0] = '\0';
	} else if (r->out_refund_no[0] == '\0') {
		gym_bill_say(why, whylen, "line %zu: a refund row without out_refund_no", lineno);
		return -1;
	}
	r->amount_fen = r->refund ? refund_amt : amount;
	return 0;
}

enum gym_err
gym_bill_parse_wechat(const char *text, size_t len, struct gym_bill *b, char *why,
    size_t whylen)
{
	struct gym_bill_field h[MAX_COLS], f[MAX_COLS], sh[MAX_COLS];
	const char *p, *end, *line;
	size_t ll, lineno = 0, cap = 0;
	long long gross = 0, refunds = 0, fees = 0, v[4];
	struct gym_bill_row *nr;
	int nh, nf, nsh, ix[C__N], i, summary = 0;
	static const char *const sum_cols[4] = { "总交易单数", "应结订单总金额", "退款总金额",
	    "手续费总金额" };
	int six[4];

	memset(b, 0, sizeof(*b));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	p = gym_bill_skip_bom(text, &len);
	end = p + len;
	if (!gym_bill_next_line(&p, end, &line, &ll) || (nh = gym_bill_split(line, ll, h)) < 0) {
		gym_bill_say(why, whylen, "no header row");
		return GYM_EINVAL;
	}
	lineno = 1;
	for (i = 0; i < C__N; i++)
		if ((ix[i] = gym_bill_col(h, nh, trade_cols[i])) < 0) {
			gym_bill_say(why, whylen, "the header has no column %s", trade_cols[i]);
			return GYM_EINVAL;
		}
	while (gym_bill_next_line(&p, end, &line, &ll)) {
		lineno++;
		if (ll == 0)
			continue;
		if (line[0] != '`') {
			/* the summary: its header, then its one row */
			if ((nsh = gym_bill_split(line, ll, sh)) < 0)
				goto bad_summary;
			for (i = 0; i < 4; i++)
				if ((six[i] = gym_bill_col(sh, nsh, sum_cols[i])) < 0)
					goto bad_summary;
			if (!gym_bill_next_line(&p, end, &line, &ll) ||
			    (nf = split_row(line, ll, f)) != nsh)
				goto bad_summary;
			lineno++;
			for (i = 0; i < 4; i++)
				if (gym_yuan_fen(f[six[i]].s, f[six[i]].n, &v[i]) != 0)
					goto bad_summary;
			b->count = v[0] / 100;
			if (v[0] % 100 != 0)
				goto bad_summary;
			b->gross_fen = v[1];
			b->refund_fen = v[2];
			b->fee_fen = v[3];
			summary = 1;
			while (gym_bill_next_line(&p, end, &line, &ll))
				if (ll != 0) {
					gym_bill_say(why, whylen, "line %zu: text after the summary",
					    ++lineno);
					goto fail;
				}
			break;
		}
		if ((nf = split_row(line, ll, f)) != nh) {
			gym_bill_say(why, whylen, "line %zu: %d fields, the header has %d", lineno,
			    nf, nh);
			goto fail;
		}
		if ((nr = gym_bill_push(b, &cap)) == NULL) {
			gym_bill_free(b);
			return GYM_ENOMEM;
		}
		if (read_row(f, ix, nr, lineno, why, whylen) != 0)
			goto fail;
		if (nr->refund)
			refunds += nr->amount_fen;
		else
			gross += nr->amount_fen;
		fees += nr->fee_fen;
	}
	if (!summary) {
		gym_bill_say(why, whylen, "no summary rows (the bill is cut short)");
		goto fail;
	}
	if (b->count != (long long)b->n || b->gross_fen != gross || b->refund_fen != refunds ||
	    b->fee_fen != fees) {
		gym_bill_say(why, whylen, "the summary (%lld rows, %lld/%lld/%lld fen) is not the rows "
		    "(%zu, %lld/%lld/%lld)", b->count, b->gross_fen, b->refund_fen, b->fee_fen,
		    b->n, gross, refunds, fees);
		goto fail;
	}
	return GYM_OK;
bad_summary:
	gym_bill_say(why, whylen, "line %zu: the summary does not read", lineno);
fail:
	gym_bill_free(b);
	return GYM_EINVAL;
}

void
gym_bill_free(struct gym_bill *b)
{
	if (b == NULL)
		return;
	free(b->rows);
	memset(b, 0, sizeof(*b));
}

enum gym_err
gym_bill_parse_wechat_fundflow(const char *text, size_t len, struct gym_fundflow *ff,
    char *why, size_t whylen)
{
	static const char *const names[5] = { "资金流水总笔数", "收入笔数", "收入金额",
	    "支出笔数", "支出金额" };
	struct gym_bill_field h[MAX_COLS], f[MAX_COLS];
	const char *p, *end, *line;
	size_t ll;
	long long v[5], rows = 0;
	int nh, nf, i, ix[5];

	memset(ff, 0, sizeof(*ff));
	p = gym_bill_skip_bom(text, &len);
	end = p + len;
	if (!gym_bill_next_line(&p, end, &line, &ll) || gym_bill_split(line, ll, h) < 1) {
		gym_bill_say(why, whylen, "no header row");
		return GYM_EINVAL;
	}
	while (gym_bill_next_line(&p, end, &line, &ll)) {
		if (ll == 0)
			continue;
		if (line[0] == '`') {
			rows++;
			continue;
		}
		if ((nh = gym_bill_split(line, ll, h)) < 0 || !gym_bill_next_line(&p, end, &line, &ll) ||
		    (nf = split_row(line, ll, f)) != nh)
			break;
		for (i = 0; i < 5; i++)
			if ((ix[i] = gym_bill_col(h, nh, names[i])) < 0 ||
			    gym_yuan_fen(f[ix[i]].s, f[ix[i]].n, &v[i]) != 0)
				break;
		if (i < 5)
			break;
		ff->count = v[0] / 100;
		ff->in_n = v[1] / 100;
		ff->in_fen = v[2];
		ff->out_n = v[3] / 100;
		ff->out_fen = v[4];
		if (ff->count != rows || ff->in_n + ff->out_n != rows) {
			gym_bill_say(why, whylen, "the fund-flow summary (%lld rows) is not its %lld rows",
			    ff->count, rows);
			memset(ff, 0, sizeof(*ff));
			return GYM_EINVAL;
		}
		if (v[0] % 100 != 0 || v[1] % 100 != 0 || v[3] % 100 != 0 ||
		    ff->in_n < 0 || ff->out_n < 0 || ff->in_fen < 0 || ff->out_fen < 0 ||
		    (ff->in_n == 0 && ff->in_fen != 0) || (ff->out_n == 0 && ff->out_fen != 0)) {
			gym_bill_say(why, whylen, "the fund-flow summary has a count that is not "
			    "whole, or money below zero or with no row (in %lld/%lld fen, out "
			    "%lld/%lld)", ff->in_n, ff->in_fen, ff->out_n, ff->out_fen);
			memset(ff, 0, sizeof(*ff));
			return GYM_EINVAL;
		}
		return GYM_OK;
	}
	gym_bill_say(why, whylen, "the fund-flow bill has no summary that reads");
	return GYM_EINVAL;
}
