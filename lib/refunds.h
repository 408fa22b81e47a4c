/*
 * refunds.h: refunds of paid orders (the whole 200.00, or parts of it one
 * after another that add up to it at most: gym_refund_request_part), asked for
 * by an operator or by the system (a late payment without a seat, a second
 * trial), sent to WeChat under a stable out_refund_no, and finished by
 * WeChat's refund notification or by the job's query.
 *
 * Life of a refund:
 *   pending     recorded here; WeChat not yet sure to have it
 *   processing  WeChat accepted it
 *   success     the money is back: order 'refunded', booking cancelled,
 *               the seat free again when the class has not started
 *   abnormal    WeChat could not pay it out (the payer's card is closed
 *               or frozen): the operator finishes it in the merchant
 *               platform; the job keeps asking WeChat for the outcome
 *   closed      WeChat closed it: nothing was paid out; an order that was
 *               'paid' is 'paid' again and may be refunded anew (the next
 *               refund gets the next out_refund_no)
 * An order has at most one refund in flight (pending, processing,
 * abnormal: a partial unique index); successful ones add up to its amount
 * at most.  Every function runs its own transactions; every status change
 * writes its audit rows in the same transaction.
 */
#ifndef GYM_REFUNDS_H
#define GYM_REFUNDS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "booking.h"
#include "config.h"
#include "channel.h"

/* The reason of automatic refunds (a late payment with no seat left, or
 * a second trial of one user). */
#define GYM_REFUND_AUTO_REASON "自动退款：名额已满或重复预约"
/* What an operator should do next, per outcome. */
#define GYM_REFUND_NEXT_ABNORMAL "退款异常：用户银行卡作废或冻结，请在商户平台发起异常退款处理"
#define GYM_REFUND_NEXT_CLOSED "退款关闭：请核实后重新发起退款"
#define GYM_REFUND_REASON_MAX 80	/* characters (WeChat's limit) */

struct gym_refund {
	long long id;
	char out_refund_no[72];
	char order_id[33];
	char out_trade_no[33];		/* the order's paying attempt at WeChat */
	int attempt;
	int amount_fen;
	char reason[332];		/* up to 80 UTF-8 characters */
	char initiated_by[12];		/* "operator" or "system" */
	long long operator_id;		/* 0 for the system */
	enum gym_refund_status status;
	char wx_refund_id[72];
	char wx_status[16];		/* WeChat's last word, "" until one */
	char next_action[256];		/* "" unless abnormal or closed */
	char last_error[352];		/* the last failed create call, or "" */
	int64_t created_at, updated_at;
	int64_t completed_at;		/* 0 until success or closed */
	int order_fen;			/* what the order paid */
	int product;			/* 1: a product order (no class): refunds.h's
					 * partial refunds, products.h's reversal */
};

/*
 * Ask for the refund of order_id (one transaction, the order row locked):
 * - the order has a refund that is not closed: a request that repeats it
 *   (the same initiator, operator and reason: a retry, a double click),
 *   and any system request, gets that refund (*created 0); any other gets
 *   GYM_E_REFUND_IN_PROGRESS, or GYM_E_NOT_REFUNDABLE once it succeeded;
 * - else the order must be 'paid' or 'refunding' (money to give back) and
 *   paid at WeChat: a new 'pending' refund with the next out_refund_no
 *   (*created 1), and a 'paid' order becomes 'refunding'; otherwise
 *   GYM_E_NOT_REFUNDABLE.
 * initiated_by is "operator" (operator_id > 0) or "system" (operator_id
 * 0).  reason: 1 to 80 characters, else GYM_EINVAL.  GYM_ENOTFOUND for an
 * unknown order.  Nothing is sent to WeChat here: call gym_refund_send.
 */
enum gym_err gym_refund_request(struct gym_db *, const struct gym_actor *,
    const char *order_id, const char *reason, const char *initiated_by,
    long long operator_id, struct gym_refund *out, int *created);
/*
 * The same for part of the order (issue 16): amount_fen 1..20000, or 0 for
 * what is left (gym_refund_request: 0).  Successful refunds add up to the
 * order's amount at most: more than what is left is GYM_EINVAL, nothing
 * left GYM_E_NOT_REFUNDABLE.  One refund is in flight per order at a time;
 * a part that succeeds puts the order back to 'paid' (its booking stands),
 * the one that completes the amount refunds it.  A request that repeats the
 * last successful refund (initiator, operator, reason, amount) gets it.
 * Only operators name an amount.
 */
enum gym_err gym_refund_request_part(struct gym_db *, const struct gym_actor *,
    const char *order_id, const char *reason, const char *initiated_by,
    long long operator_id, int amount_fen, struct gym_refund *out, int *created);

