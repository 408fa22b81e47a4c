/*
 * api_mp.h: the mini program server APIs on api.weixin.qq.com: login
 * (jscode2session), the stable access token and subscribe messages.
 * They are not signed; errors are HTTP 200 with {"errcode","errmsg"}.
 */
#ifndef WXSIM_API_MP_H
#define WXSIM_API_MP_H

#include "wxsim.h"

wxsim_handler wxsim_mp_jscode2session;	/* GET /sns/jscode2session */
wxsim_handler wxsim_mp_stable_token;	/* POST /cgi-bin/stable_token */
wxsim_handler wxsim_mp_subscribe_send;	/* POST /cgi-bin/message/subscribe/send */

#endif
