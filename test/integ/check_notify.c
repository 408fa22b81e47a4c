/*
 * check_notify.c: parents' messages against a real database (lib/notify*.c).
 * A message is enqueued in the transaction of its change (and vanishes
 * with it when that rolls back), once per order and kind, with the
 * configured template and data keys and no openid; concurrent senders
 * over 200 due messages never claim or begin the same row; a lease that
 * passed loses the row; a send that never finished is not repeated; a
 * refused send backs off and gives up; the access token cache.  There is
 * no WeChat here: the sends are the tests' own (the end-to-end suite
 * sends through the simulator).
 *
 * Also WeChat's own notifications, strictly (tcase "signed"): what a
 * signed payment notification says is applied through gym_txn_apply_json
 * only with appid and mchid present and ours, currency CNY, and whole-fen
 * amounts equal to the order's; anything else (20000.5, which used to be
 * truncated to 20000 and pay, 1e308, -1, USD, no currency, no or another
 * appid) is refused and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "integ.h"
#include "json.h"
#include "notify.h"
#include "pgtest.h"
#include "reconcile.h"

#define BULK 200
#define SENDERS 4
#define LEASE_S 60

static struct gym_db *db;
static struct gym_config cfg;
/* writable homes for cfg's strings (char *: a loaded config owns them) */
static char tpl_confirmed[160], tpl_failed[160], tpl_refunded[160];
static char appid[] = "wxd678efh567hg6787", mp_state[] = "developer",
    message_page[] = "pages/order/detail";

/* s copied into buf (of len bytes), or NULL for NULL. */
static char *
keep(char *buf, size_t len, const char *s)
{
	if (s == NULL)
		return NULL;
	snprintf(buf, len, "%s", s);
	return buf;
}

static void
set_templates(const char *confirmed, const char *failed, const char *refunded)
{
	cfg.wx_tpl_confirmed = keep(tpl_confirmed, sizeof(tpl_confirmed), confirmed);
	cfg.wx_tpl_failed = keep(tpl_failed, sizeof(tpl_failed), failed);
	cfg.wx_tpl_refunded = keep(tpl_refunded, sizeof(tpl_refunded), refunded);
}

static void
configure(const char *confirmed, const char *failed, const char *refunded)
{
	memset(&cfg, 0, sizeof(cfg));
	set_templates(confirmed, failed, refunded);
	cfg.wx_appid = appid;
	cfg.notify_max_attempts = 3;
	cfg.notify_backoff_base_ms = 1000;
	ck_assert_int_eq(gym_notify_configure(&cfg), GYM_OK);
}

static void
setup(void)
{
	db = pgt_open();
	configure("tpl-confirmed", "tpl-failed thing1 phrase2", "tpl-refund");
}

static void
teardown(void)
{
	struct gym_config off;

	memset(&off, 0, sizeof(off));
	gym_notify_configure(&off);
	pgt_close(&db);
}

static long long
count1(const char *sql, const char *arg)
{
	const char *p[1] = { arg };

	return pgt_countp(db, sql, 1, p);
}

/* A class starting 2030-01-02 10:05 China time. */
static long long
class_2030(const char *course)
{
	int64_t start;
	long long id = 0;

	ck_assert_int_eq(gym_time_parse("2030-01-02T02:05:00Z", &start), 0);
	ck_assert_int_eq(gym_schedule_create(db, &pgt_actor_system, course, start,
	    start + (int64_t)3600 * 1000000, 5, &id), GYM_OK);
	return id;
}

static void
new_order(const char *openid, long long sid, long long *uid, struct gym_order *o)
{
	struct gym_actor a;
	int created;

	*uid = pgt_user(db, openid);
	a = pgt_actor_user(*uid);
	ck_assert_int_eq(gym_order_create(db, &a, *uid, sid, 0, NULL, NULL, o, &created), GYM_OK);
}

/* The data value of key in the message (order, kind) into buf. */
static char *
value_of(const char *order_id, const char *kind, const char *key, char *buf, size_t len)
{
	const char *p[3] = { order_id, kind, key };

	pgt_textp(db, "SELECT data -> $3 ->> 'value' FROM parent_notifications "
	    "WHERE order_id = $1 AND kind = $2", 3, p, buf, len);
	return buf;
}

