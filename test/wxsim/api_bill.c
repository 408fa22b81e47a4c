/*
 * api_bill.c: the daily trade bill and fund-flow bill of what the
 * simulator charged and refunded, as WeChat Pay writes them: CSV with
 * every field of a data row prefixed by a backtick, amounts in yuan, a
 * header row and two summary rows at the end; served gzip'd when
 * tar_type=GZIP.  hash_value is the SHA1 of the bill before compression.
 *
 * A day's bill holds the payments whose success_time falls on it and the
 * refunds that succeeded on it (China time).  The fee (手续费) is 0.6% of
 * the amount, rounded half up to the fen; a refund gives back the fee of
 * what it refunds (a negative fee).  The simulator lets any day up to
 * today be asked for (WeChat's is ready after 10:00 the next day), a day
 * with nothing on it is 400 NO_STATEMENT_EXIST, a later day 400
 * INVALID_REQUEST.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include <cjson/cJSON.h>

#include "api_bill.h"
#include "state.h"
#include "util.h"
#include "v3.h"

#define FEE_RATE_PERMILLE 6		/* 0.6% */

static const char trade_header[] =
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,"
    "交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,"
    "商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注\r\n";
static const char trade_summary[] =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
    "申请退款总金额\r\n";
static const char fund_header[] =
    "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,"
    "账户结余（元）,资金变更提交申请人,备注,业务凭证号\r\n";
static const char fund_summary[] =
    "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n";

static long
fee_of(long fen)
{
	return (fen * FEE_RATE_PERMILLE + 500) / 1000;
}

/* fen as yuan ("200.00", "-1.20") into buf[32]. */
static const char *
yuan(long fen, char *buf)
{
	unsigned long a = fen < 0 ? (unsigned long)-fen : (unsigned long)fen;

	snprintf(buf, 32, "%s%lu.%02lu", fen < 0 ? "-" : "", a / 100, a % 100);
	return buf;
}

/* "2026-12-04T10:00:00+08:00" -> "2026-12-04 10:00:00" into buf[20]. */
static const char *
bill_time(const char *rfc, char *buf)
{
	snprintf(buf, 20, "%.10s %.8s", rfc, strlen(rfc) >= 19 ? rfc + 11 : "00:00:00");
	return buf;
}

/* A field's text with the CSV's separators taken out. */
static void
put_text(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		fputc(*s == ',' || *s == '`' || *s == '\r' || *s == '\n' ? ' ' : *s, f);
}

static int
on_day(const char *rfc, const char *date)
{
	return rfc[0] != '\0' && strncmp(rfc, date, 10) == 0;
}

/* The trade bill of date (bill_type ALL, SUCCESS or REFUND); *rows the
 * data rows.  Locked. */
