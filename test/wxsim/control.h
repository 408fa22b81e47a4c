/*
 * control.h: the simulator's own endpoints, unsigned, for tests and for a
 * person: play the payer (/sim/pay, /sim/request-payment), inject faults,
 * reset, move the clock, and look at what happened.
 */
#ifndef WXSIM_CONTROL_H
#define WXSIM_CONTROL_H

#include "wxsim.h"

wxsim_handler wxsim_control_healthz;		/* GET /healthz */
wxsim_handler wxsim_control_pay_page;		/* GET /sim/pay */
wxsim_handler wxsim_control_pay;		/* POST /sim/pay */
wxsim_handler wxsim_control_request_payment;	/* POST /sim/request-payment */
wxsim_handler wxsim_control_faults_get;		/* GET /sim/faults */
wxsim_handler wxsim_control_faults_set;		/* POST /sim/faults */
wxsim_handler wxsim_control_reset;		/* POST /sim/reset */
wxsim_handler wxsim_control_clock_get;		/* GET /sim/clock */
wxsim_handler wxsim_control_clock_set;		/* POST /sim/clock */
wxsim_handler wxsim_control_orders;		/* GET /sim/orders */
wxsim_handler wxsim_control_order;		/* GET /sim/orders/{out_trade_no} */
wxsim_handler wxsim_control_refunds;		/* GET /sim/refunds */
wxsim_handler wxsim_control_stats;		/* GET /sim/stats */
wxsim_handler wxsim_control_messages;		/* GET /sim/messages */
wxsim_handler wxsim_control_notifications;	/* GET /sim/notifications */

#endif
