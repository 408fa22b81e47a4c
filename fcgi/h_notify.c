/*
 * h_notify.c: WeChat's notify URLs.  Opened by the WeChat Pay channel
 * (channel.h: verified on the raw bytes, then decrypted), then checked
 * against the order and applied exactly once.
 * Answers: 204 when processed (or already processed); 401 {"code":"FAIL"}
 * for a bad signature, serial or timestamp; 400 for a body that does not
 * decrypt or parse, or a transaction or refund that is not ours; 500 when
 * it could not be stored, so WeChat retries.  Every refusal leaves an
 * audit row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_sample.h"
#include "channel.h"
#include "handlers.h"
#include "hutil.h"
#include "log.h"
#include "metrics.h"
#include "reconcile.h"
#include "refunds.h"

static enum gym_err
fail(struct gym_resp *resp, int status, const char *message)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "code", "FAIL");
	cJSON_AddStringToObject(o, "message", message);
	return gym_resp_json(resp, status, o);
}

/*
 * A refusal is counted in gymd_notify_rejected_total{reason} and in the
 * audit_samples row of its source and minute; only the first
 * audit_refusals_per_minute of a source's minute get an audit row, so the
 * notify URLs cannot be used to fill the database (issue 13, finding 3).
 */
void
gym_h_notify_refused(struct gym_req *req, const char *who, const char *why)
{
	struct gym_actor a = { who, 0, req->client_ip, req->user_agent, req->request_id, NULL };
	char snap[192];
	struct gym_audit au = { "notification", "notification_rejected", NULL, 0, 0, NULL, NULL, snap };
	int limit = req->ctx->cfg->audit_refusals_per_minute, recorded = 0;
	long long nth = 0;

	gym_metrics_add_reason("notify_rejected", why, 1);
	/* nth is not known before the count: the row says "within the limit" */
	snprintf(snap, sizeof(snap), "{\"route\":\"%s\",\"reason\":\"%s\",\"sampled\":"
	    "\"first %d per source and minute\"}", req->route, why, limit);
	if (gym_audit_sampled(req->ctx->db, &a, &au, limit, &nth, &recorded) != GYM_OK)
		gym_log_warnx("could not audit a refused notification");
	else if (nth == (long long)limit + 1)
		gym_log_warnx("more than %d refused notifications from %s this minute: "
		    "counted, no more audit rows until the next minute", limit,
		    req->client_ip);
}

/*
 * Open the notification through the WeChat Pay channel (verify, decrypt,
 * parse) into *ev, which must be of kind; on failure the response is
 * written and GYM_ECRYPTO or GYM_EINVAL returned (the caller answers).
 */
static enum gym_err
open_event(struct gym_req *req, struct gym_resp *resp, enum gym_channel_event_kind kind,
    struct gym_channel_event *ev)
{
	const struct gym_channel_header h[] = {
		{ "Wechatpay-Timestamp", req->wx_timestamp },
		{ "Wechatpay-Nonce", req->wx_nonce },
		{ "Wechatpay-Serial", req->wx_serial },
		{ "Wechatpay-Signature", req->wx_signature },
	};
	const struct gym_channel_notice n = { h, sizeof(h) / sizeof(h[0]), req->body,
	    req->body_len };
	struct gym_pay *pay = gym_h_pay(req);
	struct gym_channel *ch;
	enum gym_err e;

	memset(ev, 0, sizeof(*ev));
	if ((e = gym_channels_get(&pay->channels, pay->cfg, GYM_CHANNEL_WECHAT, &ch)) != GYM_OK) {
		gym_log_warnx("no WeChat Pay channel for a notification: %s", gym_strerror(e));
		fail(resp, 500, "处理失败");
		return GYM_EINTERNAL;
	}
	if ((e = gym_channel_open_event(ch, &n, ev)) == GYM_ECRYPTO) {
		gym_log_warnx("notification refused: signature, serial or timestamp");
		gym_h_notify_refused(req, "wechat", "signature");
		fail(resp, 401, "签名验证失败");
		return e;
	}
	if (e != GYM_OK) {
		gym_log_warnx("notification refused: body does not decrypt or parse");
		gym_h_notify_refused(req, "wechat", "decrypt");
		fail(resp, 400, "报文解析失败");
		return GYM_EINVAL;
	}
	if (ev->kind != kind) {
		gym_log_warnx("notification refused: %s is not for this URL", ev->event_type);
		gym_channel_event_clear(ev);
		gym_h_notify_refused(req, "wechat", "plaintext");
		fail(resp, 400, "报文解析失败");
		return GYM_EINVAL;
	}
	return GYM_OK;
}

enum gym_err
gym_h_notify_payment(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a = { "wechat", 0, req->client_ip, req->user_agent, req->request_id, NULL };
	struct gym_channel_event ev;
	char outcome[32];
	enum gym_err e;

	if (open_event(req, resp, GYM_CHANNEL_EVENT_PAYMENT, &ev) != GYM_OK)
		return GYM_OK;			/* answered */
	e = gym_txn_apply_json(req->ctx->db, &a, req->ctx->cfg, ev.trade.doc, "notify", outcome,
	    sizeof(outcome));
	gym_channel_event_clear(&ev);
	if (e == GYM_OK || e == GYM_ENOTFOUND) {
		gym_log_infox("payment notification %s: %s", ev.event_type, outcome);
		resp->status = 204;
		return GYM_OK;
	}
	if (e == GYM_EINVAL) {
		/* mchid, appid or amount do not match the order */
		gym_h_notify_refused(req, "wechat", "mismatch");
		return fail(resp, 400, "订单信息不符");
	}
	gym_log_warnx("could not store a payment notification: %s", gym_strerror(e));
	return fail(resp, 500, "处理失败");
}

/*
 * REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED: the refund is found by
 * out_refund_no and must be ours (mchid, out_trade_no, amount); its effect
 * happens once (refunds.c).  An out_refund_no we never made answers 204:
 * retrying cannot make it ours (the refusal is audited).
 */
enum gym_err
gym_h_notify_refund(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a = { "wechat", 0, req->client_ip, req->user_agent, req->request_id, NULL };
	struct gym_channel_event ev;
	char outcome[32];
	enum gym_err e;

	if (open_event(req, resp, GYM_CHANNEL_EVENT_REFUND, &ev) != GYM_OK)
		return GYM_OK;			/* answered */
	e = gym_refund_apply_json(req->ctx->db, &a, req->ctx->cfg, ev.refund.doc, "notify",
	    outcome, sizeof(outcome));
	gym_channel_event_clear(&ev);
	if (e == GYM_OK || e == GYM_ENOTFOUND) {
		gym_log_infox("refund notification %s: %s", ev.event_type, outcome);
		resp->status = 204;
		return GYM_OK;
	}
	if (e == GYM_EINVAL) {
		/* mchid, order or amount do not match the refund */
		gym_h_notify_refused(req, "wechat", "mismatch");
		return fail(resp, 400, "退款信息不符");
	}
	gym_log_warnx("could not store a refund notification: %s", gym_strerror(e));
	return fail(resp, 500, "处理失败");
}
