/*
 * notify.h: WeChat's callbacks.  A notification is encrypted once
 * (AEAD_AES_256_GCM under the APIv3 key), then POSTed to its notify_url by
 * the scheduler's workers, signed afresh for every attempt, and retried on
 * WeChat's schedule (15s 15s 30s 3m 10m 20m 30m 30m 30m 60m 3h 3h 3h 6h 6h,
 * times --retry-scale) until the receiver answers 200 or 204.  The notify_*
 * faults are read from the state.
 */
#ifndef WXSIM_NOTIFY_H
#define WXSIM_NOTIFY_H

#include "wxsim.h"

#define WXSIM_NOTIFY_RETRIES 15

/* Call once before the first wxsim_notify_send. */
void wxsim_notify_init(struct wxsim *);
/*
 * Queue a notification: event_type e.g. TRANSACTION.SUCCESS, summary e.g.
 * 支付成功, original_type "transaction" or "refund" (also the AAD), ref the
 * out_trade_no or out_refund_no for the attempt log, plain the resource
 * JSON.  Do not hold the state lock.  0, or -1 when it could not be built.
 */
int wxsim_notify_send(struct wxsim *, const char *url, const char *event_type,
    const char *summary, const char *original_type, const char *ref,
    const char *plain);
/* Deliver what notify_reorder is holding now, newest first.  Do not hold
 * the state lock. */
void wxsim_notify_release(struct wxsim *);

#endif
