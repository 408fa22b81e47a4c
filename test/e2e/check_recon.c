/*
 * check_recon.c: reconciliation through the whole stack: two payments
 * made through the simulator, one with its amount changed in WeChat's
 * bill; gymctl reconcile --date prints the day's summary; the admin API
 * shows the day (runs, the discrepancy with its evidence and what to do,
 * nothing for the payment that matches), the open discrepancies, the gauge
 * in /metrics; an operator resolves it with a note (audited; auditors
 * 403, no note 400, twice 409, unknown 404); the daily report counts the
 * day's money in JSON and CSV; a day whose bill is cut short is counted
 * by the failed-days gauge until a whole bill settles it.  The
 * simulator's bill faults are cleared before and after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "e2e.h"

#define RECON E2E_API "/admin/reconciliation"
#define REPORT E2E_API "/admin/reports/daily"
#define EXPORTS E2E_API "/admin/exports"
#define REPORT_SUM E2E_API "/admin/reports/summary"
#define TOKEN_MAX 128
#define NO_FAULTS "{\"drop\":\"\",\"amount\":\"\",\"status\":\"\",\"unknown\":false," \
	"\"bad_hash\":false,\"truncate\":false}"

static void
bill_faults(const char *json)
{
	struct e2e_resp r = { 0 };

	e2e_sim("POST", "/sim/bill-faults", json, &r);
	ck_assert_msg(r.status == 200, "/sim/bill-faults: %ld %s", r.status, r.body);
	e2e_resp_free(&r);
}

static void
setup(void)
{
	bill_faults(NO_FAULTS);
}

static void
teardown(void)
{
	bill_faults(NO_FAULTS);
}

/* A parent with an order of a new class, paid through the simulator. */
static void
paid_order(const char *tag, char *oid)
{
	char token[E2E_TOKEN_MAX], st[24];
	long long sid = e2e_schedule(2);

	e2e_user(tag, token);
	e2e_order_create(token, sid, e2e_hold(token, sid), oid, NULL);
	e2e_prepay(token, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 5000, st), "paid");
}

/* The same, paid at WeChat at success_time (RFC 3339). */
static void
paid_order_at(const char *tag, const char *success_time, char *oid)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], st[24], body[1200];
	long long sid = e2e_schedule(2);

	e2e_user(tag, token);
	e2e_order_create(token, sid, e2e_hold(token, sid), oid, NULL);
	e2e_prepay(token, oid);
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"success_time\":\"%s\"}", oid,
	    success_time);
	e2e_sim("POST", "/sim/pay", body, &r);
	ck_assert_msg(r.status == 200, "/sim/pay %s: %ld %s", oid, r.status, r.body);
	e2e_resp_free(&r);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 5000, st), "paid");
}

/* Today in China, YYYY-MM-DD. */
static void
china_today(char *buf)
{
	char out[32];

	ck_assert_int_eq(e2e_run("TZ=Asia/Shanghai date +%F", out, sizeof(out)), 0);
	snprintf(buf, 11, "%.10s", out);
}

/* The discrepancy of kind for out_trade_no in a day's answer, or NULL. */
static const cJSON *
find(const cJSON *day, const char *kind, const char *otn)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(day, "discrepancies")) {
		const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "kind"));
		const char *o = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d,
		    "out_trade_no"));

		if (k != NULL && o != NULL && strcmp(k, kind) == 0 && strcmp(o, otn) == 0)
			return d;
	}
	return NULL;
}

