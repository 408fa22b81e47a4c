/*
 * h_service.c: GET /healthz and GET /metrics, the service endpoints at the
 * root (nginx keeps /metrics to loopback; gymd answers it only to the
 * trusted_proxies).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "overview.h"
#include "recon_report.h"

/* 200 {"status":"ok"} when the database answers SELECT 1; otherwise
 * GYM_EDB, which the error map answers as 503 UNAVAILABLE. */
enum gym_err
gym_h_healthz(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_db *db = req->ctx->db;
	cJSON *o;

	if (db == NULL || gym_db_ensure(db) != GYM_OK ||
	    gym_db_query(db, "SELECT 1", 0, NULL, NULL) != GYM_OK)
		return GYM_EDB;
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "status", "ok") == NULL) {
		cJSON_Delete(o);
		return GYM_ENOMEM;
	}
	return gym_resp_json(resp, 200, o);
}

/* What waits for a person (from the database) and the platform
 * certificates' expiry (from the config), after the process counters. */
static enum gym_err
render_state(struct gym_req *req, struct gym_resp *resp)
{
	const struct gym_wx_keyring *kr = &req->ctx->cfg->wx_platform;
	struct gym_metrics_state st;
	struct gym_overview *ov;
	time_t now = gym_now();

	memset(&st, 0, sizeof(st));
	if ((ov = calloc(1, sizeof(*ov))) == NULL)
		return GYM_ENOMEM;
	if (gym_overview_waiting(req->ctx->db, ov) == GYM_OK) {
		st.have_db = 1;
		st.attention = ov->attention;
		st.refunds_in_progress = ov->refunds_in_progress;
		st.refunds_abnormal = ov->refunds_abnormal;
	} else {
		gym_log_warnx("metrics: the database did not answer; waiting counts left out");
	}
	free(ov);
	for (size_t i = 0; i < kr->n && st.nkeys < 8; i++) {
		if (kr->k[i].not_after == 0)
			continue;
		snprintf(st.keys[st.nkeys].serial, sizeof(st.keys[0].serial), "%s", kr->k[i].serial);
		st.keys[st.nkeys].days = (double)(kr->k[i].not_after - (int64_t)now) / 86400.0;
		st.nkeys++;
	}
	return gym_metrics_render_state(&st, &resp->body, &resp->body_len);
}

/* One gauge appended to the body (left out when memory runs out). */
static void
append_gauge(struct gym_resp *resp, const char *name, const char *help, long long n)
{
	char line[384], *nb;
	int len;

	len = snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help,
	    name, name, n);
	if (len <= 0 || (size_t)len >= sizeof(line) ||
	    (nb = realloc(resp->body, resp->body_len + (size_t)len + 1)) == NULL)
		return;
	memcpy(nb + resp->body_len, line, (size_t)len + 1);
	resp->body = nb;
	resp->body_len += (size_t)len;
}

/* The reconciliation gauges read from the database: the open
 * discrepancies and the failed bill days (left out when they cannot be
 * read: /metrics answers without them). */
static void
append_recon_gauges(struct gym_req *req, struct gym_resp *resp)
{
	long long open, failed;

	if (req->ctx->db == NULL || gym_recon_gauges(req->ctx->db, &open, &failed) != GYM_OK)
		return;
	append_gauge(resp, "gymd_reconciliation_discrepancies_open",
	    "Bill reconciliation discrepancies not resolved yet.", open);
	append_gauge(resp, "gymd_reconciliation_days_failed",
	    "Days of the last 90 whose bill could not be reconciled (download or file).", failed);
}

enum gym_err
gym_h_metrics(struct gym_req *req, struct gym_resp *resp)
{
	enum gym_err rc;

	/* nginx keeps /metrics to loopback; a caller that reached gymd's
	 * socket directly from elsewhere is not told it exists */
	if (!req->ctx->peer_trusted)
		return GYM_ENOTFOUND;
	free(resp->body);
	resp->body = NULL;
	if ((rc = gym_metrics_render(&resp->body, &resp->body_len)) != GYM_OK)
		return rc;
	if ((rc = render_state(req, resp)) != GYM_OK)
		return rc;
	append_recon_gauges(req, resp);
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4";
	return GYM_OK;
}
