/*
 * h_admin_recon.c: reconciliation and money for the console.
 *   GET  /admin/reconciliation?date=YYYY-MM-DD[&channel=]   a day's runs and
 *        discrepancies, each with its evidence and what to do
 *   GET  /admin/reconciliation/discrepancies[?limit=]        the open ones,
 *        every day (beside the needs-attention queue)
 *   POST /admin/reconciliation/discrepancies/{id}/resolve {"note"}  operators
 *        settle one (audited); 409 when it was settled already
 *   GET  /admin/reports/daily?from=&to=  per China day and channel: gross,
 *        refunds, fees, net, counts; JSON, or CSV with Accept: text/csv (or
 *        ?format=csv).  Without from/to: the last 90 days up to today.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hadmin.h"
#include "hutil.h"
#include "bill.h"
#include "csv.h"
#include "json.h"
#include "recon_report.h"

#define NOTE_MAX_CHARS 500
#define OPEN_LIMIT_DEFAULT 100
#define OPEN_LIMIT_MAX 500
#define REPORT_DAYS_DEFAULT 90

/* A JSON text the database built, as the answer. */
static enum gym_err
raw_json(struct gym_resp *resp, char *json)
{
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = json;
	resp->body_len = strlen(json);
	return GYM_OK;
}

/* ?channel=: absent (NULL), or a channel we have. */
static enum gym_err
channel_param(const struct gym_req *req, struct gym_resp *resp, char *buf, size_t len,
    const char **out)
{
	*out = NULL;
	if (!gym_h_query(req, "channel", buf, len))
		return GYM_OK;
	if (strcmp(buf, "wechat") != 0 && strcmp(buf, "alipay") != 0)
		return gym_h_bad(resp, "channel");
	*out = buf;
	return GYM_OK;
}

enum gym_err
gym_h_admin_reconciliation(struct gym_req *req, struct gym_resp *resp)
{
	char date[16], chbuf[16], *json = NULL;
	const char *channel;
	enum gym_err e;

	if (!gym_h_query(req, "date", date, sizeof(date)) || !gym_bill_date_ok(date))
		return gym_h_bad(resp, "date");
	if ((e = channel_param(req, resp, chbuf, sizeof(chbuf), &channel)) != GYM_OK)
		return e;
	if ((e = gym_recon_day_json(req->ctx->db, channel, date, &json)) != GYM_OK)
		return e == GYM_EINVAL ? gym_h_bad(resp, "date") : e;
	return raw_json(resp, json);
}

enum gym_err
gym_h_admin_discrepancies(struct gym_req *req, struct gym_resp *resp)
{
	char buf[16], *end, *json = NULL;
	long limit = OPEN_LIMIT_DEFAULT;
	enum gym_err e;

	if (gym_h_query(req, "limit", buf, sizeof(buf))) {
		limit = strtol(buf, &end, 10);
		if (buf[0] == '\0' || *end != '\0' || limit < 1 || limit > OPEN_LIMIT_MAX)
			return gym_h_bad(resp, "limit");
	}
	if ((e = gym_recon_open_json(req->ctx->db, (int)limit, &json)) != GYM_OK)
		return e;
	return raw_json(resp, json);
}

/* UTF-8 characters in s. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

enum gym_err
gym_h_admin_discrepancy_resolve(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a;
	cJSON *body = NULL;
	const char *note = NULL;
	char *snap = NULL, *json = NULL;
	long long id;
	enum gym_err e;

	if ((e = gym_h_path_id(req->args[0], &id, GYM_ENOTFOUND)) != GYM_OK)
		return e;
	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if (gym_json_str(body, "note", &note) != GYM_OK || note[0] == '\0' ||
	    chars(note) > NOTE_MAX_CHARS) {
		cJSON_Delete(body);
		return gym_h_bad(resp, "note");
	}
	gym_h_actor(req, &a, &snap);
	e = gym_recon_resolve(req->ctx->db, &a, id, note, &json);
	free(snap);
	cJSON_Delete(body);
	if (e != GYM_OK)
		return e;
	return raw_json(resp, json);
}

/* fen as yuan with two decimals into buf[32]. */
static const char *
yuan(long long fen, char *buf)
{
	unsigned long long a = fen < 0 ? (unsigned long long)-fen : (unsigned long long)fen;

	snprintf(buf, 32, "%s%llu.%02llu", fen < 0 ? "-" : "", a / 100, a % 100);
	return buf;
}

