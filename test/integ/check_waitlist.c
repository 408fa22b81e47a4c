/*
 * check_waitlist.c: a full class's waitlist against a real database: join,
 * position and leave (idempotent), the one-trial rule, an offer when a seat
 * frees (a real hold the order flow pays), an unused offer lapsing to the
 * next parent, a raised capacity, and the case: 100 parents
 * waiting, 10 seats freed at once, offer passes run by several processes
 * at the same moment: exactly 10 offers, to the first 10 in join order,
 * one message each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "config.h"
#include "integ.h"
#include "notify.h"
#include "pgtest.h"
#include "waitlist.h"

#define CROWD 100
#define FREED 10
#define PASSES 4

static struct gym_db *db;
static struct gym_config cfg;
static char tpl_waitlist[] = "tpl-waitlist thing1 time2 time3";
static char message_page[] = "pages/waitlist/offer";

static void
setup(void)
{
	db = pgt_open();
	memset(&cfg, 0, sizeof(cfg));
	cfg.wx_tpl_waitlist = tpl_waitlist;
	cfg.wx_message_page = message_page;
	ck_assert_int_eq(gym_notify_configure(&cfg), GYM_OK);
}

static void
teardown(void)
{
	pgt_close(&db);
}

/* The user of openid "o-wl-<name>-<i>". */
static long long
user(const char *name, int i)
{
	char openid[64];

	snprintf(openid, sizeof(openid), "o-wl-%s-%03d", name, i);
	return pgt_user(db, openid);
}

/* A live hold of uid on sid (the test fails otherwise): its id. */
static long long
hold(long long uid, long long sid)
{
	struct gym_actor a = pgt_actor_user(uid);
	struct gym_reservation r;
	int created;

	ck_assert_int_eq(gym_hold_create(db, &a, uid, sid, &r, &created), GYM_OK);
	return r.id;
}

static void
release(long long uid, long long rid)
{
	struct gym_actor a = pgt_actor_user(uid);
	struct gym_reservation r;

	ck_assert_int_eq(gym_hold_release(db, &a, uid, rid, &r), GYM_OK);
}

static enum gym_err
join(long long uid, long long sid, struct gym_waitlist_entry *w, int *created)
{
	struct gym_actor a = pgt_actor_user(uid);

	memset(w, 0, sizeof(*w));
	*created = -1;
	return gym_waitlist_join(db, &a, uid, sid, w, created);
}

static enum gym_err
leave(long long uid, long long sid, int *left)
{
	struct gym_actor a = pgt_actor_user(uid);

	*left = -1;
	return gym_waitlist_leave(db, &a, uid, sid, left);
}

