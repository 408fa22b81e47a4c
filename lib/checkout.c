/*
 * checkout.c: the payment use-cases (see checkout.h).  Each one is a short
 * sequence over the domain modules (orders.c, holds.c, refunds.c,
 * reconcile.c) and the channel client (wxpay.c); the rules live in those
 * modules and in this file, never in a door.
 */
#include <stdio.h>
#include <string.h>

#include "attempts.h"
#include "checkout.h"
#include "log.h"
#include "qrpng.h"
#include "reconcile.h"
#include "upstream_gate.h"

enum gym_err
gym_pay_client(struct gym_pay *pay, struct gym_wx_client **out)
{
	enum gym_err e;

	if (pay->wx == NULL && (e = gym_wx_client_new(pay->cfg, &pay->wx)) != GYM_OK)
		return e;
	*out = pay->wx;
	return GYM_OK;
}

void
gym_pay_release(struct gym_pay *pay)
{
	gym_wx_client_free(pay->wx);
	pay->wx = NULL;
}

/* Keep the channel's error code for the answer when e says it failed. */
static enum gym_err
upstream(struct gym_pay *pay, enum gym_err e)
{
	const struct gym_wx_error *we;

	if ((e == GYM_EUPSTREAM || e == GYM_ETIMEOUT) && pay->wx != NULL &&
	    (we = gym_wx_last_error(pay->wx)) != NULL)
		snprintf(pay->upstream, sizeof(pay->upstream), "%s", we->code);
	return e;
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
    struct gym_order *o, int *created)
{
	struct gym_audit au = { "order", "amount_mismatch", NULL, 0, 0, NULL, NULL, NULL };

	pay->upstream[0] = '\0';
	if (!gym_price_client_matches(amount, GYM_PRICE_FEN)) {
		if (gym_audit_record(pay->db, a, &au) != GYM_OK)
			gym_log_warnx("could not audit an amount mismatch");
		return GYM_E_AMOUNT_MISMATCH;
	}
	return gym_order_create(pay->db, a, user_id, schedule_id, reservation_id, o, created);
}

/*
 * Close the superseded attempt old at WeChat and record it superseded.
 * Paid meanwhile: the payment is applied and the order is no longer
 * payable.  Any other failure: the switch cannot be made now (the client
 * may retry).
 */
static enum gym_err
supersede(struct gym_pay *pay, struct gym_wx_client *wx, const struct gym_actor *a,
    const char *old)
{
	char outcome[32];
	enum gym_err e;

	e = gym_wx_close(wx, old);
	if (e == GYM_ECONFLICT) {
		if (gym_reconcile_order(pay->db, wx, pay->cfg, old, outcome,
		    sizeof(outcome)) != GYM_OK)
			gym_log_infox("could not reconcile attempt %s with WeChat", old);
		return GYM_E_ORDER_NOT_PAYABLE;
	}
	if (e != GYM_OK && e != GYM_ENOTFOUND)
		return upstream(pay, e);
	return gym_attempt_end(pay->db, a, old, "superseded", NULL, NULL);
}

static enum gym_err
prepay_gated(struct gym_pay *pay, struct gym_wx_client *wx, const struct gym_actor *a,
    long long user_id, struct gym_order *o, enum gym_trade trade, int64_t te,
    struct gym_prepay *out)
{
	const char *tt = trade == GYM_TRADE_NATIVE ? "NATIVE" : "JSAPI";
	char openid[160], otn[GYM_OUT_TRADE_NO_LEN], old[GYM_OUT_TRADE_NO_LEN];
	enum gym_err e;

	if ((e = gym_attempt_next(pay->db, o, tt, otn, old)) != GYM_OK)
		return e;
	/* another trade type: WeChat takes one per out_trade_no, so the new
	 * attempt has its own, and the one it replaces is closed first so the
	 * order can never be paid twice */
	if (old[0] != '\0' && (e = supersede(pay, wx, a, old)) != GYM_OK)
		return e;
	if (trade == GYM_TRADE_NATIVE)
		e = gym_wx_prepay_native(wx, otn, o->amount_fen, te, out->code_url,
		    sizeof(out->code_url));
	else if ((e = gym_user_openid(pay->db, user_id, openid, sizeof(openid))) == GYM_OK)
		e = gym_wx_prepay_jsapi(wx, otn, openid, o->amount_fen, te, &out->pay_params);
	if (e != GYM_OK)
		return upstream(pay, e);
	snprintf(o->out_trade_no, sizeof(o->out_trade_no), "%s", otn);
	return gym_order_record_prepay(pay->db, a, o->order_id, otn, tt,
	    trade == GYM_TRADE_NATIVE ? NULL : out->pay_params.prepay_id,
	    trade == GYM_TRADE_NATIVE ? out->code_url : NULL, te);
}

