/*
 * http.c: the fault driver's HTTP client.  One kept-alive libcurl handle
 * per process for nginx and one for the simulator, made again after fork;
 * every request to nginx is counted by its outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fault.h"

#define TIMEOUT_MS 10000L

struct buf {
	char *p;
	size_t len, cap;
};

static CURL *h_api, *h_sim;
static pid_t owner;

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

void
fault_resp_free(struct fault_resp *r)
{
	free(r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

const char *
fault_str(const struct fault_resp *r, const char *member)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(r->json, member);

	return cJSON_IsString(j) ? j->valuestring : "";
}

long long
fault_num(const struct fault_resp *r, const char *member)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(r->json, member);

	return cJSON_IsNumber(j) ? (long long)j->valuedouble : -1;
}

int
fault_bool(const struct fault_resp *r, const char *member)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->json, member));
}

/* This process's handle for base (made on first use, and again after fork). */
static CURL *
handle(int api)
{
	if (owner != getpid()) {
		/* the parent's handles belong to the parent: drop, do not clean up */
		h_api = h_sim = NULL;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		owner = getpid();
	}
	if (api && h_api == NULL)
		h_api = curl_easy_init();
	if (!api && h_sim == NULL)
		h_sim = curl_easy_init();
	return api ? h_api : h_sim;
}

void
fault_http_done(void)
{
	if (owner != getpid())
		return;
	if (h_api != NULL)
		curl_easy_cleanup(h_api);
	if (h_sim != NULL)
		curl_easy_cleanup(h_sim);
	h_api = h_sim = NULL;
}

static long
request(int api, const char *method, const char *path, const char *token, const char *body,
    const char *extra, struct fault_resp *r)
{
	char url[1024], line[1024], cainfo[1024];
	struct curl_slist *hdrs = NULL;
	struct buf b = { 0 };
	CURL *h = handle(api);
	CURLcode rc;

	fault_resp_free(r);
	if (h == NULL)
		return 0;
	curl_easy_reset(h);
	snprintf(url, sizeof(url), "%s%s", api ? fault_env_base() : fault_env_sim(), path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (api) {
		curl_easy_setopt(h, CURLOPT_CAINFO, fault_var_path("tls/cert.pem", cainfo,
		    sizeof(cainfo)));
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (extra != NULL)
		hdrs = curl_slist_append(hdrs, extra);
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
	if (b.p == NULL && (b.p = calloc(1, 1)) == NULL)
		return r->status;
	r->body = b.p;
	r->json = b.len > 0 ? cJSON_ParseWithLength(b.p, b.len) : NULL;
	return r->status;
}

long
fault_api(const char *method, const char *path, const char *token, const char *body,
    const char *extra, struct fault_resp *r)
{
	long st = request(1, method, path, token, body, extra, r);

	fault_count(FC_api_requests, 1);
	if (st == 0)
		fault_count(FC_api_transport, 1);
	else if (st >= 200 && st < 300)
		fault_count(FC_api_2xx, 1);
	else if (st >= 400 && st < 500)
		fault_count(FC_api_4xx, 1);
	else if (st == 500)
		fault_count(FC_api_500, 1);
	else if (st == 502)
		fault_count(FC_api_502, 1);
	else if (st == 503)
		fault_count(FC_api_503, 1);
	else if (st == 504)
		fault_count(FC_api_504, 1);
	else
		fault_count(FC_api_other, 1);
	return st;
}

long
fault_alisim(const char *method, const char *path, const char *body, struct fault_resp *r)
{
	char url[1024], cainfo[1024];
	struct buf b = { 0 };
	CURL *h;

	fault_resp_free(r);
	fault_count(FC_sim_requests, 1);
	if (fault_env_alisim()[0] == '\0' || (h = curl_easy_init()) == NULL)
		return 0;
	snprintf(url, sizeof(url), "%s%s", fault_env_alisim(), path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CAINFO, fault_var_path("tls/cert.pem", cainfo, sizeof(cainfo)));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(h);
	if (b.p == NULL && (b.p = calloc(1, 1)) == NULL)
		return r->status;
	r->body = b.p;
	if (r->status == 0 || r->status >= 500)
		fault_count(FC_sim_failed, 1);
	return r->status;
}

long
fault_sim(const char *method, const char *path, const char *body, struct fault_resp *r)
{
	long st = request(0, method, path, NULL, body, NULL, r);

	fault_count(FC_sim_requests, 1);
	if (st == 0 || st >= 500)
		fault_count(FC_sim_failed, 1);
	return st;
}
