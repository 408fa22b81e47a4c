/*
 * notify.c: alisim's asynchronous notifications (trade_status_sync),
 * signed with Alipay's key over every field but sign and sign_type, POSTed
 * form-encoded to the trade's notify_url.  Only the 7 bytes "success"
 * count as received; anything else is tried again after Alipay's
 * intervals (4m, 10m, 10m, 1h, 2h, 6h, 15h; 8 deliveries in all), scaled
 * by --retry-scale.  The form is made once, so every retry is the same
 * notification (the same notify_id).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "alipay.h"
#include "alipay_sign.h"
#include "alisim.h"
#include "crypto.h"
#include "util.h"

#define MAX_QUEUED	512
#define ANSWER_MAX	64

static const int retry_s[] = { 240, 600, 600, 3600, 7200, 21600, 54000 };
#define NRETRIES ((int)(sizeof(retry_s) / sizeof(retry_s[0])))

struct queued {
	struct alisim_trade *t;
	char *body;
	int64_t due_ms;
};
static struct queued queue[MAX_QUEUED];
static int nqueued;

char *
alisim_notification(const struct alisim_trade *t)
{
	struct gym_ali_params ps = { 0 };
	char now[20], paid[20], total[24], id[40], *sig = NULL, *text = NULL, *body = NULL;
	size_t len;

	gym_ali_time(time(NULL), now);
	gym_ali_time(t->paid_at, paid);
	gym_ali_yuan(t->total_fen, total, sizeof(total));
	snprintf(id, sizeof(id), "2026112100222%s", t->trade_no + 12);
	if (gym_ali_params_add(&ps, "gmt_create", paid) != GYM_OK ||
	    gym_ali_params_add(&ps, "charset", "utf-8") != GYM_OK ||
	    gym_ali_params_add(&ps, "notify_time", now) != GYM_OK ||
	    gym_ali_params_add(&ps, "notify_type", "trade_status_sync") != GYM_OK ||
	    gym_ali_params_add(&ps, "notify_id", id) != GYM_OK ||
	    gym_ali_params_add(&ps, "app_id", alisim_app_id) != GYM_OK ||
	    gym_ali_params_add(&ps, "auth_app_id", alisim_app_id) != GYM_OK ||
	    gym_ali_params_add(&ps, "seller_id", alisim_seller_id) != GYM_OK ||
	    gym_ali_params_add(&ps, "buyer_id", "2088102177846880") != GYM_OK ||
	    gym_ali_params_add(&ps, "trade_status", alisim_status_word(t)) != GYM_OK ||
	    gym_ali_params_add(&ps, "out_trade_no", t->out_trade_no) != GYM_OK ||
	    gym_ali_params_add(&ps, "trade_no", t->trade_no) != GYM_OK ||
	    gym_ali_params_add(&ps, "total_amount", total) != GYM_OK ||
	    gym_ali_params_add(&ps, "buyer_pay_amount", total) != GYM_OK ||
	    gym_ali_params_add(&ps, "receipt_amount", total) != GYM_OK ||
	    gym_ali_params_add(&ps, "gmt_payment", paid) != GYM_OK ||
	    gym_ali_params_add(&ps, "fund_bill_list", "[{\"amount\":\"200.00\","
	    "\"fundChannel\":\"ALIPAYACCOUNT\"}]") != GYM_OK ||
	    gym_ali_params_add(&ps, "version", "1.0") != GYM_OK ||
	    gym_ali_params_add(&ps, "sign_type", "RSA2") != GYM_OK ||
	    gym_ali_sign_content(&ps, 1, &text, &len) != GYM_OK ||
	    gym_rsa_sign(alisim_key, text, len, &sig) != GYM_OK ||
	    gym_ali_params_add(&ps, "sign", sig) != GYM_OK ||
	    gym_ali_form_encode(&ps, &body) != GYM_OK)
		body = NULL;
	free(text);
	free(sig);
	gym_ali_params_free(&ps);
	return body;
}

struct answer {
	char text[ANSWER_MAX + 1];
	size_t len;
};

static size_t
keep(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t take = size * n;

	if (take > ANSWER_MAX - a->len)
		take = ANSWER_MAX - a->len;
	memcpy(a->text + a->len, p, take);
	a->len += take;
	a->text[a->len] = '\0';
	return size * n;
}

/* POST body to t's notify_url once (2 s at most): 1 when answered
 * 200 "success". */
static int
deliver(struct alisim_trade *t, const char *body)
{
	struct curl_slist *h = NULL;
	struct answer a = { "", 0 };
	long status = 0;
	CURL *c;
	int ok;

	if (t->notify_url[0] == '\0' || (c = curl_easy_init()) == NULL)
		return 0;
	h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded; charset=utf-8");
	curl_easy_setopt(c, CURLOPT_URL, t->notify_url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	if (alisim_notify_ca != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, alisim_notify_ca);
	t->notify_tries++;
	ok = curl_easy_perform(c) == CURLE_OK &&
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
	    status == 200 && a.len == 7 && memcmp(a.text, "success", 7) == 0;
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (ok)
		t->notified++;
	else
		fprintf(stderr, "alisim: notification %d of %s to %s not received (HTTP %ld)\n",
		    t->notify_tries, t->out_trade_no, t->notify_url, status);
	return ok;
}

static int64_t
delay_ms(int tries)
{
	return (int64_t)((double)retry_s[tries - 1] * 1000.0 * alisim_retry_scale);
}

/* Queue body for t after ms; body is taken (freed when full). */
static void
later(struct alisim_trade *t, char *body, int64_t ms)
{
	if (nqueued == MAX_QUEUED) {
		free(body);
		return;
	}
	queue[nqueued].t = t;
	queue[nqueued].body = body;
	queue[nqueued].due_ms = wxsim_util_mono_ms() + ms;
	nqueued++;
}

void
alisim_notify(struct alisim_trade *t)
{
	char *body = alisim_notification(t);
	int got = 0;

	if (body == NULL)
		return;
	if (t->notify_url[0] == '\0') {
		free(body);
		return;
	}
	if (alisim_faults.notify_delay_ms > 0) {
		t->notify_tries++;		/* this one is late, the retries follow it */
		later(t, body, alisim_faults.notify_delay_ms);
		return;
	}
	if (alisim_faults.notify_drop)
		t->notify_tries++;		/* lost on the way */
	else
		for (long i = 0; i < (alisim_faults.notify_duplicate > 1 ?
		    alisim_faults.notify_duplicate : 1); i++)
			got |= deliver(t, body);
	if (got) {
		free(body);
		return;
	}
	later(t, body, delay_ms(1));
}

void
alisim_notify_tick(void)
{
	int64_t now = wxsim_util_mono_ms();
	int i = 0;

	while (i < nqueued) {
		struct queued *q = &queue[i];
		int tries = 0;

		if (q->due_ms > now) {
			i++;
			continue;
		}
		if (!deliver(q->t, q->body) && (tries = q->t->notify_tries) <= NRETRIES) {
			q->due_ms = now + delay_ms(tries);
			i++;
			continue;
		}
		free(q->body);		/* received, or the last try */
		*q = queue[--nqueued];
	}
}
