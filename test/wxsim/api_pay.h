/*
 * api_pay.h: the payment endpoints of APIv3 (JSAPI and Native prepay,
 * query by out_trade_no or transaction_id, close) and the Transaction
 * object that queries answer and TRANSACTION.SUCCESS notifications carry.
 */
#ifndef WXSIM_API_PAY_H
#define WXSIM_API_PAY_H

#include <cjson/cJSON.h>

#include "state.h"
#include "wxsim.h"

wxsim_handler wxsim_pay_jsapi;		/* POST /v3/pay/transactions/jsapi */
wxsim_handler wxsim_pay_native;		/* POST /v3/pay/transactions/native */
wxsim_handler wxsim_pay_query;		/* GET .../out-trade-no/{no} */
wxsim_handler wxsim_pay_query_id;	/* GET .../id/{transaction_id} */
wxsim_handler wxsim_pay_close;		/* POST .../out-trade-no/{no}/close */

/* The Transaction object of o, as the query answers it; NULL when out of
 * memory.  Call locked. */
cJSON *wxsim_pay_transaction(const struct wxsim_order *o);
/*
 * Settle o as the payer's WeChat would: SUCCESS gives it a transaction_id
 * and success_time; PAYERROR and CLOSED only change the state.  Call
 * locked.  0, or -1 when no unique transaction_id could be made.
 */
int wxsim_pay_settle(struct wxsim_state *, struct wxsim_order *o,
    enum wxsim_trade_state to);

#endif