/* uid's one active entry (the test fails unless there is exactly one). */
static struct gym_waitlist_entry
mine(long long uid)
{
	struct gym_waitlist_entry w[4];
	int n;

	ck_assert_int_eq(gym_waitlist_mine(db, uid, w, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	return w[0];
}

static int
pass(void)
{
	int offers = -1;

	ck_assert_int_eq(gym_waitlist_offer_pass(db, 64, &offers), GYM_OK);
	return offers;
}

/* A paid trial order of uid on sid, through the normal flow. */
static void
buy(long long uid, long long sid, long long rid, const char *txn)
{
	struct gym_actor a = pgt_actor_user(uid);
	struct gym_order o;
	char outcome[32];
	int created;

	ck_assert_int_eq(gym_order_create(db, &a, uid, sid, rid, NULL, NULL, &o, &created), GYM_OK);
	ck_assert_int_eq(pgt_pay(db, o.order_id, txn, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "paid");
}

static long long
count1(const char *sql, long long v)
{
	char s[24];
	const char *p[1] = { s };

	snprintf(s, sizeof(s), "%lld", v);
	return pgt_countp(db, sql, 1, p);
}

START_TEST(test_join_position_leave)
{
	struct gym_waitlist_entry w;
	long long sid = pgt_schedule(db, 1), open_sid = pgt_schedule(db, 2);
	long long a = user("a", 0), b = user("b", 0), c = user("c", 0);
	long long d = user("d", 0), rid;
	int created, left;

	/* a class with a free seat and nobody waiting: book it instead */
	ck_assert_int_eq(join(b, open_sid, &w, &created), GYM_E_SEATS_AVAILABLE);
	ck_assert_int_eq(join(b, 999999, &w, &created), GYM_E_SCHEDULE_NOT_FOUND);
	rid = hold(a, sid);
	/* the holder of the class's seat cannot queue for it too */
	ck_assert_int_eq(join(a, sid, &w, &created), GYM_E_ACTIVE_HOLD_EXISTS);
	ck_assert_int_eq(join(b, sid, &w, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(w.position, 1);
	ck_assert_int_eq(w.state, GYM_WAITLIST_WAITING);
	ck_assert_int_eq(join(c, sid, &w, &created), GYM_OK);
	ck_assert_int_eq(w.position, 2);
	/* joining again answers with the entry there is */
	ck_assert_int_eq(join(b, sid, &w, &created), GYM_OK);
	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(w.position, 1);
	ck_assert_int_eq(mine(c).position, 2);
	/* leaving moves the others up; leaving twice is fine */
	ck_assert_int_eq(leave(b, sid, &left), GYM_OK);
	ck_assert_int_eq(left, 1);
	ck_assert_int_eq(leave(b, sid, &left), GYM_OK);
	ck_assert_int_eq(left, 0);
	ck_assert_int_eq(mine(c).position, 1);
	/* a freed seat is the queue's: a direct hold (or order) is sold out */
	release(a, rid);
	{
		struct gym_actor ad = pgt_actor_user(d);
		struct gym_reservation r;
		struct gym_order o;

		ck_assert_int_eq(gym_hold_create(db, &ad, d, sid, &r, &created), GYM_E_SOLD_OUT);
		ck_assert_int_eq(gym_order_create(db, &ad, d, sid, 0, NULL, NULL, &o, &created),
		    GYM_E_SOLD_OUT);
	}
	/* while parents wait, a newcomer may queue even with the seat free */
	ck_assert_int_eq(join(d, sid, &w, &created), GYM_OK);
	ck_assert_int_eq(w.position, 2);
	/* every change audited: joined b, c, d; left b */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'waitlist' AND action_type = 'waitlist_joined'"), 3);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'waitlist' AND action_type = 'waitlist_left' AND old_status = 'waiting'"), 1);
	/* one active entry per parent and class, in the database too */
	ck_assert_str_eq(pgt_sqlstate(db, "INSERT INTO waitlist_entries (course_schedule_id, "
	    "user_id, state, joined_at, updated_at) SELECT course_schedule_id, user_id, 'waiting', "
	    "now(), now() FROM waitlist_entries WHERE state = 'waiting' LIMIT 1", 0, NULL), "23505");
}
END_TEST

START_TEST(test_one_trial_rule)
{
	struct gym_waitlist_entry w;
	long long full = pgt_schedule(db, 1), other = pgt_schedule(db, 1);
	long long a = user("trial-a", 0), b = user("trial-b", 0);
	long long c = user("trial-c", 0), rid;
	int created;

	rid = hold(a, full);
	/* a parent who had the trial cannot queue for another */
	buy(b, other, 0, "wx-wl-trial-1");
	ck_assert_int_eq(join(b, full, &w, &created), GYM_E_TRIAL_ALREADY_BOOKED);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM waitlist_entries"), 0);
	/* one who has it after joining is passed over when a seat frees */
	{
		long long e = user("trial-e", 0);

		ck_assert_int_eq(join(c, full, &w, &created), GYM_OK);
		ck_assert_int_eq(join(e, full, &w, &created), GYM_OK);
		ck_assert_int_eq(w.position, 2);
		/* c, first in the queue, books another class meanwhile */
		buy(c, pgt_schedule(db, 1), 0, "wx-wl-trial-2");
		release(a, rid);
		ck_assert_int_eq(pass(), 1);
		ck_assert_int_eq(mine(e).state, GYM_WAITLIST_OFFERED);
		ck_assert_int_eq(count1("SELECT count(*) FROM waitlist_entries WHERE user_id = $1::bigint "
		    "AND state = 'done' AND done_reason = 'ineligible'", c), 1);
		ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
		    "action_type = 'waitlist_ineligible'"), 1);
	}
}
END_TEST

START_TEST(test_offer_on_release_is_a_hold_that_pays)
{
	struct gym_waitlist_entry w;
	long long sid = pgt_schedule(db, 1);
	long long a = user("rel-a", 0), b = user("rel-b", 0);
	long long rid;
	int created;
	char page[256], *body;
	struct gym_notice n[4];
	int got;

	rid = hold(a, sid);
	ck_assert_int_eq(join(b, sid, &w, &created), GYM_OK);
	ck_assert_int_eq(pass(), 0);		/* no seat yet */
	ck_assert_int_eq(mine(b).state, GYM_WAITLIST_WAITING);
	release(a, rid);
	ck_assert_int_eq(pass(), 1);
	w = mine(b);
	ck_assert_int_eq(w.state, GYM_WAITLIST_OFFERED);
	ck_assert_int_eq(w.position, 0);
	ck_assert(w.hold_id != 0);
	ck_assert(w.offer_expires_at > gym_now_us() + 14LL * 60 * 1000000);
	ck_assert(w.offer_expires_at <= gym_now_us() + 15LL * 60 * 1000000);
	/* the offer is b's hold on the class's one seat */
	ck_assert_int_eq(count1("SELECT count(*) FROM seat_reservations WHERE id = $1::bigint "
	    "AND status = 'temporary'", w.hold_id), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM seats WHERE state = 'held' AND "
	    "reservation_id = $1::bigint", w.hold_id), 1);
	ck_assert_int_eq(pgt_available(db, sid), 0);
	ck_assert_int_eq(pass(), 0);		/* never a second offer for it */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'waitlist' AND action_type = 'waitlist_offered'"), 1);
	/* one message, naming the hold */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications WHERE "
	    "kind = 'waitlist_offer' AND order_id IS NULL"), 1);
	ck_assert_int_eq(gym_notify_claim(db, 4, 60, n, &got), GYM_OK);
	ck_assert_int_eq(got, 1);
	ck_assert_str_eq(n[0].kind, "waitlist_offer");
	ck_assert_str_eq(n[0].template_id, "tpl-waitlist");
	ck_assert_int_eq(n[0].hold_id, w.hold_id);
	ck_assert(strstr(n[0].data, "\"time3\"") != NULL);
	ck_assert_ptr_nonnull(body = gym_notify_body(&n[0], &cfg));
	snprintf(page, sizeof(page), "reservation_id=%lld&course_schedule_id=%lld", w.hold_id, sid);
	ck_assert_msg(strstr(body, page) != NULL, "%s", body);
	free(body);
	/* the normal order flow pays it */
	buy(b, sid, w.hold_id, "wx-wl-rel-1");
	ck_assert_int_eq(pass(), 0);
	ck_assert_int_eq(count1("SELECT count(*) FROM waitlist_entries WHERE user_id = $1::bigint "
	    "AND state = 'done' AND done_reason = 'used'", b), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM bookings WHERE user_id = $1::bigint "
	    "AND status = 'confirmed'", b), 1);
}
END_TEST

