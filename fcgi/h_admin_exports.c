/*
 * h_admin_exports.c: the accountant's CSV files (lib/exports.h), for
 * auditors and operators:
 *   GET /admin/exports/payments?from=&to=[&channel=]   successful payments
 *   GET /admin/exports/refunds?from=&to=[&channel=]    refunds
 *   GET /admin/exports/bill?date=&channel=             a day's bill, matched
 * Dates are China days (YYYY-MM-DD); from and to default to today.  Always
 * CSV (UTF-8 with a byte-order mark), as an attachment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bill.h"
#include "exports.h"
#include "handlers.h"
#include "hutil.h"
#include "recon_report.h"

/* One export: its query parameters read, checked (each bad one named)
 * and answered. */
static enum gym_err
export(struct gym_req *req, struct gym_resp *resp, enum gym_export kind, const char *name)
{
	char from[16], to[16], chan[16], hdr[160];
	const char *channel = NULL;
	struct gym_csv csv;
	enum gym_err e;

	gym_time_format_cst(gym_now_us(), from, sizeof(from));
	from[10] = '\0';
	memcpy(to, from, sizeof(to));
	if (kind == GYM_EXPORT_BILL) {
		if (!gym_h_query(req, "date", from, sizeof(from)) || !gym_bill_date_ok(from))
			return gym_h_bad(resp, "date");
	} else {
		if (gym_h_query(req, "from", from, sizeof(from)) && !gym_bill_date_ok(from))
			return gym_h_bad(resp, "from");
		if (gym_h_query(req, "to", to, sizeof(to)) && !gym_bill_date_ok(to))
			return gym_h_bad(resp, "to");
		if (gym_days_between(from, to) < 0 || gym_days_between(from, to) >= GYM_EXPORT_MAX_DAYS)
			return gym_h_bad(resp, "to");
	}
	if (gym_h_query(req, "channel", chan, sizeof(chan))) {
		if (strcmp(chan, "wechat") != 0 && strcmp(chan, "alipay") != 0)
			return gym_h_bad(resp, "channel");
		channel = chan;
	} else if (kind == GYM_EXPORT_BILL)
		return gym_h_bad(resp, "channel");
	/* GYM_EINVAL now: more rows than one file may hold */
	if ((e = gym_export_csv(req->ctx->db, kind, from, to, channel, &csv)) != GYM_OK)
		return e == GYM_EINVAL ? gym_h_bad(resp, kind == GYM_EXPORT_BILL ? "date" : "from") : e;
	resp->status = 200;
	resp->content_type = "text/csv; charset=utf-8";
	resp->body = csv.p;
	resp->body_len = csv.len;
	if (kind == GYM_EXPORT_BILL)
		snprintf(hdr, sizeof(hdr), "attachment; filename=\"%s-%s-%s.csv\"", name, channel,
		    from);
	else
		snprintf(hdr, sizeof(hdr), "attachment; filename=\"%s-%s-%s.csv\"", name, from, to);
	return gym_resp_header(resp, "Content-Disposition", hdr);
}

enum gym_err
gym_h_admin_export_payments(struct gym_req *req, struct gym_resp *resp)
{
	return export(req, resp, GYM_EXPORT_PAYMENTS, "payments");
}

enum gym_err
gym_h_admin_export_refunds(struct gym_req *req, struct gym_resp *resp)
{
	return export(req, resp, GYM_EXPORT_REFUNDS, "refunds");
}

enum gym_err
gym_h_admin_export_bill(struct gym_req *req, struct gym_resp *resp)
{
	return export(req, resp, GYM_EXPORT_BILL, "bill");
}