static cJSON *
money_json(long long gross, long long refunds, long long fees, long long payments,
    long long refund_count)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "gross_fen", (double)gross);
	cJSON_AddNumberToObject(o, "refund_fen", (double)refunds);
	cJSON_AddNumberToObject(o, "fee_fen", (double)fees);
	cJSON_AddNumberToObject(o, "net_fen", (double)(gross - refunds - fees));
	cJSON_AddNumberToObject(o, "payments", (double)payments);
	cJSON_AddNumberToObject(o, "refunds", (double)refund_count);
	return o;
}

/* The report as CSV: a row per day and channel, then the day's total. */
static enum gym_err
report_csv(struct gym_resp *resp, const struct gym_report_row *r, int n, const char *from,
    const char *to)
{
	char *out = NULL, g[32], rf[32], f[32], net[32], hdr[128];
	size_t len = 0;
	FILE *fp;
	int i;

	if ((fp = open_memstream(&out, &len)) == NULL)
		return GYM_ENOMEM;
	fputs("\xEF\xBB\xBF" "date,channel,payments,gross_yuan,refunds,refund_yuan,fee_yuan,"
	    "net_yuan\r\n", fp);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s,%s,%lld,%s,%lld,%s,%s,%s\r\n", r[i].date, r[i].channel,
		    r[i].payments, yuan(r[i].gross_fen, g), r[i].refunds, yuan(r[i].refund_fen, rf),
		    yuan(r[i].fee_fen, f), yuan(r[i].gross_fen - r[i].refund_fen - r[i].fee_fen,
		    net));
	if (fclose(fp) != 0 || out == NULL) {
		free(out);
		return GYM_ENOMEM;
	}
	resp->status = 200;
	resp->content_type = "text/csv; charset=utf-8";
	resp->body = out;
	resp->body_len = len;
	snprintf(hdr, sizeof(hdr), "attachment; filename=\"daily-%s-%s.csv\"", from, to);
	return gym_resp_header(resp, "Content-Disposition", hdr);
}

static enum gym_err
report_json(struct gym_resp *resp, const struct gym_report_row *r, int n, const char *from,
    const char *to)
{
	cJSON *o = cJSON_CreateObject(), *days = cJSON_AddArrayToObject(o, "days"), *day = NULL,
	    *by = NULL;
	long long tg = 0, tr = 0, tf = 0, tp = 0, tc = 0, g = 0, rf = 0, f = 0, p = 0, c = 0;
	int i;

	cJSON_AddStringToObject(o, "from", from);
	cJSON_AddStringToObject(o, "to", to);
	for (i = 0; i < n; i++) {
		if (day == NULL || strcmp(r[i].date, r[i - 1].date) != 0) {
			day = cJSON_CreateObject();
			cJSON_AddStringToObject(day, "date", r[i].date);
			by = cJSON_AddObjectToObject(day, "by_channel");
			cJSON_AddItemToArray(days, day);
			g = rf = f = p = c = 0;
		}
		cJSON_AddItemToObject(by, r[i].channel, money_json(r[i].gross_fen,
		    r[i].refund_fen, r[i].fee_fen, r[i].payments, r[i].refunds));
		g += r[i].gross_fen;
		rf += r[i].refund_fen;
		f += r[i].fee_fen;
		p += r[i].payments;
		c += r[i].refunds;
		if (i + 1 == n || strcmp(r[i].date, r[i + 1].date) != 0) {
			cJSON_AddNumberToObject(day, "gross_fen", (double)g);
			cJSON_AddNumberToObject(day, "refund_fen", (double)rf);
			cJSON_AddNumberToObject(day, "fee_fen", (double)f);
			cJSON_AddNumberToObject(day, "net_fen", (double)(g - rf - f));
			cJSON_AddNumberToObject(day, "payments", (double)p);
			cJSON_AddNumberToObject(day, "refunds", (double)c);
			tg += g;
			tr += rf;
			tf += f;
			tp += p;
			tc += c;
		}
	}
	cJSON_AddItemToObject(o, "totals", money_json(tg, tr, tf, tp, tc));
	return gym_resp_json(resp, 200, o);
}

