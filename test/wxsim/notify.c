/*
 * notify.c: building, delivering and retrying notifications.  One
 * struct delivery is one copy of one notification: its envelope is fixed
 * when it is built (same id and ciphertext on every retry and duplicate),
 * and only the Wechatpay-* headers change from one attempt to the next.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "crypto.h"
#include "wxsign.h"

#include "notify.h"
#include "sched.h"
#include "state.h"
#include "util.h"

/* Seconds between attempts, after the first one. */
static const long retry_delays[WXSIM_NOTIFY_RETRIES] = {
	15, 15, 30, 3 * 60, 10 * 60, 20 * 60, 30 * 60, 30 * 60, 30 * 60,
	60 * 60, 3 * 3600, 3 * 3600, 3 * 3600, 6 * 3600, 6 * 3600,
};

/* How long notify_reorder holds a lone notification. */
#define HOLD_MS		1000
/* Spacing of released notifications, so they leave in reverse order. */
#define RELEASE_GAP_MS	50

struct delivery {
	struct wxsim *sim;
	unsigned gen;
	char *id, *url, *event_type, *ref, *body;
	int attempts;		/* made so far */
	long copies;		/* while held: how many to send */
	long delay_ms;		/* while held: the notify_delay_ms */
};

struct release {
	struct wxsim *sim;
	unsigned gen, epoch;
};

static void
delivery_free(void *arg)
{
	struct delivery *d = arg;

	if (d == NULL)
		return;
	free(d->id);
	free(d->url);
	free(d->event_type);
	free(d->ref);
	free(d->body);
	free(d);
}

static struct delivery *
delivery_dup(const struct delivery *d)
{
	struct delivery *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sim = d->sim;
	c->gen = d->gen;
	if ((c->id = strdup(d->id)) == NULL || (c->url = strdup(d->url)) == NULL ||
	    (c->event_type = strdup(d->event_type)) == NULL ||
	    (c->ref = strdup(d->ref)) == NULL || (c->body = strdup(d->body)) == NULL) {
		delivery_free(c);
		return NULL;
	}
	return c;
}

void
wxsim_notify_init(struct wxsim *sim)
{
	sim->state->held_free = delivery_free;
}

static size_t
discard(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	(void)u;
	return sz * n;
}

static int
abort_on_stop(void *u, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct wxsim *sim = u;

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return atomic_load(&sim->stop) ? 1 : 0;
}

/* One POST of d; the HTTP status (0 when none) and an error in err. */
static long
post(struct delivery *d, int bad, char *err, size_t errlen)
{
	struct wxsim *sim = d->sim;
	char ts[24], nonce[33], hdr[700], ebuf[CURL_ERROR_SIZE];
	char *sig = NULL, *tampered = NULL;
	const char *signed_body = d->body;
	size_t blen = strlen(d->body);
	struct curl_slist *h = NULL, *nh;
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	int i;

	err[0] = ebuf[0] = '\0';
	snprintf(ts, sizeof(ts), "%lld", (long long)wxsim_util_now());
	if (gym_random_alnum(nonce, 32) != GYM_OK) {
		snprintf(err, errlen, "no randomness");
		goto out;
	}
	if (bad) {
		if ((tampered = malloc(blen + 9)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		memcpy(tampered, d->body, blen);
		memcpy(tampered + blen, "tampered", 9);
		signed_body = tampered;
	}
	if (gym_wx_sign_response(sim->platform_key, ts, nonce, signed_body,
	    strlen(signed_body), &sig) != GYM_OK) {
		snprintf(err, errlen, "could not sign");
		goto out;
	}
	for (i = 0; i < 6; i++) {
		switch (i) {
		case 0: snprintf(hdr, sizeof(hdr), "Wechatpay-Timestamp: %s", ts); break;
		case 1: snprintf(hdr, sizeof(hdr), "Wechatpay-Nonce: %s", nonce); break;
		case 2: snprintf(hdr, sizeof(hdr), "Wechatpay-Signature: %s", sig); break;
		case 3: snprintf(hdr, sizeof(hdr), "Wechatpay-Serial: %s",
		    sim->cfg.platform_serial); break;
		case 4: snprintf(hdr, sizeof(hdr),
		    "Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048"); break;
		default: snprintf(hdr, sizeof(hdr), "Content-Type: application/json"); break;
		}
		if ((nh = curl_slist_append(h, hdr)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		h = nh;
	}
	/* No Expect: 100-continue, and an ordinary WeChat user agent. */
	if ((nh = curl_slist_append(h, "Expect:")) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	h = nh;
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		goto out;
	}
	if (curl_easy_setopt(c, CURLOPT_URL, d->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)blen) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "Mozilla/4.0") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_on_stop) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFODATA, sim) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf) != CURLE_OK ||
	    (sim->cfg.notify_cainfo != NULL &&
	    curl_easy_setopt(c, CURLOPT_CAINFO, sim->cfg.notify_cainfo) != CURLE_OK)) {
		snprintf(err, errlen, "curl_easy_setopt failed");
		goto out;
	}
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		snprintf(err, errlen, "%s", ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(sig);
	free(tampered);
	return status;
}

