/*
 * channel_wechat.c: WeChat Pay as a payment channel (channel.h) over the
 * WeChat client (wxpay.h): JSAPI and Native payments, query, close,
 * refunds and notifications, turned into the channel-neutral results.
 * The checks that decide whether a trade is ours (mchid, appid, currency,
 * amounts) stay where the verified document is applied (reconcile.c,
 * refunds.c); here a field that is missing is just left empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "json.h"
#include "wxpay.h"

#define WX(ch)	((struct gym_wx_client *)(ch)->state)

/* The client's last error as the channel's. */
static enum gym_err
keep_error(struct gym_channel *ch, enum gym_err e)
{
	const struct gym_wx_error *we = gym_wx_last_error(WX(ch));

	if (e != GYM_OK) {
		ch->err.http_status = we->http_status;
		snprintf(ch->err.code, sizeof(ch->err.code), "%s", we->code);
		snprintf(ch->err.message, sizeof(ch->err.message), "%s", we->message);
	}
	return e;
}

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* amount.<name> in whole fen, or -1 when absent or not a whole number. */
static long long
fen(const cJSON *amount, const char *name)
{
	long long v;

	return gym_json_fen(amount, name, &v) == GYM_OK ? v : -1;
}

static int64_t
time_us(const char *s)
{
	int64_t us;

	return s != NULL && gym_time_parse(s, &us) == 0 ? us : 0;
}

/* WeChat's words for a trade's and a refund's state. */
struct word {
	const char *word;
	int state;
};
static const struct word trade_words[] = {
	{ "SUCCESS", GYM_CHANNEL_PAID }, { "NOTPAY", GYM_CHANNEL_PAYING },
	{ "USERPAYING", GYM_CHANNEL_PAYING }, { "PAYERROR", GYM_CHANNEL_FAILED },
	{ "REVOKED", GYM_CHANNEL_FAILED }, { "CLOSED", GYM_CHANNEL_CLOSED },
	{ "REFUND", GYM_CHANNEL_REFUNDED }, { NULL, GYM_CHANNEL_UNKNOWN }
};
static const struct word refund_words[] = {
	{ "SUCCESS", GYM_CHANNEL_REFUND_SUCCESS },
	{ "PROCESSING", GYM_CHANNEL_REFUND_PROCESSING },
	{ "CLOSED", GYM_CHANNEL_REFUND_CLOSED },
	{ "ABNORMAL", GYM_CHANNEL_REFUND_ABNORMAL }, { NULL, GYM_CHANNEL_REFUND_UNKNOWN }
};

/* s's state in words (ending with NULL and the state of unknown words). */
static int
state_of(const struct word *words, const char *s)
{
	for (; words->word != NULL; words++)
		if (s != NULL && strcmp(s, words->word) == 0)
			break;
	return words->state;
}

/* A Transaction (query answer or payment notification) into t; t owns doc. */
static void
trade_from(cJSON *doc, struct gym_channel_trade *t)
{
	const cJSON *amount = cJSON_GetObjectItemCaseSensitive(doc, "amount");
	const cJSON *payer = cJSON_GetObjectItemCaseSensitive(doc, "payer");
	const char *st = gym_json_string(doc, "trade_state");

	t->state = (enum gym_channel_state)state_of(trade_words, st);
	copy(t->state_code, sizeof(t->state_code), st);
	copy(t->out_trade_no, sizeof(t->out_trade_no), gym_json_string(doc, "out_trade_no"));
	copy(t->transaction_id, sizeof(t->transaction_id),
	    gym_json_string(doc, "transaction_id"));
	copy(t->payer_id, sizeof(t->payer_id), gym_json_string(payer, "openid"));
	t->amount_fen = fen(amount, "total");
	t->payer_fen = fen(amount, "payer_total");
	t->success_us = t->state == GYM_CHANNEL_PAID ?
	    time_us(gym_json_string(doc, "success_time")) : 0;
	t->doc = doc;
}

/* A Refund into f: an answer says its state in status, a notification
 * in refund_status (status_key; the other one when it is absent). */
static void
refund_from(cJSON *doc, const char *status_key, struct gym_channel_refund *f)
{
	const cJSON *amount = cJSON_GetObjectItemCaseSensitive(doc, "amount");
	const char *st = gym_json_string(doc, status_key);

	if (st == NULL)
		st = gym_json_string(doc, strcmp(status_key, "status") == 0 ?
		    "refund_status" : "status");

	f->state = (enum gym_channel_refund_state)state_of(refund_words, st);
	copy(f->state_code, sizeof(f->state_code), st);
	copy(f->out_refund_no, sizeof(f->out_refund_no), gym_json_string(doc, "out_refund_no"));
	copy(f->out_trade_no, sizeof(f->out_trade_no), gym_json_string(doc, "out_trade_no"));
	copy(f->refund_id, sizeof(f->refund_id), gym_json_string(doc, "refund_id"));
	f->refund_fen = fen(amount, "refund");
	f->total_fen = fen(amount, "total");
	f->success_us = f->state == GYM_CHANNEL_REFUND_SUCCESS ?
	    time_us(gym_json_string(doc, "success_time")) : 0;
	f->doc = doc;
}

static enum gym_err
wechat_start(struct gym_channel *ch)
{
	struct gym_wx_client *wx;
	enum gym_err e;

	if ((e = gym_wx_client_new(ch->cfg, &wx)) != GYM_OK)
		return e;
	ch->state = wx;
	return GYM_OK;
}

static void
wechat_stop(struct gym_channel *ch)
{
	gym_wx_client_free(WX(ch));
	ch->state = NULL;
}

