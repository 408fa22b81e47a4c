/*
 * checkout.c: the payment use-cases (see checkout.h).  Each one is a short
 * sequence over the domain modules (orders.c, holds.c, refunds.c,
 * reconcile.c) and the order's payment channel (channel.h); the rules live
 * in those modules and in this file, never in a door.
 */
#include <stdio.h>
#include <string.h>

#include "attempts.h"
#include "checkout.h"
#include "log.h"
#include "products.h"
#include "qrpng.h"
#include "reconcile.h"
#include "upstream_gate.h"
#include "wxmp.h"

void
gym_pay_release(struct gym_pay *pay)
{
	gym_channels_release(&pay->channels);
	gym_wx_client_free(pay->mp);
	pay->mp = NULL;
}

/* Keep the channel's error code (code) for the answer when e says it failed. */
static enum gym_err
upstream(struct gym_pay *pay, const char *code, enum gym_err e)
{
	if (e == GYM_EUPSTREAM || e == GYM_ETIMEOUT)
		snprintf(pay->upstream, sizeof(pay->upstream), "%s", code);
	return e;
}

static enum gym_err
channel_upstream(struct gym_pay *pay, const struct gym_channel *ch, enum gym_err e)
{
	return upstream(pay, gym_channel_last_error(ch)->code, e);
}

enum gym_err
gym_trade_parse(const char *s, enum gym_trade *t)
{
	if (s != NULL && strcmp(s, "JSAPI") == 0)
		*t = GYM_TRADE_JSAPI;
	else if (s != NULL && strcmp(s, "NATIVE") == 0)
		*t = GYM_TRADE_NATIVE;
	else
		return GYM_EINVAL;
	return GYM_OK;
}

enum gym_err
gym_checkout_order_create(struct gym_pay *pay, const struct gym_actor *a, long long user_id,
    long long schedule_id, long long reservation_id, const struct gym_client_amount *amount,
    const struct gym_registration *reg, struct gym_order *o, int *created)
{
	struct gym_audit au = { "order", "amount_mismatch", NULL, 0, 0, NULL, NULL, NULL };

	pay->upstream[0] = '\0';
	if (!gym_price_client_matches(amount, GYM_PRICE_FEN)) {
		if (gym_audit_record(pay->db, a, &au) != GYM_OK)
			gym_log_warnx("could not audit an amount mismatch");
		return GYM_E_AMOUNT_MISMATCH;
	}
	if (reg == NULL)
		return GYM_EINVAL;
	return gym_order_create(pay->db, a, user_id, schedule_id, reservation_id, &pay->cfg->pii,
	    reg, o, created);
}

/*
 * Close the superseded attempt old at WeChat and record it superseded.
 * Paid meanwhile: the payment is applied and the order is no longer
 * payable.  Any other failure: the switch cannot be made now (the client
 * may retry).
 */
static enum gym_err
supersede(struct gym_pay *pay, const struct gym_actor *a, const char *old)
{
	struct gym_channel *ch;
	char outcome[32];
	enum gym_err e;

	/* the attempt's own channel, which may not be the order's now */
	if ((e = gym_channels_for_trade(&pay->channels, pay->db, pay->cfg, old, &ch)) != GYM_OK)
		return e;
	e = gym_channel_close(ch, old);
	if (e == GYM_ECONFLICT) {
		if (gym_reconcile_order(pay->db, ch, pay->cfg, old, outcome,
		    sizeof(outcome)) != GYM_OK)
			gym_log_infox("could not reconcile attempt %s with its channel", old);
		return GYM_E_ORDER_NOT_PAYABLE;
	}
	if (e != GYM_OK && e != GYM_ENOTFOUND)
		return channel_upstream(pay, ch, e);
	return gym_attempt_end(pay->db, a, old, "superseded", NULL, NULL);
}

enum gym_err
gym_ali_trade_parse(const char *s, enum gym_trade *t)
{
	if (s != NULL && strcmp(s, "QR") == 0)
		*t = GYM_TRADE_NATIVE;
	else if (s != NULL && strcmp(s, "PAGE") == 0)
		*t = GYM_TRADE_PAGE;
	else if (s != NULL && strcmp(s, "WAP") == 0)
		*t = GYM_TRADE_WAP;
	else
		return GYM_EINVAL;
	return GYM_OK;
}