START_TEST(test_enqueue_with_changes)
{
	struct gym_order o1, o2, o3, o;
	struct gym_actor a;
	struct gym_wx_txn t;
	char v[256], outcome[32], uid[24];
	long long sid, u1, u2, u3;

	sid = class_2030("少儿体操体验课");
	new_order("o-notify-paid", sid, &u1, &o1);
	/* nothing is said about a new order */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications"), 0);

	/* paid: booking_confirmed, for the order's parent, with the default keys */
	ck_assert_int_eq(pgt_pay(db, o1.order_id, "4200000001203001020000000001", outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "paid");
	snprintf(uid, sizeof(uid), "%lld", u1);
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications WHERE order_id = $1 "
	    "AND kind = 'booking_confirmed' AND status = 'pending' AND attempts = 0 AND "
	    "template_id = 'tpl-confirmed' AND sent_at IS NULL AND next_attempt_at <= created_at",
	    o1.order_id), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications WHERE "
	    "user_id = $1::bigint", uid), 1);
	ck_assert_str_eq(value_of(o1.order_id, "booking_confirmed", "thing1", v, sizeof(v)),
	    "少儿体操体验课");
	ck_assert_str_eq(value_of(o1.order_id, "booking_confirmed", "time2", v, sizeof(v)),
	    "2030年1月2日 10:05");
	ck_assert_str_eq(value_of(o1.order_id, "booking_confirmed", "amount3", v, sizeof(v)),
	    "200.00元");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications n, "
	    "jsonb_object_keys(n.data) k"), 3);
	/* no openid in the message row or its audit row */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications n "
	    "WHERE n::text LIKE '%o-notify-paid%'"), 0);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 AND "
	    "entity = 'notification' AND action_type = 'message_queued' AND "
	    "new_status = 'pending' AND actor_type = 'wechat'", o1.order_id), 1);
	/* the same payment again: still one message */
	ck_assert_int_eq(pgt_pay(db, o1.order_id, "4200000001203001020000000001", outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "duplicate");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications"), 1);

	/* cancelled: order_cancelled with the failed template */
	new_order("o-notify-cancel", sid, &u2, &o2);
	a = pgt_actor_user(u2);
	ck_assert_int_eq(gym_order_cancel(db, &a, u2, o2.order_id, &o), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(o.status), "cancelled");
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications WHERE order_id = $1 "
	    "AND kind = 'order_cancelled' AND template_id = 'tpl-failed'", o2.order_id), 1);
	ck_assert_str_eq(value_of(o2.order_id, "order_cancelled", "phrase2", v, sizeof(v)),
	    "已取消");
	/* cancelling again changes nothing and says nothing more */
	ck_assert_int_eq(gym_order_cancel(db, &a, u2, o2.order_id, &o), GYM_OK);
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications WHERE order_id = $1",
	    o2.order_id), 1);

	/* WeChat says the payment failed: payment_failed */
	new_order("o-notify-payerror", sid, &u3, &o3);
	memset(&t, 0, sizeof(t));
	t.out_trade_no = o3.order_id;
	t.trade_state = "PAYERROR";
	t.total = GYM_PRICE_FEN;
	t.source = "query";
	ck_assert_int_eq(gym_payment_apply(db, &pgt_actor_wechat, &t, outcome, sizeof(outcome)),
	    GYM_OK);
	ck_assert_str_eq(outcome, "failed");
	ck_assert_str_eq(value_of(o3.order_id, "payment_failed", "phrase2", v, sizeof(v)),
	    "支付失败");
	ck_assert_str_eq(value_of(o3.order_id, "payment_failed", "thing1", v, sizeof(v)),
	    "少儿体操体验课");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications"), 3);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'message_queued'"), 3);
}
END_TEST

/* An order that reaches its deadline unpaid tells its parent, once, with
 * the failed template: found by the sweep, or by the parent's next action
 * (a new hold expires the lapsed order first). */
START_TEST(test_expired_notice)
{
	struct gym_order o1, o2;
	struct gym_reservation r;
	struct gym_actor a;
	long long sid = class_2030("少儿体操体验课"), sid2 = class_2030("少儿体操体验课"), u1, u2;
	char v[64];
	int n = 0, created;

	new_order("o-notify-expire-sweep", sid, &u1, &o1);
	new_order("o-notify-expire-next", sid, &u2, &o2);
	gym_clock_set_offset(GYM_ORDER_SECONDS + 1);
	/* the parent comes back first: their lapsed order ends with a message */
	a = pgt_actor_user(u2);
	ck_assert_int_eq(gym_hold_create(db, &a, u2, sid2, &r, &created), GYM_OK);
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications WHERE order_id = $1 "
	    "AND kind = 'order_expired' AND template_id = 'tpl-failed'", o2.order_id), 1);
	/* the sweep finds the other one */
	ck_assert_int_eq(gym_sweep_orders(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications WHERE order_id = $1 "
	    "AND kind = 'order_expired'", o1.order_id), 1);
	ck_assert_str_eq(value_of(o1.order_id, "order_expired", "phrase2", v, sizeof(v)),
	    "超时未支付");
	ck_assert_str_eq(value_of(o1.order_id, "order_expired", "thing1", v, sizeof(v)),
	    "少儿体操体验课");
	/* a second sweep: nothing more */
	ck_assert_int_eq(gym_sweep_orders(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications "
	    "WHERE kind = 'order_expired'"), 2);
}
END_TEST

