/*
 * v3.h: what every WeChat Pay APIv3 endpoint shares: the Authorization
 * check, the injected API faults, the signed response headers, the error
 * bodies and small JSON field readers.
 */
#ifndef WXSIM_V3_H
#define WXSIM_V3_H

#include <cjson/cJSON.h>

#include "wxsim.h"

/* Numeric codes WeChat puts after the '-' of Request-ID. */
#define WXSIM_WX_PARAM		268435461L
#define WXSIM_WX_SIGN		268443699L
#define WXSIM_WX_APPID_MCHID	268445527L
#define WXSIM_WX_EXPIRED	268447914L
#define WXSIM_WX_PAID		268449538L
#define WXSIM_WX_DUPLICATE	268498688L
#define WXSIM_WX_OPENID		268501013L
#define WXSIM_WX_NOT_FOUND	268512771L

/*
 * Answer a /v3 request: sleep api_delay_ms, check the Authorization
 * header (401 SIGN_ERROR), apply api_status, run h, then sign the
 * response, whatever it is, with the platform key.  With h NULL only sign
 * what resp holds (404 NOT_FOUND when it holds nothing).
 */
void wxsim_v3_run(struct wxsim *, const struct wxsim_req *, struct wxsim_resp *, wxsim_handler *h);

/* The same Authorization check, then h's answer unsigned (only an error
 * of the check is signed): the bill file download. */
void wxsim_v3_run_unsigned(struct wxsim *, const struct wxsim_req *, struct wxsim_resp *,
    wxsim_handler *h);

/* {"code","message"} with the status and Request-ID code. */
void wxsim_v3_error(struct wxsim_resp *, int status, const char *code,
    const char *message, long wx_code);
/* 400 PARAM_ERROR naming the field:
 * {"code":"PARAM_ERROR","message":..,"detail":{"field":..,"location":..}}. */
void wxsim_v3_param_error(struct wxsim_resp *, const char *location,
    const char *field, const char *why);

/* The body as a JSON object, or NULL after answering PARAM_ERROR. */
cJSON *wxsim_v3_body(const struct wxsim_req *, struct wxsim_resp *);
/* The mchid query parameter must be ours: 0, or -1 after answering. */
int wxsim_v3_mchid_query(struct wxsim *, const struct wxsim_req *, struct wxsim_resp *);

/* A string member, or NULL when absent or not a string. */
const char *wxsim_v3_str(const cJSON *obj, const char *name);
/* An integer member: 1 and *out, 0 when absent, -1 when not an integer. */
int wxsim_v3_int(const cJSON *obj, const char *name, long *out);

#endif
