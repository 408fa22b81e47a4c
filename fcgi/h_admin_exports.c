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

#include "exports.h"
#include "handlers.h"
#include "hutil.h"

static enum gym_err
bad(struct gym_resp *resp, const char *field)
{
	snprintf(resp->err_field, sizeof(resp->err_field), "%s", field);
	return GYM_EINVAL;
}

/* One export: its query parameters read, checked and answered. */
static enum gym_err
export(struct gym_req *req, struct gym_resp *resp, enum gym_export kind, const char *name)
{
	char from[16], to[16], chan[16], hdr[160];
	const char *channel = NULL, *field;
	struct gym_csv csv;
	enum gym_err e;

	gym_time_format_cst(gym_now_us(), from, sizeof(from));
	from[10] = '\0';
	memcpy(to, from, sizeof(to));
	if (kind == GYM_EXPORT_BILL) {
		if (!gym_h_query(req, "date", from, sizeof(from)))
			return bad(resp, "date");
	} else {
		(void)gym_h_query(req, "from", from, sizeof(from));
		(void)gym_h_query(req, "to", to, sizeof(to));
	}
	if (gym_h_query(req, "channel", chan, sizeof(chan)))
		channel = chan;
	else if (kind == GYM_EXPORT_BILL)
		return bad(resp, "channel");
	if ((e = gym_export_csv(req->ctx->db, kind, from, to, channel, &csv)) != GYM_OK) {
		if (e != GYM_EINVAL)
			return e;
		field = channel != NULL && strcmp(channel, "wechat") != 0 &&
		    strcmp(channel, "alipay") != 0 ? "channel" : kind == GYM_EXPORT_BILL ? "date" :
		    "from";
		return bad(resp, field);
	}
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
