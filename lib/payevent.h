/*
 * payevent.h: a payment event whatever channel it came from.  Each channel
 * fills one from what it verified (WeChat: its decrypted notification or
 * query answer; Alipay: its verified notification or query answer) and
 * checks that it is ours (WeChat: appid and mchid; Alipay: app_id and
 * seller_id) and its amount (integer fen, CNY); one apply path
 * (gym_payment_apply, exactly once under the order's lock) takes it.
 */
#ifndef GYM_PAYEVENT_H
#define GYM_PAYEVENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "booking.h"
#include "channel.h"
#include "config.h"

struct gym_pay_event {
	const char *channel;		/* payment_method: "wechat", "alipay" */
	const char *out_trade_no;
	const char *trade_id;		/* the channel's id of the payment */
	const char *state;		/* neutral word: SUCCESS, CLOSED,
					 * PAYERROR, NOTPAY, REVOKED, REFUND */
	const char *state_desc;		/* the channel's words, or NULL */
	const char *trade_type;		/* or NULL */
	long long amount_fen;		/* the order's total */
	long long payer_fen;		/* what the payer paid; -1 not said */
	const char *currency;		/* "CNY" (checked by the fill) */
	const char *paid_at;		/* RFC 3339, or NULL */
	const char *app_id, *merchant_id;	/* as the channel said them */
	char *payload;			/* masked JSON text, owned */
	char paid_buf[40];
	const char *why;		/* not NULL: refused by the fill */
};

/* WeChat's transaction document (gym_txn_parse's checks) into ev, its
 * strings borrowed from txn.  ev->why says why it is refused, if it is.
 * GYM_ENOMEM only; free with gym_pay_event_clear. */
enum gym_err gym_pay_event_wechat(const cJSON *txn, const struct gym_config *,
    struct gym_pay_event *ev);
/* Alipay's verified trade (a notification: source "notify", which must
 * name our app_id, and our seller_id when configured; or a query answer)
 * into ev, its strings borrowed from t: total_amount strict yuan as fen,
 * trans_currency CNY when said, trade_status mapped to the neutral word
 * (TRADE_SUCCESS and TRADE_FINISHED pay, TRADE_CLOSED closes).  As above. */
enum gym_err gym_pay_event_alipay(const struct gym_channel_trade *t,
    const struct gym_config *, const char *source, struct gym_pay_event *ev);
/* Apply ev (source "notify" or "query"): refused by its fill, it is
 * audited (payment_rejected) and GYM_EINVAL; else gym_payment_apply. */
enum gym_err gym_pay_event_apply(struct gym_db *, const struct gym_actor *,
    const struct gym_pay_event *ev, const char *source, char *outcome, size_t len);
void gym_pay_event_clear(struct gym_pay_event *ev);

#endif