int
gym_return_url_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > GYM_RETURN_URL_MAX)
		return 0;
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* The attempt's trade_type as the database names it (migration 0013):
 * WeChat's JSAPI and NATIVE, Alipay's QR, PAGE and WAP. */
static const char *
trade_name(const char *method, enum gym_trade t)
{
	switch (t) {
	case GYM_TRADE_JSAPI:
		return "JSAPI";
	case GYM_TRADE_PAGE:
		return "PAGE";
	case GYM_TRADE_WAP:
		return "WAP";
	case GYM_TRADE_NATIVE:
	default:
		return strcmp(method, GYM_CHANNEL_ALIPAY) == 0 ? "QR" : "NATIVE";
	}
}

struct prepay_req {
	const char *method;		/* the channel: payment_method */
	enum gym_trade trade;
	const char *return_url;		/* PAGE, WAP; may be NULL */
};

static enum gym_err
prepay_gated(struct gym_pay *pay, struct gym_channel *ch, const struct gym_actor *a,
    long long user_id, struct gym_order *o, const struct prepay_req *rq, int64_t te,
    struct gym_prepay *out)
{
	const char *tt = trade_name(rq->method, rq->trade);
	char openid[160], otn[GYM_OUT_TRADE_NO_LEN], old[GYM_OUT_TRADE_NO_LEN];
	struct gym_channel_payment p = { otn, rq->trade, NULL, o->amount_fen, te,
	    rq->return_url };
	enum gym_err e;

	if ((e = gym_attempt_next(pay->db, o, tt, otn, old)) != GYM_OK)
		return e;
	/* another trade type or channel: a channel takes one payment per
	 * out_trade_no, so the new attempt has its own, and the one it
	 * replaces is closed first (at its own channel) so the order can
	 * never be paid twice */
	if (old[0] != '\0' && (e = supersede(pay, a, old)) != GYM_OK)
		return e;
	if (rq->trade == GYM_TRADE_JSAPI &&
	    (e = gym_user_openid(pay->db, user_id, openid, sizeof(openid))) != GYM_OK)
		return e;
	p.payer_id = rq->trade == GYM_TRADE_JSAPI ? openid : NULL;
	if ((e = gym_channel_pay(ch, &p, &out->pay_params)) != GYM_OK)
		return channel_upstream(pay, ch, e);
	snprintf(o->out_trade_no, sizeof(o->out_trade_no), "%s", otn);
	snprintf(o->payment_method, sizeof(o->payment_method), "%s", rq->method);
	return gym_order_record_prepay_on(pay->db, a, o->order_id, rq->method, otn, tt,
	    rq->trade == GYM_TRADE_JSAPI ? out->pay_params.prepay_id : NULL,
	    rq->trade == GYM_TRADE_NATIVE ? out->pay_params.code_url : NULL, te);
}

static enum gym_err
prepay(struct gym_pay *pay, const struct gym_actor *a, long long user_id,
    const char *order_id, const struct prepay_req *rq, struct gym_prepay *out)
{
	struct gym_channel *ch;
	struct gym_order *o = &out->order;
	struct gym_gate g;
	int64_t te;
	enum gym_err e;

	pay->upstream[0] = '\0';
	memset(out, 0, sizeof(*out));
	out->trade = rq->trade;
	e = gym_order_prepare_pay(pay->db, a, user_id, order_id, o);
	if (e == GYM_E_ORDER_ALREADY_PAID)
		return GYM_E_ORDER_NOT_PAYABLE;
	if (e != GYM_OK)
		return e;
	/* the channel's time_expire: the payable deadline, the same on every
	 * retry and on every channel (a product has no seat: the order's) */
	te = o->wx_time_expire != 0 ? o->wx_time_expire :
	    o->has_reservation ? o->res.expires_at : o->expires_at;
	/* parameters the channel would refuse are never served */
	if (te <= gym_now_us())
		return GYM_E_ORDER_NOT_PAYABLE;
	e = gym_channels_get(&pay->channels, pay->cfg, rq->method, &ch);
	if (e == GYM_ENOTFOUND)		/* not configured on this host */
		return upstream(pay, "CHANNEL_NOT_AVAILABLE", GYM_EUPSTREAM);
	if (e != GYM_OK)
		return e;
	/* one channel-calling request per parent, within the worker budget */
	if ((e = gym_gate_enter(pay->db, pay->cfg, user_id, &g)) != GYM_OK)
		return e;
	e = prepay_gated(pay, ch, a, user_id, o, rq, te, out);
	gym_gate_leave(pay->db, &g);
	return e;
}

