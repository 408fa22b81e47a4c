/*
 * channel.c: the registry of payment channels and the calls through a
 * channel (see channel.h).  Adding a channel: its file defines a
 * struct gym_channel_ops, and one line below lists it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel.h"
#include "log.h"

/* Every channel an order may name in payment_method. */
static const struct gym_channel_ops *const registry[] = {
	&gym_channel_wechat,
	&gym_channel_alipay,
	/* &gym_channel_alipay, (issue 16) */
};
#define NREGISTRY (sizeof(registry) / sizeof(registry[0]))

const struct gym_channel_ops *
gym_channel_nth(size_t i)
{
	return i < NREGISTRY && i < GYM_CHANNEL_MAX ? registry[i] : NULL;
}

const struct gym_channel_ops *
gym_channel_find(const char *method)
{
	size_t i;

	if (method == NULL)
		return NULL;
	for (i = 0; i < NREGISTRY && i < GYM_CHANNEL_MAX; i++)
		if (strcmp(registry[i]->name, method) == 0)
			return registry[i];
	return NULL;
}

enum gym_err
gym_channel_new(const struct gym_config *cfg, const char *method, struct gym_channel **out)
{
	const struct gym_channel_ops *ops = gym_channel_find(method);
	struct gym_channel *ch;
	enum gym_err e;

	*out = NULL;
	if (ops == NULL) {
		gym_log_warnx("no payment channel named \"%.32s\"", method != NULL ? method : "");
		return GYM_E_UNKNOWN_CHANNEL;
	}
	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return GYM_ENOMEM;
	ch->ops = ops;
	ch->cfg = cfg;
	if ((e = ops->start(ch)) != GYM_OK) {
		free(ch);
		return e;
	}
	*out = ch;
	return GYM_OK;
}

void
gym_channel_free(struct gym_channel *ch)
{
	if (ch == NULL)
		return;
	ch->ops->stop(ch);
	free(ch);
}

const char *
gym_channel_name(const struct gym_channel *ch)
{
	return ch->ops->name;
}

const struct gym_channel_error *
gym_channel_last_error(const struct gym_channel *ch)
{
	return &ch->err;
}

/* Every call starts with no error. */
static void
begin(struct gym_channel *ch)
{
	memset(&ch->err, 0, sizeof(ch->err));
}

enum gym_err
gym_channel_pay(struct gym_channel *ch, const struct gym_channel_payment *p,
    struct gym_channel_params *out)
{
	begin(ch);
	memset(out, 0, sizeof(*out));
	return ch->ops->pay(ch, p, out);
}

enum gym_err
gym_channel_query(struct gym_channel *ch, const char *out_trade_no, struct gym_channel_trade *t)
{
	enum gym_err e;

	begin(ch);
	memset(t, 0, sizeof(*t));
	if ((e = ch->ops->query(ch, out_trade_no, t)) != GYM_OK)
		gym_channel_trade_clear(t);
	return e;
}

enum gym_err
gym_channel_close(struct gym_channel *ch, const char *out_trade_no)
{
	begin(ch);
	return ch->ops->close(ch, out_trade_no);
}

enum gym_err
gym_channel_refund_send(struct gym_channel *ch, const struct gym_channel_refund_req *req,
    struct gym_channel_refund *f)
{
	enum gym_err e;

	begin(ch);
	memset(f, 0, sizeof(*f));
	if ((e = ch->ops->refund_send(ch, req, f)) != GYM_OK)
		gym_channel_refund_clear(f);
	return e;
}

enum gym_err
gym_channel_refund_query(struct gym_channel *ch, const char *out_trade_no,
    const char *out_refund_no, struct gym_channel_refund *f)
{
	enum gym_err e;

	begin(ch);
	memset(f, 0, sizeof(*f));
	if ((e = ch->ops->refund_query(ch, out_trade_no, out_refund_no, f)) != GYM_OK)
		gym_channel_refund_clear(f);
	return e;
}

enum gym_err
gym_channel_open_event(struct gym_channel *ch, const struct gym_channel_notice *n,
    struct gym_channel_event *ev)
{
	enum gym_err e;

	begin(ch);
	memset(ev, 0, sizeof(*ev));
	if ((e = ch->ops->open_event(ch, n, ev)) != GYM_OK)
		gym_channel_event_clear(ev);
	return e;
}

enum gym_err
gym_channel_bill(struct gym_channel *ch, enum gym_bill_kind kind, const char *date,
    char **text, size_t *len)
{
	begin(ch);
	*text = NULL;
	*len = 0;
	if (ch->ops->bill == NULL)
		return GYM_ENOTFOUND;
	return ch->ops->bill(ch, kind, date, text, len);
}

int
gym_channel_has_bill(const struct gym_channel *ch)
{
	return ch->ops->bill != NULL;
}

void
gym_channel_trade_clear(struct gym_channel_trade *t)
{
	cJSON_Delete(t->doc);
	t->doc = NULL;
}

void
gym_channel_refund_clear(struct gym_channel_refund *f)
{
	cJSON_Delete(f->doc);
	f->doc = NULL;
}

void
gym_channel_event_clear(struct gym_channel_event *ev)
{
	gym_channel_trade_clear(&ev->trade);
	gym_channel_refund_clear(&ev->refund);
}

const char *
gym_channel_header(const struct gym_channel_notice *n, const char *name)
{
	size_t i;

	for (i = 0; i < n->nheaders; i++)
		if (n->headers[i].name != NULL && strcasecmp(n->headers[i].name, name) == 0)
			return n->headers[i].value;
	return NULL;
}
