/*
 * push.c: live push to clients through nginx's Nchan (issue 17).
 *
 * A change that a client should see writes a push_outbox row in its own
 * transaction (triggers on payment_orders and refunds, migration 0018), so
 * nothing is published before its commit.  The job process takes the rows
 * (gym_push_pass: claimed and deleted in one statement, SKIP LOCKED, so any
 * number of job processes on any number of hosts share them) and POSTs each
 * to Nchan's publisher location, push_url + channel, on every web host (one
 * push_url each: a subscriber may be connected to any of them, and Nchan's
 * memory store is per host).  A publish that fails is counted
 * (gymd_push_failed_total) and dropped: it never undoes the change, and a
 * client re-reads the state endpoint when it (re)connects.  With push off
 * (no push_url) the rows are dropped unpublished.
 *
 * Seat counts change without any write when a hold lapses, so classes are
 * not pushed by a trigger: gym_push_classes compares each upcoming class's
 * count with the one last published (push_class_counts) and queues those
 * that differ.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "booking.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "push.h"

#define URL_MAX 512

/* A failed publisher's warning at most this often (every message fails
 * while a web host is down). */
#define WARN_EVERY_S 10

struct gym_push {
	CURL *curl;
	struct curl_slist *headers;
	int nbase;
	char base[GYM_PUSH_URLS_MAX][URL_MAX];
	time_t warned[GYM_PUSH_URLS_MAX];
};

/* Claim and delete the oldest rows; each row's payload gains its version. */
static struct gym_stmt st_take = { "push_take",
	"WITH d AS (DELETE FROM push_outbox WHERE id IN ("
	" SELECT id FROM push_outbox ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED)"
	" RETURNING id, channel, payload) "
	"SELECT channel, (payload || jsonb_build_object('version', id))::text AS msg "
	"FROM d ORDER BY id", 0 };
static struct gym_stmt st_any = { "push_any",
	"SELECT EXISTS (SELECT 1 FROM push_outbox) AS any", 0 };
/* Classes that have not ended and start within 60 days whose count differs
 * from the last one published: recorded and queued in one statement. */
static struct gym_stmt st_classes = { "push_classes",
	"WITH cur AS (SELECT s.id, (SELECT count(*) FROM seats t WHERE t.course_schedule_id = s.id"
	" AND (t.state = 'free' OR (t.state = 'held' AND t.held_until <= now())))::int AS available"
	" FROM course_schedules s WHERE s.ends_at > now() AND s.starts_at < now() + interval '60 days'),"
	" changed AS (INSERT INTO push_class_counts AS p (course_schedule_id, available)"
	" SELECT id, available FROM cur ON CONFLICT (course_schedule_id) DO UPDATE"
	" SET available = EXCLUDED.available WHERE p.available <> EXCLUDED.available"
	" RETURNING p.course_schedule_id, p.available) "
	"INSERT INTO push_outbox (channel, payload) SELECT 'class-' || course_schedule_id,"
	" jsonb_build_object('type', 'class', 'course_schedule_id', course_schedule_id,"
	" 'available', available) FROM changed", 0 };

enum gym_err
gym_push_new(char *const *urls, int n, struct gym_push **out)
{
	struct gym_push *p;

	*out = NULL;
	if (n <= 0)
		return GYM_OK;
	if (n > GYM_PUSH_URLS_MAX)
		return GYM_EINVAL;
	for (int i = 0; i < n; i++)
		if (urls[i] == NULL || strlen(urls[i]) >= URL_MAX - 100)
			return GYM_EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return GYM_ENOMEM;
	for (int i = 0; i < n; i++)
		snprintf(p->base[i], sizeof(p->base[i]), "%s", urls[i]);
	p->nbase = n;
	if ((p->curl = curl_easy_init()) == NULL ||
	    (p->headers = curl_slist_append(NULL, "Content-Type: application/json")) == NULL) {
		gym_push_free(p);
		return GYM_ENOMEM;
	}
	*out = p;
	return GYM_OK;
}

void
gym_push_free(struct gym_push *p)
{
	if (p == NULL)
		return;
	if (p->curl != NULL)
		curl_easy_cleanup(p->curl);
	curl_slist_free_all(p->headers);
	free(p);
}

static size_t
discard(char *ptr, size_t size, size_t n, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * n;
}

/* A publisher's failure, logged at most every WARN_EVERY_S. */
static void
failed(struct gym_push *p, int i, const char *channel, const char *why)
{
	time_t now = time(NULL);

	if (now - p->warned[i] < WARN_EVERY_S)
		return;
	p->warned[i] = now;
	gym_log_warnx("push: could not publish to %s (%s): %s; further failures there are "
	    "counted, not logged, for %d s", p->base[i], channel, why, WARN_EVERY_S);
}

/* POST msg to the channel on publisher i: 1 when Nchan took it. */
static int
publish(struct gym_push *p, int i, const char *channel, const char *msg)
{
	char url[URL_MAX], why[64];
	long code = 0;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s%s", p->base[i], channel);
	curl_easy_reset(p->curl);
	if (curl_easy_setopt(p->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->headers) != CURLE_OK ||
	    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, msg) != CURLE_OK ||
	    curl_easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L) != CURLE_OK ||
	    curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, 2000L) != CURLE_OK ||
	    curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
	    curl_easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
		return 0;
	if ((cc = curl_easy_perform(p->curl)) != CURLE_OK) {
		failed(p, i, channel, curl_easy_strerror(cc));
		return 0;
	}
	curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		snprintf(why, sizeof(why), "answered %ld", code);
		failed(p, i, channel, why);
		return 0;
	}
	return 1;
}

enum gym_err
gym_push_pending(struct gym_db *db, int *any)
{
	PGresult *r;
	enum gym_err e;

	*any = 0;
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_any, 0, NULL, &r)) != GYM_OK)
		return e;
	*any = PQntuples(r) == 1 && strcmp(gym_db_get(r, 0, "any"), "t") == 0;
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym_push_pass(struct gym_push *p, struct gym_db *db, int max, int *published)
{
	char lim[16];
	const char *params[1] = { lim };
	PGresult *r;
	enum gym_err e;
	int n, ok = 0, bad = 0;

	*published = 0;
	snprintf(lim, sizeof(lim), "%d", max);
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_take, 1, params, &r)) != GYM_OK)
		return e;
	n = PQntuples(r);
	for (int i = 0; i < n && p != NULL; i++)
		for (int h = 0; h < p->nbase; h++) {
			if (publish(p, h, gym_db_get(r, i, "channel"), gym_db_get(r, i, "msg")))
				ok++;
			else
				bad++;
		}
	PQclear(r);
	if (ok > 0)
		gym_metrics_add("push_published", ok);
	if (bad > 0)
		gym_metrics_add("push_failed", bad);
	*published = p != NULL ? ok : n;
	return GYM_OK;
}

enum gym_err
gym_push_classes(struct gym_db *db)
{
	enum gym_err e;

	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	return gym_db_exec(db, &st_classes, 0, NULL, NULL);
}
