/*
 * channel.h: the payment-channel seam.  A channel is what takes a parent's
 * money for an order: WeChat Pay today (channel_wechat.c), Alipay next
 * (issue 16).  Everything outside the channel's own files (use-cases,
 * reconciliation, refunds, the notify handlers) pays, asks, closes and
 * refunds through the functions below, in the channel-neutral terms
 * declared here; none calls a channel's API (a channel's notify handler
 * only names the headers its URL receives).
 *
 * An order records its channel (payment_orders.payment_method, copied to
 * each payment attempt's channel); the registry (channel.c) maps that name
 * to its struct gym_channel_ops.  Adding a channel is one file that
 * defines its ops and one line in the registry.
 *
 * A struct gym_channel is one channel's client in one process (made after
 * fork, not thread-safe); struct gym_channels keeps the ones a process
 * has made, one per channel, made on first use.
 *
 * Every function returns enum gym_err.  When the channel answered with an
 * error or not at all (GYM_EUPSTREAM, GYM_ETIMEOUT), gym_channel_last_error
 * says what it said.
 */
#ifndef GYM_CHANNEL_H
#define GYM_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "db.h"
#include "gym.h"

#define GYM_CHANNEL_WECHAT	"wechat"	/* payment_method of WeChat Pay */
#define GYM_CHANNEL_ALIPAY	"alipay"	/* payment_method of Alipay */
#define GYM_CHANNEL_MAX		4		/* channels the registry may hold */

/* How the parent pays at the channel. */
enum gym_trade {
	GYM_TRADE_JSAPI,			/* in the mini program */
	GYM_TRADE_NATIVE,			/* a QR code (browser, front desk);
						 * Alipay's QR (precreate) */
	GYM_TRADE_PAGE,				/* Alipay: a PC browser's redirect */
	GYM_TRADE_WAP				/* Alipay: a mobile browser's redirect */
};

/* A payment to create (one attempt, its own out_trade_no). */
struct gym_channel_payment {
	const char *out_trade_no;
	enum gym_trade trade;
	const char *payer_id;		/* JSAPI: the payer at the channel (openid) */
	long long amount_fen;
	int64_t expire_us;		/* payable until; 0: the channel's default.
					 * The same on every retry. */
	const char *return_url;		/* PAGE, WAP: where the browser comes
					 * back to; may be NULL */
};

/* What the client needs to pay it. */
struct gym_channel_params {
	char prepay_id[128];		/* JSAPI: the channel's id of the payment */
	char timestamp[24];		/* JSAPI: the mini program's payment call */
	char nonce[40];
	char package[160];
	char pay_sign[512];
	char code_url[256];		/* NATIVE: what the QR code carries */
	char pay_url[4096];		/* PAGE, WAP: the signed URL to open */
};

/* A trade's state, whatever the channel calls it. */
enum gym_channel_state {
	GYM_CHANNEL_UNKNOWN = 0,		/* a word we do not know */
	GYM_CHANNEL_PAYING,			/* created, not paid (yet) */
	GYM_CHANNEL_PAID,
	GYM_CHANNEL_FAILED,			/* the payment failed or was revoked */
	GYM_CHANNEL_CLOSED,			/* closed unpaid */
	GYM_CHANNEL_REFUNDED			/* paid, then refunded (in part) */
};

/* A trade as the channel reports it (query or notification). */
struct gym_channel_trade {
	enum gym_channel_state state;
	char state_code[32];		/* the channel's own word ("SUCCESS") */
	char out_trade_no[65];
	char transaction_id[65];	/* the channel's id of the payment, "" */
	char payer_id[129];		/* the payer at the channel, "" (a secret
					 * to logs: never printed) */
	long long amount_fen;		/* the order's total; -1 when not said */
	long long payer_fen;		/* what the payer paid; -1 when not said */
	int64_t success_us;		/* when it was paid; 0 when not */
	cJSON *doc;			/* the channel's verified document, owned:
					 * what is recorded and applied */
};

/* A refund to send (the same out_refund_no on every retry). */
struct gym_channel_refund_req {
	const char *out_trade_no;
	const char *out_refund_no;
	const char *reason;		/* may be NULL */
	long long refund_fen, total_fen;
};

