/*
 * checkout.h: the payment use-cases, one business step each, shared by every
 * door (gymd's handlers, the job process, gymctl).  A door parses, makes one
 * call here and renders; it never calls WeChat, prices or decides a state.
 *
 * struct gym_pay is what a use-case needs besides its arguments: the
 * database, the configuration, the payment channels (channel.h: the one an
 * order names is used) and the mini program client for login, each made
 * on first use and kept (one per process, so connections are reused).  It
 * is not thread-safe and must not cross fork().
 *
 * Every function returns enum gym_err.  When the channel (or the mini
 * program API) answered with an error or not at all (GYM_EUPSTREAM,
 * GYM_ETIMEOUT), pay->upstream holds its code ("PARAM_ERROR", "TIMEOUT",
 * ...) for the answer's detail; otherwise it is "".
 */
#ifndef GYM_CHECKOUT_H
#define GYM_CHECKOUT_H

#include <stddef.h>

#include "booking.h"
#include "channel.h"
#include "config.h"
#include "price.h"
#include "registration.h"
#include "refunds.h"
#include "wxmp.h"

struct gym_pay {
	struct gym_db *db;			/* borrowed; set by the door */
	const struct gym_config *cfg;		/* borrowed */
	struct gym_channels channels;		/* owned: made on first use */
	struct gym_wx_client *mp;		/* owned: the mini program API, for login */
	char upstream[64];			/* the channel's last error code */
};

/* Free what pay owns (channels, client); db and cfg stay the caller's. */
void gym_pay_release(struct gym_pay *);

/* "JSAPI" / "NATIVE" (enum gym_trade, channel.h) into *t; GYM_EINVAL for
 * anything else. */
enum gym_err gym_trade_parse(const char *, enum gym_trade *);
/* Alipay's "QR" (GYM_TRADE_NATIVE: alipay.trade.precreate), "PAGE" and
 * "WAP" into *t; GYM_EINVAL for anything else. */
enum gym_err gym_ali_trade_parse(const char *, enum gym_trade *);
/* 1 when s may be a browser's return_url: http(s), printable ASCII
 * without spaces, at most GYM_RETURN_URL_MAX characters. */
#define GYM_RETURN_URL_MAX 256
int gym_return_url_ok(const char *s);

/*
 * A parent's new order for a class (and the hold reservation_id names, or
 * 0 for the parent's live hold).  The price is the server's: a client
 * amount (may be NULL) that names another price is refused with
 * GYM_E_AMOUNT_MISMATCH and audited.  *created 1 for a new order, 0 when
 * the parent's open order for that class is returned.  The registration
 * details (checked: gym_registration_from_json) are sealed with the new
 * order; a returned open order keeps the details it was created with.
 */
enum gym_err gym_checkout_order_create(struct gym_pay *, const struct gym_actor *,
    long long user_id, long long schedule_id, long long reservation_id,
    const struct gym_client_amount *, const struct gym_registration *,
    struct gym_order *, int *created);

/*
 * Prepay: the order must be the parent's, pending and unexpired with a
 * live (or re-claimable) hold.  WeChat's time_expire is the order's
 * payable deadline, fixed at the first prepay and sent again unchanged on
 * every retry.  A paid order, and one whose time_expire has passed (no
 * parameters WeChat would refuse are served), answer
 * GYM_E_ORDER_NOT_PAYABLE.
 */
struct gym_prepay {
	struct gym_order order;			/* as it stands after the prepay */
	enum gym_trade trade;
	struct gym_channel_params pay_params;	/* JSAPI: wx.requestPayment's;
						 * NATIVE: its code_url */
};
enum gym_err gym_checkout_prepay(struct gym_pay *, const struct gym_actor *,
    long long user_id, const char *order_id, enum gym_trade, struct gym_prepay *);

/*
 * The same prepay through Alipay (payment_method becomes "alipay"): trade
 * GYM_TRADE_NATIVE is the face-to-face QR (pay_params.code_url holds
 * Alipay's qr_code), PAGE and WAP a signed gateway URL for the browser
 * (pay_params.pay_url) that comes back to return_url (may be NULL).  An
 * open attempt of another trade type or of WeChat is closed at its own
 * channel first, as gym_checkout_prepay does; a prepay through WeChat
 * switches the order back.  Without alipay.* in the config: GYM_EUPSTREAM
 * with pay->upstream "CHANNEL_NOT_AVAILABLE".  GYM_EINVAL for JSAPI or a
 * return_url gym_return_url_ok refuses.
 */
enum gym_err gym_checkout_prepay_alipay(struct gym_pay *, const struct gym_actor *,
    long long user_id, const char *order_id, enum gym_trade, const char *return_url,
    struct gym_prepay *);

/* The QR code (PNG, *png malloc'd, caller frees) of a pending order's
 * Native prepay; GYM_E_ORDER_NOT_PAYABLE when there is none to pay or its
 * time_expire has passed. */
enum gym_err gym_checkout_qr_png(struct gym_pay *, long long user_id, const char *order_id,
    unsigned char **png, size_t *len);

/*
 * The parent cancels an open order: the order and its hold end at once (one
 * transaction), then, when a prepay was made, WeChat's order is closed so it
 * cannot be paid; if WeChat says it was paid meanwhile, the payment is
 * fetched and applied (the late-payment rules decide).  A close that fails
 * for a passing reason is left to the job.  *out is the order after the
 * cancel.
 */
enum gym_err gym_checkout_cancel(struct gym_pay *, const struct gym_actor *,
    long long user_id, const char *order_id, struct gym_order *out);

/*
 * The booking of a parent's order, asked after wx.requestPayment said ok.
 * While the order is still pending (the notification may not have come
 * yet) WeChat is asked once and its answer applied before the booking is
 * read again; GYM_E_PAYMENT_PENDING when it is still unpaid.
 */
enum gym_err gym_checkout_confirm(struct gym_pay *, long long user_id, const char *order_id,
    struct gym_booking *out);

/*
 * An operator refunds a paid order in full: the refund is recorded (one
 * transaction, a stable out_refund_no; a repeat returns the same refund,
 * *created 0), then sent to WeChat outside the transaction.  A send that
 * fails leaves the refund pending for the job to send again under the
 * same out_refund_no, so it is not an error here.  *out is the refund as
 * it stands.
 */
enum gym_err gym_checkout_refund(struct gym_pay *, const struct gym_actor *,
    const char *order_id, const char *reason, long long operator_id,
    struct gym_refund *out, int *created);
/* The same for part of the order: amount_fen 1..20000, 0 for what is left
 * (gym_refund_request_part's rules: GYM_EINVAL for more than is left). */
enum gym_err gym_checkout_refund_part(struct gym_pay *, const struct gym_actor *,
    const char *order_id, const char *reason, long long operator_id, int amount_fen,
    struct gym_refund *out, int *created);

/*
 * The same for an operator's refund that may name an amount (amount_fen 0:
 * all that is left).  A membership or class pack order is refunded in part
 * as products.h says (gym_product_refund_request); a trial order only in
 * full (another amount: GYM_EINVAL), through gym_checkout_refund.
 */
enum gym_err gym_checkout_refund_amount(struct gym_pay *, const struct gym_actor *,
    const char *order_id, const char *reason, long long amount_fen, long long operator_id,
    struct gym_refund *out, int *created);

/*
 * The parent's login: WeChat's code2session turns the mini program's
 * wx.login code into the openid, and the user row is found or made.
 * GYM_E_INVALID_CODE when WeChat refuses the code.
 */
enum gym_err gym_checkout_login(struct gym_pay *, const char *code, long long *user_id);

#endif