START_TEST(test_offer_lapses_to_the_next)
{
	struct gym_waitlist_entry w;
	long long sid = pgt_schedule(db, 1);
	long long a = user("lap-a", 0), b = user("lap-b", 0);
	long long c = user("lap-c", 0), d = user("lap-d", 0);
	long long rid, bhold;
	int created, left;

	rid = hold(a, sid);
	ck_assert_int_eq(join(b, sid, &w, &created), GYM_OK);
	ck_assert_int_eq(join(c, sid, &w, &created), GYM_OK);
	release(a, rid);
	ck_assert_int_eq(pass(), 1);
	bhold = mine(b).hold_id;
	ck_assert_int_eq(mine(c).position, 1);
	/* b lets the 15 minutes pass: the seat goes to c */
	gym_clock_set_offset(15 * 60 + 1);
	ck_assert_int_eq(pass(), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM waitlist_entries WHERE user_id = $1::bigint "
	    "AND state = 'done' AND done_reason = 'lapsed'", b), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'waitlist_offer_lapsed' AND old_status = 'offered'"), 1);
	w = mine(c);
	ck_assert_int_eq(w.state, GYM_WAITLIST_OFFERED);
	ck_assert(w.hold_id != bhold);
	/* c leaves: the offer's hold goes back at once, nobody waits, so
	 * anyone may book the seat again */
	ck_assert_int_eq(leave(c, sid, &left), GYM_OK);
	ck_assert_int_eq(left, 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM seat_reservations WHERE id = $1::bigint "
	    "AND status = 'cancelled'", w.hold_id), 1);
	ck_assert_int_eq(pgt_available(db, sid), 1);
	ck_assert_int_eq(pass(), 0);
	hold(d, sid);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications WHERE "
	    "kind = 'waitlist_offer'"), 2);
}
END_TEST