static enum gym_err
wechat_pay(struct gym_channel *ch, const struct gym_channel_payment *p,
    struct gym_channel_params *out)
{
	struct gym_wx_payparams pp;
	enum gym_err e;

	if (p->trade != GYM_TRADE_NATIVE && p->trade != GYM_TRADE_JSAPI)
		return GYM_EINVAL;		/* PAGE, WAP: Alipay's */
	if (p->trade == GYM_TRADE_NATIVE)
		return keep_error(ch, gym_wx_prepay_native(WX(ch), p->out_trade_no,
		    p->amount_fen, p->expire_us, out->code_url, sizeof(out->code_url)));
	e = gym_wx_prepay_jsapi(WX(ch), p->out_trade_no, p->payer_id, p->amount_fen,
	    p->expire_us, &pp);
	if (e != GYM_OK)
		return keep_error(ch, e);
	copy(out->prepay_id, sizeof(out->prepay_id), pp.prepay_id);
	copy(out->timestamp, sizeof(out->timestamp), pp.timestamp);
	copy(out->nonce, sizeof(out->nonce), pp.nonce);
	copy(out->package, sizeof(out->package), pp.package);
	copy(out->pay_sign, sizeof(out->pay_sign), pp.pay_sign);
	return GYM_OK;
}

static enum gym_err
wechat_query(struct gym_channel *ch, const char *out_trade_no, struct gym_channel_trade *t)
{
	cJSON *doc = NULL;
	enum gym_err e;

	if ((e = gym_wx_query(WX(ch), out_trade_no, &doc)) != GYM_OK)
		return keep_error(ch, e);
	trade_from(doc, t);
	return GYM_OK;
}

static enum gym_err
wechat_close(struct gym_channel *ch, const char *out_trade_no)
{
	return keep_error(ch, gym_wx_close(WX(ch), out_trade_no));
}

static enum gym_err
wechat_refund_send(struct gym_channel *ch, const struct gym_channel_refund_req *r,
    struct gym_channel_refund *f)
{
	cJSON *doc = NULL;
	enum gym_err e;

	if ((e = gym_wx_refund_create(WX(ch), r->out_trade_no, r->out_refund_no, r->reason,
	    r->refund_fen, r->total_fen, &doc)) != GYM_OK)
		return keep_error(ch, e);
	refund_from(doc, "status", f);
	return GYM_OK;
}

static enum gym_err
wechat_refund_query(struct gym_channel *ch, const char *out_trade_no,
    const char *out_refund_no, struct gym_channel_refund *f)
{
	cJSON *doc = NULL;
	enum gym_err e;

	(void)out_trade_no;		/* WeChat finds a refund by its own name */

	if ((e = gym_wx_refund_query(WX(ch), out_refund_no, &doc)) != GYM_OK)
		return keep_error(ch, e);
	refund_from(doc, "status", f);
	return GYM_OK;
}

/*
 * Verify, decrypt, parse: a REFUND.* event is a refund (its state in
 * refund_status), anything else a payment.  Signature headers missing:
 * GYM_ECRYPTO, like a signature that does not verify.
 */
static enum gym_err
wechat_open_event(struct gym_channel *ch, const struct gym_channel_notice *n,
    struct gym_channel_event *ev)
{
	const char *ts = gym_channel_header(n, "Wechatpay-Timestamp");
	const char *nonce = gym_channel_header(n, "Wechatpay-Nonce");
	const char *serial = gym_channel_header(n, "Wechatpay-Serial");
	const char *sig = gym_channel_header(n, "Wechatpay-Signature");
	char *plain = NULL;
	cJSON *doc;
	enum gym_err e;

	if (ts == NULL || serial == NULL || sig == NULL) {
		snprintf(ch->err.code, sizeof(ch->err.code), "SIGN_VERIFY_FAILED");
		return GYM_ECRYPTO;
	}
	if ((e = gym_wx_notify_open(ch->cfg, ts, nonce, serial, sig, n->body, n->len,
	    ev->event_type, sizeof(ev->event_type), &plain)) != GYM_OK) {
		snprintf(ch->err.code, sizeof(ch->err.code), "%s", e == GYM_ECRYPTO ?
		    "SIGN_VERIFY_FAILED" : "BAD_NOTIFICATION");
		return e;
	}
	doc = cJSON_Parse(plain);
	free(plain);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		snprintf(ch->err.code, sizeof(ch->err.code), "BAD_NOTIFICATION");
		return GYM_EINVAL;
	}
	if (strncmp(ev->event_type, "REFUND.", 7) == 0) {
		ev->kind = GYM_CHANNEL_EVENT_REFUND;
		refund_from(doc, "refund_status", &ev->refund);
	} else {
		ev->kind = GYM_CHANNEL_EVENT_PAYMENT;
		trade_from(doc, &ev->trade);
	}
	return GYM_OK;
}

static enum gym_err
wechat_bill(struct gym_channel *ch, enum gym_bill_kind kind, const char *date, char **text,
    size_t *len)
{
	return keep_error(ch, gym_wx_bill(WX(ch), kind == GYM_BILL_FUNDFLOW ?
	    GYM_WX_BILL_FUNDFLOW : GYM_WX_BILL_TRADE, date, text, len));
}

const struct gym_channel_ops gym_channel_wechat = {
	GYM_CHANNEL_WECHAT,
	wechat_start,
	wechat_stop,
	wechat_pay,
	wechat_query,
	wechat_close,
	wechat_refund_send,
	wechat_refund_query,
	wechat_open_event,
	wechat_bill,
};