enum gym_err
gym_checkout_prepay(struct gym_pay *pay, const struct gym_actor *a, long long user_id,
    const char *order_id, enum gym_trade trade, struct gym_prepay *out)
{
	const struct prepay_req rq = { GYM_CHANNEL_WECHAT, trade, NULL };

	if (trade != GYM_TRADE_JSAPI && trade != GYM_TRADE_NATIVE)
		return GYM_EINVAL;
	return prepay(pay, a, user_id, order_id, &rq, out);
}

enum gym_err
gym_checkout_prepay_alipay(struct gym_pay *pay, const struct gym_actor *a, long long user_id,
    const char *order_id, enum gym_trade trade, const char *return_url, struct gym_prepay *out)
{
	const struct prepay_req rq = { GYM_CHANNEL_ALIPAY, trade, trade == GYM_TRADE_NATIVE ?
	    NULL : return_url };

	if (trade == GYM_TRADE_JSAPI || (return_url != NULL && !gym_return_url_ok(return_url)))
		return GYM_EINVAL;
	return prepay(pay, a, user_id, order_id, &rq, out);
}

enum gym_err
gym_checkout_qr_png(struct gym_pay *pay, long long user_id, const char *order_id,
    unsigned char **png, size_t *len)
{
	struct gym_order o;
	enum gym_err e;

	if ((e = gym_order_get(pay->db, user_id, order_id, &o)) != GYM_OK)
		return e;
	if (o.status != GYM_ORDER_PENDING || o.code_url[0] == '\0' ||
	    (o.wx_time_expire != 0 && o.wx_time_expire <= gym_now_us()))
		return GYM_E_ORDER_NOT_PAYABLE;
	return gym_qr_png(o.code_url, 6, png, len);
}

/* Ask the channel about one attempt and apply its answer; best effort (a
 * failure is the job's to retry), so nothing is returned. */
static void
reconcile_one(struct gym_pay *pay, const char *out_trade_no)
{
	struct gym_channel *ch;
	char outcome[32];

	if (gym_channels_for_trade(&pay->channels, pay->db, pay->cfg, out_trade_no,
	    &ch) != GYM_OK || gym_reconcile_order(pay->db, ch, pay->cfg, out_trade_no,
	    outcome, sizeof(outcome)) != GYM_OK)
		gym_log_infox("could not reconcile %s with its channel", out_trade_no);
}

enum gym_err
gym_checkout_cancel(struct gym_pay *pay, const struct gym_actor *a, long long user_id,
    const char *order_id, struct gym_order *o)
{
	struct gym_channel *ch;
	struct gym_gate g;
	enum gym_err e;

	pay->upstream[0] = '\0';
	if ((e = gym_order_cancel(pay->db, a, user_id, order_id, o)) != GYM_OK)
		return e;
	if (o->trade_type[0] == '\0')
		return GYM_OK;			/* no channel ever heard of it */
	if (gym_channels_for_trade(&pay->channels, pay->db, pay->cfg, o->out_trade_no,
	    &ch) != GYM_OK || gym_gate_enter(pay->db, pay->cfg, user_id, &g) != GYM_OK)
		return GYM_OK;			/* the job closes it */
	gym_close_attempt(pay->db, ch, pay->cfg, a, o->out_trade_no);
	gym_gate_leave(pay->db, &g);
	return GYM_OK;
}

enum gym_err
gym_checkout_confirm(struct gym_pay *pay, long long user_id, const char *order_id,
    struct gym_booking *b)
{
	struct gym_order o;
	struct gym_gate g;
	enum gym_err e;
	int claimed = 1;