enum gym_channel_refund_state {
	GYM_CHANNEL_REFUND_UNKNOWN = 0,
	GYM_CHANNEL_REFUND_PROCESSING,
	GYM_CHANNEL_REFUND_SUCCESS,
	GYM_CHANNEL_REFUND_CLOSED,
	GYM_CHANNEL_REFUND_ABNORMAL		/* the money could not be returned */
};

/* A refund as the channel reports it. */
struct gym_channel_refund {
	enum gym_channel_refund_state state;
	char state_code[32];
	char out_refund_no[65];
	char out_trade_no[65];
	char refund_id[73];		/* the channel's id of the refund, "" */
	long long refund_fen, total_fen;	/* -1 when not said */
	int64_t success_us;
	cJSON *doc;			/* the verified document, owned */
};

/* A notification as it came: its headers (names compared without case)
 * and the raw body the signature covers. */
struct gym_channel_header {
	const char *name, *value;	/* value NULL: absent */
};
struct gym_channel_notice {
	const struct gym_channel_header *headers;
	size_t nheaders;
	const char *body;
	size_t len;
};

enum gym_channel_event_kind {
	GYM_CHANNEL_EVENT_PAYMENT,
	GYM_CHANNEL_EVENT_REFUND
};
/* An opened (verified, decrypted) notification. */
struct gym_channel_event {
	enum gym_channel_event_kind kind;
	char event_type[64];		/* the channel's ("TRANSACTION.SUCCESS") */
	struct gym_channel_trade trade;		/* kind PAYMENT */
	struct gym_channel_refund refund;	/* kind REFUND */
};

/* The last call's failure: HTTP status (0 when none), the channel's code
 * ("PARAM_ERROR", "TIMEOUT", ...) and message; "" after a success. */
struct gym_channel_error {
	int http_status;
	char code[64];
	char message[256];
};

struct gym_channel;

/*
 * What a channel does.  Each op gets the channel (ch->cfg, ch->state are
 * its own) and fills ch->err when it fails.  bill may be NULL.
 *
 * - start/stop: make and free the process's client in ch->state.  start
 *   is GYM_ENOTFOUND for an optional channel the config does not name
 *   (Alipay without alipay.*): the channel is not available.
 * - pay: create the payment and its client parameters.  GYM_EINVAL for
 *   a malformed request, GYM_EUPSTREAM / GYM_ETIMEOUT from the channel.
 * - query: GYM_ENOTFOUND when the channel knows no such trade.
 * - close: GYM_OK once closed (or already); GYM_ECONFLICT when it was
 *   paid meanwhile; GYM_ENOTFOUND when the channel never knew it.
 * - refund_send, refund_query: GYM_ENOTFOUND when no such refund.
 *   refund_query names the trade too (Alipay's query needs it; WeChat
 *   finds a refund by out_refund_no alone and ignores it).
 * - open_event: GYM_ECRYPTO when the signature, its key or its time does
 *   not hold (missing headers included); GYM_EINVAL when the verified
 *   body does not open or parse into a payment or refund; GYM_EINTERNAL
 *   when the channel's keys are not configured.
 * - bill: the day's statement of kind (trades or fund flow; date
 *   "YYYY-MM-DD", China time) as the channel's text in *text (caller
 *   frees), checked whole (WeChat: the trade bill ALL or the fund-flow
 *   bill, its SHA1 checked); GYM_ENOTFOUND when the channel has no such
 *   bill that day; GYM_EUPSTREAM with ch->err.code BAD_FILE or BAD_HASH
 *   when the file does not hold.
 */
