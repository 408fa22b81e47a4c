/*
 * trial_sql.h: the one rule "one trial class per parent" (one per WeChat
 * openid, so per user row), as the SQL every statement that checks it
 * uses.  A parent has had the trial when an order of theirs is paid or a
 * booking of theirs is confirmed (a refunded order's booking is cancelled:
 * a refunded parent may book again); the database's own guard is the
 * unique index bookings_one_trial.  The answer to a refusal is
 * GYM_E_TRIAL_ALREADY_BOOKED (您已预约过体验课，无法重复预约).
 *
 * Only trial orders count (a class named: products' orders have none).
 *
 * user is an SQL expression for the user id (e.g. "$1::bigint").
 */
#ifndef GYM_TRIAL_SQL_H
#define GYM_TRIAL_SQL_H

/* The parent's orders that count (a condition on payment_orders), or a
 * confirmed booking. */
#define GYM_TRIAL_SQL(user, orders) \
	"(EXISTS (SELECT 1 FROM payment_orders WHERE user_id = " user \
	" AND course_schedule_id IS NOT NULL AND " orders ") " \
	"OR EXISTS (SELECT 1 FROM bookings WHERE user_id = " user " AND status = 'confirmed'))"

/* Had the trial: a paid order or a confirmed booking. */
#define GYM_HAS_TRIAL_SQL(user) GYM_TRIAL_SQL(user, "status = 'paid'")

/* Had it or is on the way to it: a pending order counts too; more is an
 * extra condition on the orders ("" for none, e.g. " AND order_id <> $2"
 * for a payment that must not count its own order). */
#define GYM_TRIAL_CLAIMED_SQL(user, more) \
	GYM_TRIAL_SQL(user, "status IN ('pending', 'paid')" more)

/* Whether a class takes a trial hold now, in one look at its row:
 * 'regular' (members book it), 'open' (a trial class not started or
 * cancelled) or 'closed'; NULL for no such class.  sid and now are SQL
 * expressions. */
#define GYM_TRIAL_CLASS_STATE_SQL(sid, now) \
	"(SELECT CASE WHEN kind <> 'trial' THEN 'regular' WHEN starts_at > " now \
	" AND cancelled_at IS NULL THEN 'open' ELSE 'closed' END FROM course_schedules " \
	"WHERE id = " sid ")"

#endif
