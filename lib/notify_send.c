/*
 * notify_send.c: the sender of parents' messages (see notify.h).  A claim
 * is one statement-sized transaction that stamps due rows with a random
 * claim token and a lease; each send then begins (an unfinished attempt
 * row, only while the claim is still ours), goes to WeChat outside any
 * transaction, and finishes (the outcome, the row's next state and its
 * audit row in one transaction).  Two senders never hold one row: the
 * claim skips locked rows and re-checks due-ness on rows another claim
 * just committed, and a sender whose lease passed cannot begin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "extern.h"
#include "log.h"
#include "notify.h"

#define BACKOFF_MAX_MS 3600000LL
#define UNKNOWN_MSG "outcome unknown: the sender stopped during the send; not sent again"

static struct gym_stmt st_claim = { "notify_claim",
	"UPDATE parent_notifications n SET next_attempt_at = $1::timestamptz + "
	" make_interval(secs => $3::int), claim_token = $4 FROM users u "
	"WHERE n.id = ANY(ARRAY(SELECT id FROM parent_notifications WHERE status = 'pending' "
	" AND next_attempt_at <= $1::timestamptz ORDER BY next_attempt_at LIMIT $2::int "
	" FOR UPDATE SKIP LOCKED)) AND u.id = n.user_id "
	"RETURNING n.id, coalesce(n.order_id, '') AS order_id, n.kind, n.template_id, "
	" n.data::text AS data, n.attempts, u.openid, "
	" (SELECT hold_id FROM waitlist_entries w WHERE w.id = n.waitlist_entry_id) AS hold_id, "
	" (SELECT course_schedule_id FROM waitlist_entries w WHERE w.id = n.waitlist_entry_id) "
	" AS schedule_id, EXISTS (SELECT 1 FROM notification_attempts a WHERE "
	" a.notification_id = n.id AND a.finished_at IS NULL) AS unfinished", 0 };
static struct gym_stmt st_unknown = { "notify_unknown",
	"WITH a AS (UPDATE notification_attempts SET finished_at = $2::timestamptz, errmsg = $3 "
	" WHERE notification_id = $1::bigint AND finished_at IS NULL RETURNING id) "
	"UPDATE parent_notifications SET status = 'failed', attempts = attempts + 1, "
	" last_error = $3 WHERE id = $1::bigint AND status = 'pending' RETURNING attempts", 0 };
static struct gym_stmt st_begin = { "notify_begin",
	"WITH mine AS (UPDATE parent_notifications SET next_attempt_at = $3::timestamptz + "
	" make_interval(secs => $4::int) WHERE id = $1::bigint AND claim_token = $2 "
	" AND status = 'pending' RETURNING id) "
	"INSERT INTO notification_attempts (notification_id, attempted_at) "
	"SELECT id, $3::timestamptz FROM mine RETURNING id", 0 };
static struct gym_stmt st_attempt_done = { "notify_attempt_done",
	"UPDATE notification_attempts SET finished_at = $2::timestamptz, ok = $3::boolean, "
	"errcode = $4::int, errmsg = $5 WHERE id = $1::bigint", 0 };
static struct gym_stmt st_done = { "notify_done",
	"UPDATE parent_notifications SET status = $3, attempts = $4::int, "
	"next_attempt_at = $5::timestamptz, sent_at = $6::timestamptz, "
	"last_error = coalesce($7, last_error) WHERE id = $1::bigint AND claim_token = $2 "
	"AND status = 'pending' AND attempts = $4::int - 1 RETURNING id", 0 };
static struct gym_stmt st_release = { "notify_release",
	"UPDATE parent_notifications SET next_attempt_at = $3::timestamptz "
	"WHERE id = ANY($1::bigint[]) AND claim_token = $2 AND status = 'pending'", 0 };

static const struct gym_actor sender = { "system", 0, NULL, "notify-sender", NULL, NULL };

/*
 * The audit row of a message's status change.  Its order is named in the
 * snapshot, not in order_id: an order's trail holds the changes made in
 * its own transactions (message_queued among them), not rows the sender
 * adds at any later moment.
 */
