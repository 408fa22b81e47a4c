/*
 * api_bill.h: the daily bills: GET /v3/bill/tradebill and
 * /v3/bill/fundflowbill answer a download URL and the SHA1 of the bill;
 * GET /v3/billdownload/file serves the file (gzip or plain CSV), its
 * request signed, its answer not.  /sim/bill-faults makes the next bills
 * wrong in one way each.
 */
#ifndef WXSIM_API_BILL_H
#define WXSIM_API_BILL_H

#include "wxsim.h"

wxsim_handler wxsim_bill_trade;		/* GET /v3/bill/tradebill */
wxsim_handler wxsim_bill_fundflow;	/* GET /v3/bill/fundflowbill */
wxsim_handler wxsim_bill_download;	/* GET /v3/billdownload/file (unsigned answer) */
wxsim_handler wxsim_bill_faults_get;	/* GET /sim/bill-faults */
wxsim_handler wxsim_bill_faults_set;	/* POST /sim/bill-faults */

#endif
