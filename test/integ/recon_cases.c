/*
 * recon_cases.c: the reconciliation cases shared by the channels (see
 * recon_cases.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "bill.h"
#include "pgtest.h"
#include "recon_cases.h"

void
recon_days(char today[11], char yesterday[11])
{
	char buf[40];

	gym_time_format_cst(gym_now_us(), buf, sizeof(buf));
	snprintf(today, 11, "%.10s", buf);
	gym_time_format_cst(gym_now_us() - 86400LL * 1000000, buf, sizeof(buf));
	snprintf(yesterday, 11, "%.10s", buf);
}

static long long
count_kind(struct gym_pay *pay, const struct recon_driver *d, const char *kind, const char *otn)
{
	const char *p[3] = { kind, otn, d->channel };

	return pgt_countp(pay->db, "SELECT count(*) FROM recon_discrepancies WHERE kind = $1 "
	    "AND (out_trade_no = $2 OR out_refund_no = $2) AND channel = $3 "
	    "AND resolved_at IS NULL", 3, p);
}

static enum gym_err
recon(struct gym_pay *pay, const struct recon_driver *d, const char *date, int force,
    struct gym_recon_summary *s)
{
	return gym_recon_day(pay->db, &pay->channels, pay->cfg, d->channel, date, force, s);
}

void
recon_case_each_discrepancy(struct gym_pay *pay, const struct recon_driver *d)
{
	struct gym_recon_summary s;
	struct gym_order a, b, c, h, e, f;
	char faults[512], orn[72], today[11], yesterday[11];
	const char *p[2] = { NULL, NULL };

	recon_days(today, yesterday);
	d->paid(pay, "rc-d-drop", 0, 1, &a);
	d->paid(pay, "rc-d-amount", 0, 1, &b);
	d->paid(pay, "rc-d-status", 0, 1, &c);
	d->paid(pay, "rc-d-here", 0, 0, &h);	/* paid at the channel, not confirmed here */
	d->paid(pay, "rc-d-fine", 0, 1, &e);
	d->paid(pay, "rc-d-refund", 0, 1, &f);
	d->refunded(pay, f.order_id, orn, sizeof(orn));
	snprintf(faults, sizeof(faults), "{\"drop\":\"%s\",\"amount\":\"%s\",\"status\":\"%s\","
	    "\"unknown\":true}", a.order_id, b.order_id, c.order_id);
	d->bill_faults(faults);
	ck_assert_int_eq(recon(pay, d, today, 0, &s), GYM_OK);
	ck_assert_str_eq(s.state, "done");
	ck_assert_int_eq(count_kind(pay, d, "missing_there", a.order_id), 1);
	ck_assert_int_eq(count_kind(pay, d, "amount_mismatch", b.order_id), 1);
	ck_assert_int_eq(count_kind(pay, d, "status_mismatch", c.order_id), 1);
	ck_assert_int_eq(count_kind(pay, d, "missing_here", h.order_id), 1);
	ck_assert_int_eq(pgt_count(pay->db, "SELECT count(*) FROM recon_discrepancies "
	    "WHERE kind = 'missing_here' AND out_trade_no LIKE 'SIMUNKNOWN%' "
	    "AND (evidence->'bill'->>'amount_fen')::int = 20000 AND order_id IS NULL"), 1);
	ck_assert_int_eq(s.discrepancies, 5);
	ck_assert_int_eq(s.bill_rows, 7);	/* 6 paid - 1 dropped + 1 unknown + 1 refund */
	/* the evidence: the bill's amount and ours, the bill's state and ours */
	p[0] = b.order_id;
	ck_assert_int_eq(pgt_countp(pay->db, "SELECT count(*) FROM recon_discrepancies "
	    "WHERE out_trade_no = $1 AND bill_amount_fen = 20001 AND our_amount_fen = 20000", 1,
	    p), 1);
	p[0] = c.order_id;
	p[1] = d->revoked_state;
	ck_assert_int_eq(pgt_countp(pay->db, "SELECT count(*) FROM recon_discrepancies "
	    "WHERE out_trade_no = $1 AND bill_state = $2 AND our_state = 'paid'", 2, p), 1);
	/* the refund left out of the bill: missing there (and h, still only
	 * at the channel) */
	snprintf(faults, sizeof(faults), "{\"drop\":\"%s\",\"amount\":\"\",\"status\":\"\","
	    "\"unknown\":false}", orn);
	d->bill_faults(faults);
	ck_assert_int_eq(recon(pay, d, today, 1, &s), GYM_OK);
	ck_assert_int_eq(count_kind(pay, d, "missing_there", orn), 1);
	ck_assert_int_eq(count_kind(pay, d, "missing_here", h.order_id), 1);
	ck_assert_int_eq(s.discrepancies, 2);
	/* the refund billed a fen more */
	snprintf(faults, sizeof(faults), "{\"drop\":\"\",\"amount\":\"%s\"}", orn);
	d->bill_faults(faults);
	ck_assert_int_eq(recon(pay, d, today, 1, &s), GYM_OK);
	p[0] = orn;
	ck_assert_int_eq(pgt_countp(pay->db, "SELECT count(*) FROM recon_discrepancies "
	    "WHERE kind = 'amount_mismatch' AND out_refund_no = $1 AND bill_amount_fen = 20001 "
	    "AND our_amount_fen = 20000 AND resolved_at IS NULL", 1, p), 1);
	ck_assert_int_eq(s.discrepancies, 2);
}

