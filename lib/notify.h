/*
 * notify.h: messages to parents: WeChat subscribe messages about their
 * order (booking confirmed, payment failed, order cancelled, order expired
 * unpaid, refund done).
 *
 * A message is a parent_notifications row written by gym__notify_enqueue
 * inside the transaction of the change it tells about, so a change that
 * rolls back leaves no message and one that commits always has one (one
 * per order and kind; class_rescheduled one per order and change).  The sender (gym_notify_send_batch, run by the job
 * process) claims due rows with FOR UPDATE SKIP LOCKED, sends each outside
 * any transaction with the access token cached in wx_access_tokens, and
 * records every send in notification_attempts.
 *
 * At most once: a send begins with an attempt row whose outcome is
 * unknown (ok NULL) and ends by recording the outcome.  A row a later claim
 * finds with such an unfinished attempt (the sender died mid-send) is
 * marked failed ("outcome unknown"), never sent again: WeChat has no
 * idempotency key for subscribe messages, so a repeat could reach the
 * parent twice.  An answer from WeChat saying no (errcode or HTTP error)
 * and a transport failure are retried with backoff (notify_backoff_base_ms
 * * 2^attempts, at most 1 h) until notify_max_attempts; errcodes that no
 * retry can fix (40003 touser, 40037 template, 41030 page, 43101 no
 * subscription, 47003 data) end the row at once.  XXX: a timeout after
 * WeChat accepted a message is retried like any transport failure, so
 * that (rare) case can repeat a message.
 */
#ifndef GYM_NOTIFY_H
#define GYM_NOTIFY_H

#include <stddef.h>

#include "booking.h"
#include "config.h"
#include "db.h"
#include "gym.h"
#include "wxmp.h"

enum gym_notify_kind {
	GYM_NOTIFY_BOOKING_CONFIRMED,	/* wx.template_confirmed */
	GYM_NOTIFY_PAYMENT_FAILED,	/* wx.template_failed */
	GYM_NOTIFY_ORDER_CANCELLED,	/* wx.template_failed */
	GYM_NOTIFY_REFUND_DONE,		/* wx.template_refunded */
	GYM_NOTIFY_ORDER_EXPIRED,	/* wx.template_failed: unpaid at its deadline */
	GYM_NOTIFY_WAITLIST_OFFER,	/* wx.template_waitlist: a seat held for a waiting parent */
	GYM_NOTIFY_CLASS_RESCHEDULED,	/* wx.template_rescheduled: renamed or moved */
	GYM_NOTIFY_CLASS_CANCELLED,	/* wx.template_class_cancelled: by the gym */
	GYM_NOTIFY_EXPIRING,		/* wx.template_expiring: a membership or credits run
					 * out within 7 days (issue 15) */
	GYM_NOTIFY_PURCHASED,		/* wx.template_purchased: a membership (bought,
					 * renewed, upgraded) or class pack paid */
	GYM_NOTIFY__COUNT
};

/* The kind's name as stored ("booking_confirmed", ...), or NULL. */
const char *gym_notify_kind_name(enum gym_notify_kind);

/*
 * Set the templates this process enqueues with, from cfg; call once per
 * process before any transaction that may enqueue (gymd does it in every
 * worker and job process).  Each wx.template_* value is
 *   TEMPLATE_ID [FIELD...]
 * with the template's data keys in the order of the values we fill:
 *   template_confirmed: course name, class start, amount  (default thing1 time2 amount3)
 *   template_failed:    course name, what happened        (default thing1 phrase2)
 *   template_refunded:  course name, amount, reason       (default thing1 amount2 thing3)
 *   template_waitlist:  course name, class start, pay by   (default thing1 time2 time3)
 *   template_rescheduled: course name, new start          (default thing1 time2)
 *   template_class_cancelled: course name, reason         (default thing1 thing2)
 *   template_expiring:  product name, when it runs out    (default thing1 time2)
 *   template_purchased: product name, amount paid, valid until (default thing1 amount2 time3)
 * A product order (membership or class pack) is named by its product; its
 * refunds are told with template_refunded (product name, that refund's
 * amount, reason).  Every message is once per order, but a refund's
 * (refund_done), which is once per refund.
 * A value is cut to its key's limit (thing 20 characters, phrase 5, ...).
 * An unset or empty template turns its kinds off (nothing is enqueued).
 * GYM_EINVAL (logged; that template is off) for a malformed value.
 */
enum gym_err gym_notify_configure(const struct gym_config *);
/* 1 when the kind is on in this process. */
int gym_notify_enabled(enum gym_notify_kind);

/*
 * Internal to libgym: enqueue one message about order_id for its parent,
 * inside the caller's transaction (with its audit row).  detail is the
 * reason of a class's cancel (NULL: a default), unused otherwise.  GYM_OK
 * without a row when the kind is off or the order already has its message
 * of this kind; GYM_EINVAL for GYM_NOTIFY_REFUND_DONE (use
 * gym__notify_enqueue_refund).
 */