static enum gym_err
audit(struct gym_db *db, const char *order_id, long long id, const char *kind,
    enum gym_notification_status to, int attempts)
{
	char snap[256];
	const char *new_status = gym_notification_status_name(to);
	struct gym_audit au = { "notification", to == GYM_NOTIFICATION_SENT ?
	    "message_sent" : "message_failed", NULL, 0, 0,
	    gym_notification_status_name(GYM_NOTIFICATION_PENDING), new_status, snap };

	snprintf(snap, sizeof(snap), "{\"notification_id\":%lld,\"order_id\":\"%.32s\","
	    "\"kind\":\"%s\",\"status\":\"%s\",\"attempts\":%d}", id, order_id, kind,
	    new_status, attempts);
	return gym_audit_write(db, &sender, &au);
}

struct claim_arg {
	int max, lease_s;
	char claim[33];
	struct gym_notice *out;
	int n;
};

/* A claimed row whose last send never finished: failed, not sent again. */
static enum gym_err
give_up_unknown(struct gym_db *db, PGresult *r, int i, const char *now)
{
	const char *id = gym_db_get(r, i, "id");
	const char *p[3] = { id, now, UNKNOWN_MSG };
	PGresult *u;
	enum gym_err e;
	int attempts;

	if ((e = gym_db_exec(db, &st_unknown, 3, p, &u)) != GYM_OK)
		return e;
	attempts = PQntuples(u) > 0 ? (int)gym_db_get_ll(u, 0, "attempts") : -1;
	PQclear(u);
	if (attempts < 0)
		return GYM_OK;
	gym_log_warnx("notify: message %s (%s, order %s) %s", id, gym_db_get(r, i, "kind"),
	    gym_db_get(r, i, "order_id"), UNKNOWN_MSG);
	return audit(db, gym_db_get(r, i, "order_id"), gym_db_get_ll(r, i, "id"),
	    gym_db_get(r, i, "kind"), GYM_NOTIFICATION_FAILED, attempts);
}