struct enqueue_arg {
	const char *order_id;
	long long refund_id;
	enum gym_err result;
};

static enum gym_err
enqueue_then(struct gym_db *d, void *v)
{
	struct enqueue_arg *a = v;
	enum gym_err e;

	if ((e = gym__notify_enqueue_refund(d, &pgt_actor_system, a->order_id, a->refund_id,
	    20000, "课程取消")) != GYM_OK)
		return e;
	return a->result;
}

START_TEST(test_enqueue_rolls_back)
{
	struct gym_order o;
	struct enqueue_arg a;
	char v[256], rid[24];
	const char *p[1] = { NULL };
	long long sid, u;

	sid = class_2030("Trial class");
	new_order("o-notify-rollback", sid, &u, &o);
	p[0] = o.order_id;
	pgt_textp(db, "INSERT INTO refunds (out_refund_no, order_id, attempt, amount_fen, reason, "
	    "initiated_by, order_status_before, status, created_at, updated_at, completed_at) "
	    "VALUES ('RFrb' || substr($1, 4), $1, 1, 20000, '课程取消', 'system', 'paid', 'success', "
	    "now(), now(), now()) RETURNING id", 1, p, rid, sizeof(rid));
	/* the change fails after the enqueue: no message */
	a.order_id = o.order_id;
	a.refund_id = atoll(rid);
	a.result = GYM_ECONFLICT;
	ck_assert_int_eq(gym_db_tx(db, enqueue_then, &a), GYM_ECONFLICT);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications"), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'notification'"), 0);
	/* it commits: one message, with the detail as its reason; the same
	 * refund again adds none */
	a.result = GYM_OK;
	ck_assert_int_eq(gym_db_tx(db, enqueue_then, &a), GYM_OK);
	ck_assert_int_eq(gym_db_tx(db, enqueue_then, &a), GYM_OK);
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications WHERE order_id = $1 "
	    "AND kind = 'refund_done' AND template_id = 'tpl-refund'", o.order_id), 1);
	ck_assert_str_eq(value_of(o.order_id, "refund_done", "amount2", v, sizeof(v)), "200.00元");
	ck_assert_str_eq(value_of(o.order_id, "refund_done", "thing3", v, sizeof(v)), "课程取消");
	/* an unknown order is an error, not a silent message */
	a.order_id = "GYM20300102NOSUCHORDER";
	ck_assert_int_eq(gym_db_tx(db, enqueue_then, &a), GYM_ENOTFOUND);
}
END_TEST