enum gym_err
gym_h_admin_report_daily(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_report_row *rows = NULL;
	char from[16], to[16];
	int n = 0, has_from, has_to;
	enum gym_err e;

	has_from = gym_h_query(req, "from", from, sizeof(from));
	has_to = gym_h_query(req, "to", to, sizeof(to));
	if (has_from && !gym_bill_date_ok(from))
		return gym_h_bad(resp, "from");
	if (has_to && !gym_bill_date_ok(to))
		return gym_h_bad(resp, "to");
	if (!has_to) {
		gym_time_format_cst(gym_now_us(), to, sizeof(to));
		to[10] = '\0';
	}
	if (!has_from) {
		char t[40];

		/* the default window ends at to; from is REPORT_DAYS_DEFAULT - 1 days
		 * earlier (China days: a day is 86400 s there) */
		if (has_to) {
			int64_t us;

			snprintf(t, sizeof(t), "%sT12:00:00+08:00", to);
			if (gym_time_parse(t, &us) == -1)
				return gym_h_bad(resp, "to");
			gym_time_format_cst(us - (int64_t)(REPORT_DAYS_DEFAULT - 1) * 86400 *
			    1000000, t, sizeof(t));
		} else
			gym_time_format_cst(gym_now_us() - (int64_t)(REPORT_DAYS_DEFAULT - 1) *
			    86400 * 1000000, t, sizeof(t));
		snprintf(from, sizeof(from), "%.10s", t);
	}
	if ((e = gym_report_daily(req->ctx->db, from, to, &rows, &n)) != GYM_OK) {
		free(rows);
		return e == GYM_EINVAL ? gym_h_bad(resp, strcmp(from, to) > 0 ? "to" : "from") : e;
	}
	e = gym_h_wants_csv(req) ? report_csv(resp, rows, n, from, to) :
	    report_json(resp, rows, n, from, to);
	free(rows);
	return e;
}

/* The summary as CSV: a row per period and key (names quoted, csv.h). */
static enum gym_err
summary_csv(struct gym_resp *resp, const struct gym_report_sum *r, int n, const char *from,
    const char *to, const char *group, const char *by)
{
	static const char *const head[] = { "period", "key", "payments", "gross_yuan", "refunds",
		"refund_yuan", "fee_yuan", "net_yuan" };
	struct gym_csv c;
	char v[6][32], hdr[160];
	int rc = gym_csv_begin(&c);

	for (size_t j = 0; j < sizeof(head) / sizeof(head[0]); j++)
		rc |= gym_csv_field(&c, head[j], j + 1 == sizeof(head) / sizeof(head[0]));
	for (int i = 0; i < n && rc == 0; i++) {
		snprintf(v[0], sizeof(v[0]), "%lld", r[i].payments);
		snprintf(v[1], sizeof(v[1]), "%lld", r[i].refunds);
		rc |= gym_csv_field(&c, r[i].period, 0) | gym_csv_field(&c, r[i].key, 0) |
		    gym_csv_field(&c, v[0], 0) | gym_csv_field(&c, yuan(r[i].gross_fen, v[2]), 0) |
		    gym_csv_field(&c, v[1], 0) | gym_csv_field(&c, yuan(r[i].refund_fen, v[3]), 0) |
		    gym_csv_field(&c, yuan(r[i].fee_fen, v[4]), 0) |
		    gym_csv_field(&c, yuan(r[i].gross_fen - r[i].refund_fen - r[i].fee_fen, v[5]), 1);
	}
	if (rc != 0) {
		free(c.p);
		return GYM_ENOMEM;
	}
	resp->status = 200;
	resp->content_type = "text/csv; charset=utf-8";
	resp->body = c.p;
	resp->body_len = c.len;
	snprintf(hdr, sizeof(hdr), "attachment; filename=\"report-%s-%s-%s-%s.csv\"", group, by,
	    from, to);
	return gym_resp_header(resp, "Content-Disposition", hdr);
}

