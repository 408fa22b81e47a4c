/*
 * state.h: everything the simulator remembers (orders, prepay ids,
 * refunds, subscribe messages, notification attempts, the access token,
 * injected faults, counters), all behind one mutex.  Callers lock, read or
 * change the records in place, and unlock; nothing here blocks.
 *
 * gen changes on every reset: a delayed job remembers the gen it was made
 * under and does nothing once it differs.
 */
#ifndef WXSIM_STATE_H
#define WXSIM_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util.h"

enum wxsim_trade_state {
	WXSIM_NOTPAY,
	WXSIM_SUCCESS,
	WXSIM_REFUND,
	WXSIM_CLOSED,
	WXSIM_PAYERROR
};

struct wxsim_order {
	char *out_trade_no, *appid, *mchid, *description, *notify_url;
	char *attach;		/* NULL when not given */
	char *openid;		/* NULL for NATIVE */
	char *time_expire;	/* as sent, NULL when not given */
	char trade_type[8];	/* JSAPI or NATIVE */
	long total;		/* fen */
	time_t created, expire_at;
	enum wxsim_trade_state state;
	char transaction_id[32];	/* "" until paid */
	char success_time[32];
	char code_url[64];	/* NATIVE */
	char prepay_id[40];	/* the latest */
	long refunded;		/* fen in refunds that are not CLOSED */
	int prepay_count, close_count;
};

struct wxsim_prepay {		/* every prepay_id handed out */
	char prepay_id[40];
	char *out_trade_no;
	time_t issued;
};

struct wxsim_refund {
	char *out_refund_no, *out_trade_no, *reason, *notify_url;
	char refund_id[32], transaction_id[32];
	long refund, total;
	char status[16];		/* PROCESSING, SUCCESS, ABNORMAL, CLOSED */
	char final_status[16];		/* what PROCESSING turns into */
	char create_time[32], success_time[32];
};

struct wxsim_message {
	char *touser, *template_id, *page, *state, *lang;
	cJSON *data;
	char time[32];
};

struct wxsim_attempt {
	char *notify_id, *url, *event_type, *ref, *error;
	int attempt;		/* 1 for the first delivery */
	long status;		/* HTTP status, 0 when none came back */
	bool bad_signature;
	char time[32];
};

struct wxsim_faults {
	int api_status;			/* 0 = none */
	long api_fail_count;		/* -1 = every call */
	bool api_fail_after;		/* run the handler, then answer the error */
	long api_delay_ms;
	bool api_bad_signature;
	bool notify_drop;
	long notify_duplicate;		/* deliveries per notification, >= 1 */
	long notify_delay_ms;
	bool notify_reorder;
	bool notify_bad_signature;
	long subscribe_fail_count;
	bool subscribe_fail_http;	/* fail with HTTP 500, not errcode -1 */
	char refund_result[16];		/* SUCCESS, ABNORMAL or CLOSED */
	long refund_delay_ms;		/* -1 = the --refund-delay-ms value */
};

struct wxsim_counters {
	long api_calls, sign_errors, prepay_calls, close_calls, paid;
	long refunds_created, notifications_created, notifications_sent;
	long notification_attempts, messages, subscribe_calls;
	long stable_token_calls, jscode2session_calls;
};

#define WXSIM_MAX_ATTEMPTS 10000

/* What the next bills get wrong (POST /sim/bill-faults; cleared by reset).
 * The names are an out_trade_no or an out_refund_no ("" for none). */
struct wxsim_bill_faults {
	char drop[65];			/* the row left out: missing there */
	char amount[65];		/* the row's amount one fen more */
	char status[65];		/* the payment row says REVOKED */
	bool unknown;			/* a paid row of a trade nobody made */
	bool bad_hash;			/* hash_value of other bytes */
	bool truncate;			/* the file served is cut in half */
};

/* A bill file handed out by its download token. */
struct wxsim_bill_file {
	char token[41];
	unsigned char *data;
	size_t len;
};
#define WXSIM_MAX_BILL_FILES 64

struct wxsim_state {
	pthread_mutex_t mu;
	unsigned gen;
	struct wxsim_vec orders, prepays, refunds, messages, attempts;
	struct wxsim_vec held;		/* notifications held by notify_reorder */
	void (*held_free)(void *);
	unsigned held_epoch;		/* changes whenever the held list is taken */
	struct wxsim_faults faults;
	struct wxsim_bill_faults bill_faults;
	struct wxsim_vec bill_files;	/* struct wxsim_bill_file, oldest first */
	struct wxsim_counters n;
	char token[64];
	time_t token_expires;
};

struct wxsim_state *wxsim_state_new(void);
void wxsim_state_free(struct wxsim_state *);
void wxsim_state_lock(struct wxsim_state *);
void wxsim_state_unlock(struct wxsim_state *);
/* Forget everything and clear the faults.  Call locked. */
void wxsim_state_reset(struct wxsim_state *);
void wxsim_state_faults_default(struct wxsim_faults *);

/* Lookups borrow (valid while locked); NULL when unknown. */
struct wxsim_order *wxsim_state_order(struct wxsim_state *, const char *out_trade_no);
struct wxsim_order *wxsim_state_order_by_txid(struct wxsim_state *, const char *transaction_id);
struct wxsim_order *wxsim_state_order_by_code_url(struct wxsim_state *, const char *code_url);
struct wxsim_prepay *wxsim_state_prepay(struct wxsim_state *, const char *prepay_id);
struct wxsim_refund *wxsim_state_refund(struct wxsim_state *, const char *out_refund_no);

/* Adders take ownership: 0, or -1 when out of memory (the record is then
 * freed).  Call locked. */
int wxsim_state_add_order(struct wxsim_state *, struct wxsim_order *);
int wxsim_state_add_prepay(struct wxsim_state *, struct wxsim_prepay *);
int wxsim_state_add_refund(struct wxsim_state *, struct wxsim_refund *);
int wxsim_state_add_message(struct wxsim_state *, struct wxsim_message *);
int wxsim_state_add_attempt(struct wxsim_state *, struct wxsim_attempt *);

void wxsim_order_free(struct wxsim_order *);
void wxsim_prepay_free(struct wxsim_prepay *);
void wxsim_refund_free(struct wxsim_refund *);
void wxsim_message_free(struct wxsim_message *);
void wxsim_attempt_free(struct wxsim_attempt *);
void wxsim_bill_file_free(struct wxsim_bill_file *);

const char *wxsim_state_name(enum wxsim_trade_state);
/* 0 and the state for a name, -1 when unknown. */
int wxsim_state_parse(const char *name, enum wxsim_trade_state *out);

#endif
