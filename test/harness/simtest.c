/*
 * simtest.c: the integration tests' side of the simulator (simtest.h):
 * the lib configuration that points the WeChat client at wxsim's TLS
 * listener, and the control API over plain HTTP with libcurl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>

#include "simtest.h"

#define SIMT_TIMEOUT_MS 10000L
#define SIMT_MAX_ANSWER (4L * 1024 * 1024)

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

int
simt_available(const char *what)
{
	static const char *const vars[] = {
		SIMT_ENV_BASE, SIMT_ENV_CTL, SIMT_ENV_CA, SIMT_ENV_CONF,
	};
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (env(vars[i]) == NULL) {
			fprintf(stderr, "skipped: %s: %s is not set (make check-integ starts "
			    "the simulator and sets it)\n", what, vars[i]);
			return 0;
		}
	return 1;
}

static char *
dup_or_fail(const char *s)
{
	char *d = strdup(s);

	ck_assert_ptr_nonnull(d);
	return d;
}

void
simt_config(struct gym_config *cfg)
{
	char err[512] = "";
	const char *conf = env(SIMT_ENV_CONF), *base = env(SIMT_ENV_BASE), *ca = env(SIMT_ENV_CA);

	ck_assert_msg(conf != NULL && base != NULL && ca != NULL, "%s, %s or %s not set",
	    SIMT_ENV_CONF, SIMT_ENV_BASE, SIMT_ENV_CA);
	memset(cfg, 0, sizeof(*cfg));
	ck_assert_msg(gym_config_load(conf, cfg, err, sizeof(err)) == GYM_OK,
	    "gym_config_load %s: %s", conf, err);
	free(cfg->wx_pay_base);
	free(cfg->wx_api_base);
	free(cfg->wx_cainfo);
	cfg->wx_pay_base = dup_or_fail(base);
	cfg->wx_api_base = dup_or_fail(base);
	cfg->wx_cainfo = dup_or_fail(ca);
}

struct gym_wx_client *
simt_client(const struct gym_config *cfg)
{
	struct gym_wx_client *wx = NULL;
	enum gym_err e;

	e = gym_wx_client_new(cfg, &wx);
	ck_assert_msg(e == GYM_OK && wx != NULL, "gym_wx_client_new: %d", (int)e);
	return wx;
}

char *
simt_trade_no(char *buf, size_t len)
{
	static unsigned counter;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, len, "SIMT%ld%lld%u", (long)getpid() % 100000,
	    (long long)ts.tv_sec % 100000000, ++counter);
	return buf;
}

/* The answer's bytes, at most SIMT_MAX_ANSWER. */
struct answer {
	char *p;
	size_t n;
};

static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	char *np;

	if (a->n + n > SIMT_MAX_ANSWER || (np = realloc(a->p, a->n + n + 1)) == NULL)
		return 0;
	memcpy(np + a->n, data, n);
	a->p = np;
	a->n += n;
	a->p[a->n] = '\0';
	return n;
}

long
simt_ctl(const char *method, const char *path, const char *json, cJSON **out)
{
	static int curl_ready;
	struct curl_slist *hdrs = NULL;
	struct answer a = { NULL, 0 };
	const char *ctl = env(SIMT_ENV_CTL);
	char url[1024];
	CURLcode rc;
	CURL *h;
	long status = 0;

	if (out != NULL)
		*out = NULL;
	ck_assert_msg(ctl != NULL, "%s not set", SIMT_ENV_CTL);
	if (!curl_ready) {
		ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
		curl_ready = 1;
	}
	ck_assert_msg((size_t)snprintf(url, sizeof(url), "%s%s", ctl, path) < sizeof(url),
	    "URL too long: %s", path);
	ck_assert_ptr_nonnull(h = curl_easy_init());
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, SIMT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	if (json != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		free(a.p);
		ck_abort_msg("simulator control %s %s: %s", method, url, curl_easy_strerror(rc));
	}
	if (out != NULL && a.p != NULL)
		*out = cJSON_Parse(a.p);
	free(a.p);
	return status;
}

long
simt_pay(const char *out_trade_no, const char *trade_state)
{
	cJSON *j = cJSON_CreateObject();
	char *body;
	long st;

	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_nonnull(cJSON_AddStringToObject(j, "out_trade_no", out_trade_no));
	if (trade_state != NULL)
		ck_assert_ptr_nonnull(cJSON_AddStringToObject(j, "trade_state", trade_state));
	body = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	ck_assert_ptr_nonnull(body);
	st = simt_ctl("POST", "/sim/pay", body, NULL);
	cJSON_free(body);
	return st;
}

void
simt_faults(const char *json)
{
	long st = simt_ctl("POST", "/sim/faults", json, NULL);

	ck_assert_msg(st == 200, "POST /sim/faults %s: %ld", json, st);
}

void
simt_reset(void)
{
	long st = simt_ctl("POST", "/sim/reset", "{}", NULL);

	ck_assert_msg(st == 200, "POST /sim/reset: %ld", st);
}

cJSON *
simt_order(const char *out_trade_no)
{
	char path[256];
	cJSON *j = NULL;
	long st;

	ck_assert_msg((size_t)snprintf(path, sizeof(path), "/sim/orders/%s", out_trade_no) <
	    sizeof(path), "out_trade_no too long");
	st = simt_ctl("GET", path, NULL, &j);
	if (st == 404) {
		cJSON_Delete(j);
		return NULL;
	}
	ck_assert_msg(st == 200 && j != NULL, "GET %s: %ld", path, st);
	return j;
}

const char *
simt_str(const cJSON *j, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

long long
simt_num(const cJSON *j, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}
