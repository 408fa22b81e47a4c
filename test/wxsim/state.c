/*
 * state.c: the simulator's records and their one mutex.  Records are
 * kept in insertion order and found by linear search: a test run holds a
 * few hundred at most.
 */
#include <stdlib.h>
#include <string.h>

#include "state.h"

struct wxsim_state *
wxsim_state_new(void)
{
	struct wxsim_state *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if (pthread_mutex_init(&st->mu, NULL) != 0) {
		free(st);
		return NULL;
	}
	wxsim_state_faults_default(&st->faults);
	return st;
}

void
wxsim_state_faults_default(struct wxsim_faults *f)
{
	memset(f, 0, sizeof(*f));
	f->api_fail_count = -1;
	f->notify_duplicate = 1;
	strcpy(f->refund_result, "SUCCESS");
	f->refund_delay_ms = -1;
}

#define FREE_ALL(vec, fn) do {						\
	size_t i_;							\
	for (i_ = 0; i_ < (vec).n; i_++)				\
		fn((vec).v[i_]);					\
	wxsim_vec_free(&(vec));						\
} while (0)

static void
clear(struct wxsim_state *st)
{
	size_t i;

	FREE_ALL(st->orders, wxsim_order_free);
	FREE_ALL(st->prepays, wxsim_prepay_free);
	FREE_ALL(st->refunds, wxsim_refund_free);
	FREE_ALL(st->messages, wxsim_message_free);
	FREE_ALL(st->attempts, wxsim_attempt_free);
	FREE_ALL(st->bill_files, wxsim_bill_file_free);
	for (i = 0; i < st->held.n; i++)
		if (st->held_free != NULL)
			st->held_free(st->held.v[i]);
	wxsim_vec_free(&st->held);
	st->held_epoch++;
}

void
wxsim_state_reset(struct wxsim_state *st)
{
	clear(st);
	st->gen++;
	wxsim_state_faults_default(&st->faults);
	memset(&st->bill_faults, 0, sizeof(st->bill_faults));
	memset(&st->n, 0, sizeof(st->n));
	st->token[0] = '\0';
	st->token_expires = 0;
}

