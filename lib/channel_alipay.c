/*
 * channel_alipay.c: Alipay as a payment channel (channel.h) over the
 * Alipay client (alipay.h): the face-to-face QR (NATIVE), page and wap pay
 * (PAGE, WAP: a signed URL), query, close, refunds and the async
 * notifications, turned into the channel-neutral results.  Alipay's
 * amounts are yuan strings, read strictly into fen (a malformed one is
 * "not said", -1); its times are China time.  The verified document kept
 * in doc is the answer's node, or the notification's fields as strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alipay.h"
#include "alipay_bill.h"
#include "channel.h"
#include "json.h"

#define ALI(ch)	((struct gym_ali_client *)(ch)->state)
#define SUBJECT_DEFAULT	"体操馆-体验课"
#define QR_MINUTES_DEFAULT	30

/* The client's last error as the channel's. */
static enum gym_err
keep_error(struct gym_channel *ch, enum gym_err e)
{
	const struct gym_ali_error *ae = gym_ali_last_error(ALI(ch));

	if (e != GYM_OK) {
		ch->err.http_status = ae->http_status;
		snprintf(ch->err.code, sizeof(ch->err.code), "%.63s",
		    ae->sub_code[0] != '\0' ? ae->sub_code : ae->code);
		snprintf(ch->err.message, sizeof(ch->err.message), "%s", ae->message);
	}
	return e;
}

static enum gym_err
own_error(struct gym_channel *ch, enum gym_err e, const char *code)
{
	snprintf(ch->err.code, sizeof(ch->err.code), "%s", code);
	return e;
}

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* doc.<name> as fen, or -1 when absent or not a strict yuan amount. */
static long long
fen(const cJSON *doc, const char *name)
{
	long long v;

	return gym_ali_fen(gym_json_string(doc, name), &v) == GYM_OK ? v : -1;
}

static int64_t
time_us(const char *s)
{
	time_t t;

	return gym_ali_time_parse(s, &t) == GYM_OK ? (int64_t)t * 1000000 : 0;
}

static const char *
first(const cJSON *doc, const char *a, const char *b)
{
	const char *s = gym_json_string(doc, a);

	return s != NULL ? s : gym_json_string(doc, b);
}

/* Alipay's trade_status into the neutral state: TRADE_CLOSED after money
 * was refunded (refund_fee above zero) is REFUNDED, else CLOSED unpaid. */
static enum gym_channel_state
trade_state(const cJSON *doc)
{
	const char *st = gym_json_string(doc, "trade_status");

	if (st == NULL)
		return GYM_CHANNEL_UNKNOWN;
	if (strcmp(st, "WAIT_BUYER_PAY") == 0)
		return GYM_CHANNEL_PAYING;
	if (strcmp(st, "TRADE_SUCCESS") == 0 || strcmp(st, "TRADE_FINISHED") == 0)
		return GYM_CHANNEL_PAID;
	if (strcmp(st, "TRADE_CLOSED") == 0)
		return fen(doc, "refund_fee") > 0 ? GYM_CHANNEL_REFUNDED : GYM_CHANNEL_CLOSED;
	return GYM_CHANNEL_UNKNOWN;
}

/* A query answer or a payment notification into t; t owns doc. */
static void
trade_from(cJSON *doc, struct gym_channel_trade *t)
{
	t->state = trade_state(doc);
	copy(t->state_code, sizeof(t->state_code), gym_json_string(doc, "trade_status"));
	copy(t->out_trade_no, sizeof(t->out_trade_no), gym_json_string(doc, "out_trade_no"));
	copy(t->transaction_id, sizeof(t->transaction_id), gym_json_string(doc, "trade_no"));
	copy(t->payer_id, sizeof(t->payer_id), first(doc, "buyer_user_id", "buyer_id"));
	if (t->payer_id[0] == '\0')
		copy(t->payer_id, sizeof(t->payer_id), gym_json_string(doc, "buyer_open_id"));
	t->amount_fen = fen(doc, "total_amount");
	t->payer_fen = fen(doc, "buyer_pay_amount");
	t->success_us = t->state == GYM_CHANNEL_PAID || t->state == GYM_CHANNEL_REFUNDED ?
	    time_us(first(doc, "send_pay_date", "gmt_payment")) : 0;
	t->doc = doc;
}