START_TEST(test_templates_config)
{
	struct gym_order o1, o2;
	struct gym_actor a;
	char v[256], outcome[32];
	long long sid, u1, u2;

	/* keys from the config; a long course name cut to thing's 20 characters */
	configure("tpl-c thing9 date8 amount7", NULL, "");
	ck_assert_int_eq(gym_notify_enabled(GYM_NOTIFY_BOOKING_CONFIRMED), 1);
	ck_assert_int_eq(gym_notify_enabled(GYM_NOTIFY_ORDER_CANCELLED), 0);
	ck_assert_int_eq(gym_notify_enabled(GYM_NOTIFY_REFUND_DONE), 0);
	sid = class_2030("一二三四五六七八九十一二三四五六七八九十一二三四五");
	new_order("o-notify-cfg-1", sid, &u1, &o1);
	ck_assert_int_eq(pgt_pay(db, o1.order_id, "4200000001203001020000000002", outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(value_of(o1.order_id, "booking_confirmed", "thing9", v, sizeof(v)),
	    "一二三四五六七八九十一二三四五六七八九…");
	ck_assert_str_eq(value_of(o1.order_id, "booking_confirmed", "date8", v, sizeof(v)),
	    "2030年1月2日 10:05");
	ck_assert_str_eq(value_of(o1.order_id, "booking_confirmed", "amount7", v, sizeof(v)),
	    "200.00元");
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications WHERE order_id = $1 "
	    "AND data ? 'thing1'", o1.order_id), 0);
	/* an unset template: the change happens, no message */
	new_order("o-notify-cfg-2", sid, &u2, &o2);
	a = pgt_actor_user(u2);
	ck_assert_int_eq(gym_order_cancel(db, &a, u2, o2.order_id, &o2), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(o2.status), "cancelled");
	ck_assert_int_eq(count1("SELECT count(*) FROM parent_notifications WHERE order_id = $1",
	    o2.order_id), 0);

	/* malformed values turn their kinds off */
	memset(&cfg, 0, sizeof(cfg));
	set_templates("tpl thing1 time2",	/* 2 keys, wants 3 */
	    "tpl thing1 Phrase2",		/* not a key */
	    "tpl thing1 amount2 thing3");
	ck_assert_int_eq(gym_notify_configure(&cfg), GYM_EINVAL);
	ck_assert_int_eq(gym_notify_enabled(GYM_NOTIFY_BOOKING_CONFIRMED), 0);
	ck_assert_int_eq(gym_notify_enabled(GYM_NOTIFY_PAYMENT_FAILED), 0);
	ck_assert_int_eq(gym_notify_enabled(GYM_NOTIFY_REFUND_DONE), 1);
}
END_TEST

/* n paid orders of n users, each with a due message. */
static void
load_messages(int n)
{
	char now[40], cnt[16], sid[24];
	const char *p[3] = { now, cnt, sid };
	const char *po[2] = { now, sid };

	pgt_time(now, sizeof(now), 0);
	snprintf(cnt, sizeof(cnt), "%d", n);
	snprintf(sid, sizeof(sid), "%lld", pgt_schedule(db, 1));
	pgt_execp(db, "INSERT INTO users (openid, created_at, last_login_at) "
	    "SELECT 'o-notify-bulk-' || g, $1::timestamptz, $1::timestamptz "
	    "FROM generate_series(1, $2::int) g", 2, p);
	pgt_execp(db, "INSERT INTO payment_orders (order_id, user_id, course_schedule_id, "
	    "amount_fen, status, expires_at, created_at, updated_at) "
	    "SELECT 'NTF' || lpad(u.id::text, 8, '0'), u.id, $2::bigint, 20000, 'paid', "
	    "$1::timestamptz, $1::timestamptz, $1::timestamptz FROM users u", 2, po);
	pgt_execp(db, "INSERT INTO parent_notifications (user_id, order_id, kind, template_id, "
	    "data, status, next_attempt_at, created_at) SELECT user_id, order_id, "
	    "'booking_confirmed', 'tpl-confirmed', '{\"thing1\":{\"value\":\"课\"}}', 'pending', "
	    "$1::timestamptz - interval '1 second', $1::timestamptz FROM payment_orders", 1, p);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications"), n);
}

static const struct gym_notify_outcome delivered = { 1, 0, 0, 0, NULL };

/* A sender: claim, begin, "send", finish, until nothing is due.  id: the
 * sum of the ids it began, aux: how many, created: claims made. */
static void
bulk_sender(struct pgt_client *c)
{
	struct gym_notice ns[7];
	char status[16];
	long long aid;
	int n;

	for (;;) {
		if ((c->err = gym_notify_claim(c->db, 7, LEASE_S, ns, &n)) != GYM_OK || n == 0)
			return;
		c->created++;
		for (int i = 0; i < n; i++) {
			if ((c->err = gym_notify_begin(c->db, &ns[i], LEASE_S, &aid)) != GYM_OK)
				return;
			usleep(100);	/* the send */
			if ((c->err = gym_notify_finish(c->db, &ns[i], aid, &delivered, 3, 1000,
			    status, sizeof(status))) != GYM_OK)
				return;
			if (strcmp(status, "sent") != 0) {
				c->err = GYM_EINTERNAL;
				return;
			}
			c->id += ns[i].id;
			c->aux++;
		}
	}
}

