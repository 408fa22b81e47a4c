/*
 * handlers.h: every route handler, one prototype a line.  Each has the
 * gym_handler signature (http.h): request in, response out, enum gym_err
 * back; the router's table names them.
 */
#ifndef GYM_HANDLERS_H
#define GYM_HANDLERS_H

#include "http.h"

enum gym_err gym_h_healthz(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_metrics(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_login(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_client_config(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_schedule_list(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_schedule_get(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_hold_create(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_hold_release(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_booking_confirm(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_waitlist_join(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_waitlist_mine(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_waitlist_leave(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_order_create(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_order_get(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_order_cancel(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_wxpay_create(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_wxpay_qrcode(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_notify_payment(struct gym_req *, struct gym_resp *);
/* A refused notification from who ("wechat", "alipay"): counted in
 * gymd_notify_rejected_total{reason} and sampled into the audit log. */
void gym_h_notify_refused(struct gym_req *, const char *who, const char *why);
/* h_alinotify.c: Alipay's trade_status_sync notification. */
enum gym_err gym_h_notify_alipay(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_alipay_create(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_notify_refund(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_order_list(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_order_get(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_audit_list(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_refund_create(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_refund_list(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_refund_get(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_schedule_create(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_schedule_update(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_attention(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_schedule_cancel(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_roster(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_session_create(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_session_delete(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_whoami(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_overview(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_reconciliation(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_discrepancies(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_discrepancy_resolve(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_report_daily(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_report_summary(struct gym_req *, struct gym_resp *);
/* h_admin_exports.c: the accountant's CSV files */
enum gym_err gym_h_admin_export_payments(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_export_refunds(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_export_bill(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_push_order(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_push_schedule(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_push_console(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_product_list(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_product_list(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_product_create(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_product_update(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_me(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_payment_history(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_member_book(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_member_cancel(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_refund_proposal(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_member_find(struct gym_req *, struct gym_resp *);
enum gym_err gym_h_admin_member_get(struct gym_req *, struct gym_resp *);

#endif
