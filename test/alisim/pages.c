/*
 * pages.c: alisim's browser pages.  GET /sim/pay shows a form for an
 * out_trade_no, or the cashier of one (what a buyer sees after scanning
 * a QR code or opening a page/wap pay URL): the amount, the subject and a
 * 确认付款 button that POSTs /sim/pay?out_trade_no=...&browser=1.  After
 * paying, the browser goes back to the trade's return_url with Alipay's
 * synchronous return parameters (signed with Alipay's key over the sorted
 * fields but sign and sign_type), or sees 支付成功.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alipay.h"
#include "alipay_sign.h"
#include "alisim.h"
#include "crypto.h"
#include "util.h"

#define HEAD "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">" \
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" \
	"<title>alisim 支付宝收银台</title></head><body>"

static void
html(struct wxsim_resp *resp, int status, char *page)
{
	if (page == NULL)
		wxsim_resp_set(resp, 500, "text/plain", "nomem", 5);
	else
		wxsim_resp_set(resp, status, "text/html; charset=utf-8", page, strlen(page));
	free(page);
}

void
alisim_page_cashier(const struct alisim_trade *t, struct wxsim_resp *resp)
{
	char yuan[24], *no = wxsim_util_html_escape(t->out_trade_no);
	char *subj = wxsim_util_html_escape(t->subject[0] != '\0' ? t->subject : "-");
	char *form = NULL, *page = NULL;

	gym_ali_yuan(t->total_fen, yuan, sizeof(yuan));
	if (no != NULL && t->st == T_WAIT)
		form = gym_asprintf("<form method=\"post\" action=\"/sim/pay?browser=1&amp;"
		    "out_trade_no=%s\"><button id=\"pay\" type=\"submit\">确认付款</button>"
		    "</form>", no);
	if (no != NULL && subj != NULL && (t->st != T_WAIT || form != NULL))
		page = gym_asprintf(HEAD "<h1>支付宝（模拟）</h1><p id=\"subject\">%s</p>"
		    "<p>商户订单号 <span id=\"out_trade_no\">%s</span></p>"
		    "<p>金额 ¥<span id=\"amount\">%s</span></p><p id=\"status\">%s</p>%s"
		    "</body></html>", subj, no, yuan, alisim_status_word(t),
		    form != NULL ? form : "");
	html(resp, 200, page);
	free(form);
	free(no);
	free(subj);
}

void
alisim_page_pay_get(const struct wxsim_req *req, struct wxsim_resp *resp)
{
	char *no = wxsim_http_param(req->query, "out_trade_no");
	struct alisim_trade *t = alisim_find(no);

	if (t != NULL) {
		free(no);
		alisim_page_cashier(t, resp);
		return;
	}
	html(resp, no == NULL ? 200 : 404, gym_asprintf(HEAD "<h1>支付宝（模拟）</h1>%s"
	    "<form method=\"get\" action=\"/sim/pay\"><label>商户订单号 <input name=\"out_trade_no\">"
	    "</label> <button type=\"submit\">打开</button></form></body></html>",
	    no == NULL ? "" : "<p>没有这笔交易（二维码未生成或订单号有误）</p>"));
	free(no);
}

/* Alipay's synchronous return parameters of t, signed, form-encoded. */
static char *
return_query(const struct alisim_trade *t)
{
	struct gym_ali_params ps = { 0 };
	char now[20], total[24], *text = NULL, *sig = NULL, *q = NULL, method[64];
	size_t len;

	gym_ali_time(time(NULL), now);
	gym_ali_yuan(t->total_fen, total, sizeof(total));
	snprintf(method, sizeof(method), "%s.return", t->method);
	if (gym_ali_params_add(&ps, "charset", "utf-8") != GYM_OK ||
	    gym_ali_params_add(&ps, "out_trade_no", t->out_trade_no) != GYM_OK ||
	    gym_ali_params_add(&ps, "method", method) != GYM_OK ||
	    gym_ali_params_add(&ps, "total_amount", total) != GYM_OK ||
	    gym_ali_params_add(&ps, "trade_no", t->trade_no) != GYM_OK ||
	    gym_ali_params_add(&ps, "auth_app_id", alisim_app_id) != GYM_OK ||
	    gym_ali_params_add(&ps, "version", "1.0") != GYM_OK ||
	    gym_ali_params_add(&ps, "app_id", alisim_app_id) != GYM_OK ||
	    gym_ali_params_add(&ps, "seller_id", alisim_seller_id) != GYM_OK ||
	    gym_ali_params_add(&ps, "timestamp", now) != GYM_OK ||
	    gym_ali_params_add(&ps, "sign_type", "RSA2") != GYM_OK ||
	    gym_ali_sign_content(&ps, 1, &text, &len) != GYM_OK ||
	    gym_rsa_sign(alisim_key, text, len, &sig) != GYM_OK ||
	    gym_ali_params_add(&ps, "sign", sig) != GYM_OK ||
	    gym_ali_form_encode(&ps, &q) != GYM_OK)
		q = NULL;
	free(text);
	free(sig);
	gym_ali_params_free(&ps);
	return q;
}

void
alisim_page_paid(const struct alisim_trade *t, struct wxsim_resp *resp)
{
	char *q, *to;

	if (t->return_url[0] == '\0') {
		html(resp, 200, gym_asprintf(HEAD "<h1 id=\"paid\">支付成功</h1><p>%s</p>"
		    "</body></html>", t->trade_no));
		return;
	}
	if ((q = return_query(t)) == NULL ||
	    (to = gym_asprintf("%s%c%s", t->return_url, strchr(t->return_url, '?') != NULL ?
	    '&' : '?', q)) == NULL) {
		free(q);
		wxsim_resp_set(resp, 500, "text/plain", "nomem", 5);
		return;
	}
	wxsim_resp_set(resp, 303, "text/plain", "see other", 9);
	wxsim_resp_header(resp, "Location", to);
	free(q);
	free(to);
}