void
recon_case_bad_files(struct gym_pay *pay, const struct recon_driver *d)
{
	struct gym_recon_summary s, y;
	struct gym_order o1, o2;
	char before[64], after[64], today[11], yesterday[11];
	const char *p[1] = { d->channel };
	int i;

	recon_days(today, yesterday);
	d->paid(pay, "rc-bad-yday", (long long)time(NULL) - 86400, 1, &o1);
	d->paid(pay, "rc-bad-today", 0, 1, &o2);
	ck_assert_int_eq(recon(pay, d, yesterday, 0, &y), GYM_OK);
	ck_assert_str_eq(y.state, "done");
	ck_assert_int_eq(y.bill_rows, 1);
	ck_assert_int_eq(y.discrepancies, 0);
	pgt_textp(pay->db, "SELECT finished_at::text || tries FROM recon_runs", 0, NULL, before,
	    sizeof(before));

	for (i = 0; i < 2; i++) {
		d->bill_faults(d->bad_faults[i]);
		ck_assert_int_eq(recon(pay, d, today, 0, &s), GYM_EUPSTREAM);
		ck_assert_str_eq(s.state, "failed");
		ck_assert_str_eq(s.error_code, d->bad_codes[i]);
		/* one open bad_file discrepancy for the day, however often it fails */
		ck_assert_int_eq(pgt_countp(pay->db, "SELECT count(*) FROM recon_discrepancies "
		    "WHERE kind = 'bad_file' AND channel = $1 AND resolved_at IS NULL", 1, p), 1);
		ck_assert_int_eq(pgt_count(pay->db, "SELECT count(*) FROM recon_lines l "
		    "JOIN recon_runs r ON r.id = l.run_id WHERE r.state = 'failed'"), 0);
	}
	ck_assert_int_eq(pgt_countp(pay->db, "SELECT count(*) FROM recon_discrepancies WHERE "
	    "kind = 'bad_file' AND channel = $1 AND evidence->>'error_code' IS NOT NULL", 1, p), 1);

	/* the day before: untouched */
	ck_assert_int_eq(gym_recon_get(pay->db, d->channel, yesterday, &y), GYM_OK);
	ck_assert_str_eq(y.state, "done");
	ck_assert_int_eq(y.bill_rows, 1);
	pgt_textp(pay->db, "SELECT finished_at::text || tries FROM recon_runs "
	    "WHERE state = 'done'", 0, NULL, after, sizeof(after));
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(pgt_count(pay->db, "SELECT count(*) FROM recon_lines"), 1);

	/* a whole bill: the day is done and the bad file settled */
	d->bill_faults(d->whole_again);
	ck_assert_int_eq(recon(pay, d, today, 0, &s), GYM_OK);
	ck_assert_str_eq(s.state, "done");
	ck_assert_int_eq(s.discrepancies, 0);
	ck_assert_int_eq(s.bill_rows, 1);
	ck_assert_int_eq(pgt_count(pay->db, "SELECT count(*) FROM recon_discrepancies "
	    "WHERE kind = 'bad_file' AND resolved_at IS NOT NULL"), 1);
}
