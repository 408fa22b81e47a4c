/*
 * notify.c: what a message to a parent says.  Owns the per-process
 * template registry (set once from the config, read by the transactions
 * that enqueue), the enqueue itself, and the subscribe-message body the
 * sender posts.  The claim and send live in notify_send.c, the shared
 * access token in notify_token.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "extern.h"
#include "log.h"
#include "notify.h"
#include "price.h"

#define MAXFIELDS 3
#define FIELDLEN 32
#define TPLLEN 128

struct tpl {
	int on;
	char id[TPLLEN + 1];
	int nfields;
	char field[MAXFIELDS][FIELDLEN];
};

static struct tpl tpls[GYM_NOTIFY__COUNT];

static const char *const kind_names[GYM_NOTIFY__COUNT] = {
	"booking_confirmed", "payment_failed", "order_cancelled", "refund_done", "order_expired",
	"waitlist_offer", "class_rescheduled", "class_cancelled",
	"entitlement_expiring", "product_paid",
};

/* How many values each kind fills, and the default data keys. */
static const struct {
	int nvalues;
	const char *defaults[MAXFIELDS];
} kind_fields[GYM_NOTIFY__COUNT] = {
	{ 3, { "thing1", "time2", "amount3" } },
	{ 2, { "thing1", "phrase2" } },
	{ 2, { "thing1", "phrase2" } },
	{ 3, { "thing1", "amount2", "thing3" } },
	{ 2, { "thing1", "phrase2" } },
	{ 3, { "thing1", "time2", "time3" } },
	{ 2, { "thing1", "time2" } },		/* rescheduled: course, new start */
	{ 2, { "thing1", "thing2" } },		/* class cancelled: course, reason */
	{ 2, { "thing1", "time2" } },		/* expiring: product, when */
	{ 3, { "thing1", "amount2", "time3" } },	/* purchased: product, paid, until */
};

#define DEFAULT_REFUND_REASON "退款已原路退回"

/* The order's parent and what it names: its class (a trial) or its product
 * (a membership or pack, with what it paid, what was refunded so far, and
 * the end of what it bought). */
static struct gym_stmt st_facts = { "notify_order_facts",
	"SELECT o.user_id, coalesce(s.course_name, p.name) AS course_name, "
	"(extract(epoch FROM s.starts_at) * 1000000)::bigint AS starts_us, "
	"o.course_schedule_id IS NULL AS product, o.amount_fen, "
	"(extract(epoch FROM coalesce((SELECT max(m.ends_at) FROM membership_periods m "
	" WHERE m.order_id = o.order_id), (SELECT l.expires_at FROM credit_lots l "
	" WHERE l.order_id = o.order_id))) * 1000000)::bigint AS until_us "
	"FROM payment_orders o LEFT JOIN course_schedules s ON s.id = o.course_schedule_id "
	"LEFT JOIN products p ON p.id = o.product_id "
	"WHERE o.order_id = $1", 0 };
static struct gym_stmt st_insert = { "notify_insert",
	"INSERT INTO parent_notifications (user_id, order_id, kind, template_id, data, status, "
	"attempts, next_attempt_at, created_at) VALUES ($1::bigint, $2, $3, $4, $5::jsonb, "
	"'pending', 0, $6::timestamptz, $6::timestamptz) "
	"ON CONFLICT (order_id, kind) WHERE kind NOT IN ('class_rescheduled', 'refund_done') "
	"DO NOTHING RETURNING id", 0 };
static struct gym_stmt st_insert_refund = { "notify_insert_refund",
	"INSERT INTO parent_notifications (user_id, order_id, kind, template_id, data, status, "
	"attempts, next_attempt_at, created_at, refund_id) VALUES ($1::bigint, $2, $3, $4, "
	"$5::jsonb, 'pending', 0, $6::timestamptz, $6::timestamptz, $7::bigint) "
	"ON CONFLICT (refund_id) WHERE kind = 'refund_done' DO NOTHING RETURNING id", 0 };
static struct gym_stmt st_waitlist_facts = { "notify_waitlist_facts",
	"SELECT w.user_id, s.course_name, "
	"(extract(epoch FROM s.starts_at) * 1000000)::bigint AS starts_us, "
	"(extract(epoch FROM w.offer_expires_at) * 1000000)::bigint AS until_us "
	"FROM waitlist_entries w JOIN course_schedules s ON s.id = w.course_schedule_id "
	"WHERE w.id = $1::bigint", 0 };
