/*
 * race.c: the last-seats race.  N parents, each on its own kept-alive TLS
 * connection (opened beforehand with GET /healthz, so handshakes are not
 * part of the race), ask for a seat in the same class at the same moment.
 * Prints how many got one, how the others were answered, and when the
 * class sold out (the last winner's answer) and when everyone had an
 * answer, counted from the moment the requests went out.
 *
 *   race BASE CACERT TOKENS SCHEDULE_ID N
 *
 * TOKENS holds "UID TOKEN" lines (bench/mktokens); the first N are used.
 * Output: one line "winners=W sold_out=S status_5xx=F other=O
 * sold_out_ms=T1 all_ms=T2".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

struct racer {
	CURL *h;
	struct curl_slist *hdr;
	char token[160];
	long status;
	double done_ms;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static void
prepare(CURL *h, const char *url, const char *cacert, struct racer *r)
{
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO, cacert);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
}

/* Run every handle of m to completion; record each answer's status and time. */
static int
run_all(CURLM *m, int n, double t0)
{
	int running = n, left, done = 0;
	CURLMsg *msg;

	while (running > 0) {
		if (curl_multi_perform(m, &running) != CURLM_OK ||
		    curl_multi_poll(m, NULL, 0, 100, NULL) != CURLM_OK)
			return -1;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct racer *r = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			r->done_ms = now_ms() - t0;
			if (msg->data.result == CURLE_OK)
				curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &r->status);
			else
				r->status = 0;
			curl_multi_remove_handle(m, msg->easy_handle);
			done++;
		}
	}
	return done;
}

int
main(int argc, char *argv[])
{
	char url[512], body[64], line[512], auth[256];
	struct racer *rs;
	CURLM *m;
	FILE *f;
	int n, got = 0, win = 0, sold = 0, f5xx = 0, other = 0;
	double t0, sold_ms = 0, all_ms = 0;

	if (argc != 6 || (n = atoi(argv[5])) < 1 || n > 5000) {
		fprintf(stderr, "usage: race BASE CACERT TOKENS SCHEDULE_ID N\n");
		return 2;
	}
	if ((rs = calloc((size_t)n, sizeof(*rs))) == NULL || (f = fopen(argv[3], "r")) == NULL)
		return 1;
	while (got < n && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*s %159s", rs[got].token) == 1)
			got++;
	fclose(f);
	if (got < n) {
		fprintf(stderr, "race: %s has %d tokens, %d needed\n", argv[3], got, n);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);

	/* 1. open N connections */
	snprintf(url, sizeof(url), "%s/healthz", argv[1]);
	for (int i = 0; i < n; i++) {
		rs[i].h = curl_easy_init();
		prepare(rs[i].h, url, argv[2], &rs[i]);
		curl_multi_add_handle(m, rs[i].h);
	}
	if (run_all(m, n, now_ms()) != n)
		return 1;
	for (int i = 0; i < n; i++)
		if (rs[i].status != 200) {
			fprintf(stderr, "race: warm-up request answered %ld\n", rs[i].status);
			return 1;
		}

	/* 2. everyone at once */
	snprintf(url, sizeof(url), "%s/api/v1/bookings/seat-reserve", argv[1]);
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%s}", argv[4]);
	for (int i = 0; i < n; i++) {
		prepare(rs[i].h, url, argv[2], &rs[i]);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", rs[i].token);
		rs[i].hdr = curl_slist_append(NULL, auth);
		rs[i].hdr = curl_slist_append(rs[i].hdr, "Content-Type: application/json");
		curl_easy_setopt(rs[i].h, CURLOPT_HTTPHEADER, rs[i].hdr);
		curl_easy_setopt(rs[i].h, CURLOPT_POSTFIELDS, body);
		rs[i].status = 0;
	}
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		curl_multi_add_handle(m, rs[i].h);
	if (run_all(m, n, t0) != n)
		return 1;
	for (int i = 0; i < n; i++) {
		if (rs[i].status == 201) {
			win++;
			if (rs[i].done_ms > sold_ms)
				sold_ms = rs[i].done_ms;
		} else if (rs[i].status == 409)
			sold++;
		else if (rs[i].status >= 500 || rs[i].status == 0)
			f5xx++;
		else
			other++;
		if (rs[i].done_ms > all_ms)
			all_ms = rs[i].done_ms;
		curl_slist_free_all(rs[i].hdr);
		curl_easy_cleanup(rs[i].h);
	}
	printf("winners=%d sold_out=%d status_5xx=%d other=%d sold_out_ms=%.1f all_ms=%.1f\n",
	    win, sold, f5xx, other, sold_ms, all_ms);
	curl_multi_cleanup(m);
	curl_global_cleanup();
	free(rs);
	return 0;
}
