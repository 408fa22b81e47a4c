/*
 * waitlist.h: a full class's waitlist (issue 14, "Sold out").  A parent
 * joins a class that has no free seat, sees their place, and may leave.
 * When a seat frees, the offer pass gives the first waiting parent a
 * normal 15-minute hold on it (a seat_reservations row claimed as every
 * hold is, so POST /payment/orders/create with that reservation_id pays
 * it) and a message (GYM_NOTIFY_WAITLIST_OFFER); an offer unused when its
 * hold ends passes to the next parent at the next pass.
 *
 * Order: strict first come, first served by the entry's id (an identity:
 * every join gets a distinct, increasing number).  One pass at a time
 * offers in a class: a pass first takes the class's transaction-scoped
 * advisory lock without waiting (another pass that has it is serving the
 * class: this one leaves it), then locks the head of the class's queue
 * (FOR UPDATE SKIP LOCKED) and offers in order only up to the first row it
 * could not lock or that changed since its snapshot; the next pass goes on
 * from there.  Row locks with a check of the first row alone were not
 * enough: two passes locking the same queue at once could each take every
 * other row, and the one holding the head then offered to the 1st, 3rd,
 * 5th... parent (seen with ten concurrent passes).  Seats are
 * claimed as every hold claims them (SKIP LOCKED on seat rows), so no
 * seat is offered twice, on any number of processes and hosts.  While a
 * class has waiting parents, a direct hold (or an order without a hold)
 * on it answers SOLD_OUT: a freed seat goes to the queue, not to whoever
 * asks first.
 *
 * Exceptions to the order, each audited: a waiting parent who meanwhile
 * had the trial is done ("ineligible"); one who holds a seat or has an
 * open order elsewhere keeps their place but is passed over by this pass
 * (a parent has at most one hold).
 *
 * Every function runs its own transactions (gym_db_tx) and writes an
 * audit row (entity 'waitlist', the entry in the response snapshot) for
 * every state change.
 */
#ifndef GYM_WAITLIST_H
#define GYM_WAITLIST_H

#include <stdint.h>

#include "booking.h"
#include "db.h"
#include "gym.h"
#include "status.h"

/* One entry, as a parent sees it. */
struct gym_waitlist_entry {
	long long id;
	long long schedule_id;
	enum gym_waitlist_state state;
	int position;			/* 1-based among the class's waiting; 0 when not waiting */
	int64_t joined_at;
	long long hold_id;		/* the offer's hold; 0 when not offered */
	int64_t offer_expires_at;	/* 0 when not offered */
};

/*
 * Join the waitlist of schedule_id.  *created is 1 for a new entry, 0 when
 * the parent's active entry is returned.  GYM_E_SCHEDULE_NOT_FOUND;
 * GYM_E_SOLD_OUT when the class has started; GYM_E_TRIAL_ALREADY_BOOKED
 * (the one-trial rule); GYM_E_ACTIVE_HOLD_EXISTS when the parent holds a
 * seat or has an open order on this class; GYM_E_SEATS_AVAILABLE when a
 * seat is free and nobody waits (book it instead).
 */
enum gym_err gym_waitlist_join(struct gym_db *, const struct gym_actor *, long long user_id,
    long long schedule_id, struct gym_waitlist_entry *, int *created);
/*
 * Leave it: the parent's active entry becomes 'left' and an offer's hold
 * is released (unless an order was made with it).  *left is 1 when there
 * was an entry, 0 when not (still GYM_OK: leaving is idempotent).
 */
enum gym_err gym_waitlist_leave(struct gym_db *, const struct gym_actor *, long long user_id,
    long long schedule_id, int *left);
/* The parent's active entries (waiting or offered), oldest first: up to
 * max into out, how many in *n. */
enum gym_err gym_waitlist_mine(struct gym_db *, long long user_id,
    struct gym_waitlist_entry *out, int max, int *n);

/*
 * One offer pass: settle ended offers (used, or lapsed so the seat passes
 * on), close the queues of classes that started, then for each class with
 * waiting parents and a free seat (at most max_classes classes) offer
 * seats to the head of its queue.  *offers (may be NULL) receives the
 * offers made.  The job process runs it every job tick; any process may
 * run it at any time (after it freed a seat, say): concurrent passes are
 * safe (above).
 */
enum gym_err gym_waitlist_offer_pass(struct gym_db *, int max_classes, int *offers);

#endif