static enum gym_err
alipay_start(struct gym_channel *ch)
{
	struct gym_ali_client *c;
	enum gym_err e;

	if (!gym_ali_configured(ch->cfg))
		return GYM_ENOTFOUND;		/* no alipay.*: not available */
	if ((e = gym_ali_client_new(ch->cfg, &c)) != GYM_OK)
		return e;
	ch->state = c;
	return GYM_OK;
}

static void
alipay_stop(struct gym_channel *ch)
{
	gym_ali_client_free(ALI(ch));
	ch->state = NULL;
}

static const char *
subject(const struct gym_channel *ch)
{
	return gym_nonempty(ch->cfg->wx_description) ? ch->cfg->wx_description :
	    SUBJECT_DEFAULT;
}

static enum gym_err
alipay_pay(struct gym_channel *ch, const struct gym_channel_payment *p,
    struct gym_channel_params *out)
{
	int64_t left;
	int minutes = QR_MINUTES_DEFAULT;
	char *url = NULL;
	enum gym_err e;

	if (p->trade == GYM_TRADE_NATIVE) {
		if (p->expire_us > 0) {
			left = (p->expire_us - gym_now_us()) / 60000000;
			if (left < 1)
				return own_error(ch, GYM_EINVAL, "EXPIRED");
			minutes = left > 1440 ? 1440 : (int)left;
		}
		return keep_error(ch, gym_ali_precreate(ALI(ch), p->out_trade_no, p->amount_fen,
		    subject(ch), minutes, out->code_url, sizeof(out->code_url)));
	}
	if (p->trade != GYM_TRADE_PAGE && p->trade != GYM_TRADE_WAP)
		return own_error(ch, GYM_EINVAL, "TRADE_TYPE");
	if ((e = gym_ali_pay_url(ALI(ch), p->trade == GYM_TRADE_WAP, p->out_trade_no,
	    p->amount_fen, subject(ch), p->expire_us, p->return_url, &url)) != GYM_OK)
		return keep_error(ch, e);
	if (strlen(url) >= sizeof(out->pay_url))
		e = own_error(ch, GYM_EINTERNAL, "URL_TOO_LONG");
	else
		copy(out->pay_url, sizeof(out->pay_url), url);
	free(url);
	return e;
}

static enum gym_err
alipay_query(struct gym_channel *ch, const char *out_trade_no, struct gym_channel_trade *t)
{
	cJSON *doc = NULL;
	enum gym_err e;

	if ((e = gym_ali_query(ALI(ch), out_trade_no, &doc)) != GYM_OK)
		return keep_error(ch, e);
	trade_from(doc, t);
	return GYM_OK;
}

static enum gym_err
alipay_close(struct gym_channel *ch, const char *out_trade_no)
{
	return keep_error(ch, gym_ali_close(ALI(ch), out_trade_no));
}

/*
 * alipay.trade.refund is synchronous: code 10000 means the refund with
 * this out_request_no is done, whether this call moved the money
 * (fund_change Y) or an earlier one did (N).  refund_fee in the answer is
 * the trade's running total, so the refund's own amount is the request's.
 */
static enum gym_err
alipay_refund_send(struct gym_channel *ch, const struct gym_channel_refund_req *r,
    struct gym_channel_refund *f)
{
	cJSON *doc = NULL;
	enum gym_err e;