START_TEST(test_capacity_raised_and_class_started)
{
	struct gym_waitlist_entry w;
	struct gym_actor op = pgt_actor_system;
	long long sid = pgt_schedule_at(db, 1, 3600), soon = pgt_schedule_at(db, 1, 600);
	long long a = user("cap-a", 0), b = user("cap-b", 0);
	long long c = user("cap-c", 0);
	int created;

	hold(a, sid);
	ck_assert_int_eq(join(b, sid, &w, &created), GYM_OK);
	ck_assert_int_eq(gym_schedule_set_capacity(db, &op, sid, 2), GYM_OK);
	ck_assert_int_eq(pass(), 1);
	ck_assert_int_eq(mine(b).state, GYM_WAITLIST_OFFERED);
	/* a queue whose class started is closed */
	hold(c, soon);
	{
		long long e = user("cap-e", 0);

		ck_assert_int_eq(join(e, soon, &w, &created), GYM_OK);
		gym_clock_set_offset(601);
		ck_assert_int_eq(pass(), 0);
		ck_assert_int_eq(count1("SELECT count(*) FROM waitlist_entries WHERE user_id = $1::bigint "
		    "AND state = 'done' AND done_reason = 'closed'", e), 1);
		ck_assert_int_eq(join(e, soon, &w, &created), GYM_E_SOLD_OUT);
	}
}
END_TEST

/* The crowd's run: one offer pass on the child's own connection. */
static void
crowd_pass(struct pgt_client *c)
{
	int offers = 0;

	c->err = gym_waitlist_offer_pass(c->db, 64, &offers);
	c->id = offers;
}

