/*
 * reconcile.h: turning what WeChat says about a transaction (a decrypted
 * notification or a query answer, the channel's verified document) into
 * gym_payment_apply, and asking the payment channel (channel.h) about an
 * attempt whose notification has not come.
 */
#ifndef GYM_RECONCILE_H
#define GYM_RECONCILE_H

#include <cjson/cJSON.h>

#include "booking.h"
#include "config.h"
#include "channel.h"

/* What WeChat says about a transaction, checked strictly into t (its
 * strings borrowed from txn): out_trade_no and trade_state present, appid
 * and mchid present and equal to the configured ones, amount.currency
 * "CNY", amount.total (and payer_total when sent) a whole number of fen in
 * range.  NULL when it holds, else why not.  No I/O. */
const char *gym_txn_parse(const cJSON *txn, const struct gym_config *, struct gym_wx_txn *t);
/* gym_txn_parse into a neutral event (payevent.h), then its one apply
 * path.  GYM_EINVAL when
 * the transaction is not ours or lacks fields (audited). */
enum gym_err gym_txn_apply_json(struct gym_db *, const struct gym_actor *,
    const struct gym_config *, const cJSON *txn, const char *source,
    char *outcome, size_t len);
/* Query the attempt's channel ch for one attempt (its out_trade_no) and
 * apply the answer (paid, closed, payment error) as a neutral event
 * (payevent.h) filled by that channel's checks.  outcome as
 * gym_payment_apply's, or "pending" (also for a trade Alipay does not
 * know yet: a QR code not scanned). */
enum gym_err gym_reconcile_order(struct gym_db *, struct gym_channel *,
    const struct gym_config *, const char *out_trade_no, char *outcome, size_t len);
/* Close an attempt at its channel ch: closed, it is recorded closed; paid
 * meanwhile, the payment is fetched and applied; any other failure leaves
 * it for a later job pass.  Best effort: nothing to return. */
void gym_close_attempt(struct gym_db *, struct gym_channel *, const struct gym_config *,
    const struct gym_actor *, const char *out_trade_no);

/* The job's claims, committed at once (FOR UPDATE SKIP LOCKED), so two
 * job processes never work on the same order: pending orders with a
 * prepay that are due a question by the schedule (wx.reconcile_schedule:
 * points seconds after the prepay, ascending; after the last, every last
 * seconds), least recently asked first (so
 * a backlog of unpaid orders cannot starve a newer one), and ended orders
 * whose WeChat order is still open.  ids receives up to max out_trade_nos
 * of the orders' current attempts (33 bytes each). */
enum gym_err gym_reconcile_claim(struct gym_db *, const int *schedule, int points,
    char (*ids)[33], int max, int *n);
/* A close claim is a lease of lease_s seconds: while the order's attempt
 * is still open after it, the order is claimed again. */
enum gym_err gym_close_claim(struct gym_db *, int lease_s, char (*ids)[33], int max, int *n);
/* A close that failed for a passing reason: let a later run retry it. */
enum gym_err gym_close_retry_later(struct gym_db *, const char *out_trade_no);
/* One job pass of both, each attempt through its own channel: returns how
 * many orders were looked at. */
int gym_reconcile_run(struct gym_db *, struct gym_channels *, const struct gym_config *);

#endif