	pay->upstream[0] = '\0';
	e = gym_booking_get(pay->db, user_id, order_id, b);
	if (e != GYM_E_PAYMENT_PENDING)
		return e;
	/* ask WeChat once (the notification may not have arrived yet), and
	 * about one order at most once every wx.query_spacing_s: within it
	 * the database's answer stands */
	if ((e = gym_order_get(pay->db, user_id, order_id, &o)) != GYM_OK)
		return e;
	if (pay->cfg->wx_query_spacing_s > 0 && (e = gym_gate_query_claim(pay->db,
	    o.order_id, pay->cfg->wx_query_spacing_s, &claimed)) != GYM_OK)
		return e;
	if (!claimed)
		return GYM_E_PAYMENT_PENDING;
	if ((e = gym_gate_enter(pay->db, pay->cfg, user_id, &g)) != GYM_OK)
		return e;
	reconcile_one(pay, o.out_trade_no);
	gym_gate_leave(pay->db, &g);
	return gym_booking_get(pay->db, user_id, order_id, b);
}

enum gym_err
gym_checkout_refund(struct gym_pay *pay, const struct gym_actor *a, const char *order_id,
    const char *reason, long long operator_id, struct gym_refund *f, int *created)
{
	return gym_checkout_refund_part(pay, a, order_id, reason, operator_id, 0, f, created);
}

enum gym_err
gym_checkout_refund_part(struct gym_pay *pay, const struct gym_actor *a, const char *order_id,
    const char *reason, long long operator_id, int amount_fen, struct gym_refund *f,
    int *created)
{
	enum gym_err e;

	pay->upstream[0] = '\0';
	if ((e = gym_refund_request_part(pay->db, a, order_id, reason, "operator", operator_id,
	    amount_fen, f, created)) != GYM_OK)
		return e;
	if (f->status != GYM_REFUND_PENDING)
		return GYM_OK;			/* a repeat of one already sent */
	/* the channel outside the transaction; a failure is the job's to retry */
	(void)gym_refund_send(pay->db, &pay->channels, pay->cfg, a, f->out_refund_no, f);
	return GYM_OK;
}

enum gym_err
gym_checkout_refund_amount(struct gym_pay *pay, const struct gym_actor *a, const char *order_id,
    const char *reason, long long amount_fen, long long operator_id, struct gym_refund *f,
    int *created)
{
	struct gym_order o;
	enum gym_err e;

	pay->upstream[0] = '\0';
	if ((e = gym_order_get(pay->db, 0, order_id, &o)) != GYM_OK)
		return e;
	if (o.schedule_id != 0)		/* a trial: whole, or in parts (refunds.c) */
		return gym_checkout_refund_part(pay, a, order_id, reason, operator_id,
		    (int)amount_fen, f, created);
	if ((e = gym_product_refund_request(pay->db, a, order_id, reason, amount_fen,
	    operator_id, f, created)) != GYM_OK)
		return e;
	if (f->status != GYM_REFUND_PENDING)
		return GYM_OK;
	(void)gym_refund_send(pay->db, &pay->channels, pay->cfg, a, f->out_refund_no, f);
	return GYM_OK;
}

enum gym_err
gym_checkout_login(struct gym_pay *pay, const char *code, long long *user_id)
{
	struct gym_wx_client *wx;
	struct gym_gate g;
	char openid[160];
	enum gym_err e;

	pay->upstream[0] = '\0';
	if (pay->mp == NULL && (e = gym_wx_client_new(pay->cfg, &pay->mp)) != GYM_OK)
		return e;
	wx = pay->mp;
	/* no user yet: the worker budget only */
	if ((e = gym_gate_enter(pay->db, pay->cfg, 0, &g)) != GYM_OK)
		return e;
	e = gym_wx_code2session(wx, code, openid, sizeof(openid));
	gym_gate_leave(pay->db, &g);
	if (e != GYM_OK)
		return upstream(pay, gym_wx_last_error(wx)->code, e);
	return gym_user_login(pay->db, openid, user_id);
}