START_TEST(test_100_waiting_10_freed_concurrent_passes)
{
	static struct pgt_client out[PASSES];
	struct gym_waitlist_entry w;
	struct gym_notice n[CROWD];
	long long sid = pgt_schedule(db, FREED), first = 0;
	int created, bad = -1, got, total = 0;

	for (int i = 0; i < FREED; i++)
		hold(user("holder", i), sid);
	for (int i = 0; i < CROWD; i++) {
		ck_assert_int_eq(join(user("crowd", i), sid, &w, &created), GYM_OK);
		ck_assert_int_eq(w.position, i + 1);
		if (i == 0)
			first = w.id;
	}
	/* ten seats come free at once */
	pgt_exec(db, "WITH e AS (UPDATE seat_reservations SET status = 'cancelled' "
	    "WHERE status = 'temporary' RETURNING id) UPDATE seats SET state = 'free', "
	    "reservation_id = NULL, held_until = NULL WHERE reservation_id IN (SELECT id FROM e)");
	ck_assert_int_eq(pgt_available(db, sid), FREED);
	/* several passes, each its own process and connection, at once */
	ck_assert_int_eq(pgt_fork_clients(PASSES, NULL, crowd_pass, NULL, out, &bad), PASSES);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < PASSES; i++) {
		ck_assert_int_eq(out[i].err, GYM_OK);
		total += (int)out[i].id;
	}
	/* A pass whose seat claim finds every free seat locked for the moment
	 * (another pass's settle statement) stops and leaves the rest to the
	 * next pass, 200 ms later in the job; under load that happens here too.
	 * So: later passes until one offers nothing (bounded), and never more
	 * than the ten seats in all. */
	ck_assert_int_ge(total, 1);
	for (int i = 0, got1; i < FREED && (got1 = pass()) > 0; i++)
		total += got1;
	ck_assert_int_eq(total, FREED);
	ck_assert_int_eq(pass(), 0);
	/* exactly the first ten in join order, each with its own seat */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM waitlist_entries WHERE state = 'offered'"),
	    FREED);
	/* the class's first ten by id (a gap in the ids changes nothing) */
	if (count1("SELECT count(*) FROM (SELECT id FROM waitlist_entries WHERE "
	    "course_schedule_id = $1::bigint ORDER BY id LIMIT 10) f JOIN waitlist_entries w "
	    "USING (id) WHERE w.state = 'offered'", sid) != FREED) {
		char offered[1024], firsts[1024];
		const char *p[1] = { NULL };
		char sids[24];

		snprintf(sids, sizeof(sids), "%lld", sid);
		p[0] = sids;
		pgt_textp(db, "SELECT string_agg(id || ':' || state, ' ' ORDER BY id) FROM "
		    "waitlist_entries WHERE course_schedule_id = $1::bigint AND state = 'offered'",
		    1, p, offered, sizeof(offered));
		pgt_textp(db, "SELECT string_agg(id || ':' || state, ' ' ORDER BY id) FROM (SELECT "
		    "* FROM waitlist_entries WHERE course_schedule_id = $1::bigint ORDER BY id "
		    "LIMIT 12) f", 1, p, firsts, sizeof(firsts));
		ck_abort_msg("not the first ten offered (first %lld): offered %s; the first %s",
		    first, offered, firsts);
	}
	ck_assert_int_eq(pgt_count(db, "SELECT count(DISTINCT s.id) FROM waitlist_entries w "
	    "JOIN seats s ON s.reservation_id = w.hold_id WHERE w.state = 'offered' "
	    "AND s.state = 'held'"), FREED);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM waitlist_entries WHERE state = 'waiting'"),
	    CROWD - FREED);
	ck_assert_int_eq(pgt_available(db, sid), 0);
	/* one message per offer, claimed (so sent) once */
	ck_assert_int_eq(pgt_count(db, "SELECT count(DISTINCT waitlist_entry_id) FROM "
	    "parent_notifications WHERE kind = 'waitlist_offer'"), FREED);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications"), FREED);
	ck_assert_int_eq(gym_notify_claim(db, CROWD, 60, n, &got), GYM_OK);
	ck_assert_int_eq(got, FREED);
	ck_assert_int_eq(gym_notify_claim(db, CROWD, 60, n, &got), GYM_OK);
	ck_assert_int_eq(got, 0);
	/* the next ten come when those offers lapse */
	gym_clock_set_offset(15 * 60 + 1);
	ck_assert_int_eq(pass(), FREED);
	ck_assert_int_eq(count1("SELECT count(*) FROM waitlist_entries WHERE state = 'offered' "
	    "AND id >= $1::bigint + 10 AND id < $1::bigint + 20", first), FREED);
}
END_TEST

/* Five waiting for sid, whose holders' three seats then come free:
 * the entries into w. */
