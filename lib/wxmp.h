/*
 * wxmp.h: the mini program server APIs (wxpay_mp.c) on the WeChat client:
 * login (code2session), the stable access token and subscribe messages.
 * Not a payment channel: these are called directly, never through
 * channel.h.
 */
#ifndef GYM_WXMP_H
#define GYM_WXMP_H

#include <stddef.h>

#include "wxpay.h"

/*
 * Mini program server APIs on cfg->wx_api_base (unsigned).
 * code2session: the openid of a wx.login code; GYM_E_INVALID_CODE when
 * WeChat refuses the code (40029 invalid, 40163 used, 40226 high-risk
 * user, 41008 missing), GYM_EUPSTREAM for -1 (busy) and anything else.
 */
enum gym_err gym_wx_code2session(struct gym_wx_client *, const char *js_code,
    char *openid, size_t len);
/* The stable access token into token[len] and its lifetime in seconds. */
enum gym_err gym_wx_stable_token(struct gym_wx_client *, int force_refresh,
    char *token, size_t len, int *expires_in);
/* Send a subscribe message (json_body as the caller built it): GYM_OK on
 * errcode 0, GYM_EUPSTREAM otherwise (the errcode in last_error). */
enum gym_err gym_wx_subscribe_send(struct gym_wx_client *, const char *access_token,
    const char *json_body);

#endif