static int
trade_bill(struct wxsim *sim, const char *date, const char *type, FILE *f, long *rows)
{
	struct wxsim_state *st = sim->state;
	const struct wxsim_bill_faults *bf = &st->bill_faults;
	long gross = 0, refunded = 0, fees = 0, amt, fee;
	char t[20], a[32], b[32], c[32], d[32], e[32], unknown_txid[32], digits[24];
	size_t i;
	int pays = strcmp(type, "REFUND") != 0, refunds = strcmp(type, "SUCCESS") != 0;

	*rows = 0;
	fputs(trade_header, f);
	for (i = 0; pays && i < st->orders.n; i++) {
		const struct wxsim_order *o = st->orders.v[i];

		if (o->transaction_id[0] == '\0' || !on_day(o->success_time, date) ||
		    strcmp(bf->drop, o->out_trade_no) == 0)
			continue;
		amt = o->total + (strcmp(bf->amount, o->out_trade_no) == 0 ? 1 : 0);
		fee = fee_of(amt);
		fprintf(f, "`%s,`%s,`%s,`0,`,`%s,`%s,`%s,`%s,`%s,`OTHERS,`CNY,`%s,`0.00,`0,`0,"
		    "`0.00,`0.00,`,`,`", bill_time(o->success_time, t), o->appid, o->mchid,
		    o->transaction_id, o->out_trade_no, o->openid != NULL ? o->openid : "",
		    o->trade_type, strcmp(bf->status, o->out_trade_no) == 0 ? "REVOKED" : "SUCCESS",
		    yuan(amt, a));
		put_text(f, o->description);
		fputs(",`", f);
		put_text(f, o->attach);
		fprintf(f, ",`%s,`0.60%%,`%s,`0.00,`\r\n", yuan(fee, b), yuan(amt, c));
		gross += amt;
		fees += fee;
		(*rows)++;
	}
	if (pays && bf->unknown) {
		/* a payment of a trade nobody here made */
		if (wxsim_util_digits(digits, 23) != 0)
			return -1;
		snprintf(unknown_txid, sizeof(unknown_txid), "42000%s", digits);
		fprintf(f, "`%s 12:00:00,`%s,`%s,`0,`,`%s,`SIMUNKNOWN%.12s,`oUnknownPayer,`NATIVE,"
		    "`SUCCESS,`OTHERS,`CNY,`200.00,`0.00,`0,`0,`0.00,`0.00,`,`,`体验课,`,"
		    "`1.20,`0.60%%,`200.00,`0.00,`\r\n", date, sim->cfg.appid, sim->cfg.mchid,
		    unknown_txid, digits);
		gross += 20000;
		fees += 120;
		(*rows)++;
	}
	for (i = 0; refunds && i < st->refunds.n; i++) {
		const struct wxsim_refund *r = st->refunds.v[i];
		const struct wxsim_order *o = wxsim_state_order(st, r->out_trade_no);

		if (o == NULL || strcmp(r->status, "SUCCESS") != 0 ||
		    !on_day(r->success_time, date) || strcmp(bf->drop, r->out_refund_no) == 0)
			continue;
		amt = r->refund + (strcmp(bf->amount, r->out_refund_no) == 0 ? 1 : 0);
		fee = -fee_of(amt);
		fprintf(f, "`%s,`%s,`%s,`0,`,`%s,`%s,`%s,`%s,`REFUND,`OTHERS,`CNY,`0.00,`0.00,"
		    "`%s,`%s,`%s,`0.00,`ORIGINAL,`%s,`", bill_time(r->success_time, t), o->appid,
		    o->mchid, r->transaction_id, r->out_trade_no, o->openid != NULL ? o->openid : "",
		    o->trade_type, r->refund_id, r->out_refund_no, yuan(amt, a),
		    strcmp(bf->status, r->out_refund_no) == 0 ? "PROCESSING" : "SUCCESS");
		put_text(f, o->description);
		fputs(",`", f);
		put_text(f, o->attach);
		fprintf(f, ",`%s,`0.60%%,`0.00,`%s,`\r\n", yuan(fee, b), yuan(amt, c));
		refunded += amt;
		fees += fee;
		(*rows)++;
	}
	fputs(trade_summary, f);
	fprintf(f, "`%ld,`%s,`%s,`0.00,`%s,`%s,`%s\r\n", *rows, yuan(gross, a),
	    yuan(refunded, b), yuan(fees, c), yuan(gross, d), yuan(refunded, e));
	return 0;
}

/* One fund-flow row; the balance moves by fen. */
static void
fund_row(FILE *f, const char *time, const char *txid, const char *name, const char *kind,
    long fen, long *balance, long *in_n, long *in_fen, long *out_n, long *out_fen)
{
	char t[20], a[32], b[32], id[24];

	*balance += fen;
	if (wxsim_util_digits(id, 20) != 0)
		snprintf(id, sizeof(id), "0");
	fprintf(f, "`%s,`%s,`%s,`%s,`%s,`%s,`%s,`%s,`system,`,`%s\r\n", bill_time(time, t), txid,
	    id, name, kind, fen >= 0 ? "收入" : "支出", yuan(fen >= 0 ? fen : -fen, a),
	    yuan(*balance, b), txid);
	if (fen >= 0) {
		(*in_n)++;
		*in_fen += fen;
	} else {
		(*out_n)++;
		*out_fen -= fen;
	}
}