/* The job of one copy: one attempt, then the delay to the next or -1. */
static int64_t
deliver(void *arg)
{
	struct delivery *d = arg;
	struct wxsim *sim = d->sim;
	struct wxsim_state *st = sim->state;
	struct wxsim_attempt *a;
	char err[CURL_ERROR_SIZE + 32];
	long status;
	int bad, ok;
	double ms;

	wxsim_state_lock(st);
	if (d->gen != st->gen) {
		wxsim_state_unlock(st);
		return -1;
	}
	bad = st->faults.notify_bad_signature;
	wxsim_state_unlock(st);

	status = post(d, bad, err, sizeof(err));
	d->attempts++;
	ok = status == 200 || status == 204;
	wxsim_util_log("notify %s %s %s attempt %d: %ld%s%s%s", d->event_type, d->ref,
	    d->url, d->attempts, status, bad ? " (bad signature)" : "",
	    err[0] ? ": " : "", err);

	wxsim_state_lock(st);
	if (d->gen == st->gen) {
		st->n.notification_attempts++;
		if (ok)
			st->n.notifications_sent++;
		if ((a = calloc(1, sizeof(*a))) != NULL) {
			a->attempt = d->attempts;
			a->status = status;
			a->bad_signature = bad;
			wxsim_util_time_cst(wxsim_util_now(), a->time, sizeof(a->time));
			if ((a->notify_id = strdup(d->id)) == NULL ||
			    (a->url = strdup(d->url)) == NULL ||
			    (a->event_type = strdup(d->event_type)) == NULL ||
			    (a->ref = strdup(d->ref)) == NULL ||
			    (err[0] != '\0' && (a->error = strdup(err)) == NULL)) {
				wxsim_attempt_free(a);
				a = NULL;
			}
		}
		if (a == NULL || wxsim_state_add_attempt(st, a) != 0)
			wxsim_util_log("notify attempt of %s not recorded", d->ref);
	}
	wxsim_state_unlock(st);

	if (ok || atomic_load(&sim->stop))
		return -1;
	if (d->attempts > WXSIM_NOTIFY_RETRIES) {
		wxsim_util_log("notify %s %s: giving up after %d attempts",
		    d->event_type, d->ref, d->attempts);
		return -1;
	}
	ms = (double)retry_delays[d->attempts - 1] * 1000.0 * sim->cfg.retry_scale;
	return ms < 1.0 ? 1 : (int64_t)ms;
}

/* Queue d->copies copies of d after delay_ms; d itself is freed. */
static void
schedule(struct delivery *d, long delay_ms)
{
	struct delivery *c;
	long i;

	for (i = 0; i < d->copies; i++) {
		if ((c = delivery_dup(d)) == NULL ||
		    wxsim_sched_add(d->sim->sched, delay_ms, deliver, delivery_free, c) != 0)
			wxsim_util_log("could not queue notification %s", d->id);
	}
	delivery_free(d);
}

/* Take the held notifications (call locked) into out, newest first. */
static void
take_held(struct wxsim_state *st, struct wxsim_vec *out)
{
	size_t i;

	*out = st->held;
	memset(&st->held, 0, sizeof(st->held));
	st->held_epoch++;
	for (i = 0; i < out->n / 2; i++) {
		void *t = out->v[i];

		out->v[i] = out->v[out->n - 1 - i];
		out->v[out->n - 1 - i] = t;
	}
}

static void
schedule_released(struct wxsim_vec *list)
{
	struct delivery *d;
	size_t i;

	for (i = 0; i < list->n; i++) {
		d = list->v[i];
		schedule(d, d->delay_ms + (long)i * RELEASE_GAP_MS);
	}
	wxsim_vec_free(list);
}

void
wxsim_notify_release(struct wxsim *sim)
{
	struct wxsim_vec list;

	wxsim_state_lock(sim->state);
	take_held(sim->state, &list);
	wxsim_state_unlock(sim->state);
	schedule_released(&list);
}