static struct gym_stmt st_waitlist_insert = { "notify_waitlist_insert",
	"INSERT INTO parent_notifications (user_id, waitlist_entry_id, kind, template_id, data, "
	"status, attempts, next_attempt_at, created_at) VALUES ($1::bigint, $2::bigint, $3, $4, "
	"$5::jsonb, 'pending', 0, $6::timestamptz, $6::timestamptz) "
	"ON CONFLICT (waitlist_entry_id, kind) WHERE waitlist_entry_id IS NOT NULL DO NOTHING "
	"RETURNING id", 0 };

const char *
gym_notify_kind_name(enum gym_notify_kind k)
{
	return (unsigned)k < GYM_NOTIFY__COUNT ? kind_names[k] : NULL;
}

/* A data key: letters and '_' then digits ("thing1", "character_string2"). */
static int
field_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || n >= FIELDLEN)
		return 0;
	while (i < n && (islower((unsigned char)s[i]) || s[i] == '_'))
		i++;
	if (i == 0 || i == n)
		return 0;
	while (i < n && isdigit((unsigned char)s[i]))
		i++;
	return i == n;
}

/* Parse "TEMPLATE_ID [FIELD...]" for kind k into t: 0, or -1 (logged). */
static int
parse_template(const char *key, const char *spec, enum gym_notify_kind k, struct tpl *t)
{
	const char *p = spec, *w;
	size_t n;
	int nwords = 0;

	memset(t, 0, sizeof(*t));
	if (spec == NULL || spec[strspn(spec, " \t")] == '\0')
		return 0;		/* off */
	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		w = p;
		n = strcspn(p, " \t");
		p += n;
		if (nwords == 0) {
			if (n > TPLLEN) {
				gym_log_warnx("%s: template id longer than %d characters: "
				    "these messages are off", key, TPLLEN);
				return -1;
			}
			memcpy(t->id, w, n);
		} else if (nwords > MAXFIELDS || !field_ok(w, n)) {
			gym_log_warnx("%s: \"%.*s\" is not a data key (like thing1): "
			    "these messages are off", key, (int)(n < 64 ? n : 64), w);
			memset(t, 0, sizeof(*t));
			return -1;
		} else
			memcpy(t->field[nwords - 1], w, n);
		nwords++;
	}
	t->nfields = nwords - 1;
	if (t->nfields == 0) {
		t->nfields = kind_fields[k].nvalues;
		for (int i = 0; i < t->nfields; i++)
			snprintf(t->field[i], FIELDLEN, "%s", kind_fields[k].defaults[i]);
	} else if (t->nfields != kind_fields[k].nvalues) {
		gym_log_warnx("%s: wants %d data keys after the template id, not %d: "
		    "these messages are off", key, kind_fields[k].nvalues, t->nfields);
		memset(t, 0, sizeof(*t));
		return -1;
	}
	t->on = 1;
	return 0;
}

enum gym_err
gym_notify_configure(const struct gym_config *cfg)
{
	int bad = 0;

	bad |= parse_template("wx.template_confirmed", cfg->wx_tpl_confirmed,
	    GYM_NOTIFY_BOOKING_CONFIRMED, &tpls[GYM_NOTIFY_BOOKING_CONFIRMED]);
	bad |= parse_template("wx.template_failed", cfg->wx_tpl_failed,
	    GYM_NOTIFY_PAYMENT_FAILED, &tpls[GYM_NOTIFY_PAYMENT_FAILED]);
	tpls[GYM_NOTIFY_ORDER_CANCELLED] = tpls[GYM_NOTIFY_PAYMENT_FAILED];
	tpls[GYM_NOTIFY_ORDER_EXPIRED] = tpls[GYM_NOTIFY_PAYMENT_FAILED];
	bad |= parse_template("wx.template_refunded", cfg->wx_tpl_refunded,
	    GYM_NOTIFY_REFUND_DONE, &tpls[GYM_NOTIFY_REFUND_DONE]);
	bad |= parse_template("wx.template_waitlist", cfg->wx_tpl_waitlist,
	    GYM_NOTIFY_WAITLIST_OFFER, &tpls[GYM_NOTIFY_WAITLIST_OFFER]);
	bad |= parse_template("wx.template_rescheduled", cfg->wx_tpl_rescheduled,
	    GYM_NOTIFY_CLASS_RESCHEDULED, &tpls[GYM_NOTIFY_CLASS_RESCHEDULED]);
	bad |= parse_template("wx.template_class_cancelled", cfg->wx_tpl_class_cancelled,
	    GYM_NOTIFY_CLASS_CANCELLED, &tpls[GYM_NOTIFY_CLASS_CANCELLED]);
	bad |= parse_template("wx.template_expiring", cfg->wx_tpl_expiring,
	    GYM_NOTIFY_EXPIRING, &tpls[GYM_NOTIFY_EXPIRING]);
	bad |= parse_template("wx.template_purchased", cfg->wx_tpl_purchased,
	    GYM_NOTIFY_PURCHASED, &tpls[GYM_NOTIFY_PURCHASED]);
	return bad ? GYM_EINVAL : GYM_OK;
}