/* The fund-flow bill (the basic account) of date.  Locked. */
static int
fund_bill(struct wxsim *sim, const char *date, FILE *f, long *rows)
{
	struct wxsim_state *st = sim->state;
	long balance = 0, in_n = 0, in_fen = 0, out_n = 0, out_fen = 0;
	char a[32], b[32];
	size_t i;

	fputs(fund_header, f);
	for (i = 0; i < st->orders.n; i++) {
		const struct wxsim_order *o = st->orders.v[i];

		if (o->transaction_id[0] == '\0' || !on_day(o->success_time, date))
			continue;
		fund_row(f, o->success_time, o->transaction_id, "交易收款", "交易", o->total,
		    &balance, &in_n, &in_fen, &out_n, &out_fen);
		fund_row(f, o->success_time, o->transaction_id, "扣除交易手续费", "扣除交易手续费",
		    -fee_of(o->total), &balance, &in_n, &in_fen, &out_n, &out_fen);
	}
	for (i = 0; i < st->refunds.n; i++) {
		const struct wxsim_refund *r = st->refunds.v[i];

		if (strcmp(r->status, "SUCCESS") != 0 || !on_day(r->success_time, date))
			continue;
		fund_row(f, r->success_time, r->refund_id, "退款", "退款", -r->refund,
		    &balance, &in_n, &in_fen, &out_n, &out_fen);
		fund_row(f, r->success_time, r->refund_id, "退还交易手续费", "退还交易手续费",
		    fee_of(r->refund), &balance, &in_n, &in_fen, &out_n, &out_fen);
	}
	(void)sim;
	*rows = in_n + out_n;
	fputs(fund_summary, f);
	fprintf(f, "`%ld,`%ld,`%s,`%ld,`%s\r\n", *rows, in_n, yuan(in_fen, a), out_n,
	    yuan(out_fen, b));
	return 0;
}

