/*
 * fuzz_bill.c: the channels' daily bills, which come from outside over
 * the network: WeChat's trade and fund-flow bills (lib/bill_parse.c),
 * Alipay's 业务明细 and 账务明细 (lib/bill_parse_alipay.c) and Alipay's zip
 * (lib/alipay_bill.c gym_ali_bill_unzip).  The first byte picks the reader
 * (modulo 6), the rest is the file, handed over in a buffer of exactly its
 * length (no NUL after it), as the readers take a length.
 *
 * Properties checked: a bill that is read has rows of the reader's shape
 * (an out_trade_no, a time YYYY-MM-DD HH:MM:SS, amounts not below zero, a
 * refund with its out_refund_no) and, for WeChat's, as many rows as its
 * summary says; a refused one says why and holds no rows; a fund flow
 * that is read has counts and sums not below zero (money with no row is
 * refused), a refused one is all zero; a zip entry that is read is
 * NUL-terminated text; nothing leaks.
 */
#include <stdlib.h>
#include <string.h>

#include "alipay_bill.h"
#include "bill.h"
#include "bill_text.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void
check_bill(enum gym_err e, const struct gym_bill *b, const char *why, int wechat)
{
	size_t i;

	if (e != GYM_OK) {
		if (e != GYM_EINVAL && e != GYM_ENOMEM)
			fuzz_fail("trade bill: error %d", (int)e);
		if (e == GYM_EINVAL && why[0] == '\0')
			fuzz_fail("trade bill refused without why");
		if (b->rows != NULL || b->n != 0)
			fuzz_fail("a refused trade bill holds %zu rows", b->n);
		return;
	}
	if (wechat && b->count != (long long)b->n)
		fuzz_fail("WeChat bill: summary %lld rows, read %zu", b->count, b->n);
	for (i = 0; i < b->n; i++) {
		const struct gym_bill_row *r = &b->rows[i];

		if (r->out_trade_no[0] == '\0' || !gym_bill_time_ok(r->time))
			fuzz_fail("row %zu: out_trade_no '%s', time '%s'", i, r->out_trade_no,
			    r->time);
		if (r->amount_fen < 0)
			fuzz_fail("row %zu: amount %lld", i, r->amount_fen);
		if (r->refund && r->out_refund_no[0] == '\0')
			fuzz_fail("row %zu: a refund without its out_refund_no", i);
	}
}

static void
check_fundflow(enum gym_err e, const struct gym_fundflow *ff, const char *why)
{
	if (e != GYM_OK) {
		if (e != GYM_EINVAL || why[0] == '\0')
			fuzz_fail("fund flow: error %d, why '%s'", (int)e, why);
		if (ff->count != 0 || ff->in_n != 0 || ff->in_fen != 0 || ff->out_n != 0 ||
		    ff->out_fen != 0)
			fuzz_fail("a refused fund flow is not zero");
		return;
	}
	if (ff->count < 0 || ff->in_n < 0 || ff->out_n < 0 || ff->in_fen < 0 || ff->out_fen < 0)
		fuzz_fail("fund flow below zero: %lld rows, in %lld/%lld, out %lld/%lld", ff->count,
		    ff->in_n, ff->in_fen, ff->out_n, ff->out_fen);
	if ((ff->in_n == 0 && ff->in_fen != 0) || (ff->out_n == 0 && ff->out_fen != 0))
		fuzz_fail("money with no row: in %lld/%lld, out %lld/%lld", ff->in_n, ff->in_fen,
		    ff->out_n, ff->out_fen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gym_bill b;
	struct gym_fundflow ff;
	char why[256] = "", *text, *out = NULL;
	size_t len, olen = 0;
	enum gym_err e;
	int which;

	if (size < 1)
		return 0;
	which = data[0] % 6;
	len = size - 1;
	if ((text = malloc(len > 0 ? len : 1)) == NULL)
		return 0;
	memcpy(text, data + 1, len);
	switch (which) {
	case 0:
	case 2:
		e = which == 0 ? gym_bill_parse_wechat(text, len, &b, why, sizeof(why)) :
		    gym_bill_parse_alipay(text, len, &b, why, sizeof(why));
		check_bill(e, &b, why, which == 0);
		gym_bill_free(&b);
		break;
	case 1:
	case 3:
		e = which == 1 ? gym_bill_parse_wechat_fundflow(text, len, &ff, why, sizeof(why)) :
		    gym_bill_parse_alipay_fundflow(text, len, &ff, why, sizeof(why));
		check_fundflow(e, &ff, why);
		break;
	default:
		e = gym_ali_bill_unzip(which == 4 ? GYM_ALI_BILL_TRADE : GYM_ALI_BILL_ACCOUNT,
		    (const unsigned char *)text, len, &out, &olen);
		if (e == GYM_OK && (out == NULL || out[olen] != '\0'))
			fuzz_fail("an entry read is not NUL-terminated text");
		if (e != GYM_OK && out != NULL)
			fuzz_fail("a refused zip handed back text");
		free(out);
		break;
	}
	free(text);
	return 0;
}
