/*
 * gym.h: the shared vocabulary of libgym: the error enum, the clock and
 * the small helpers every module uses.  Module APIs live in their own
 * headers (db.h, booking.h, crypto.h, wxpay.h, ...).
 */
#ifndef GYM_H
#define GYM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * One error enum for the whole library.  The generic codes come first; the
 * domain codes after them are the contract's error codes (api.md), so a
 * handler can return them as they are.  fcgi/errmap.c holds the only table
 * that maps each to an HTTP status, a code string and a message.
 */
enum gym_err {
	GYM_OK = 0,
	GYM_ENOMEM,		/* allocation failed */
	GYM_EINVAL,		/* bad input: INVALID_REQUEST */
	GYM_ENOTFOUND,		/* NOT_FOUND */
	GYM_ECONFLICT,		/* unique violation, or a generic conflict */
	GYM_ERETRY,		/* serialization failure or deadlock: rerun */
	GYM_EDB,		/* database unreachable: UNAVAILABLE */
	GYM_EINTERNAL,		/* a bug or an unexpected database answer */
	GYM_EUPSTREAM,		/* WeChat answered with an error */
	GYM_ETIMEOUT,		/* WeChat did not answer in time */
	GYM_ECRYPTO,		/* signature, tag or key failure */
	GYM_ESYSTEM,		/* a system call failed */
	GYM_EUNAUTH,		/* no or bad credentials */
	GYM_EFORBIDDEN,		/* authenticated but not allowed */
	/* the contract's domain codes */
	GYM_E_SCHEDULE_NOT_FOUND,
	GYM_E_SOLD_OUT,
	GYM_E_TRIAL_ALREADY_BOOKED,
	GYM_E_ACTIVE_HOLD_EXISTS,
	GYM_E_ALREADY_CONFIRMED,
	GYM_E_PAYMENT_PENDING,
	GYM_E_ORDER_NOT_PAYABLE,
	GYM_E_ORDER_ALREADY_PAID,
	GYM_E_AMOUNT_MISMATCH,
	GYM_E_INVALID_CODE,
	GYM_E_IDEMPOTENCY_KEY_REUSED,
	GYM_E_NOT_REFUNDABLE,
	GYM_E_REFUND_IN_PROGRESS,
	GYM_E_CAPACITY_BELOW_BOOKED,
	GYM_E_TOO_MANY_REQUESTS,	/* the parent already has a WeChat call running */
	GYM_E_BUSY,		/* every worker allowed to call WeChat is in a call */
	GYM_E_UNKNOWN_CHANNEL,	/* an order names a payment channel we do not have */
	GYM_E_SEATS_AVAILABLE,	/* a waitlist join for a class with a free seat */
	GYM_E_CLASS_CANCELLED,	/* a change to a class the gym cancelled */
	GYM_E_PRODUCT_UNAVAILABLE,	/* no such product, or not on sale */
	GYM_E_NO_ENTITLEMENT,	/* no membership or credit for it */
	GYM_E_NOT_UPGRADE,	/* an upgrade to a plan not dearer per day */
	GYM_E_WRONG_CLASS_KIND,	/* a trial hold on a regular class, or the reverse */
	GYM_ERR__COUNT
};

/* The fixed price of the trial class, in fen.  Never taken from a client. */
#define GYM_PRICE_FEN 20000
/* A hold's and an unpaid order's length: hold_minutes and order_minutes
 * from the config (trial_limits.h, set once per process), these until set. */
#define GYM_HOLD_SECONDS_DEFAULT (15 * 60)
#define GYM_ORDER_SECONDS_DEFAULT (30 * 60)
#define GYM_HOLD_SECONDS gym_hold_seconds()
#define GYM_ORDER_SECONDS gym_order_seconds()
int gym_hold_seconds(void);
int gym_order_seconds(void);

/* vasprintf for C11: a malloc'd string, or NULL when out of memory. */
char *gym_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* str.c: 1 when s is neither NULL nor "". */
int gym_nonempty(const char *s);
/* str.c: src (NULL as "") into dst[len], cut to fit, always terminated. */
void gym_strcopy(char *dst, size_t len, const char *src);
/* str.c: the length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), 0 when none. */
size_t gym_utf8_seq(const unsigned char *s);
/* str.c: the value of a hex digit, -1 for any other character. */
int gym_hexval(int c);

/* A short, lower-case description of an error, for logs. */
const char *gym_strerror(enum gym_err);

/*
 * The clock.  Everything time-dependent in lib and SQL reads gym_now_us()
 * (microseconds since the epoch); tests move it with gym_clock_set_offset.
 */
int64_t gym_now_us(void);
time_t gym_now(void);
void gym_clock_set_offset(int64_t seconds);
/* Format microseconds since the epoch as RFC 3339 UTC with microseconds. */
void gym_time_format(int64_t us, char *buf, size_t len);
/* Same with a +08:00 offset and whole seconds (WeChat's time_expire form). */
void gym_time_format_cst(int64_t us, char *buf, size_t len);
/* Parse RFC 3339 (with Z or +hh:mm); 0 on success, -1 on failure. */
int gym_time_parse(const char *s, int64_t *us);

#endif
