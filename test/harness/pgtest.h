/*
 * pgtest.h: helpers for tests that run against a real, migrated PostgreSQL
 * named by GYM_TEST_PGURI.  Everything here that takes or returns a
 * struct gym_db must run inside the forked test (the libpq fork rule): a
 * connection is never carried across fork().  Helpers whose name does not
 * end in _nock stop the test with a Check failure when the database says
 * no; the _nock ones are for forked clients, where Check must not be used.
 */
#ifndef GYM_PGTEST_H
#define GYM_PGTEST_H

#include <stdint.h>

#include "booking.h"
#include "db.h"
#include "gym.h"

#define PGT_ENV "GYM_TEST_PGURI"
/* gymd's default db_lock_timeout_ms */
#define PGT_LOCK_TIMEOUT_MS 3000

/*
 * GYM_TEST_NO_HEAVY=1 (test/run_all.sh sets it in the ASan pass): the heavy
 * load tests (the 200-client seat race, the 100k-hold sweep) ran in the
 * normal pass and are not added again.  pgt_heavy() is 0 then, else 1; a
 * suite that leaves one out says so on stderr.
 */
#define PGT_NO_HEAVY_ENV "GYM_TEST_NO_HEAVY"
int pgt_heavy(const char *what);

/* The conninfo in GYM_TEST_PGURI, or NULL when unset or empty. */
const char *pgt_uri(void);
/* A new connected gym_db on conninfo (pgt_uri() when NULL); the test
 * fails when it cannot connect.  Caller gym_db_free()s. */
struct gym_db *pgt_connect_to(const char *conninfo);
struct gym_db *pgt_connect(void);
/* Same without Check: NULL on failure (for forked clients). */
struct gym_db *pgt_connect_nock(void);
/* Drop the server's NOTICEs on db's current connection (DROP ... IF EXISTS
 * and the like would print them on stderr). */
void pgt_quiet(struct gym_db *);
/* conninfo with its dbname replaced (keyword=value or URI in), as a
 * keyword=value string in buf. */
void pgt_conninfo_with_db(const char *conninfo, const char *dbname, char *buf, size_t len);

/* TRUNCATE every table of the current schema but schema_migrations,
 * RESTART IDENTITY CASCADE. */
void pgt_reset(struct gym_db *);
/* The usual per-test fixture: the gym clock back to now (offset 0), a new
 * connection (pgt_connect) and an empty database (pgt_reset). */
struct gym_db *pgt_open(void);
/* Its teardown: the gym clock back to now, *db freed and set to NULL. */
void pgt_close(struct gym_db **db);
/* Log in (create) the user of this openid: its id. */
long long pgt_user(struct gym_db *, const char *openid);
/* A class of this capacity starting tomorrow (by the gym clock), 1 h long. */
long long pgt_schedule(struct gym_db *, int capacity);
/* Same, starting in start_s seconds from now. */
long long pgt_schedule_at(struct gym_db *, int capacity, int64_t start_s);
/* The integer in the first column of the first row of sql (NULL is 0). */
long long pgt_count(struct gym_db *, const char *sql);
long long pgt_countp(struct gym_db *, const char *sql, int n, const char *const *params);
/* The text of the first column of the first row ("" for NULL or no row),
 * copied to buf. */
void pgt_textp(struct gym_db *, const char *sql, int n, const char *const *params,
    char *buf, size_t len);
/* Run sql; the test fails unless it succeeds. */
void pgt_exec(struct gym_db *, const char *sql);
void pgt_execp(struct gym_db *, const char *sql, int n, const char *const *params);
/* Run sql that is expected to fail: its SQLSTATE ("" when it succeeded). */
const char *pgt_sqlstate(struct gym_db *, const char *sql, int n, const char *const *params);
/* The gym clock plus offset_s seconds, as a timestamptz parameter. */
void pgt_time(char *buf, size_t len, int64_t offset_s);
/* Available seats of a schedule (gym_schedule_get), failing the test on error. */
int pgt_available(struct gym_db *, long long schedule_id);

/* Actors for the audit log.  The request snapshot is masked JSON without
 * any openid. */
struct gym_actor pgt_actor_user(long long user_id);
extern const struct gym_actor pgt_actor_system;

/* WeChat reports a successful payment of order_id (gym_payment_apply, as
 * the notify handler calls it): its answer, and the outcome in outcome. */
enum gym_err pgt_pay(struct gym_db *, const char *order_id, const char *transaction_id,
    char *outcome, size_t len);
extern const struct gym_actor pgt_actor_wechat;

/*
 * Concurrent clients: fork n children.  Each connects its own gym_db,
 * runs setup (may be NULL), signals ready and waits until every child is
 * ready, then runs run and sends its struct pgt_client back through a pipe.
 * A setup that sets err skips run.  Children never use Check and leave
 * through _exit, so nothing of the parent's connection is touched.
 */
struct pgt_client {
	int idx;		/* 0 .. n-1 */
	int err;		/* enum gym_err of the call under test, or -1 */
	int created;
	long long user_id;
	long long id;		/* reservation id, orders' row id, or a sum */
	long long aux;
	char text[40];		/* order_id, status, ... */
	struct gym_db *db;	/* the child's connection (meaningless in the parent) */
	void *arg;		/* the caller's argument (meaningless in the parent) */
};
typedef void (*pgt_client_fn)(struct pgt_client *);
/* Returns how many children reported; out[i] is child i's report (err -1
 * when it did not report).  *bad_exits receives the children that did not
 * exit 0. */
int pgt_fork_clients(int n, pgt_client_fn setup, pgt_client_fn run, void *arg,
    struct pgt_client *out, int *bad_exits);

#endif
