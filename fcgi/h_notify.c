/*
 * h_notify.c: WeChat's notify URLs.  Verified on the raw bytes, then
 * decrypted, then checked against the order and applied exactly once.
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
static void
audit_refusal(struct gym_req *req, const char *why)
{
	struct gym_actor a = { "wechat", 0, req->client_ip, req->user_agent, req->request_id, NULL };
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

/* Verify and decrypt; on failure the response is written and *plain NULL. */
static enum gym_err
open_notification(struct gym_req *req, struct gym_resp *resp, char *event, size_t elen,
    char **plain)
{
	enum gym_err e;

	*plain = NULL;
	e = gym_wx_notify_open(req->ctx->cfg, req->wx_timestamp, req->wx_nonce, req->wx_serial,
	    req->wx_signature, req->body, req->body_len, event, elen, plain);
	if (e == GYM_OK)
		return GYM_OK;
	if (e == GYM_ECRYPTO || (e == GYM_EINVAL && (req->wx_signature == NULL ||
	    req->wx_timestamp == NULL || req->wx_serial == NULL))) {
		gym_log_warnx("notification refused: signature, serial or timestamp");
		audit_refusal(req, "signature");
		return fail(resp, 401, "签名验证失败");
	}
	gym_log_warnx("notification refused: body does not decrypt or parse");
	audit_refusal(req, "decrypt");
	return fail(resp, 400, "报文解析失败");
}

enum gym_err
gym_h_notify_payment(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a = { "wechat", 0, req->client_ip, req->user_agent, req->request_id, NULL };
	char event[64], outcome[32], *plain = NULL;
	cJSON *txn;
	enum gym_err e;

	if ((e = open_notification(req, resp, event, sizeof(event), &plain)) != GYM_OK ||
	    plain == NULL)
		return e;
	txn = cJSON_Parse(plain);
	free(plain);
	if (txn == NULL) {
		audit_refusal(req, "plaintext");
		return fail(resp, 400, "报文解析失败");
	}
	e = gym_txn_apply_json(req->ctx->db, &a, req->ctx->cfg, txn, "notify", outcome,
	    sizeof(outcome));
	cJSON_Delete(txn);
	if (e == GYM_OK || e == GYM_ENOTFOUND) {
		gym_log_infox("payment notification %s: %s", event, outcome);
		resp->status = 204;
		return GYM_OK;
	}
	if (e == GYM_EINVAL) {
		/* mchid, appid or amount do not match the order */
		audit_refusal(req, "mismatch");
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
	char event[64], outcome[32], *plain = NULL;
	cJSON *refund;
	enum gym_err e;

	if ((e = open_notification(req, resp, event, sizeof(event), &plain)) != GYM_OK ||
	    plain == NULL)
		return e;
	refund = cJSON_Parse(plain);
	free(plain);
	if (refund == NULL || !cJSON_IsObject(refund)) {
		cJSON_Delete(refund);
		audit_refusal(req, "plaintext");
		return fail(resp, 400, "报文解析失败");
	}
	e = gym_refund_apply_json(req->ctx->db, &a, req->ctx->cfg, refund, "notify", outcome,
	    sizeof(outcome));
	cJSON_Delete(refund);
	if (e == GYM_OK || e == GYM_ENOTFOUND) {
		gym_log_infox("refund notification %s: %s", event, outcome);
		resp->status = 204;
		return GYM_OK;
	}
	if (e == GYM_EINVAL) {
		/* mchid, order or amount do not match the refund */
		audit_refusal(req, "mismatch");
		return fail(resp, 400, "退款信息不符");
	}
	gym_log_warnx("could not store a refund notification: %s", gym_strerror(e));
	return fail(resp, 500, "处理失败");
}
