/*
 * payevent.c: see payevent.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "payevent.h"
#include "reconcile.h"

static int
same(const char *got, const char *want)
{
	return got != NULL && want != NULL && *want != '\0' && strcmp(got, want) == 0;
}

/* doc's text, masked (no payer id lands in a table); NULL on ENOMEM. */
static char *
masked(const cJSON *doc, const char *const *drop)
{
	cJSON *c = cJSON_Duplicate(doc, 1);
	char *text = NULL, *m = NULL;

	if (c == NULL)
		return NULL;
	for (; drop != NULL && *drop != NULL; drop++)
		cJSON_DeleteItemFromObjectCaseSensitive(c, *drop);
	if ((text = cJSON_PrintUnformatted(c)) != NULL)
		m = gym_json_mask(text);
	cJSON_free(text);
	cJSON_Delete(c);
	return m;
}

enum gym_err
gym_pay_event_wechat(const cJSON *txn, const struct gym_config *cfg, struct gym_pay_event *ev)
{
	struct gym_wx_txn t;

	memset(ev, 0, sizeof(*ev));
	ev->channel = "wechat";
	ev->currency = "CNY";
	if ((ev->why = gym_txn_parse(txn, cfg, &t)) != NULL)
		return GYM_OK;
	ev->out_trade_no = t.out_trade_no;
	ev->trade_id = t.transaction_id;
	ev->state = t.trade_state;
	ev->state_desc = t.trade_state_desc;
	ev->trade_type = t.trade_type;
	ev->amount_fen = t.total;
	ev->payer_fen = t.payer_total;
	ev->paid_at = t.success_time;
	ev->app_id = t.appid;
	ev->merchant_id = t.mchid;
	return (ev->payload = masked(txn, NULL)) != NULL ? GYM_OK : GYM_ENOMEM;
}

/* The neutral word for Alipay's trade state. */
static const char *
ali_word(const struct gym_channel_trade *t)
{
	switch (t->state) {
	case GYM_CHANNEL_PAID:
		return "SUCCESS";
	case GYM_CHANNEL_CLOSED:
		return "CLOSED";
	case GYM_CHANNEL_REFUNDED:
		return "REFUND";
	case GYM_CHANNEL_FAILED:
		return "PAYERROR";
	default:
		return "NOTPAY";	/* WAIT_BUYER_PAY, or a word we do not know */
	}
}

enum gym_err
gym_pay_event_alipay(const struct gym_channel_trade *t, const struct gym_config *cfg,
    const char *source, struct gym_pay_event *ev)
{
	static const char *const drop[] = { "buyer_id", "buyer_user_id", "buyer_open_id",
	    "buyer_logon_id", "sign", NULL };
	const char *cur = gym_json_string(t->doc, "trans_currency");
	const char *seller = gym_json_string(t->doc, "seller_id");
	int notify = strcmp(source, "notify") == 0;

	memset(ev, 0, sizeof(*ev));
	ev->channel = "alipay";
	ev->currency = "CNY";
	ev->out_trade_no = t->out_trade_no[0] != '\0' ? t->out_trade_no : NULL;
	ev->trade_id = t->transaction_id;
	ev->state = ali_word(t);
	ev->state_desc = t->state_code;
	ev->amount_fen = t->amount_fen;
	ev->payer_fen = t->payer_fen;
	ev->app_id = gym_json_string(t->doc, "app_id");
	ev->merchant_id = seller;
	if (ev->out_trade_no == NULL || t->state_code[0] == '\0')
		ev->why = "fields missing";
	/* a query answer is Alipay's signed answer to our own request; a
	 * notification must say it is for us */
	else if ((notify || ev->app_id != NULL) && !same(ev->app_id, cfg->ali_app_id))
		ev->why = "app_id does not match";
	else if (cfg->ali_seller_id != NULL && *cfg->ali_seller_id != '\0' &&
	    (notify || seller != NULL) && !same(seller, cfg->ali_seller_id))
		ev->why = "seller_id does not match";
	else if (cur != NULL && strcmp(cur, "CNY") != 0)
		ev->why = "currency is not CNY";
	else if (t->amount_fen < 0)
		ev->why = "total_amount is not a whole number of fen";
	if (ev->why != NULL)
		return GYM_OK;
	if (t->success_us > 0) {
		time_t s = (time_t)(t->success_us / 1000000);
		struct tm tm;

		if (gmtime_r(&s, &tm) != NULL)
			strftime(ev->paid_buf, sizeof(ev->paid_buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		ev->paid_at = ev->paid_buf[0] != '\0' ? ev->paid_buf : NULL;
	}
	return (ev->payload = masked(t->doc, drop)) != NULL ? GYM_OK : GYM_ENOMEM;
}

static void
audit_refused(struct gym_db *db, const struct gym_actor *a, const char *why, const char *source)
{
	struct gym_audit au = { "payment", "payment_rejected", NULL, 0, 0, NULL, NULL, NULL };
	cJSON *o = cJSON_CreateObject();
	char *snap = NULL;

	if (o != NULL && cJSON_AddStringToObject(o, "reason", why) != NULL &&
	    cJSON_AddStringToObject(o, "source", source) != NULL)
		snap = cJSON_PrintUnformatted(o);
	au.response_snapshot = snap != NULL ? snap : "{}";
	if (gym_audit_record(db, a, &au) != GYM_OK)
		gym_log_warnx("could not audit a refused transaction");
	gym_log_warnx("transaction refused (%s): %s", source, why);
	cJSON_free(snap);
	cJSON_Delete(o);
}

enum gym_err
gym_pay_event_apply(struct gym_db *db, const struct gym_actor *a, const struct gym_pay_event *ev,
    const char *source, char *outcome, size_t len)
{
	struct gym_wx_txn t;

	if (ev->why != NULL) {
		audit_refused(db, a, ev->why, source);
		snprintf(outcome, len, "rejected");
		return GYM_EINVAL;
	}
	memset(&t, 0, sizeof(t));
	t.out_trade_no = ev->out_trade_no;
	t.transaction_id = ev->trade_id;
	t.trade_state = ev->state;
	t.trade_state_desc = ev->state_desc;
	t.trade_type = ev->trade_type;
	t.appid = ev->app_id;
	t.mchid = ev->merchant_id;
	t.total = ev->amount_fen;
	t.payer_total = ev->payer_fen;
	t.success_time = ev->paid_at;
	t.payload = ev->payload;
	t.source = source;
	return gym_payment_apply(db, a, &t, outcome, len);
}

void
gym_pay_event_clear(struct gym_pay_event *ev)
{
	free(ev->payload);
	ev->payload = NULL;
}