int
gym_notify_enabled(enum gym_notify_kind k)
{
	return (unsigned)k < GYM_NOTIFY__COUNT && tpls[k].on;
}

/* The most characters a value of this data key may have (0: no limit we
 * need to enforce): WeChat's limits by the key's kind. */
static size_t
value_limit(const char *field)
{
	static const struct {
		const char *kind;
		size_t max;
	} limits[] = {
		{ "thing", 20 }, { "phrase", 5 }, { "name", 10 }, { "symbol", 5 },
		{ "character_string", 32 }, { "number", 32 }, { "letter", 32 },
		{ "car_number", 8 }, { "phone_number", 17 },
	};
	size_t n = strcspn(field, "0123456789");

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (strlen(limits[i].kind) == n && strncmp(limits[i].kind, field, n) == 0)
			return limits[i].max;
	return 0;
}

/* Byte length of the first max UTF-8 characters of s. */
static size_t
utf8_prefix(const char *s, size_t max)
{
	size_t i = 0, chars = 0;

	while (s[i] != '\0' && chars < max) {
		i++;
		while ((s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	return i;
}

/* s cut to the limit of field (the last kept character becomes an
 * ellipsis when something was cut and the limit allows it), into out. */
static void
fit(const char *field, const char *s, char *out, size_t len)
{
	size_t max = value_limit(field), keep;

	if (max == 0 || s[utf8_prefix(s, max)] == '\0') {
		snprintf(out, len, "%s", s);
		return;
	}
	if (max >= 10) {
		keep = utf8_prefix(s, max - 1);
		snprintf(out, len, "%.*s…", (int)keep, s);
	} else
		snprintf(out, len, "%.*s", (int)utf8_prefix(s, max), s);
}

/* "2026年11月23日 10:00": China time (UTC+8, no daylight saving). */
static void
format_start(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000) + 8 * 3600;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%d年%d月%d日 %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min);
}

/* The data object's JSON text for kind k (caller frees), or NULL. */
static char *
build_data(enum gym_notify_kind k, const struct tpl *t, const char *course,
    int64_t starts_us, int64_t until_us, long long amount_fen, const char *detail)
{
	const char *values[MAXFIELDS] = { course, NULL, NULL };
	char start[64], until[64], amount[32], v[256], *text = NULL;
	cJSON *data, *item;

	format_start(starts_us, start, sizeof(start));
	format_start(until_us, until, sizeof(until));
	gym_price_format(amount_fen > 0 ? amount_fen : GYM_PRICE_FEN, amount,
	    sizeof(amount) - 4);
	strcat(amount, "元");
	switch (k) {
	case GYM_NOTIFY_BOOKING_CONFIRMED:
		values[1] = start;
		values[2] = amount;
		break;
	case GYM_NOTIFY_PAYMENT_FAILED:
		values[1] = "支付失败";
		break;
	case GYM_NOTIFY_ORDER_CANCELLED:
		values[1] = "已取消";
		break;
	case GYM_NOTIFY_ORDER_EXPIRED:
		values[1] = "超时未支付";
		break;
	case GYM_NOTIFY_WAITLIST_OFFER:
		values[1] = start;
		values[2] = until;	/* the offer's hold lapses then */
		break;
	case GYM_NOTIFY_CLASS_RESCHEDULED:
		values[1] = start;	/* the class's start as it is now */
		break;
	case GYM_NOTIFY_CLASS_CANCELLED:
		values[1] = detail != NULL && detail[0] != '\0' ? detail : "课程取消";
		break;
	case GYM_NOTIFY_EXPIRING:
		values[1] = start;	/* when the membership or credits run out */
		break;
	case GYM_NOTIFY_PURCHASED:
		values[1] = amount;
		values[2] = until;	/* the membership's or the credits' end */
		break;
	default:
		values[1] = amount;
		values[2] = detail != NULL && detail[0] != '\0' ? detail : DEFAULT_REFUND_REASON;
		break;
	}
	if ((data = cJSON_CreateObject()) == NULL)
		return NULL;
	for (int i = 0; i < t->nfields; i++) {
		fit(t->field[i], values[i] != NULL ? values[i] : "-", v, sizeof(v));
		if ((item = cJSON_AddObjectToObject(data, t->field[i])) == NULL ||
		    cJSON_AddStringToObject(item, "value", v) == NULL)
			goto out;
	}
	text = cJSON_PrintUnformatted(data);
out:
	cJSON_Delete(data);
	return text;
}

/* An order's message of kind k; for a refund's (refund_id not 0) with
 * that refund's amount, keyed by the refund. */
static enum gym_err
enqueue(struct gym_db *db, const struct gym_actor *actor, enum gym_notify_kind k,
    const char *order_id, long long refund_id, long long refund_fen, const char *detail)
{
	char uid[24], now[40], snap[160], course[404], rid[24];
	const char *pf[1] = { order_id };
	const char *pi[7] = { uid, order_id, NULL, NULL, NULL, now, rid };
	struct gym_audit au = { "notification", "message_queued", order_id, 0, 0, NULL,
	    "pending", snap };
	PGresult *r = NULL;
	int64_t starts_us, until_us;
	long long amount_fen;
	char *data = NULL;
	enum gym_err e;
	int product;

	if (!gym_notify_enabled(k))
		return GYM_OK;
	if ((e = gym_db_exec(db, &st_facts, 1, pf, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_ENOTFOUND;
	}
	product = strcmp(gym_db_get(r, 0, "product"), "t") == 0;
	if (gym_db_isnull(r, 0, "course_name") ||
	    (product && k != GYM_NOTIFY_PURCHASED && k != GYM_NOTIFY_REFUND_DONE)) {
		/* a product order is told only that it was paid or refunded */
		PQclear(r);
		return GYM_OK;
	}
	snprintf(uid, sizeof(uid), "%s", gym_db_get(r, 0, "user_id"));
	snprintf(course, sizeof(course), "%s", gym_db_get(r, 0, "course_name"));
	starts_us = gym_db_get_ll(r, 0, "starts_us");
	until_us = gym_db_get_ll(r, 0, "until_us");
	/* a refund says its own amount; a product's other message what was
	 * paid (a trial's, the trial's price) */
	amount_fen = refund_id != 0 ? refund_fen : !product ? 0 :
	    gym_db_get_ll(r, 0, "amount_fen");
	PQclear(r);
	r = NULL;
	if ((data = build_data(k, &tpls[k], course, starts_us, until_us, amount_fen, detail)) ==
	    NULL)
		return GYM_ENOMEM;
	gym_db_now_param(now, sizeof(now));
	pi[2] = kind_names[k];
	pi[3] = tpls[k].id;
	pi[4] = data;
	snprintf(rid, sizeof(rid), "%lld", refund_id);
	e = refund_id != 0 ? gym_db_exec(db, &st_insert_refund, 7, pi, &r) :
	    gym_db_exec(db, &st_insert, 6, pi, &r);
	free(data);
	if (e != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {	/* this order already has it */
		PQclear(r);
		return GYM_OK;
	}
	snprintf(snap, sizeof(snap), "{\"notification_id\":%s,\"kind\":\"%s\",\"status\":\"pending\"}",
	    gym_db_get(r, 0, "id"), kind_names[k]);
	PQclear(r);
	return gym_audit_write(db, actor, &au);
}

enum gym_err
gym__notify_enqueue(struct gym_db *db, const struct gym_actor *actor, enum gym_notify_kind k,
    const char *order_id, const char *detail)
{
	if (k == GYM_NOTIFY_REFUND_DONE)
		return GYM_EINVAL;	/* a refund's is keyed by the refund */
	return enqueue(db, actor, k, order_id, 0, 0, detail);
}

enum gym_err
gym__notify_enqueue_refund(struct gym_db *db, const struct gym_actor *actor,
    const char *order_id, long long refund_id, long long amount_fen, const char *reason)
{
	return enqueue(db, actor, GYM_NOTIFY_REFUND_DONE, order_id, refund_id, amount_fen, reason);
}

enum gym_err
gym__notify_enqueue_waitlist(struct gym_db *db, const struct gym_actor *actor,
    long long entry_id)
{
	const enum gym_notify_kind k = GYM_NOTIFY_WAITLIST_OFFER;
	char eid[24], uid[24], now[40], snap[200], course[404];
	const char *pf[1] = { eid };
	const char *pi[6] = { uid, eid, kind_names[k], tpls[k].id, NULL, now };
	struct gym_audit au = { "notification", "message_queued", NULL, 0, 0, NULL,
	    "pending", snap };
	PGresult *r = NULL;
	int64_t starts_us, until_us;
	char *data = NULL;
	enum gym_err e;

	if (!gym_notify_enabled(k))
		return GYM_OK;
	gym__ll(eid, sizeof(eid), entry_id);
	if ((e = gym_db_exec(db, &st_waitlist_facts, 1, pf, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_ENOTFOUND;
	}
	gym_db_copy(r, 0, "user_id", uid, sizeof(uid));
	gym_db_copy(r, 0, "course_name", course, sizeof(course));
	starts_us = gym_db_get_ll(r, 0, "starts_us");
	until_us = gym_db_get_ll(r, 0, "until_us");
	PQclear(r);
	r = NULL;
	if ((data = build_data(k, &tpls[k], course, starts_us, until_us, 0, NULL)) == NULL)
		return GYM_ENOMEM;
	gym_db_now_param(now, sizeof(now));
	pi[4] = data;
	e = gym_db_exec(db, &st_waitlist_insert, 6, pi, &r);
	free(data);
	if (e != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {	/* this entry already has it */
		PQclear(r);
		return GYM_OK;
	}
	snprintf(snap, sizeof(snap), "{\"notification_id\":%s,\"kind\":\"%s\","
	    "\"waitlist_entry_id\":%lld,\"status\":\"pending\"}", gym_db_get(r, 0, "id"),
	    kind_names[k], entry_id);
	PQclear(r);
	return gym_audit_write(db, actor, &au);
}

enum gym_err
gym__notify_enqueue_expiring(struct gym_db *db, const struct gym_actor *actor,
    const char *order_id, long long user_id, const char *name, int64_t ends_us, int *queued)
{
	const enum gym_notify_kind k = GYM_NOTIFY_EXPIRING;
	char uid[24], now[40], snap[200];
	const char *pi[6] = { uid, order_id, kind_names[k], tpls[k].id, NULL, now };
	struct gym_audit au = { "notification", "message_queued", order_id, 0, 0, NULL,
	    "pending", snap };
	PGresult *r = NULL;
	char *data;
	enum gym_err e;

	*queued = 0;
	if (!gym_notify_enabled(k))
		return GYM_OK;
	if ((data = build_data(k, &tpls[k], name, ends_us, 0, 0, NULL)) == NULL)
		return GYM_ENOMEM;
	gym__ll(uid, sizeof(uid), user_id);
	gym_db_now_param(now, sizeof(now));
	pi[4] = data;
	e = gym_db_exec(db, &st_insert, 6, pi, &r);
	free(data);
	if (e != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {	/* told before */
		PQclear(r);
		return GYM_OK;
	}
	snprintf(snap, sizeof(snap), "{\"notification_id\":%s,\"kind\":\"%s\",\"status\":\"pending\"}",
	    gym_db_get(r, 0, "id"), kind_names[k]);
	PQclear(r);
	*queued = 1;
	return gym_audit_write(db, actor, &au);
}

char *
gym_notify_body(const struct gym_notice *n, const struct gym_config *cfg)
{
	const char *state = cfg->wx_mp_state != NULL && cfg->wx_mp_state[0] != '\0' ?
	    cfg->wx_mp_state : "formal";
	cJSON *body = NULL, *data = NULL;
	char *page = NULL, *text = NULL;

	if ((data = cJSON_Parse(n->data)) == NULL || !cJSON_IsObject(data))
		goto out;
	if (cfg->wx_message_page != NULL && cfg->wx_message_page[0] != '\0' &&
	    (page = n->hold_id != 0 ?
	    gym_asprintf("%s?reservation_id=%lld&course_schedule_id=%lld", cfg->wx_message_page,
	    n->hold_id, n->schedule_id) :
	    gym_asprintf("%s?order_id=%s", cfg->wx_message_page, n->order_id)) == NULL)
		goto out;
	if ((body = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(body, "touser", n->openid) == NULL ||
	    cJSON_AddStringToObject(body, "template_id", n->template_id) == NULL ||
	    (page != NULL && cJSON_AddStringToObject(body, "page", page) == NULL) ||
	    !cJSON_AddItemToObject(body, "data", data))
		goto out;
	data = NULL;		/* body owns it */
	if (cJSON_AddStringToObject(body, "miniprogram_state", state) == NULL ||
	    cJSON_AddStringToObject(body, "lang", "zh_CN") == NULL)
		goto out;
	text = cJSON_PrintUnformatted(body);
out:
	cJSON_Delete(data);
	cJSON_Delete(body);
	free(page);
	return text;
}