static void
three_freed(long long sid, const char *tag, struct gym_waitlist_entry *w)
{
	char name[32];
	const char *p[1] = { name };
	int created;

	snprintf(name, sizeof(name), "%s-holder", tag);
	for (int i = 0; i < 3; i++)
		hold(user(name, i), sid);
	snprintf(name, sizeof(name), "%s-crowd", tag);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(join(user(name, i), sid, &w[i], &created), GYM_OK);
	snprintf(name, sizeof(name), "%lld", sid);
	pgt_execp(db, "WITH e AS (UPDATE seat_reservations SET status = 'cancelled' "
	    "WHERE status = 'temporary' AND course_schedule_id = $1::bigint RETURNING id) "
	    "UPDATE seats SET state = 'free', reservation_id = NULL, held_until = NULL "
	    "WHERE reservation_id IN (SELECT id FROM e)", 1, p);
	ck_assert_int_eq(pgt_available(db, sid), 3);
}

/* Which of the entries are offered, as "1100 0" (1: offered). */
static const char *
offered(const struct gym_waitlist_entry *w, int n, char *out)
{
	for (int i = 0; i < n; i++)
		out[i] = count1("SELECT count(*) FROM waitlist_entries WHERE id = $1::bigint "
		    "AND state = 'offered'", w[i].id) == 1 ? '1' : '0';
	out[n] = '\0';
	return out;
}

/* A pass offers in queue order only: an entry another transaction has
 * locked (its parent leaving, say) stops it there, and nobody behind it is
 * offered first; a class whose pass lock another pass holds is left to
 * that pass.  (Before, a pass skipped a locked entry and offered on: two
 * concurrent passes could each lock every other entry.) */
START_TEST(test_pass_in_order_past_locks)
{
	struct gym_waitlist_entry w[5];
	struct gym_db *other = pgt_connect();
	long long sid = pgt_schedule(db, 3);
	char id[24], key[64], got[8];
	const char *p[1] = { id };
	const char *pk[1] = { key };

	three_freed(sid, "lk", w);
	/* the second entry locked by another transaction: the first only */
	snprintf(id, sizeof(id), "%lld", w[1].id);
	pgt_exec(other, "BEGIN");
	pgt_execp(other, "SELECT id FROM waitlist_entries WHERE id = $1::bigint FOR UPDATE", 1, p);
	ck_assert_int_eq(pass(), 1);
	ck_assert_str_eq(offered(w, 5, got), "10000");
	pgt_exec(other, "ROLLBACK");
	/* free again: the next two, in order */
	ck_assert_int_eq(pass(), 2);
	ck_assert_str_eq(offered(w, 5, got), "11100");
	/* another class, its pass lock held by another pass: left alone */
	sid = pgt_schedule(db, 3);
	three_freed(sid, "lk2", w);
	snprintf(key, sizeof(key), "%lld", sid);
	pgt_exec(other, "BEGIN");
	pgt_execp(other, "SELECT pg_advisory_xact_lock(hashtextextended('gym_waitlist:' || $1, 0))",
	    1, pk);
	ck_assert_int_eq(pass(), 0);
	ck_assert_str_eq(offered(w, 5, got), "00000");
	pgt_exec(other, "ROLLBACK");
	ck_assert_int_eq(pass(), 3);
	ck_assert_str_eq(offered(w, 5, got), "11100");
	pgt_close(&other);
}
END_TEST

Suite *
waitlist_suite(void)
{
	Suite *s = suite_create("waitlist");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_join_position_leave);
	tcase_add_test(tc, test_one_trial_rule);
	tcase_add_test(tc, test_offer_on_release_is_a_hold_that_pays);
	tcase_add_test(tc, test_offer_lapses_to_the_next);
	tcase_add_test(tc, test_capacity_raised_and_class_started);
	tcase_add_test(tc, test_100_waiting_10_freed_concurrent_passes);
	tcase_add_test(tc, test_pass_in_order_past_locks);
	suite_add_tcase(s, tc);
	return s;
}
