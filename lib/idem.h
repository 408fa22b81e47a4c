/*
 * idem.h: Idempotency-Key records.  The same key with the same request
 * replays the first answer for 24 hours; the same key with another request
 * is GYM_E_IDEMPOTENCY_KEY_REUSED.  A placeholder row is written before the
 * handler runs, so two concurrent requests with one key run it once: the
 * second gets GYM_ECONFLICT at once while the first holds the key's lease.
 * A run that died (a killed worker, a lost database) leaves its key to be
 * taken over by the next retry once the lease (idempotency_lease) is over.
 */
#ifndef GYM_IDEM_H
#define GYM_IDEM_H

#include "gym.h"
#include "db.h"

#define GYM_IDEM_TTL (24 * 3600)

enum gym_idem_state { GYM_IDEM_NEW, GYM_IDEM_REPLAY };

/* One key: who holds it (scope), the key, the route and the request's hash. */
struct gym_idem {
	const char *scope, *key, *route, *hash;
};
/* The lease a run holds: its locked_at (RFC 3339, as written). */
struct gym_idem_lock {
	char at[40];
};

/* GYM_IDEM_NEW: the key is this run's (lock filled in); GYM_IDEM_REPLAY:
 * *status and *body (malloc'd) hold the first answer.  GYM_ECONFLICT when
 * another run holds the key inside its lease of lease_s seconds. */
enum gym_err gym_idem_begin(struct gym_db *, const struct gym_idem *, int lease_s,
    enum gym_idem_state *, int *status, char **body, struct gym_idem_lock *);
/* Store the answer (status < 500), or drop the placeholder (>= 500) so a
 * retry runs again; only while this run still holds the lease (*kept 1),
 * else nothing is written (*kept 0: another run took the key over). */
enum gym_err gym_idem_finish(struct gym_db *, const struct gym_idem *,
    const struct gym_idem_lock *, int status, const char *body, int *kept);

#endif