static enum gym_err
claim_tx(struct gym_db *db, void *v)
{
	struct claim_arg *a = v;
	char now[40], lim[16], lease[16];
	const char *p[4] = { now, lim, lease, a->claim };
	PGresult *r;
	enum gym_err e = GYM_OK;

	a->n = 0;
	gym_db_now_param(now, sizeof(now));
	snprintf(lim, sizeof(lim), "%d", a->max);
	snprintf(lease, sizeof(lease), "%d", a->lease_s);
	if ((e = gym_db_exec(db, &st_claim, 4, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++) {
		struct gym_notice *n;
		const char *unf = gym_db_get(r, i, "unfinished");

		if (unf != NULL && strcmp(unf, "t") == 0) {
			e = give_up_unknown(db, r, i, now);
			continue;
		}
		if (a->n >= a->max)
			break;
		n = &a->out[a->n++];
		memset(n, 0, sizeof(*n));
		n->id = gym_db_get_ll(r, i, "id");
		gym_db_copy(r, i, "order_id", n->order_id, sizeof(n->order_id));
		n->hold_id = gym_db_get_ll(r, i, "hold_id");
		n->schedule_id = gym_db_get_ll(r, i, "schedule_id");
		gym_db_copy(r, i, "kind", n->kind, sizeof(n->kind));
		gym_db_copy(r, i, "template_id", n->template_id, sizeof(n->template_id));
		gym_db_copy(r, i, "data", n->data, sizeof(n->data));
		gym_db_copy(r, i, "openid", n->openid, sizeof(n->openid));
		gym_strcopy(n->claim, sizeof(n->claim), a->claim);
		n->attempts = (int)gym_db_get_ll(r, i, "attempts");
	}
	PQclear(r);
	return e;
}

enum gym_err
gym_notify_claim(struct gym_db *db, int max, int lease_s, struct gym_notice *out, int *n)
{
	struct claim_arg a;
	enum gym_err e;

	*n = 0;
	memset(&a, 0, sizeof(a));
	if (max < 1 || lease_s < 1)
		return GYM_EINVAL;
	a.max = max;
	a.lease_s = lease_s;
	a.out = out;
	if ((e = gym_random_alnum(a.claim, 32)) != GYM_OK)
		return e;
	if ((e = gym_db_tx(db, claim_tx, &a)) == GYM_OK)
		*n = a.n;
	return e;
}

enum gym_err
gym_notify_begin(struct gym_db *db, const struct gym_notice *n, int lease_s,
    long long *attempt_id)
{
	char id[24], now[40], lease[16];
	const char *p[4] = { id, n->claim, now, lease };
	PGresult *r;
	enum gym_err e;

	*attempt_id = 0;
	gym__ll(id, sizeof(id), n->id);
	gym_db_now_param(now, sizeof(now));
	snprintf(lease, sizeof(lease), "%d", lease_s);
	/* one statement: its own transaction */
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_begin, 4, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0)
		e = GYM_ECONFLICT;
	else
		*attempt_id = gym_db_get_ll(r, 0, "id");
	PQclear(r);
	return e;
}

/* base_ms * 2^attempts, at most an hour. */
static long long
backoff_ms(int base_ms, int attempts)
{
	long long d = base_ms > 0 ? base_ms : 1;

	for (int i = 0; i < attempts && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

struct finish_arg {
	struct gym_notice *n;
	long long attempt_id;
	const struct gym_notify_outcome *oc;
	int max_attempts, backoff_base_ms;
	enum gym_notification_status status;
	int ended;			/* 0: claimed again meanwhile, nothing changed */
};

static enum gym_err
finish_tx(struct gym_db *db, void *v)
{
	struct finish_arg *a = v;
	const struct gym_notify_outcome *oc = a->oc;
	char aid[24], id[24], now[40], next[40], ec[16], att[16];
	const char *pa[5] = { aid, now, oc->ok ? "true" : "false",
	    oc->has_errcode ? ec : NULL, oc->ok ? NULL : oc->errmsg };
	const char *pd[7] = { id, a->n->claim, NULL, att, next, oc->ok ? now : NULL,
	    oc->ok ? NULL : oc->errmsg };
	int attempts = a->n->attempts + 1;
	PGresult *r;
	enum gym_err e;

	gym__ll(aid, sizeof(aid), a->attempt_id);
	gym__ll(id, sizeof(id), a->n->id);
	snprintf(ec, sizeof(ec), "%d", oc->errcode);
	snprintf(att, sizeof(att), "%d", attempts);
	gym_db_now_param(now, sizeof(now));
	if (oc->ok)
		a->status = GYM_NOTIFICATION_SENT;
	else if (oc->permanent || attempts >= a->max_attempts)
		a->status = GYM_NOTIFICATION_FAILED;
	else
		a->status = GYM_NOTIFICATION_PENDING;
	pd[2] = gym_notification_status_name(a->status);
	if (a->status == GYM_NOTIFICATION_PENDING)
		gym_time_format(gym_now_us() + backoff_ms(a->backoff_base_ms, attempts) * 1000,
		    next, sizeof(next));
	else
		snprintf(next, sizeof(next), "%s", now);
	if ((e = gym_db_exec(db, &st_attempt_done, 5, pa, NULL)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_done, 7, pd, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		/* claimed again meanwhile: the attempt is recorded, the row is theirs */
		PQclear(r);
		a->ended = 0;
		return GYM_OK;
	}
	PQclear(r);
	a->ended = 1;
	if (a->status == GYM_NOTIFICATION_PENDING)
		return GYM_OK;
	return audit(db, a->n->order_id, a->n->id, a->n->kind, a->status, attempts);
}

enum gym_err
gym_notify_finish(struct gym_db *db, struct gym_notice *n, long long attempt_id,
    const struct gym_notify_outcome *oc, int max_attempts, int backoff_base_ms,
    char *status, size_t len)
{
	struct finish_arg a;
	enum gym_err e;

	memset(&a, 0, sizeof(a));
	a.n = n;
	a.attempt_id = attempt_id;
	a.oc = oc;
	a.max_attempts = max_attempts > 0 ? max_attempts : 1;
	a.backoff_base_ms = backoff_base_ms;
	if ((e = gym_db_tx(db, finish_tx, &a)) != GYM_OK)
		return e;
	if (a.ended)
		n->attempts++;
	if (status != NULL)
		snprintf(status, len, "%s", a.ended ? gym_notification_status_name(a.status) : "");
	return GYM_OK;
}

enum gym_err
gym_notify_release(struct gym_db *db, const struct gym_notice *n, int count, int delay_ms)
{
	char *ids = NULL, at[40];
	const char *p[3] = { NULL, count > 0 ? n[0].claim : "", at };
	size_t cap = (size_t)count * 22 + 3, off = 0;
	enum gym_err e;

	if (count <= 0)
		return GYM_OK;
	if ((ids = malloc(cap)) == NULL)
		return GYM_ENOMEM;
	ids[off++] = '{';
	for (int i = 0; i < count; i++)
		off += (size_t)snprintf(ids + off, cap - off, "%s%lld", i ? "," : "", n[i].id);
	snprintf(ids + off, cap - off, "}");
	p[0] = ids;
	gym_time_format(gym_now_us() + (int64_t)delay_ms * 1000, at, sizeof(at));
	if ((e = gym_db_ensure(db)) == GYM_OK)
		e = gym_db_exec(db, &st_release, 3, p, NULL);
	free(ids);
	return e;
}

/* ---- the sender ------------------------------------------------------------------------ */

/* WeChat errcodes no retry can fix. */
static int
permanent(long code)
{
	static const long codes[] = { 40003, 40037, 41030, 43101, 47003 };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == code)
			return 1;
	return 0;
}

/* The access token was refused: invalid, expired or not the latest. */
static int
token_refused(const struct gym_notify_outcome *oc)
{
	return oc->has_errcode && (oc->errcode == 40001 || oc->errcode == 42001 ||
	    oc->errcode == 40014);
}

static void
classify(enum gym_err se, const struct gym_wx_error *we, struct gym_notify_outcome *oc,
    char *msg, size_t len)
{
	char *end;
	long code;

	memset(oc, 0, sizeof(*oc));
	if (se == GYM_OK) {
		oc->ok = 1;
		return;
	}
	code = strtol(we->code, &end, 10);
	if (we->code[0] != '\0' && *end == '\0') {
		oc->has_errcode = 1;
		oc->errcode = (int)code;
		oc->permanent = permanent(code);
	}
	if (se == GYM_EINVAL)		/* our own bad input: a retry sends the same */
		oc->permanent = 1;
	snprintf(msg, len, "%s: %s", we->code[0] != '\0' ? we->code : gym_strerror(se),
	    we->message);
	oc->errmsg = msg;
}

/* Seconds a claim or a begun send keeps a row: longer than one send can
 * take (libcurl's connect and total timeouts), plus a margin. */
static int
lease_seconds(const struct gym_config *cfg)
{
	return (cfg->wx_connect_timeout_ms + cfg->wx_timeout_ms) / 1000 + 30;
}

struct batch {
	struct gym_db *db;
	struct gym_wx_client *wx;
	const struct gym_config *cfg;
	char token[1025];
	int refreshed;			/* the token was replaced in this batch */
	int sent;
};

/* One send and its record: 1 when delivered, 0 when not (or skipped),
 * -1 when the database failed. */
static int
send_once(struct batch *b, struct gym_notice *n, struct gym_notify_outcome *oc,
    char *status, size_t slen)
{
	struct gym_notify_outcome built = { 0, 1, 0, 0, "could not build the message body" };
	char msg[400];
	long long aid;
	char *body;
	enum gym_err e, se;

	if ((e = gym_notify_begin(b->db, n, lease_seconds(b->cfg), &aid)) == GYM_ECONFLICT)
		return 0;
	if (e != GYM_OK)
		return -1;
	if ((body = gym_notify_body(n, b->cfg)) == NULL)
		*oc = built;
	else {
		se = gym_wx_subscribe_send(b->wx, b->token, body);
		gym_wipe(body, strlen(body));
		free(body);
		classify(se, gym_wx_last_error(b->wx), oc, msg, sizeof(msg));
	}
	if (gym_notify_finish(b->db, n, aid, oc, b->cfg->notify_max_attempts,
	    b->cfg->notify_backoff_base_ms, status, slen) != GYM_OK) {
		gym_log_warnx("notify: could not record the send of message %lld (%s)", n->id,
		    oc->ok ? "delivered" : "not delivered");
		return -1;
	}
	if (oc->ok)
		gym_log_infox("notify: message %lld (%s, order %s) sent", n->id, n->kind, n->order_id);
	else
		gym_log_warnx("notify: message %lld (%s, order %s) not sent, attempt %d: %s%s",
		    n->id, n->kind, n->order_id, n->attempts, oc->errmsg,
		    strcmp(status, "failed") == 0 ? ": giving up" : "");
	return oc->ok;
}

/* Send one claimed message; a refused token is replaced once per batch
 * and the message sent again at once.  -1 when the database failed. */
static int
send_one(struct batch *b, struct gym_notice *n)
{
	struct gym_notify_outcome oc;
	char status[16], rejected[sizeof(b->token)];
	int rc;

	if ((rc = send_once(b, n, &oc, status, sizeof(status))) != 0 || !token_refused(&oc) ||
	    b->refreshed || strcmp(status, "pending") != 0)
		return rc;
	b->refreshed = 1;
	memcpy(rejected, b->token, sizeof(rejected));
	if (gym_notify_token(b->db, b->wx, b->cfg, rejected, b->token, sizeof(b->token)) != GYM_OK) {
		memcpy(b->token, rejected, sizeof(rejected));
		gym_wipe(rejected, sizeof(rejected));
		return 0;
	}
	gym_wipe(rejected, sizeof(rejected));
	return send_once(b, n, &oc, status, sizeof(status));
}

enum gym_err
gym_notify_send_batch(struct gym_db *db, struct gym_wx_client *wx, const struct gym_config *cfg,
    int max, int *sent)
{
	struct gym_notice *ns = NULL;
	struct batch *b = NULL;
	enum gym_err e = GYM_ENOMEM;
	int n = 0, rc;

	*sent = 0;
	if (max < 1)
		max = 1;
	if ((ns = calloc((size_t)max, sizeof(*ns))) == NULL ||
	    (b = calloc(1, sizeof(*b))) == NULL)
		goto out;
	if ((e = gym_notify_claim(db, max, lease_seconds(cfg), ns, &n)) != GYM_OK || n == 0)
		goto out;
	b->db = db;
	b->wx = wx;
	b->cfg = cfg;
	if ((e = gym_notify_token(db, wx, cfg, NULL, b->token, sizeof(b->token))) != GYM_OK) {
		gym_log_warnx("notify: no access token (%s): %d message%s wait", gym_strerror(e),
		    n, n == 1 ? "" : "s");
		gym_notify_release(db, ns, n, cfg->notify_backoff_base_ms * 2);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if ((rc = send_one(b, &ns[i])) < 0) {
			e = GYM_EDB;	/* the rest stay claimed until their lease passes */
			break;
		}
		b->sent += rc;
	}
	*sent = b->sent;
out:
	if (b != NULL)
		gym_wipe(b, sizeof(*b));
	free(b);
	if (ns != NULL)
		gym_wipe(ns, (size_t)max * sizeof(*ns));
	free(ns);
	return e;
}
