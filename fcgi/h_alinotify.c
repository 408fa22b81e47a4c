/*
 * h_alinotify.c: Alipay's notify URL (/payment/alipay/notify, and the
 * contract's /payment/alipay/callback).  The form-encoded
 * trade_status_sync notification is opened by the Alipay channel (RSA2
 * over the exact fields with Alipay's public key, app_id, seller_id where
 * configured), filled into a neutral payment event (payevent.h: strict
 * yuan as fen against the order, CNY) and applied exactly once under the
 * order's lock.  Answers the literal body "success" only once that is
 * recorded (or was already); anything refused answers 400 "failure", a
 * failure to store 500 "failure", so Alipay retries.  Refusals are
 * counted and sampled into the audit log as WeChat's are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "handlers.h"
#include "hutil.h"
#include "log.h"
#include "payevent.h"

static enum gym_err
answer(struct gym_resp *resp, int status, const char *text)
{
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	if ((resp->body = strdup(text)) == NULL)
		return GYM_ENOMEM;
	resp->body_len = strlen(text);
	return GYM_OK;
}

/* A payment: through the one apply path.  Refunds are recorded from
 * alipay.trade.refund's synchronous answer; their notification is only
 * acknowledged. */
static enum gym_err
apply(struct gym_req *req, const struct gym_channel_event *ev, char *outcome, size_t len)
{
	struct gym_actor a = { "alipay", 0, req->client_ip, req->user_agent, req->request_id,
	    NULL };
	struct gym_pay_event pe;
	enum gym_err e;

	if (ev->kind != GYM_CHANNEL_EVENT_PAYMENT) {
		snprintf(outcome, len, "refund acknowledged");
		return GYM_OK;
	}
	if ((e = gym_pay_event_alipay(&ev->trade, req->ctx->cfg, "notify", &pe)) == GYM_OK)
		e = gym_pay_event_apply(req->ctx->db, &a, &pe, "notify", outcome, len);
	gym_pay_event_clear(&pe);
	return e;
}

enum gym_err
gym_h_notify_alipay(struct gym_req *req, struct gym_resp *resp)
{
	const struct gym_channel_notice n = { NULL, 0, req->body, req->body_len };
	struct gym_pay *pay = gym_h_pay(req);
	struct gym_channel_event ev;
	struct gym_channel *ch;
	char outcome[32];
	enum gym_err e;

	memset(&ev, 0, sizeof(ev));
	if ((e = gym_channels_get(&pay->channels, pay->cfg, GYM_CHANNEL_ALIPAY, &ch)) != GYM_OK) {
		gym_log_warnx("no Alipay channel for a notification: %s", gym_strerror(e));
		return answer(resp, e == GYM_ENOTFOUND ? 404 : 500, "failure");
	}
	if ((e = gym_channel_open_event(ch, &n, &ev)) == GYM_ECRYPTO) {
		gym_log_warnx("Alipay notification refused: signature");
		gym_h_notify_refused(req, "alipay", "signature");
		return answer(resp, 400, "failure");
	}
	if (e != GYM_OK) {
		gym_log_warnx("Alipay notification refused: %s", gym_strerror(e));
		gym_h_notify_refused(req, "alipay", e == GYM_EINVAL ? "mismatch" : "decrypt");
		return answer(resp, e == GYM_EINVAL ? 400 : 500, "failure");
	}
	e = apply(req, &ev, outcome, sizeof(outcome));
	if (e == GYM_OK || e == GYM_ENOTFOUND) {
		gym_log_infox("Alipay notification %s: %s", ev.event_type, outcome);
		e = answer(resp, 200, "success");
	} else if (e == GYM_EINVAL) {
		/* the amount or the currency is not the order's */
		gym_h_notify_refused(req, "alipay", "mismatch");
		e = answer(resp, 400, "failure");
	} else {
		gym_log_warnx("could not store an Alipay notification: %s", gym_strerror(e));
		e = answer(resp, 500, "failure");
	}
	gym_channel_event_clear(&ev);
	return e;
}
