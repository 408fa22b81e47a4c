/*
 * staff_auth.h: staff sign in with a name and a password (issue 19).  A
 * sign-in opens a session: a random id the console keeps in an HttpOnly,
 * Secure, SameSite=Strict cookie; only its SHA-256 is stored, with an
 * expiry.  A cookie is sent by the browser on its own, so every unsafe
 * request that authenticates with it must also carry the session's CSRF
 * token (derived from the session id, so nothing more is stored; a page of
 * another site can neither read the cookie nor compute the token).
 * GYM_STAFF_LOCK_FAILURES failed sign-ins for one name within
 * GYM_STAFF_LOCK_WINDOW seconds lock that name out until the oldest of them
 * leaves the window; a correct password does not open a locked name.
 * Bearer tokens (operators.h) are unchanged.
 */
#ifndef GYM_STAFF_AUTH_H
#define GYM_STAFF_AUTH_H

#include <stdint.h>

#include "booking.h"

#define GYM_STAFF_SESSION_TTL	(12 * 3600)	/* seconds */
#define GYM_STAFF_LOCK_FAILURES	5
#define GYM_STAFF_LOCK_WINDOW	(15 * 60)	/* seconds */
#define GYM_STAFF_SID_LEN	43		/* random alphanumerics */
#define GYM_STAFF_CSRF_LEN	64		/* lower hex */
#define GYM_STAFF_COOKIE	"__Host-gym_staff"

struct gym_staff_session {
	long long operator_id;
	int role;				/* GYM_ROLE_* */
	char name[65];
	char sid[GYM_STAFF_SID_LEN + 1];	/* only after a sign-in */
	char csrf[GYM_STAFF_CSRF_LEN + 1];
	int64_t expires_at;			/* microseconds */
};

/* Sign name in with password.  GYM_OK fills *out (a new session, audit row
 * "operator_signed_in"); GYM_EUNAUTH for an unknown name, a revoked
 * operator, one without a password or a wrong password (each counted;
 * the failure that reaches the limit writes "operator_locked_out");
 * GYM_E_TOO_MANY_REQUESTS while the name is locked out. */
enum gym_err gym_staff_signin(struct gym_db *, const struct gym_actor *, const char *name,
    const char *password, struct gym_staff_session *out);
/* The active operator of session id sid: GYM_OK fills out (not sid),
 * GYM_EUNAUTH for a malformed, unknown, expired or signed-out session or
 * a revoked operator. */
enum gym_err gym_staff_session_auth(struct gym_db *, const char *sid,
    struct gym_staff_session *out);
/* End session sid (audit row "operator_signed_out"); GYM_OK also when it
 * had ended already. */
enum gym_err gym_staff_signout(struct gym_db *, const struct gym_actor *, const char *sid);
/* The CSRF token of session sid into out. */
void gym_staff_csrf(const char *sid, char out[GYM_STAFF_CSRF_LEN + 1]);
/* 1 when token is sid's CSRF token (constant time), 0 otherwise. */
int gym_staff_csrf_ok(const char *sid, const char *token);
/* The session id in a Cookie header value into sid; 1 when there is one
 * of the right shape, 0 otherwise. */
int gym_staff_cookie_sid(const char *cookie, char sid[GYM_STAFF_SID_LEN + 1]);

#endif