	if ((e = gym_ali_refund(ALI(ch), r->out_trade_no, r->out_refund_no, r->refund_fen,
	    r->reason, &doc)) != GYM_OK)
		return keep_error(ch, e);
	f->state = GYM_CHANNEL_REFUND_SUCCESS;
	copy(f->state_code, sizeof(f->state_code), "REFUND_SUCCESS");
	copy(f->out_refund_no, sizeof(f->out_refund_no), r->out_refund_no);
	copy(f->out_trade_no, sizeof(f->out_trade_no), first(doc, "out_trade_no", NULL));
	copy(f->refund_id, sizeof(f->refund_id), gym_json_string(doc, "trade_no"));
	f->refund_fen = r->refund_fen;
	f->total_fen = r->total_fen;
	f->success_us = time_us(gym_json_string(doc, "gmt_refund_pay"));
	f->doc = doc;
	return GYM_OK;
}

/*
 * alipay.trade.fastpay.refund.query names the trade and the refund's
 * out_request_no; an answer without refund_status is a refund Alipay
 * does not have (GYM_ENOTFOUND).  REFUND_SUCCESS is the only state it
 * reports (a refund is synchronous).
 */
static enum gym_err
alipay_refund_query(struct gym_channel *ch, const char *out_trade_no,
    const char *out_refund_no, struct gym_channel_refund *f)
{
	cJSON *doc = NULL;
	const char *st;
	enum gym_err e;

	if ((e = gym_ali_refund_query(ALI(ch), out_trade_no, out_refund_no, &doc)) != GYM_OK)
		return keep_error(ch, e);
	if ((st = gym_json_string(doc, "refund_status")) == NULL) {
		cJSON_Delete(doc);
		return GYM_ENOTFOUND;
	}
	f->state = strcmp(st, "REFUND_SUCCESS") == 0 ? GYM_CHANNEL_REFUND_SUCCESS :
	    GYM_CHANNEL_REFUND_UNKNOWN;
	copy(f->state_code, sizeof(f->state_code), st);
	copy(f->out_refund_no, sizeof(f->out_refund_no), out_refund_no);
	copy(f->out_trade_no, sizeof(f->out_trade_no), out_trade_no);
	copy(f->refund_id, sizeof(f->refund_id), gym_json_string(doc, "trade_no"));
	f->refund_fen = fen(doc, "refund_amount");
	f->total_fen = fen(doc, "total_amount");
	f->success_us = time_us(gym_json_string(doc, "gmt_refund_pay"));
	f->doc = doc;
	return GYM_OK;
}

/* The notification's fields as a JSON object of strings. */
static cJSON *
doc_of(const struct gym_ali_params *ps)
{
	cJSON *doc = cJSON_CreateObject();

	for (size_t i = 0; doc != NULL && i < ps->n; i++)
		if (strcmp(ps->p[i].key, "sign") != 0 &&
		    cJSON_AddStringToObject(doc, ps->p[i].key, ps->p[i].value) == NULL) {
			cJSON_Delete(doc);
			doc = NULL;
		}
	return doc;
}

/*
 * A trade_status_sync notification (form-encoded body, decoded once):
 * the signature over every field but sign and sign_type must verify with
 * Alipay's public key (GYM_ECRYPTO), then app_id must be ours and
 * seller_id too when configured (GYM_EINVAL, "WRONG_APP_ID" /
 * "WRONG_SELLER_ID": genuine, but not ours).  One naming out_biz_no (the
 * refund's out_request_no) is a refund: Alipay reports partial refunds as
 * TRADE_SUCCESS and the last one as TRADE_CLOSED; send_back_fee is that
 * refund's amount, refund_fee the running total.
 */
static enum gym_err
alipay_open_event(struct gym_channel *ch, const struct gym_channel_notice *n,
    struct gym_channel_event *ev)
{
	struct gym_ali_params ps = { 0 };
	const char *app, *seller, *st;
	cJSON *doc;
	enum gym_err e;

