/*
 * extern.h: libgym's internal prototypes, shared between its modules and
 * never used outside lib/.  Each runs inside the caller's transaction.
 */
#ifndef GYM_EXTERN_H
#define GYM_EXTERN_H

#include "booking.h"

/* Claim a free seat of a schedule for user_id until 'until' and record the
 * hold: FOR UPDATE SKIP LOCKED first, then (when that found nothing but
 * seats may be locked by transactions in flight) a waiting claim bounded by
 * lock_timeout.  GYM_E_SOLD_OUT when no seat is free. */
enum gym_err gym__hold_claim(struct gym_db *, const struct gym_actor *, long long user_id,
    long long schedule_id, int64_t until, struct gym_reservation *);
/* End a temporary hold (GYM_HOLD_CANCELLED, _EXPIRED or _CONFIRMED) and
 * set its seat accordingly, when the seat still belongs to it.  Writes the
 * audit row. */
enum gym_err gym__hold_end(struct gym_db *, const struct gym_actor *, long long reservation_id,
    enum gym_hold_status new_status, const char *order_id);
/* orders.c: expire the user's lapsed temporary holds and pending orders. */
enum gym_err gym__expire_user(struct gym_db *, const struct gym_actor *, long long user_id);
enum gym_err gym__expire_user_holds(struct gym_db *, const struct gym_actor *, long long user_id);
enum gym_err gym__expire_user_orders(struct gym_db *, const struct gym_actor *, long long user_id);
/* A new order id: GYM + yyyymmdd (China time) + 12 random characters. */
enum gym_err gym__new_order_id(char *out, size_t len);
/* Read row i of an order query into o (columns a query lacks read as
 * "" or 0); GYM_EINTERNAL for a status status.h does not know. */
enum gym_err gym__read_order(PGresult *, int i, struct gym_order *o);
/* Set an order's status (from old, which must match) and write its audit row. */
enum gym_err gym__order_set_status(struct gym_db *, const struct gym_actor *,
    const char *order_id, enum gym_order_status old, enum gym_order_status new,
    const char *action);
/* 1 when the user has a paid order or a confirmed booking. */
enum gym_err gym__user_has_trial(struct gym_db *, long long user_id, int *has);
/* Lock and read a hold; GYM_ENOTFOUND when there is none (of that user
 * when user_id is not 0).  *live is 1 when it is temporary, unexpired and
 * still owns its seat. */
enum gym_err gym__hold_lock(struct gym_db *, long long user_id, long long reservation_id,
    struct gym_reservation *, int *live);
/* GYM_E_SCHEDULE_NOT_FOUND, GYM_E_SOLD_OUT when the class has started. */
enum gym_err gym__schedule_open(struct gym_db *, long long schedule_id);
/* Set a class's capacity inside the caller's transaction (schedules.c):
 * seats added, or free ones dropped (GYM_E_CAPACITY_BELOW_BOOKED when too
 * few are free), with its audit row. */
enum gym_err gym__schedule_capacity(struct gym_db *, const struct gym_actor *, long long id,
    int capacity);
/* End a pending order of a class the gym cancelled (orders.c): its hold
 * released, the order cancelled, the parent told (class_cancelled), inside
 * the caller's transaction. */
enum gym_err gym__order_end_class_cancelled(struct gym_db *, const struct gym_actor *,
    const char *order_id, long long reservation_id, const char *reason);
/* The user's temporary hold, if any: *live is 1 when found and unexpired. */
enum gym_err gym_hold_find_live(struct gym_db *, long long user_id,
    struct gym_reservation *, int *live);
/* The user's pending order, if any: *found, and its schedule. */
enum gym_err gym__user_open_order(struct gym_db *, long long user_id, long long *schedule_id,
    int *found);
/* The User-Agent as gym_audit_write stores it (valid UTF-8, at most 512
 * characters) into out (GYM_AUDIT_UA_MAX bytes), for the statements that
 * write their audit row themselves; NULL for NULL. */
#define GYM_AUDIT_UA_MAX (512 * 4 + 1)
const char *gym__audit_user_agent(const char *in, char *out);
/* db.c: a long long as a statement parameter. */
void gym__ll(char *buf, size_t len, long long v);
/* hold_rows.c: read row i of a hold query (HOLD_COLS) into h
 * (GYM_EINTERNAL for a status status.h does not know); the actor's
 * id as a statement parameter (NULL for none). */
enum gym_err gym__read_hold(PGresult *, int i, struct gym_reservation *h);
const char *gym__actor_id(const struct gym_actor *, char *buf, size_t len);
/* attempts.c: end an open attempt (GYM_ATTEMPT_PAID, _FAILED, _CLOSED or
 * _SUPERSEDED; transaction_id, code and message may be NULL) and write its
 * audit row; an attempt already ended is left as it is. */
enum gym_err gym__attempt_end(struct gym_db *, const struct gym_actor *,
    const char *out_trade_no, enum gym_attempt_state, const char *transaction_id,
    const char *code, const char *message);
/* waitlist.c: *queued is 1 when the class has a waiting parent (a direct
 * claim must then leave its free seats to the queue: waitlist.h). */
enum gym_err gym__waitlist_queued(struct gym_db *, long long schedule_id, int *queued);

#endif