START_TEST(reconcile_and_resolve)
{
	struct e2e_resp r = { 0 };
	char op[TOKEN_MAX], aud[TOKEN_MAX], a[40], b[40], today[11], cmd[2048], out[1024];
	char path[256], faults[128], body[256];
	const cJSON *d, *run;
	const char *p[1] = { a };
	long long id, open_before, open_after;
	int rc;

	e2e_operator("recon-op", "operator", op, sizeof(op));
	e2e_operator("recon-aud", "auditor", aud, sizeof(aud));
	paid_order("recon-a", a);
	paid_order("recon-b", b);
	china_today(today);
	snprintf(faults, sizeof(faults), "{\"amount\":\"%s\"}", a);
	bill_faults(faults);

	/* by hand: the summary printed, exit 0 */
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' reconcile --date %s --channel wechat "
	    "--force 2>&1", e2e_bin(), e2e_conf(), today);
	rc = e2e_run(cmd, out, sizeof(out));
	ck_assert_msg(rc == 0, "gymctl reconcile: exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "state done") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "bill rows") != NULL && strstr(out, "net ") != NULL, "%s", out);
	/* bad arguments: exit 2 */
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' reconcile --date 2026-02-30 2>&1",
	    e2e_bin(), e2e_conf());
	ck_assert_int_eq(e2e_run(cmd, out, sizeof(out)), 2);

	/* the day's WeChat run (Alipay's may be there too), as an auditor sees it */
	snprintf(path, sizeof(path), RECON "?date=%s&channel=wechat", today);
	e2e_request("GET", path, aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	run = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "runs"), 0);
	ck_assert_ptr_nonnull(run);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(run, "channel")),
	    "wechat");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(run, "state")),
	    "done");
	d = find(r.json, "amount_mismatch", a);
	ck_assert_msg(d != NULL, "no amount_mismatch for %s: %s", a, r.body);
	ck_assert_int_eq((long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d,
	    "bill_amount_fen")), 20001);
	ck_assert_int_eq((long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d,
	    "our_amount_fen")), 20000);
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(d, "evidence"), "bill"));
	ck_assert_ptr_nonnull(strstr(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d,
	    "action")), "amounts differ"));
	ck_assert_ptr_null(find(r.json, "amount_mismatch", b));
	ck_assert_ptr_null(find(r.json, "missing_there", b));
	ck_assert_ptr_null(find(r.json, "missing_here", b));
	id = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "id"));
	ck_assert_int_gt(id, 0);

	/* bad dates and channels */
	e2e_request("GET", RECON "?date=2026-13-01", aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(e2e_code(&r), "INVALID_REQUEST");
	e2e_request("GET", RECON, aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	snprintf(path, sizeof(path), RECON "?date=%s&channel=paypal", today);
	e2e_request("GET", path, aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	e2e_request("GET", RECON "?date=2026-01-01", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);

	/* open ones, and the gauge */
	e2e_request("GET", RECON "/discrepancies", aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	open_before = (long long)e2e_num(&r, "count");
	ck_assert_int_ge(open_before, 1);
	e2e_request("GET", "/metrics", NULL, NULL, NULL, &r);
	ck_assert_int_eq(e2e_metric(r.body, "gymd_reconciliation_discrepancies_open"), open_before);
	/* the needs-attention queue carries them too, each with what to do */
	e2e_request("GET", E2E_API "/admin/attention", aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	{
		const cJSON *dq = cJSON_GetObjectItemCaseSensitive(r.json, "discrepancies"), *x;
		int seen = 0;

		ck_assert_ptr_nonnull(dq);
		ck_assert_int_eq((long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(dq,
		    "count")), open_before);
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(dq, "items")) {
			ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(x, "action")));
			seen += (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x,
			    "id")) == id;
		}
		ck_assert_int_eq(seen, 1);
	}

	/* resolve: auditors may not, a note is needed, then once */
	snprintf(path, sizeof(path), RECON "/discrepancies/%lld/resolve", id);
	e2e_request("POST", path, aud, "{\"note\":\"checked\"}", NULL, &r);
	ck_assert_int_eq(r.status, 403);
	e2e_request("POST", path, op, "{\"note\":\"\"}", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	e2e_request("POST", path, op, "{}", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	snprintf(body, sizeof(body), "{\"note\":\"差一分：已在商户平台核对\"}");
	e2e_request("POST", path, op, body, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.json, "resolved")));
	ck_assert_str_eq(e2e_str(&r, "resolution_note"), "差一分：已在商户平台核对");
	e2e_request("POST", path, op, body, NULL, &r);
	ck_assert_int_eq(r.status, 409);
	e2e_request("POST", RECON "/discrepancies/999999999/resolve", op, body, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log "
	    "WHERE action_type = 'reconciliation_resolved' AND order_id = $1 "
	    "AND actor_type = 'operator'", 1, p), 1);
	e2e_request("GET", RECON "/discrepancies", aud, NULL, NULL, &r);
	open_after = (long long)e2e_num(&r, "count");
	ck_assert_int_eq(open_after, open_before - 1);

	/* the report: today holds both payments; CSV for the accountant */
	snprintf(path, sizeof(path), REPORT "?from=%s&to=%s", today, today);
	e2e_request("GET", path, aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	{
		const cJSON *day = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json,
		    "days"), 0);
		const cJSON *wx = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(day, "by_channel"), "wechat");

		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(day,
		    "date")), today);
		ck_assert_int_ge((long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(wx, "payments")), 2);
		ck_assert_int_ge((long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(wx, "gross_fen")), 40000);
		/* the fees come from the bill: 1.20 yuan a payment */
		ck_assert_int_ge((long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(wx, "fee_fen")), 240);
		ck_assert_int_eq((long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(wx, "net_fen")),
		    (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(wx,
		    "gross_fen")) - (long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(wx, "refund_fen")) -
		    (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(wx,
		    "fee_fen")));
	}
	e2e_request("GET", path, aud, NULL, "Accept: text/csv", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.ctype, "text/csv"));
	ck_assert_ptr_nonnull(strstr(r.body, "date,channel,payments,gross_yuan"));
	snprintf(cmd, sizeof(cmd), "%s,wechat,", today);
	ck_assert_ptr_nonnull(strstr(r.body, cmd));
	/* the default: 90 days to today, 2 channels each */
	e2e_request("GET", REPORT, aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "days")), 90);
	e2e_request("GET", REPORT "?from=2026-01-02&to=2026-01-01", aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	e2e_request("GET", REPORT "?from=2020-01-01&to=2026-01-01", aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);

	/* by month and by product: this month's trial payments with their fees */
	snprintf(path, sizeof(path), REPORT_SUM "?from=%s&to=%s&group=month&by=product", today,
	    today);
	e2e_request("GET", path, aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	{
		const cJSON *x, *trial = NULL;
		char month[8];

		snprintf(month, sizeof(month), "%.7s", today);
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r.json, "rows")) {
			ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x,
			    "period")), month);
			if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "payments")) >= 2)
				trial = x;
		}
		ck_assert_msg(trial != NULL, "%s", r.body);
		ck_assert_int_ge((long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(trial, "fee_fen")), 240);
		ck_assert_str_ne(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(trial, "key")),
		    "wechat");
	}
	snprintf(path, sizeof(path), REPORT_SUM "?from=%s&to=%s&group=day&by=channel", today, today);
	e2e_request("GET", path, aud, NULL, "Accept: text/csv", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(memcmp(r.body, "\xEF\xBB\xBF\"period\",\"key\",\"payments\",", 29), 0);
	snprintf(cmd, sizeof(cmd), "\"%s\",\"wechat\",", today);
	ck_assert_msg(strstr(r.body, cmd) != NULL, "%s", r.body);
	e2e_request("GET", REPORT_SUM "?group=week", aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(e2e_str(&r, "field"), "group");
	e2e_request("GET", REPORT_SUM, aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(e2e_str(&r, "group"), "month");

	/* the accountant's files: today's payments, the bill line by line with what
	 * each matched, and the refunds (a reason with a comma and quotes) */
	snprintf(path, sizeof(path), EXPORTS "/payments?from=%s&to=%s", today, today);
	e2e_request("GET", path, aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(strstr(r.ctype, "text/csv"));
	ck_assert_int_eq(memcmp(r.body, "\xEF\xBB\xBF\"paid_at_cst\",\"order_id\",", 27), 0);
	snprintf(cmd, sizeof(cmd), "\"%s\",", a);
	ck_assert_msg(strstr(r.body, cmd) != NULL, "%s not in %s", a, r.body);
	snprintf(cmd, sizeof(cmd), "\"%s\",", b);
	ck_assert_ptr_nonnull(strstr(r.body, cmd));
	ck_assert_ptr_nonnull(strstr(r.body, "\"200.00\",\"20000\""));
	snprintf(path, sizeof(path), EXPORTS "/bill?date=%s&channel=wechat", today);
	e2e_request("GET", path, aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	{
		const char *la = strstr(r.body, a), *lb = strstr(r.body, b);

		ck_assert_msg(la != NULL && lb != NULL, "%s", r.body);
		ck_assert_ptr_nonnull(strstr(la, "\"200.01\",\"20001\""));
		ck_assert_msg(strncmp(strstr(la, "\r\n") - 17, "\"amount_mismatch\"", 17) == 0,
		    "%s", r.body);
		ck_assert_msg(strncmp(strstr(lb, "\r\n") - 9, "\"matched\"", 9) == 0, "%s", r.body);
	}
	e2e_request("GET", EXPORTS "/bill?channel=wechat", aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(e2e_str(&r, "field"), "date");
	snprintf(path, sizeof(path), EXPORTS "/bill?date=%s&channel=paypal", today);
	e2e_request("GET", path, aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(e2e_str(&r, "field"), "channel");
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"amount_fen\":5000,"
	    "\"reason\":\"部分退款,见\\\"备注\\\"\"}", b);
	e2e_request("POST", E2E_API "/admin/refunds", op, body, NULL, &r);
	ck_assert_msg(r.status == 202 || r.status == 201, "%ld %s", r.status, r.body);
	snprintf(path, sizeof(path), EXPORTS "/refunds?from=%s&to=%s", today, today);
	e2e_request("GET", path, aud, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq(memcmp(r.body, "\xEF\xBB\xBF\"asked_at_cst\",", 18), 0);
	ck_assert_msg(strstr(r.body, "\"部分退款,见\"\"备注\"\"\"") != NULL, "%s", r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "\"50.00\",\"5000\""));
	e2e_request("GET", EXPORTS "/refunds?from=2026-01-02&to=2026-01-01", aud, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	e2e_request("GET", EXPORTS "/payments", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
}
END_TEST

/* A day whose bill could not be read: gymd_reconciliation_days_failed
 * counts it, as recon_runs does, until a whole bill settles the day. */
START_TEST(failed_day_gauge)
{
	struct e2e_resp r = { 0 };
	char day[16], cmd[1024], out[1024], oid[40];
	long long failed;

	/* a payment of 20 days ago (WeChat bills a day with none as no bill) */
	ck_assert_int_eq(e2e_run("TZ=Asia/Shanghai date -d '20 days ago' +%FT12:00:00+08:00", out,
	    sizeof(out)), 0);
	out[strcspn(out, "\n")] = '\0';
	paid_order_at("recon-failed", out, oid);
	snprintf(day, 11, "%.10s", out);
	bill_faults("{\"truncate\":true}");
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' reconcile --date %s --channel wechat "
	    "--force 2>&1", e2e_bin(), e2e_conf(), day);
	ck_assert_int_eq(e2e_run(cmd, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "state failed") != NULL, "%s", out);
	failed = e2e_sql_int(e2e_pg(), "SELECT count(*) FROM recon_runs WHERE state = 'failed' "
	    "AND bill_date >= (now() AT TIME ZONE 'Asia/Shanghai')::date - 90");
	ck_assert_int_ge(failed, 1);
	e2e_request("GET", "/metrics", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(e2e_metric(r.body, "gymd_reconciliation_days_failed"), failed);
	bill_faults(NO_FAULTS);
	ck_assert_int_eq(e2e_run(cmd, out, sizeof(out)), 0);
	e2e_request("GET", "/metrics", NULL, NULL, NULL, &r);
	ck_assert_int_eq(e2e_metric(r.body, "gymd_reconciliation_days_failed"), failed - 1);
	e2e_resp_free(&r);
}
END_TEST

Suite *
recon_suite(void)
{
	Suite *s = suite_create("recon");
	TCase *tc = tcase_create("recon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, reconcile_and_resolve);
	tcase_add_test(tc, failed_day_gauge);
	suite_add_tcase(s, tc);
	return s;
}
