/*
 * api_refund.h: domestic refunds.  A refund is created PROCESSING and
 * settles (SUCCESS, or what the refund_result fault says) after
 * refund_delay_ms, when its REFUND.* notification is sent.
 */
#ifndef WXSIM_API_REFUND_H
#define WXSIM_API_REFUND_H

#include "wxsim.h"

wxsim_handler wxsim_refund_create;	/* POST /v3/refund/domestic/refunds */
wxsim_handler wxsim_refund_query;	/* GET /v3/refund/domestic/refunds/{no} */

#endif