enum gym_err
gym_checkout_prepay(struct gym_pay *pay, const struct gym_actor *a, long long user_id,
    const char *order_id, enum gym_trade trade, struct gym_prepay *out)
{
	struct gym_wx_client *wx;
	struct gym_order *o = &out->order;
	struct gym_gate g;
	int64_t te;
	enum gym_err e;

	pay->upstream[0] = '\0';
	memset(out, 0, sizeof(*out));
	out->trade = trade;
	e = gym_order_prepare_pay(pay->db, a, user_id, order_id, o);
	if (e == GYM_E_ORDER_ALREADY_PAID)
		return GYM_E_ORDER_NOT_PAYABLE;
	if (e != GYM_OK)
		return e;
	/* WeChat's time_expire: the payable deadline, the same on every retry */
	te = o->wx_time_expire != 0 ? o->wx_time_expire : o->res.expires_at;
	if ((e = gym_pay_client(pay, &wx)) != GYM_OK)
		return e;
	/* one WeChat-calling request per parent, within the worker budget */
	if ((e = gym_gate_enter(pay->db, pay->cfg, user_id, &g)) != GYM_OK)
		return e;
	e = prepay_gated(pay, wx, a, user_id, o, trade, te, out);
	gym_gate_leave(pay->db, &g);
	return e;
}

enum gym_err
gym_checkout_qr_png(struct gym_pay *pay, long long user_id, const char *order_id,
    unsigned char **png, size_t *len)
{
	struct gym_order o;
	enum gym_err e;

	if ((e = gym_order_get(pay->db, user_id, order_id, &o)) != GYM_OK)
		return e;
	if (o.status != GYM_ORDER_PENDING || o.code_url[0] == '\0')
		return GYM_E_ORDER_NOT_PAYABLE;
	return gym_qr_png(o.code_url, 6, png, len);
}

/* Ask WeChat about one attempt and apply its answer; best effort (a
 * failure is the job's to retry), so nothing is returned. */
static void
reconcile_one(struct gym_pay *pay, const char *out_trade_no)
{
	struct gym_wx_client *wx;
	char outcome[32];

	if (gym_pay_client(pay, &wx) != GYM_OK ||
	    gym_reconcile_order(pay->db, wx, pay->cfg, out_trade_no, outcome,
	    sizeof(outcome)) != GYM_OK)
		gym_log_infox("could not reconcile %s with WeChat", out_trade_no);
}

enum gym_err
gym_checkout_cancel(struct gym_pay *pay, const struct gym_actor *a, long long user_id,
    const char *order_id, struct gym_order *o)
{
	struct gym_wx_client *wx;
	struct gym_gate g;
	enum gym_err e;

	pay->upstream[0] = '\0';
	if ((e = gym_order_cancel(pay->db, a, user_id, order_id, o)) != GYM_OK)
		return e;
	if (o->prepay_id[0] == '\0' && o->code_url[0] == '\0')
		return GYM_OK;			/* WeChat never heard of it */
	if (gym_pay_client(pay, &wx) != GYM_OK ||
	    gym_gate_enter(pay->db, pay->cfg, user_id, &g) != GYM_OK)
		return GYM_OK;			/* the job closes it */
	gym_close_attempt(pay->db, wx, pay->cfg, a, o->out_trade_no);
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
	struct gym_wx_client *wx;
	enum gym_err e;

	pay->upstream[0] = '\0';
	if ((e = gym_refund_request(pay->db, a, order_id, reason, "operator", operator_id, f,
	    created)) != GYM_OK)
		return e;
	if (f->status != GYM_REFUND_PENDING)
		return GYM_OK;			/* a repeat of one already sent */
	/* WeChat outside the transaction; a failure is the job's to retry */
	if (gym_pay_client(pay, &wx) != GYM_OK) {
		gym_log_warnx("no WeChat Pay client: refund %s is sent by the job",
		    f->out_refund_no);
		return GYM_OK;
	}
	(void)gym_refund_send(pay->db, wx, pay->cfg, a, f->out_refund_no, f);
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
	if ((e = gym_pay_client(pay, &wx)) != GYM_OK)
		return e;
	/* no user yet: the worker budget only */
	if ((e = gym_gate_enter(pay->db, pay->cfg, 0, &g)) != GYM_OK)
		return e;
	e = gym_wx_code2session(wx, code, openid, sizeof(openid));
	gym_gate_leave(pay->db, &g);
	if (e != GYM_OK)
		return upstream(pay, e);
	return gym_user_login(pay->db, openid, user_id);
}
