/*
 * idem.h: Idempotency-Key records.  The same key with the same request
 * replays the first answer for 24 hours; the same key with another request
 * is GYM_E_IDEMPOTENCY_KEY_REUSED.  A placeholder row is written before the
 * handler runs, so two concurrent requests with one key run it once.
 */
#ifndef GYM_IDEM_H
#define GYM_IDEM_H

#include "gym.h"
#include "db.h"

#define GYM_IDEM_TTL (24 * 3600)

enum gym_idem_state { GYM_IDEM_NEW, GYM_IDEM_REPLAY };

/* On GYM_IDEM_REPLAY, *status and *body (malloc'd) hold the first answer. */
enum gym_err gym_idem_begin(struct gym_db *, const char *scope, const char *key,
    const char *route, const char *hash, enum gym_idem_state *, int *status, char **body);
/* Store the answer (status < 500), or drop the placeholder (>= 500) so a
 * retry runs again. */
enum gym_err gym_idem_finish(struct gym_db *, const char *scope, const char *key,
    int status, const char *body);

#endif