enum gym_err gym__notify_enqueue(struct gym_db *, const struct gym_actor *,
    enum gym_notify_kind, const char *order_id, const char *detail);
/* A refund's message (GYM_NOTIFY_REFUND_DONE): refund_id's amount and the
 * reason, once per refund (a second answer adds nothing). */
enum gym_err gym__notify_enqueue_refund(struct gym_db *, const struct gym_actor *,
    const char *order_id, long long refund_id, long long amount_fen, const char *reason);
/* The same for a waitlist offer (GYM_NOTIFY_WAITLIST_OFFER), which has no
 * order: one message per waitlist entry, naming the offer's hold and when
 * it lapses. */
enum gym_err gym__notify_enqueue_waitlist(struct gym_db *, const struct gym_actor *,
    long long waitlist_entry_id);

/* A claimed message, everything the send needs. */
struct gym_notice {
	long long id;
	char order_id[33];		/* "" for a waitlist offer */
	long long hold_id;		/* a waitlist offer's hold and class, else 0 */
	long long schedule_id;
	char kind[24];
	char template_id[129];
	char data[2048];		/* the data object, JSON text */
	char openid[129];		/* never log it */
	char claim[33];			/* the claim's token */
	int attempts;			/* sends recorded so far */
};

/*
 * Claim up to max due messages (pending, next_attempt_at <= now): each
 * gets this claim's token and is not due again for lease_s seconds.  One
 * transaction; rows other claimers hold are skipped, so concurrent claims
 * never return the same row.  A claimed row with an unfinished attempt is
 * marked failed (outcome unknown) and not returned.  out[max]; *n rows.
 */
enum gym_err gym_notify_claim(struct gym_db *, int max, int lease_s,
    struct gym_notice *out, int *n);
/* Begin one send: the row must still be pending under this claim (else
 * GYM_ECONFLICT: it was claimed again after the lease passed).  Writes the
 * unfinished attempt and gives the row lease_s more seconds. */
enum gym_err gym_notify_begin(struct gym_db *, const struct gym_notice *, int lease_s,
    long long *attempt_id);

/* What one send gave. */
struct gym_notify_outcome {
	int ok;
	int permanent;			/* no retry can help */
	int has_errcode;
	int errcode;			/* WeChat's errcode when has_errcode */
	const char *errmsg;		/* NULL when ok */
};
/*
 * Record a send's outcome: the attempt row, and the message sent, failed
 * (permanent, or the max_attempts-th failure) or pending again after the
 * backoff.  Status changes are audited.  *status (may be NULL) receives
 * the message's status ("sent", "failed", "pending"), or "" when the row
 * is no longer under this claim (only the attempt is recorded then).
 * n->attempts is updated.
 */
enum gym_err gym_notify_finish(struct gym_db *, struct gym_notice *, long long attempt_id,
    const struct gym_notify_outcome *, int max_attempts, int backoff_base_ms,
    char *status, size_t len);
/* Give claimed messages back unsent (no attempt): due again after delay_ms. */
enum gym_err gym_notify_release(struct gym_db *, const struct gym_notice *, int n, int delay_ms);

/*
 * The access token of cfg->wx_appid into token[len]: the cached one while
 * it has more than 5 minutes left, else a new one from stable_token,
 * fetched under the cache row's lock so one process (of any host) asks.
 * rejected: the token WeChat just refused (40001/42001), or NULL; when
 * the cache still holds it, it is replaced (stable_token asked normally,
 * then with force_refresh when it hands back the same token).
 * wx may be NULL when only the cache may be read (GYM_EINTERNAL then when
 * a refresh is needed).
 */
enum gym_err gym_notify_token(struct gym_db *, struct gym_wx_client *,
    const struct gym_config *, const char *rejected, char *token, size_t len);

/* The subscribe-message body for a claimed message (caller frees). */
char *gym_notify_body(const struct gym_notice *, const struct gym_config *);

/*
 * One sender pass: claim up to max due messages, send them, record each
 * outcome.  *sent receives how many were delivered.
 */
enum gym_err gym_notify_send_batch(struct gym_db *, struct gym_wx_client *,
    const struct gym_config *, int max, int *sent);

/* Internal to libgym: tell the parent user_id that what order_id bought
 * (named name) runs out at ends_us, once per order (GYM_NOTIFY_EXPIRING),
 * inside the caller's transaction with its audit row.  *queued 1 when a
 * message was written now. */
enum gym_err gym__notify_enqueue_expiring(struct gym_db *, const struct gym_actor *,
    const char *order_id, long long user_id, const char *name, int64_t ends_us, int *queued);

#endif