START_TEST(test_concurrent_senders)
{
	struct pgt_client out[SENDERS];
	long long total = 0, sum = 0;
	int reported, bad;

	load_messages(BULK);
	reported = pgt_fork_clients(SENDERS, NULL, bulk_sender, NULL, out, &bad);
	ck_assert_int_eq(reported, SENDERS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < SENDERS; i++) {
		ck_assert_msg(out[i].err == GYM_OK, "sender %d: %s", i,
		    gym_strerror((enum gym_err)out[i].err));
		fprintf(stderr, "notify: sender %d sent %lld in %d claims\n", i, out[i].aux,
		    out[i].created);
		total += out[i].aux;
		sum += out[i].id;
	}
	/* every row begun by exactly one sender: the counts and the id sums add up */
	ck_assert_int_eq(total, BULK);
	ck_assert_int_eq(sum, pgt_count(db, "SELECT sum(id) FROM parent_notifications"));
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications WHERE "
	    "status = 'sent' AND attempts = 1 AND sent_at IS NOT NULL"), BULK);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM notification_attempts "
	    "WHERE ok AND finished_at IS NOT NULL"), BULK);
	ck_assert_int_eq(pgt_count(db, "SELECT count(DISTINCT notification_id) FROM "
	    "notification_attempts"), BULK);
	ck_assert_int_eq(pgt_count(db, "SELECT count(DISTINCT n.id) FROM payment_audit_log l "
	    "JOIN parent_notifications n ON n.id = (l.response_snapshot->>'notification_id')::bigint "
	    "AND n.order_id = l.response_snapshot->>'order_id' WHERE l.entity = 'notification' "
	    "AND l.action_type = 'message_sent' AND l.old_status = 'pending' AND "
	    "l.new_status = 'sent' AND l.actor_type = 'system' AND l.order_id IS NULL"), BULK);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'message_sent'"), BULK);
}
END_TEST

/* Claims racing on the same rows: every claim returns disjoint rows. */
static void
claimer(struct pgt_client *c)
{
	struct gym_notice ns[BULK];
	int n;

	if ((c->err = gym_notify_claim(c->db, BULK, LEASE_S, ns, &n)) != GYM_OK)
		return;
	c->aux = n;
	for (int i = 0; i < n; i++)
		c->id += ns[i].id;
}

START_TEST(test_concurrent_claims)
{
	struct pgt_client out[SENDERS];
	long long total = 0, sum = 0;
	int reported, bad, claims = 0;

	load_messages(BULK);
	reported = pgt_fork_clients(SENDERS, NULL, claimer, NULL, out, &bad);
	ck_assert_int_eq(reported, SENDERS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < SENDERS; i++) {
		ck_assert_int_eq(out[i].err, GYM_OK);
		total += out[i].aux;
		sum += out[i].id;
	}
	ck_assert_int_eq(total, BULK);
	ck_assert_int_eq(sum, pgt_count(db, "SELECT sum(id) FROM parent_notifications"));
	/* one token per claim that got rows, every row under one of them */
	for (int i = 0; i < SENDERS; i++)
		claims += out[i].aux > 0;
	ck_assert_int_eq(pgt_count(db, "SELECT count(DISTINCT claim_token) FROM "
	    "parent_notifications"), claims);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications WHERE "
	    "claim_token IS NULL"), 0);
}
END_TEST