void
wxsim_state_free(struct wxsim_state *st)
{
	if (st == NULL)
		return;
	clear(st);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

void
wxsim_state_lock(struct wxsim_state *st)
{
	pthread_mutex_lock(&st->mu);
}

void
wxsim_state_unlock(struct wxsim_state *st)
{
	pthread_mutex_unlock(&st->mu);
}

struct wxsim_order *
wxsim_state_order(struct wxsim_state *st, const char *out_trade_no)
{
	struct wxsim_order *o;
	size_t i;

	for (i = 0; i < st->orders.n; i++) {
		o = st->orders.v[i];
		if (strcmp(o->out_trade_no, out_trade_no) == 0)
			return o;
	}
	return NULL;
}

struct wxsim_order *
wxsim_state_order_by_txid(struct wxsim_state *st, const char *transaction_id)
{
	struct wxsim_order *o;
	size_t i;

	if (transaction_id[0] == '\0')
		return NULL;
	for (i = 0; i < st->orders.n; i++) {
		o = st->orders.v[i];
		if (strcmp(o->transaction_id, transaction_id) == 0)
			return o;
	}
	return NULL;
}

struct wxsim_order *
wxsim_state_order_by_code_url(struct wxsim_state *st, const char *code_url)
{
	struct wxsim_order *o;
	size_t i;

	if (code_url[0] == '\0')
		return NULL;
	for (i = 0; i < st->orders.n; i++) {
		o = st->orders.v[i];
		if (strcmp(o->code_url, code_url) == 0)
			return o;
	}
	return NULL;
}

struct wxsim_prepay *
wxsim_state_prepay(struct wxsim_state *st, const char *prepay_id)
{
	struct wxsim_prepay *p;
	size_t i;

	for (i = 0; i < st->prepays.n; i++) {
		p = st->prepays.v[i];
		if (strcmp(p->prepay_id, prepay_id) == 0)
			return p;
	}
	return NULL;
}

struct wxsim_refund *
wxsim_state_refund(struct wxsim_state *st, const char *out_refund_no)
{
	struct wxsim_refund *r;
	size_t i;

	for (i = 0; i < st->refunds.n; i++) {
		r = st->refunds.v[i];
		if (strcmp(r->out_refund_no, out_refund_no) == 0)
			return r;
	}
	return NULL;
}

int
wxsim_state_add_order(struct wxsim_state *st, struct wxsim_order *o)
{
	if (wxsim_vec_push(&st->orders, o) != 0) {
		wxsim_order_free(o);
		return -1;
	}
	return 0;
}

int
wxsim_state_add_prepay(struct wxsim_state *st, struct wxsim_prepay *p)
{
	if (wxsim_vec_push(&st->prepays, p) != 0) {
		wxsim_prepay_free(p);
		return -1;
	}
	return 0;
}

int
wxsim_state_add_refund(struct wxsim_state *st, struct wxsim_refund *r)
{
	if (wxsim_vec_push(&st->refunds, r) != 0) {
		wxsim_refund_free(r);
		return -1;
	}
	return 0;
}

int
wxsim_state_add_message(struct wxsim_state *st, struct wxsim_message *m)
{
	if (wxsim_vec_push(&st->messages, m) != 0) {
		wxsim_message_free(m);
		return -1;
	}
	return 0;
}

int
wxsim_state_add_attempt(struct wxsim_state *st, struct wxsim_attempt *a)
{
	/* Keep the first WXSIM_MAX_ATTEMPTS; the counters keep counting. */
	if (st->attempts.n >= WXSIM_MAX_ATTEMPTS ||
	    wxsim_vec_push(&st->attempts, a) != 0) {
		wxsim_attempt_free(a);
		return -1;
	}
	return 0;
}

void
wxsim_order_free(struct wxsim_order *o)
{
	if (o == NULL)
		return;
	free(o->out_trade_no);
	free(o->appid);
	free(o->mchid);
	free(o->description);
	free(o->notify_url);
	free(o->attach);
	free(o->openid);
	free(o->time_expire);
	free(o);
}

void
wxsim_prepay_free(struct wxsim_prepay *p)
{
	if (p == NULL)
		return;
	free(p->out_trade_no);
	free(p);
}

void
wxsim_refund_free(struct wxsim_refund *r)
{
	if (r == NULL)
		return;
	free(r->out_refund_no);
	free(r->out_trade_no);
	free(r->reason);
	free(r->notify_url);
	free(r);
}

void
wxsim_message_free(struct wxsim_message *m)
{
	if (m == NULL)
		return;
	free(m->touser);
	free(m->template_id);
	free(m->page);
	free(m->state);
	free(m->lang);
	cJSON_Delete(m->data);
	free(m);
}

void
wxsim_attempt_free(struct wxsim_attempt *a)
{
	if (a == NULL)
		return;
	free(a->notify_id);
	free(a->url);
	free(a->event_type);
	free(a->ref);
	free(a->error);
	free(a);
}

void
wxsim_bill_file_free(struct wxsim_bill_file *b)
{
	if (b == NULL)
		return;
	free(b->data);
	free(b);
}

static const char *const state_names[] = {
	[WXSIM_NOTPAY] = "NOTPAY",
	[WXSIM_SUCCESS] = "SUCCESS",
	[WXSIM_REFUND] = "REFUND",
	[WXSIM_CLOSED] = "CLOSED",
	[WXSIM_PAYERROR] = "PAYERROR",
};

const char *
wxsim_state_name(enum wxsim_trade_state s)
{
	return (size_t)s < sizeof(state_names) / sizeof(state_names[0]) ?
	    state_names[s] : "UNKNOWN";
}

int
wxsim_state_parse(const char *name, enum wxsim_trade_state *out)
{
	size_t i;

	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(state_names[i], name) == 0) {
			*out = (enum wxsim_trade_state)i;
			return 0;
		}
	return -1;
}