/*
 * Send a pending refund through its order's payment channel (the same
 * out_refund_no every time, so the channel makes it once) and apply the
 * answer; a refund that is no longer
 * pending is left alone.  On a failed call the refund stays pending with
 * the error in last_error (the job retries it) and the call's gym_err is
 * returned.  out (may be NULL) receives the refund as it is afterwards.
 */
enum gym_err gym_refund_send(struct gym_db *, struct gym_channels *,
    const struct gym_config *, const struct gym_actor *, const char *out_refund_no,
    struct gym_refund *out);

/*
 * Apply what WeChat says about a refund: a decrypted REFUND.* notification
 * (source "notify": mchid must be ours) or a Refund object from a create
 * or query answer (source "create" or "query").  Exactly once, under the
 * order's and the refund's row locks; a repeat changes nothing.  outcome
 * receives "processing", "success", "closed", "abnormal", "duplicate",
 * "ignored" (a final refund told something else), "unknown" or
 * "rejected".  GYM_ENOTFOUND for an out_refund_no that is not ours
 * (audited); GYM_EINVAL when the fields do not match the refund or the
 * merchant (audited); GYM_OK otherwise.
 */
enum gym_err gym_refund_apply_json(struct gym_db *, const struct gym_actor *,
    const struct gym_config *, const cJSON *refund, const char *source,
    char *outcome, size_t len);
/*
 * The same for a channel's neutral refund (channel.h): Alipay's refund
 * answers (alipay.trade.refund is synchronous: its 10000 is the refund's
 * success) and refund queries.  The amounts, where said, must be the
 * refund's and the order's.  gym_refund_apply_answer picks the one of ch:
 * WeChat's document (its merchant checked) or the neutral fields.
 */
enum gym_err gym_refund_apply_channel(struct gym_db *, const struct gym_actor *,
    const struct gym_channel_refund *, const char *source, char *outcome, size_t len);
enum gym_err gym_refund_apply_answer(struct gym_db *, const struct gym_actor *,
    const struct gym_config *, const struct gym_channel *, const struct gym_channel_refund *,
    const char *source, char *outcome, size_t len);

/* One refund by id, or by out_refund_no when id is 0. */
enum gym_err gym_refund_get(struct gym_db *, long long id, const char *out_refund_no,
    struct gym_refund *);

/*
 * Refunds, newest first by id: status ("processing" also lists pending
 * ones; NULL for any), order_id (NULL for any), created in [from, to) (0
 * for an open end), ids below before (0 from the newest).  Up to limit
 * into out (room for limit); *next is the cursor of the next page (the
 * last id of this one), 0 when this is the last page.
 */
struct gym_refund_filter {
	const char *status;
	const char *order_id;
	int64_t from, to;
	long long before;
	int limit;
};
enum gym_err gym_refund_list(struct gym_db *, const struct gym_refund_filter *,
    struct gym_refund *out, int *n, long long *next);

/* The status an operator sees: pending is shown as "processing". */
const char *gym_refund_public_status(const struct gym_refund *);

/*
 * refund_job.c: one job pass (returns how many refunds it worked on):
 * (a) orders in 'refunding' with no refund yet get a system refund, sent
 * at once; (b) pending refunds whose create call failed or never happened
 * are sent again (backoff from wx_reconcile_after_s up to an hour);
 * (c) processing refunds not heard of for wx_reconcile_after_s (abnormal
 * ones: ten times that) are queried and the answer applied.  Every claim
 * is committed (FOR UPDATE SKIP LOCKED) before WeChat is called, so jobs
 * on several hosts never work on one refund at once.
 */
int gym_refund_job_run(struct gym_db *, struct gym_channels *, const struct gym_config *);

/* The job's claims, each committed at once; ids receive up to max
 * order ids (a) or out_refund_nos (b, c), 72 bytes each.  (a) takes the
 * orders in the needs-attention queue (attention_reason) only when late_too. */
enum gym_err gym_refund_claim_orders(struct gym_db *, int late_too, char (*ids)[72], int max,
    int *n);
enum gym_err gym_refund_claim_send(struct gym_db *, int after_s, char (*ids)[72], int max,
    int *n);
enum gym_err gym_refund_claim_poll(struct gym_db *, int after_s, char (*ids)[72], int max,
    int *n);
/* Query the refund's channel about one refund and apply the answer. */
enum gym_err gym_refund_poll(struct gym_db *, struct gym_channels *,
    const struct gym_config *, const char *out_refund_no, char *outcome, size_t len);

#endif
