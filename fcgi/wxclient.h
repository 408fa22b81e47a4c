/*
 * wxclient.h: the worker's WeChat Pay client (made on first use and kept
 * for the worker's life, so connections are reused) and the small WeChat
 * steps handlers share.
 */
#ifndef GYM_WXCLIENT_H
#define GYM_WXCLIENT_H

#include "http.h"
#include "wxpay.h"

enum gym_err gym_wxclient_get(struct gym_ctx *, struct gym_wx_client **);
/* Copy WeChat's last error code into resp->err_detail. */
void gym_wxclient_detail(struct gym_ctx *, struct gym_resp *);
/* Ask WeChat about one pending order and apply the answer; best effort. */
void gym_wxclient_reconcile_one(struct gym_req *, const char *order_id);
/* Close the order at WeChat (after a cancel); a paid answer is applied. */
void gym_wxclient_close(struct gym_req *, const char *order_id);

#endif