START_TEST(test_lease_lost)
{
	struct gym_notice a[2], b[2];
	char status[16];
	long long aid;
	int n;

	load_messages(1);
	ck_assert_int_eq(gym_notify_claim(db, 2, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(gym_notify_claim(db, 2, 30, b, &n), GYM_OK);
	ck_assert_int_eq(n, 0);			/* not due while claimed */
	gym_clock_set_offset(31);		/* A stalled past its lease */
	ck_assert_int_eq(gym_notify_claim(db, 2, 30, b, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(b[0].id, a[0].id);
	ck_assert_int_eq(gym_notify_begin(db, &a[0], 30, &aid), GYM_ECONFLICT);
	ck_assert_int_eq(gym_notify_begin(db, &b[0], 30, &aid), GYM_OK);
	ck_assert_int_eq(gym_notify_begin(db, &a[0], 30, &aid), GYM_ECONFLICT);
	ck_assert_int_eq(gym_notify_finish(db, &b[0], aid, &delivered, 3, 1000, status,
	    sizeof(status)), GYM_OK);
	ck_assert_str_eq(status, "sent");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM notification_attempts"), 1);
	/* sent is final: nothing is due again */
	gym_clock_set_offset(3600);
	ck_assert_int_eq(gym_notify_claim(db, 2, 30, b, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_unfinished_send_not_repeated)
{
	struct gym_notice a[1];
	long long aid;
	int n;

	load_messages(1);
	ck_assert_int_eq(gym_notify_claim(db, 1, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(gym_notify_begin(db, &a[0], 30, &aid), GYM_OK);
	/* the sender dies here, mid-send */
	gym_clock_set_offset(20);
	ck_assert_int_eq(gym_notify_claim(db, 1, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 0);			/* the begin extended the lease */
	gym_clock_set_offset(31);
	ck_assert_int_eq(gym_notify_claim(db, 1, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 0);			/* found, and given up */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications WHERE "
	    "status = 'failed' AND attempts = 1 AND last_error LIKE 'outcome unknown%'"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM notification_attempts WHERE "
	    "ok IS NULL AND finished_at IS NOT NULL AND errmsg LIKE 'outcome unknown%'"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'message_failed' AND new_status = 'failed'"), 1);
	gym_clock_set_offset(3600);
	ck_assert_int_eq(gym_notify_claim(db, 1, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
}
END_TEST

/* The row's next_attempt_at minus the gym clock, in milliseconds. */
static long long
due_in_ms(void)
{
	char now[40];
	const char *p[1] = { now };

	pgt_time(now, sizeof(now), 0);
	return pgt_countp(db, "SELECT (extract(epoch FROM next_attempt_at - $1::timestamptz) "
	    "* 1000)::bigint FROM parent_notifications", 1, p);
}

static void
fail_once(int permanent, const char *want)
{
	struct gym_notify_outcome busy = { 0, permanent, 1, permanent ? 43101 : -1,
	    permanent ? "43101: user refused" : "-1: system error" };
	struct gym_notice a[1];
	char status[16];
	long long aid;
	int n;

	ck_assert_int_eq(gym_notify_claim(db, 1, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(gym_notify_begin(db, &a[0], 30, &aid), GYM_OK);
	ck_assert_int_eq(gym_notify_finish(db, &a[0], aid, &busy, 3, 1000, status,
	    sizeof(status)), GYM_OK);
	ck_assert_str_eq(status, want);
}

START_TEST(test_backoff_then_give_up)
{
	struct gym_notice a[1];
	long long d;
	int n;

	load_messages(1);
	fail_once(0, "pending");
	d = due_in_ms();
	ck_assert_msg(d >= 1900 && d <= 2100, "first retry in %lld ms", d);
	ck_assert_int_eq(gym_notify_claim(db, 1, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 0);			/* not before the backoff */
	gym_clock_set_offset(3);
	fail_once(0, "pending");
	d = due_in_ms();
	ck_assert_msg(d >= 3900 && d <= 4100, "second retry in %lld ms", d);
	gym_clock_set_offset(8);
	fail_once(0, "failed");			/* the third of 3 */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications WHERE "
	    "status = 'failed' AND attempts = 3 AND last_error = '-1: system error' "
	    "AND sent_at IS NULL"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM notification_attempts WHERE "
	    "NOT ok AND errcode = -1 AND finished_at IS NOT NULL"), 3);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'message_failed'"), 1);
	gym_clock_set_offset(86400);
	ck_assert_int_eq(gym_notify_claim(db, 1, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 0);

	/* a refusal no retry can fix ends the row at once */
	pgt_reset(db);
	gym_clock_set_offset(0);
	load_messages(1);
	fail_once(1, "failed");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications WHERE "
	    "status = 'failed' AND attempts = 1"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM notification_attempts WHERE "
	    "errcode = 43101"), 1);
}
END_TEST

START_TEST(test_release_and_body)
{
	struct gym_notice a[1];
	cJSON *j, *d;
	char *body;
	int n;

	load_messages(1);
	ck_assert_int_eq(gym_notify_claim(db, 1, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(a[0].openid, "o-notify-bulk-1");
	ck_assert_str_eq(a[0].kind, "booking_confirmed");

	cfg.wx_mp_state = mp_state;
	cfg.wx_message_page = message_page;
	ck_assert_ptr_nonnull(body = gym_notify_body(&a[0], &cfg));
	ck_assert_ptr_nonnull(j = cJSON_Parse(body));
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "touser")), "o-notify-bulk-1");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "template_id")),
	    "tpl-confirmed");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "page")),
	    "pages/order/detail?order_id=NTF00000001");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "miniprogram_state")),
	    "developer");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "lang")), "zh_CN");
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "thing1");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "value")), "课");
	cJSON_Delete(j);
	free(body);
	cfg.wx_mp_state = NULL;
	cfg.wx_message_page = NULL;
	ck_assert_ptr_nonnull(body = gym_notify_body(&a[0], &cfg));
	ck_assert_ptr_nonnull(j = cJSON_Parse(body));
	ck_assert_ptr_null(cJSON_GetObjectItem(j, "page"));
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "miniprogram_state")),
	    "formal");
	cJSON_Delete(j);
	free(body);

	/* given back unsent: due again after the delay, no attempt recorded */
	ck_assert_int_eq(gym_notify_release(db, a, 1, 500), GYM_OK);
	ck_assert_int_eq(gym_notify_claim(db, 1, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	gym_clock_set_offset(1);
	ck_assert_int_eq(gym_notify_claim(db, 1, 30, a, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM notification_attempts"), 0);
}
END_TEST

START_TEST(test_token_cache)
{
	char tok[64], exp[40];
	const char *p[2] = { "wxd678efh567hg6787", exp };

	/* nothing cached and no client: no token */
	ck_assert_int_eq(gym_notify_token(db, NULL, &cfg, NULL, tok, sizeof(tok)), GYM_EINTERNAL);
	ck_assert_str_eq(tok, "");
	/* a cached token with an hour left is used as it is */
	pgt_time(exp, sizeof(exp), 3600);
	pgt_execp(db, "INSERT INTO wx_access_tokens (appid, access_token, expires_at, updated_at) "
	    "VALUES ($1, 'CACHED-1', $2::timestamptz, now())", 2, p);
	ck_assert_int_eq(gym_notify_token(db, NULL, &cfg, NULL, tok, sizeof(tok)), GYM_OK);
	ck_assert_str_eq(tok, "CACHED-1");
	/* ... unless WeChat refused it, or it is within 5 minutes of expiry */
	ck_assert_int_eq(gym_notify_token(db, NULL, &cfg, "CACHED-1", tok, sizeof(tok)),
	    GYM_EINTERNAL);
	ck_assert_int_eq(gym_notify_token(db, NULL, &cfg, "OTHER", tok, sizeof(tok)), GYM_OK);
	ck_assert_str_eq(tok, "CACHED-1");
	gym_clock_set_offset(3600 - 299);
	ck_assert_int_eq(gym_notify_token(db, NULL, &cfg, NULL, tok, sizeof(tok)), GYM_EINTERNAL);
	gym_clock_set_offset(3600 - 301);
	ck_assert_int_eq(gym_notify_token(db, NULL, &cfg, NULL, tok, sizeof(tok)), GYM_OK);
	ck_assert_str_eq(tok, "CACHED-1");
}
END_TEST

/* One change to a good transaction: member name of the transaction
 * ("amount." for amount's) and its new value as JSON, NULL to drop it. */
static const struct {
	const char *member, *value;
} bad_txns[] = {
	{ "amount.total", "20000.5" },
	{ "amount.total", "19999.5" },
	{ "amount.total", "1e308" },
	{ "amount.total", "-1e308" },
	{ "amount.total", "-1" },
	{ "amount.total", "\"20000\"" },
	{ "amount.total", NULL },
	{ "amount.total", "20001" },
	{ "amount.payer_total", "20000.5" },
	{ "amount.payer_total", "1e308" },
	{ "amount.currency", "\"USD\"" },
	{ "amount.currency", "\"cny\"" },
	{ "amount.currency", NULL },
	{ "amount", NULL },
	{ "appid", NULL },
	{ "appid", "\"wx0000000000000000\"" },
	{ "appid", "\"\"" },
	{ "mchid", NULL },
	{ "mchid", "\"1900000109\"" },
};

static char mchid[] = "1230000109";

static cJSON *
good_txn(const char *out_trade_no, const char *transaction_id)
{
	cJSON *j = cJSON_CreateObject(), *a;

	cJSON_AddStringToObject(j, "appid", appid);
	cJSON_AddStringToObject(j, "mchid", mchid);
	cJSON_AddStringToObject(j, "out_trade_no", out_trade_no);
	cJSON_AddStringToObject(j, "transaction_id", transaction_id);
	cJSON_AddStringToObject(j, "trade_type", "JSAPI");
	cJSON_AddStringToObject(j, "trade_state", "SUCCESS");
	cJSON_AddStringToObject(j, "success_time", "2030-01-01T10:00:00+08:00");
	a = cJSON_AddObjectToObject(j, "amount");
	cJSON_AddNumberToObject(a, "total", 20000);
	cJSON_AddNumberToObject(a, "payer_total", 20000);
	cJSON_AddStringToObject(a, "currency", "CNY");
	cJSON_AddStringToObject(a, "payer_currency", "CNY");
	return j;
}

static void
change(cJSON *j, const char *member, const char *value)
{
	cJSON *in = j;

	if (strncmp(member, "amount.", 7) == 0) {
		in = cJSON_GetObjectItemCaseSensitive(j, "amount");
		member += 7;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(in, member);
	if (value != NULL)
		ck_assert(cJSON_AddItemToObject(in, member, cJSON_Parse(value)));
}

START_TEST(test_signed_txn_strict)
{
	struct gym_order o;
	struct gym_wx_txn t;
	char outcome[32];
	long long uid, sid = class_2030("strict");
	cJSON *j;

	cfg.wx_mchid = mchid;
	new_order("o-strict", sid, &uid, &o);
	j = good_txn(o.order_id, "4200000000000000000000000077");
	ck_assert_ptr_null(gym_txn_parse(j, &cfg, &t));
	change(j, bad_txns[_i].member, bad_txns[_i].value);
	/* what is not well formed is refused before the database */
	if (strcmp(bad_txns[_i].value != NULL ? bad_txns[_i].value : "", "20001") != 0)
		ck_assert_ptr_nonnull(gym_txn_parse(j, &cfg, &t));
	ck_assert_int_eq(gym_txn_apply_json(db, &pgt_actor_wechat, &cfg, j, "notify", outcome,
	    sizeof(outcome)), GYM_EINVAL);
	cJSON_Delete(j);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE order_id = $1 "
	    "AND status = 'pending'", o.order_id), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_transactions WHERE order_id = $1",
	    o.order_id), 0);
	ck_assert_int_eq(count1("SELECT count(*) FROM bookings b JOIN payment_orders o ON "
	    "o.order_id = b.order_id WHERE o.order_id = $1", o.order_id), 0);
	ck_assert_int_ge(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'payment_rejected' AND response_snapshot IS NOT NULL"), 1);
	/* the good one pays: the refusal was the change */
	j = good_txn(o.order_id, "4200000000000000000000000077");
	ck_assert_int_eq(gym_txn_apply_json(db, &pgt_actor_wechat, &cfg, j, "notify", outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "paid");
	cJSON_Delete(j);
}
END_TEST

/* A hostile transaction_id and out_trade_no cannot break the audit
 * snapshot's JSON: it is built with cJSON, and parses back to them. */
START_TEST(test_audit_snapshot_escaped)
{
	const char *evil = "x\",\"amount_fen\":1,\"z\":\"\\";
	char buf[512];
	cJSON *j, *snap;
	struct gym_order o;
	char outcome[32];
	long long uid, sid = class_2030("escape");

	cfg.wx_mchid = mchid;
	new_order("o-escape", sid, &uid, &o);
	/* an unknown order: refused, audited with the snapshot */
	j = good_txn(evil, evil);
	ck_assert_int_eq(gym_txn_apply_json(db, &pgt_actor_wechat, &cfg, j, "notify", outcome,
	    sizeof(outcome)), GYM_ENOTFOUND);
	cJSON_Delete(j);
	pgt_textp(db, "SELECT response_snapshot::text FROM payment_audit_log WHERE "
	    "action_type = 'payment_rejected' ORDER BY id DESC LIMIT 1", 0, NULL, buf, sizeof(buf));
	ck_assert_ptr_nonnull(snap = cJSON_Parse(buf));
	ck_assert_str_eq(gym_json_string(snap, "transaction_id"), evil);
	ck_assert_str_eq(gym_json_string(snap, "out_trade_no"), evil);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(snap, "amount_fen")->valueint, 20000);
	cJSON_Delete(snap);
}
END_TEST

Suite *
notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_enqueue_with_changes);
	tcase_add_test(tc, test_enqueue_rolls_back);
	tcase_add_test(tc, test_expired_notice);
	tcase_add_test(tc, test_templates_config);
	tcase_add_test(tc, test_concurrent_senders);
	tcase_add_test(tc, test_concurrent_claims);
	tcase_add_test(tc, test_lease_lost);
	tcase_add_test(tc, test_unfinished_send_not_repeated);
	tcase_add_test(tc, test_backoff_then_give_up);
	tcase_add_test(tc, test_release_and_body);
	tcase_add_test(tc, test_token_cache);
	suite_add_tcase(s, tc);
	tc = tcase_create("signed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_signed_txn_strict, 0, sizeof(bad_txns) / sizeof(bad_txns[0]));
	tcase_add_test(tc, test_audit_snapshot_escaped);
	suite_add_tcase(s, tc);
	return s;
}