enum gym_bill_kind {
	GYM_BILL_TRADES,		/* every payment and refund */
	GYM_BILL_FUNDFLOW		/* the account's money in and out */
};
struct gym_channel_ops {
	const char *name;		/* payment_method */
	enum gym_err (*start)(struct gym_channel *);
	void (*stop)(struct gym_channel *);
	enum gym_err (*pay)(struct gym_channel *, const struct gym_channel_payment *,
	    struct gym_channel_params *);
	enum gym_err (*query)(struct gym_channel *, const char *out_trade_no,
	    struct gym_channel_trade *);
	enum gym_err (*close)(struct gym_channel *, const char *out_trade_no);
	enum gym_err (*refund_send)(struct gym_channel *, const struct gym_channel_refund_req *,
	    struct gym_channel_refund *);
	enum gym_err (*refund_query)(struct gym_channel *, const char *out_trade_no,
	    const char *out_refund_no, struct gym_channel_refund *);
	enum gym_err (*open_event)(struct gym_channel *, const struct gym_channel_notice *,
	    struct gym_channel_event *);
	enum gym_err (*bill)(struct gym_channel *, enum gym_bill_kind, const char *date,
	    char **text, size_t *len);
};

struct gym_channel {
	const struct gym_channel_ops *ops;
	const struct gym_config *cfg;		/* borrowed; outlives the channel */
	void *state;				/* the implementation's */
	struct gym_channel_error err;
};

/* The implementations (one file each), listed in channel.c's registry. */
extern const struct gym_channel_ops gym_channel_wechat;
extern const struct gym_channel_ops gym_channel_alipay;

/* The ops of a payment_method, or NULL when no channel has that name. */
const struct gym_channel_ops *gym_channel_find(const char *method);
/* The registry's i-th channel (from 0), NULL past the last. */
const struct gym_channel_ops *gym_channel_nth(size_t i);
/* A new client of channel method over cfg: GYM_E_UNKNOWN_CHANNEL when no
 * channel has that name (logged), else what its start says. */
enum gym_err gym_channel_new(const struct gym_config *, const char *method,
    struct gym_channel **);
void gym_channel_free(struct gym_channel *);
const char *gym_channel_name(const struct gym_channel *);

/* The ops, through the channel (results are cleared first; on success the
 * caller clears them with the _clear functions). */
enum gym_err gym_channel_pay(struct gym_channel *, const struct gym_channel_payment *,
    struct gym_channel_params *);
enum gym_err gym_channel_query(struct gym_channel *, const char *out_trade_no,
    struct gym_channel_trade *);
enum gym_err gym_channel_close(struct gym_channel *, const char *out_trade_no);
enum gym_err gym_channel_refund_send(struct gym_channel *, const struct gym_channel_refund_req *,
    struct gym_channel_refund *);
enum gym_err gym_channel_refund_query(struct gym_channel *, const char *out_trade_no,
    const char *out_refund_no, struct gym_channel_refund *);
enum gym_err gym_channel_open_event(struct gym_channel *, const struct gym_channel_notice *,
    struct gym_channel_event *);
/* GYM_ENOTFOUND when the channel offers no bill (yet). */
enum gym_err gym_channel_bill(struct gym_channel *, enum gym_bill_kind, const char *date,
    char **text, size_t *len);
/* 1 when the channel offers bills at all. */
int gym_channel_has_bill(const struct gym_channel *);
const struct gym_channel_error *gym_channel_last_error(const struct gym_channel *);
void gym_channel_trade_clear(struct gym_channel_trade *);
void gym_channel_refund_clear(struct gym_channel_refund *);
void gym_channel_event_clear(struct gym_channel_event *);
/* A notice's header by name (without case), or NULL. */
const char *gym_channel_header(const struct gym_channel_notice *, const char *name);

/* The channels one process has made (zero-initialised), by name. */
struct gym_channels {
	struct gym_channel *made[GYM_CHANNEL_MAX];
};
/* The channel method, made on first use (gym_channel_new's errors). */
enum gym_err gym_channels_get(struct gym_channels *, const struct gym_config *,
    const char *method, struct gym_channel **);
/* The channel of a payment attempt (its out_trade_no; an order id names
 * the order's first attempt): GYM_ENOTFOUND when there is none. */
enum gym_err gym_channels_for_trade(struct gym_channels *, struct gym_db *,
    const struct gym_config *, const char *out_trade_no, struct gym_channel **);
/* Every registered channel made now: GYM_OK when all could be (those
 * not configured, GYM_ENOTFOUND from start, are skipped). */
enum gym_err gym_channels_start_all(struct gym_channels *, const struct gym_config *);
void gym_channels_release(struct gym_channels *);

#endif
