/*
 * reconcile.c: gymctl reconcile --date YYYY-MM-DD [--channel wechat|alipay]
 * [--force]: one day's bill reconciliation by hand (lib/billrecon.c), then
 * its summary.  A day already reconciled is shown, not fetched again,
 * unless --force.  Exit 0 when the day is reconciled (discrepancies or
 * not), 1 when the bill could not be had or read, 2 for bad arguments.
 */
#include <stdio.h>
#include <string.h>

#include "bill.h"
#include "channel.h"
#include "ctl.h"

static void
yuan(long long fen, char *buf, size_t len)
{
	unsigned long long a = fen < 0 ? (unsigned long long)-fen : (unsigned long long)fen;

	snprintf(buf, len, "%s%llu.%02llu", fen < 0 ? "-" : "", a / 100, a % 100);
}

int
gym_ctl_reconcile(struct gym_db *db, const struct gym_config *cfg, int argc, char **argv)
{
	const char *date = gym_ctl_opt(argc, argv, "--date");
	const char *channel = gym_ctl_opt(argc, argv, "--channel");
	struct gym_channels chans = { { NULL } };
	struct gym_recon_summary s;
	char g[32], r[32], f[32], n[32];
	int force = 0, i;
	enum gym_err e;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
	if (channel == NULL)
		channel = GYM_CHANNEL_WECHAT;
	if (date == NULL) {
		fprintf(stderr, "usage: gymctl reconcile --date YYYY-MM-DD [--channel wechat|alipay] "
		    "[--force]\n");
		return 2;
	}
	e = gym_recon_day(db, &chans, cfg, channel, date, force, &s);
	gym_channels_release(&chans);
	if (e == GYM_EINVAL) {
		fprintf(stderr, "gymctl: reconcile: bad date %s or channel %s (no bill)\n", date,
		    channel);
		return 2;
	}
	if (e != GYM_OK && s.state[0] == '\0') {
		fprintf(stderr, "gymctl: reconcile %s %s: %s\n", channel, date, gym_strerror(e));
		return 1;
	}
	yuan(s.gross_fen, g, sizeof(g));
	yuan(s.refund_fen, r, sizeof(r));
	yuan(s.fee_fen, f, sizeof(f));
	yuan(s.gross_fen - s.refund_fen - s.fee_fen, n, sizeof(n));
	printf("channel %s date %s state %s%s\n", s.channel, s.date, s.state,
	    s.fetched ? "" : " (stored; --force fetches again)");
	if (strcmp(s.state, "failed") == 0)
		printf("error %s: %s\n", s.error_code, s.error_message);
	printf("bill rows %lld matched %lld discrepancies %lld (unresolved %lld)\n",
	    s.bill_rows, s.matched, s.discrepancies, s.unresolved);
	printf("gross %s refunds %s fees %s net %s yuan\n", g, r, f, n);
	if (s.have_fund_flow) {
		yuan(s.fund_in_fen, g, sizeof(g));
		yuan(s.fund_out_fen, r, sizeof(r));
		printf("fund flow in %s out %s yuan\n", g, r);
	}
	return strcmp(s.state, "failed") == 0 ? 1 : 0;
}