/* gzip of len bytes into *out; 0 or -1. */
static int
gzip(const char *in, size_t len, unsigned char **out, size_t *olen)
{
	z_stream zs;
	uLong cap;
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	cap = deflateBound(&zs, (uLong)len) + 32;
	if ((*out = malloc(cap)) == NULL) {
		deflateEnd(&zs);
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = *out;
	zs.avail_out = (uInt)cap;
	rc = deflate(&zs, Z_FINISH);
	*olen = zs.total_out;
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* 1 when s is a YYYY-MM-DD date. */
static int
is_date(const char *s)
{
	int y, m, d;
	char tail;

	return s != NULL && strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && y >= 2000 &&
	    m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* Make the bill, keep its file under a new token, answer the URL. */
static void
bill(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp, int fund)
{
	struct wxsim_state *st = sim->state;
	struct wxsim_bill_file *bf = NULL;
	char *date = wxsim_http_param(req->query, "bill_date");
	char *type = wxsim_http_param(req->query, fund ? "account_type" : "bill_type");
	char *tar = wxsim_http_param(req->query, "tar_type");
	char today[32], hex[41], url[512];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, k;
	const char *host = wxsim_http_header(req, "Host");
	char *text = NULL;
	size_t tlen = 0;
	long rows = 0;
	FILE *f = NULL;
	cJSON *j = NULL;
	int bad_hash, truncate, rc;

	wxsim_util_time_cst(wxsim_util_now(), today, sizeof(today));
	if (!is_date(date)) {
		wxsim_v3_param_error(resp, "uri_template", "bill_date",
		    "bill_date必须是yyyy-MM-DD格式的日期");
		goto out;
	}
	if (!fund && type != NULL && strcmp(type, "ALL") != 0 && strcmp(type, "SUCCESS") != 0 &&
	    strcmp(type, "REFUND") != 0) {
		wxsim_v3_param_error(resp, "uri_template", "bill_type",
		    "bill_type必须是ALL、SUCCESS或REFUND");
		goto out;
	}
	if (fund && type != NULL && strcmp(type, "BASIC") != 0) {
		wxsim_v3_param_error(resp, "uri_template", "account_type",
		    "account_type必须是BASIC");
		goto out;
	}
	if (tar != NULL && strcmp(tar, "GZIP") != 0) {
		wxsim_v3_param_error(resp, "uri_template", "tar_type", "tar_type必须是GZIP");
		goto out;
	}
	if (strncmp(date, today, 10) > 0) {
		wxsim_v3_error(resp, 400, "INVALID_REQUEST", "账单日期不能晚于今天", 0);
		goto out;
	}
	if ((f = open_memstream(&text, &tlen)) == NULL)
		goto fail;
	wxsim_state_lock(st);
	rc = fund ? fund_bill(sim, date, f, &rows) :
	    trade_bill(sim, date, type != NULL ? type : "ALL", f, &rows);
	bad_hash = st->bill_faults.bad_hash;
	truncate = st->bill_faults.truncate;
	wxsim_state_unlock(st);
	if (fclose(f) != 0 || rc != 0 || text == NULL) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rows == 0) {
		wxsim_v3_error(resp, 400, "NO_STATEMENT_EXIST", "当日无账单", 0);
		goto out;
	}
	if (EVP_Digest(text, tlen, md, &mdlen, EVP_sha1(), NULL) != 1)
		goto fail;
	for (k = 0; k < mdlen; k++)
		snprintf(hex + 2 * k, 3, "%02x", md[k]);
	if ((bf = calloc(1, sizeof(*bf))) == NULL || wxsim_util_hex(bf->token, 40) != 0)
		goto fail;
	if (tar != NULL) {
		if (gzip(text, tlen, &bf->data, &bf->len) != 0)
			goto fail;
	} else {
		bf->data = (unsigned char *)text;
		bf->len = tlen;
		text = NULL;
	}
	if (bad_hash)
		hex[0] = hex[0] == '0' ? '1' : '0';
	if (truncate)
		bf->len /= 2;
	snprintf(url, sizeof(url), "https://%s/v3/billdownload/file?token=%s",
	    host != NULL ? host : "127.0.0.1", bf->token);
	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "hash_type", "SHA1") == NULL ||
	    cJSON_AddStringToObject(j, "hash_value", hex) == NULL ||
	    cJSON_AddStringToObject(j, "download_url", url) == NULL)
		goto fail;
	wxsim_state_lock(st);
	if (st->bill_files.n >= WXSIM_MAX_BILL_FILES) {
		wxsim_bill_file_free(st->bill_files.v[0]);
		wxsim_vec_remove(&st->bill_files, 0);
	}
	rc = wxsim_vec_push(&st->bill_files, bf);
	wxsim_state_unlock(st);
	if (rc != 0)
		goto fail;
	wxsim_util_log("%s bill of %s: %ld rows%s%s", fund ? "fund-flow" : "trade", date, rows,
	    bad_hash ? ", bad hash" : "", truncate ? ", truncated" : "");
	bf = NULL;
	wxsim_resp_json(resp, 200, j);
	j = NULL;
	goto out;
fail:
	wxsim_v3_error(resp, 500, "SYSTEM_ERROR", "系统错误", 0);
out:
	if (f != NULL)
		fclose(f);
	cJSON_Delete(j);
	wxsim_bill_file_free(bf);
	free(text);
	free(date);
	free(type);
	free(tar);
}

void
wxsim_bill_trade(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	bill(sim, req, resp, 0);
}

void
wxsim_bill_fundflow(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	bill(sim, req, resp, 1);
}

