/*
 * err.c: descriptions of enum gym_err for log lines.  The mapping to HTTP
 * statuses and contract codes is fcgi/errmap.c's job, not this file's.
 */
#include "gym.h"

static const char *const descr[GYM_ERR__COUNT] = {
	[GYM_OK] = "ok",
	[GYM_ENOMEM] = "out of memory",
	[GYM_EINVAL] = "invalid input",
	[GYM_ENOTFOUND] = "not found",
	[GYM_ECONFLICT] = "conflict",
	[GYM_ERETRY] = "transaction must be retried",
	[GYM_EDB] = "database unavailable",
	[GYM_EINTERNAL] = "internal error",
	[GYM_EUPSTREAM] = "upstream error",
	[GYM_ETIMEOUT] = "upstream timeout",
	[GYM_ECRYPTO] = "cryptographic check failed",
	[GYM_ESYSTEM] = "system error",
	[GYM_EUNAUTH] = "unauthenticated",
	[GYM_EFORBIDDEN] = "forbidden",
	[GYM_E_SCHEDULE_NOT_FOUND] = "schedule not found",
	[GYM_E_SOLD_OUT] = "sold out",
	[GYM_E_TRIAL_ALREADY_BOOKED] = "trial already booked",
	[GYM_E_ACTIVE_HOLD_EXISTS] = "active hold exists",
	[GYM_E_ALREADY_CONFIRMED] = "already confirmed",
	[GYM_E_PAYMENT_PENDING] = "payment pending",
	[GYM_E_ORDER_NOT_PAYABLE] = "order not payable",
	[GYM_E_ORDER_ALREADY_PAID] = "order already paid",
	[GYM_E_AMOUNT_MISMATCH] = "amount mismatch",
	[GYM_E_INVALID_CODE] = "invalid login code",
	[GYM_E_IDEMPOTENCY_KEY_REUSED] = "idempotency key reused",
	[GYM_E_NOT_REFUNDABLE] = "not refundable",
	[GYM_E_REFUND_IN_PROGRESS] = "refund in progress",
	[GYM_E_CAPACITY_BELOW_BOOKED] = "capacity below booked seats",
	[GYM_E_TOO_MANY_REQUESTS] = "a WeChat call of this user is running",
	[GYM_E_BUSY] = "too many WeChat calls running",
	[GYM_E_UNKNOWN_CHANNEL] = "unknown payment channel",
	[GYM_E_SEATS_AVAILABLE] = "seats available",
	[GYM_E_CLASS_CANCELLED] = "class cancelled",
	[GYM_E_PRODUCT_UNAVAILABLE] = "product unavailable",
	[GYM_E_NO_ENTITLEMENT] = "no membership or credit",
	[GYM_E_NOT_UPGRADE] = "not an upgrade",
	[GYM_E_WRONG_CLASS_KIND] = "wrong kind of class",
};

const char *
gym_strerror(enum gym_err e)
{
	if ((int)e < 0 || e >= GYM_ERR__COUNT || descr[e] == NULL)
		return "unknown error";
	return descr[e];
}