static int64_t
release_job(void *arg)
{
	struct release *r = arg;
	struct wxsim_vec list;

	memset(&list, 0, sizeof(list));
	wxsim_state_lock(r->sim->state);
	if (r->gen == r->sim->state->gen && r->epoch == r->sim->state->held_epoch)
		take_held(r->sim->state, &list);
	wxsim_state_unlock(r->sim->state);
	schedule_released(&list);
	return -1;
}

/* The envelope WeChat POSTs, as JSON text; NULL on failure. */
static char *
envelope(struct wxsim *sim, const char *id, const char *event_type,
    const char *summary, const char *original_type, const char *plain)
{
	char nonce[13], now[32], *ct = NULL, *out = NULL;
	cJSON *j = NULL, *r;

	if (gym_random_alnum(nonce, 12) != GYM_OK ||
	    gym_aesgcm_encrypt(sim->apiv3_key, nonce, original_type, plain,
	    strlen(plain), &ct) != GYM_OK)
		goto out;
	wxsim_util_time_cst(wxsim_util_now(), now, sizeof(now));
	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "id", id) == NULL ||
	    cJSON_AddStringToObject(j, "create_time", now) == NULL ||
	    cJSON_AddStringToObject(j, "resource_type", "encrypt-resource") == NULL ||
	    cJSON_AddStringToObject(j, "event_type", event_type) == NULL ||
	    cJSON_AddStringToObject(j, "summary", summary) == NULL ||
	    (r = cJSON_AddObjectToObject(j, "resource")) == NULL ||
	    cJSON_AddStringToObject(r, "original_type", original_type) == NULL ||
	    cJSON_AddStringToObject(r, "algorithm", "AEAD_AES_256_GCM") == NULL ||
	    cJSON_AddStringToObject(r, "ciphertext", ct) == NULL ||
	    cJSON_AddStringToObject(r, "associated_data", original_type) == NULL ||
	    cJSON_AddStringToObject(r, "nonce", nonce) == NULL)
		goto out;
	out = cJSON_PrintUnformatted(j);
out:
	cJSON_Delete(j);
	free(ct);
	return out;
}

int
wxsim_notify_send(struct wxsim *sim, const char *url, const char *event_type,
    const char *summary, const char *original_type, const char *ref,
    const char *plain)
{
	struct wxsim_state *st = sim->state;
	struct delivery *d = NULL;
	struct release *r = NULL;
	struct wxsim_vec list;
	char id[37], *body = NULL;
	int start_timer = 0;

	memset(&list, 0, sizeof(list));
	if (wxsim_util_uuid(id) != 0 ||
	    (body = envelope(sim, id, event_type, summary, original_type, plain)) == NULL ||
	    (d = calloc(1, sizeof(*d))) == NULL) {
		wxsim_util_log("could not build notification %s for %s", event_type, ref);
		if (body != NULL)
			cJSON_free(body);
		free(d);
		return -1;
	}
	d->sim = sim;
	d->body = strdup(body);
	cJSON_free(body);
	if (d->body == NULL || (d->id = strdup(id)) == NULL ||
	    (d->url = strdup(url)) == NULL || (d->event_type = strdup(event_type)) == NULL ||
	    (d->ref = strdup(ref)) == NULL) {
		delivery_free(d);
		return -1;
	}

	wxsim_state_lock(st);
	d->gen = st->gen;
	d->copies = st->faults.notify_duplicate > 0 ? st->faults.notify_duplicate : 1;
	d->delay_ms = st->faults.notify_delay_ms > 0 ? st->faults.notify_delay_ms : 0;
	if (st->faults.notify_drop) {
		wxsim_state_unlock(st);
		wxsim_util_log("notify %s %s dropped (notify_drop)", event_type, ref);
		delivery_free(d);
		return 0;
	}
	st->n.notifications_created++;
	if (!st->faults.notify_reorder) {
		wxsim_state_unlock(st);
		schedule(d, d->delay_ms);
		return 0;
	}
	if (wxsim_vec_push(&st->held, d) != 0) {
		wxsim_state_unlock(st);
		schedule(d, d->delay_ms);
		return 0;
	}
	if (st->held.n >= 2)
		take_held(st, &list);
	else {
		start_timer = 1;
		if ((r = calloc(1, sizeof(*r))) != NULL) {
			r->sim = sim;
			r->gen = st->gen;
			r->epoch = st->held_epoch;
		}
	}
	wxsim_state_unlock(st);
	if (start_timer && (r == NULL ||
	    wxsim_sched_add(sim->sched, HOLD_MS, release_job, free, r) != 0)) {
		wxsim_util_log("could not start the reorder timer; releasing");
		wxsim_notify_release(sim);
	}
	schedule_released(&list);
	return 0;
}