	if (ch->cfg->ali_public_key == NULL)
		return own_error(ch, GYM_EINTERNAL, "CONFIG");
	if (n->body == NULL || gym_ali_form_parse(n->body, n->len, &ps) != GYM_OK)
		return own_error(ch, GYM_ECRYPTO, "SIGN_VERIFY_FAILED");
	if (gym_ali_verify_notify(ch->cfg->ali_public_key, &ps) != GYM_OK) {
		e = own_error(ch, GYM_ECRYPTO, "SIGN_VERIFY_FAILED");
		goto out;
	}
	app = gym_ali_params_get(&ps, "app_id");
	seller = gym_ali_params_get(&ps, "seller_id");
	st = gym_ali_params_get(&ps, "trade_status");
	if (app == NULL || strcmp(app, ch->cfg->ali_app_id) != 0) {
		e = own_error(ch, GYM_EINVAL, "WRONG_APP_ID");
		goto out;
	}
	if (gym_nonempty(ch->cfg->ali_seller_id) &&
	    (seller == NULL || strcmp(seller, ch->cfg->ali_seller_id) != 0)) {
		e = own_error(ch, GYM_EINVAL, "WRONG_SELLER_ID");
		goto out;
	}
	if (!gym_nonempty(st) || !gym_nonempty(gym_ali_params_get(&ps, "out_trade_no"))) {
		e = own_error(ch, GYM_EINVAL, "BAD_NOTIFICATION");
		goto out;
	}
	if ((doc = doc_of(&ps)) == NULL) {
		e = GYM_ENOMEM;
		goto out;
	}
	if (gym_nonempty(gym_ali_params_get(&ps, "out_biz_no"))) {
		ev->kind = GYM_CHANNEL_EVENT_REFUND;
		snprintf(ev->event_type, sizeof(ev->event_type), "REFUND.%s", st);
		ev->refund.state = GYM_CHANNEL_REFUND_SUCCESS;
		copy(ev->refund.state_code, sizeof(ev->refund.state_code), "REFUND_SUCCESS");
		copy(ev->refund.out_refund_no, sizeof(ev->refund.out_refund_no),
		    gym_json_string(doc, "out_biz_no"));
		copy(ev->refund.out_trade_no, sizeof(ev->refund.out_trade_no),
		    gym_json_string(doc, "out_trade_no"));
		copy(ev->refund.refund_id, sizeof(ev->refund.refund_id),
		    gym_json_string(doc, "trade_no"));
		ev->refund.refund_fen = fen(doc, "send_back_fee");
		ev->refund.total_fen = fen(doc, "total_amount");
		ev->refund.success_us = time_us(gym_json_string(doc, "gmt_refund"));
		ev->refund.doc = doc;
	} else {
		ev->kind = GYM_CHANNEL_EVENT_PAYMENT;
		snprintf(ev->event_type, sizeof(ev->event_type), "%s", st);
		trade_from(doc, &ev->trade);
	}
	e = GYM_OK;
out:
	gym_ali_params_free(&ps);
	return e;
}

/* The day's trade bill (业务明细) or fund-flow bill (the account's
 * 账务明细, bill_type signcustomer): the detail CSV of Alipay's zip, as
 * UTF-8. */
static enum gym_err
alipay_bill(struct gym_channel *ch, enum gym_bill_kind kind, const char *date, char **text,
    size_t *len)
{
	if (date == NULL || strlen(date) != 10)
		return own_error(ch, GYM_EINVAL, "BILL_DATE");
	return keep_error(ch, gym_ali_bill_fetch(ALI(ch), ch->cfg, kind == GYM_BILL_FUNDFLOW ?
	    GYM_ALI_BILL_ACCOUNT : GYM_ALI_BILL_TRADE, date, text, len));
}

const struct gym_channel_ops gym_channel_alipay = {
	GYM_CHANNEL_ALIPAY,
	alipay_start,
	alipay_stop,
	alipay_pay,
	alipay_query,
	alipay_close,
	alipay_refund_send,
	alipay_refund_query,
	alipay_open_event,
	alipay_bill,
};