static enum gym_err
summary_json(struct gym_resp *resp, const struct gym_report_sum *r, int n, const char *from,
    const char *to, const char *group, const char *by)
{
	cJSON *o = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(o, "rows"), *x;
	long long g = 0, rf = 0, f = 0, p = 0, c = 0;

	cJSON_AddStringToObject(o, "from", from);
	cJSON_AddStringToObject(o, "to", to);
	cJSON_AddStringToObject(o, "group", group);
	cJSON_AddStringToObject(o, "by", by);
	for (int i = 0; i < n; i++) {
		x = money_json(r[i].gross_fen, r[i].refund_fen, r[i].fee_fen, r[i].payments,
		    r[i].refunds);
		cJSON_AddStringToObject(x, "period", r[i].period);
		cJSON_AddStringToObject(x, "key", r[i].key);
		cJSON_AddItemToArray(rows, x);
		g += r[i].gross_fen;
		rf += r[i].refund_fen;
		f += r[i].fee_fen;
		p += r[i].payments;
		c += r[i].refunds;
	}
	cJSON_AddItemToObject(o, "totals", money_json(g, rf, f, p, c));
	return gym_resp_json(resp, 200, o);
}

/* GET /admin/reports/summary?from=&to=&group=day|month&by=channel|product:
 * to defaults to today, from to the first day of the month 11 months
 * before to's (a year of months). */
enum gym_err
gym_h_admin_report_summary(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_report_sum *rows = NULL;
	char from[16], to[16], group[8] = "month", by[8] = "channel";
	int n = 0, y, m;
	enum gym_err e;

	if (gym_h_query(req, "to", to, sizeof(to))) {
		if (!gym_bill_date_ok(to))
			return gym_h_bad(resp, "to");
	} else {
		gym_time_format_cst(gym_now_us(), to, sizeof(to));
		to[10] = '\0';
	}
	if (gym_h_query(req, "from", from, sizeof(from))) {
		if (!gym_bill_date_ok(from))
			return gym_h_bad(resp, "from");
	} else {
		if (sscanf(to, "%4d-%2d", &y, &m) != 2 || y < 1000 || y > 9999 || m < 1 || m > 12)
			return gym_h_bad(resp, "to");
		m -= 11;
		if (m < 1) {
			m += 12;
			y--;
		}
		snprintf(from, sizeof(from), "%04d-%02d-01", y % 10000, m % 100);
	}
	if (gym_h_query(req, "group", group, sizeof(group)) && strcmp(group, "day") != 0 &&
	    strcmp(group, "month") != 0)
		return gym_h_bad(resp, "group");
	if (gym_h_query(req, "by", by, sizeof(by)) && strcmp(by, "channel") != 0 &&
	    strcmp(by, "product") != 0)
		return gym_h_bad(resp, "by");
	if ((e = gym_report_summary(req->ctx->db, from, to, strcmp(group, "month") == 0,
	    strcmp(by, "product") == 0, &rows, &n)) != GYM_OK) {
		free(rows);
		return e == GYM_EINVAL ? gym_h_bad(resp, strcmp(from, to) > 0 ? "to" : "from") : e;
	}
	e = gym_h_wants_csv(req) ? summary_csv(resp, rows, n, from, to, group, by) :
	    summary_json(resp, rows, n, from, to, group, by);
	free(rows);
	return e;
}