void
wxsim_bill_download(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	char *token = wxsim_http_param(req->query, "token");
	const struct wxsim_bill_file *bf;
	size_t i;
	int found = 0;

	wxsim_state_lock(sim->state);
	for (i = 0; token != NULL && i < sim->state->bill_files.n; i++) {
		bf = sim->state->bill_files.v[i];
		if (strcmp(bf->token, token) == 0) {
			found = 1;
			wxsim_resp_set(resp, 200, "application/octet-stream",
			    (const char *)bf->data, bf->len);
			break;
		}
	}
	wxsim_state_unlock(sim->state);
	if (!found)
		wxsim_resp_error(resp, 404, "RESOURCE_NOT_EXISTS", "账单文件不存在");
	free(token);
}

static cJSON *
faults_json(const struct wxsim_bill_faults *f)
{
	cJSON *j;

	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "drop", f->drop) == NULL ||
	    cJSON_AddStringToObject(j, "amount", f->amount) == NULL ||
	    cJSON_AddStringToObject(j, "status", f->status) == NULL ||
	    cJSON_AddBoolToObject(j, "unknown", f->unknown) == NULL ||
	    cJSON_AddBoolToObject(j, "bad_hash", f->bad_hash) == NULL ||
	    cJSON_AddBoolToObject(j, "truncate", f->truncate) == NULL) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

void
wxsim_bill_faults_get(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	cJSON *j;

	(void)req;
	wxsim_state_lock(sim->state);
	j = faults_json(&sim->state->bill_faults);
	wxsim_state_unlock(sim->state);
	wxsim_resp_json(resp, 200, j);
}

/* A string fault: 0 when absent or set, -1 when not a short string. */
static int
fault_name(const cJSON *j, const char *name, char *dst, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= len)
		return -1;
	snprintf(dst, len, "%s", v->valuestring);
	return 0;
}

static int
fault_flag(const cJSON *j, const char *name, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return -1;
	*out = cJSON_IsTrue(v);
	return 0;
}

/* POST /sim/bill-faults {"drop","amount","status": name, "unknown",
 * "bad_hash","truncate": bool}: the members given replace the faults. */
void
wxsim_bill_faults_set(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	static const char *const known[] = { "drop", "amount", "status", "unknown",
	    "bad_hash", "truncate" };
	struct wxsim_bill_faults f;
	const cJSON *it;
	cJSON *j = cJSON_ParseWithLength(req->body, req->blen), *out;
	size_t i;

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		wxsim_resp_error(resp, 400, "INVALID_REQUEST", "the body must be a JSON object");
		return;
	}
	cJSON_ArrayForEach(it, j) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(it->string, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			cJSON_Delete(j);
			wxsim_resp_error(resp, 400, "UNKNOWN_FAULT", "unknown bill fault");
			return;
		}
	}
	wxsim_state_lock(sim->state);
	f = sim->state->bill_faults;
	if (fault_name(j, "drop", f.drop, sizeof(f.drop)) != 0 ||
	    fault_name(j, "amount", f.amount, sizeof(f.amount)) != 0 ||
	    fault_name(j, "status", f.status, sizeof(f.status)) != 0 ||
	    fault_flag(j, "unknown", &f.unknown) != 0 ||
	    fault_flag(j, "bad_hash", &f.bad_hash) != 0 ||
	    fault_flag(j, "truncate", &f.truncate) != 0) {
		wxsim_state_unlock(sim->state);
		cJSON_Delete(j);
		wxsim_resp_error(resp, 400, "INVALID_REQUEST", "a bill fault has a bad value");
		return;
	}
	sim->state->bill_faults = f;
	out = faults_json(&f);
	wxsim_state_unlock(sim->state);
	cJSON_Delete(j);
	wxsim_util_log("bill faults: drop=%s amount=%s status=%s unknown=%d bad_hash=%d "
	    "truncate=%d", f.drop, f.amount, f.status, f.unknown, f.bad_hash, f.truncate);
	wxsim_resp_json(resp, 200, out);
}
