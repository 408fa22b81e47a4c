/*
 * db.h: the worker's one PostgreSQL connection.  Opened lazily (after
 * fork), reset once when lost, statements prepared per connection on first
 * use.  SQLSTATEs become gym_err: 23505 -> ECONFLICT, 40001/40P01 ->
 * ERETRY, 55P03 (lock timeout) -> ERETRY, a lost server -> EDB.
 */
#ifndef GYM_DB_H
#define GYM_DB_H

#include <libpq-fe.h>

#include "gym.h"

/* A statement: each module keeps static ones; each connection prepares a
 * statement on its first use.  The last member is unused (keep it 0). */
struct gym_stmt {
	const char *name;
	const char *sql;
	unsigned unused;
};

struct gym_db;

enum gym_err gym_db_new(const char *conninfo, int lock_timeout_ms, struct gym_db **out);
/* The lock_timeout the connection was made with (milliseconds). */
int gym_db_lock_timeout_ms(const struct gym_db *);
void gym_db_free(struct gym_db *);
/* Connect or reconnect; GYM_EDB when the server cannot be reached. */
enum gym_err gym_db_ensure(struct gym_db *);
PGconn *gym_db_conn(struct gym_db *);

/* Run a prepared statement with n text parameters (NULL = SQL NULL).  When
 * res is not NULL it receives the result (caller PQclear()s). */
enum gym_err gym_db_exec(struct gym_db *, struct gym_stmt *, int n,
    const char *const *params, PGresult **res);
/* Run a one-off SQL text with parameters (for gymctl and migrations). */
enum gym_err gym_db_query(struct gym_db *, const char *sql, int n,
    const char *const *params, PGresult **res);

/* Connect if needed, run a claiming statement (an UPDATE ... RETURNING one
 * text column) and copy the first max values it returns into ids, an array
 * of rows width bytes wide; how many into *n (0 on error). */
enum gym_err gym_db_claim_ids(struct gym_db *, struct gym_stmt *, int n,
    const char *const *params, char *ids, size_t width, int max, int *count);

/* Run fn inside BEGIN ... COMMIT; rerun it (up to 3 times, with jitter) on
 * GYM_ERETRY; ROLLBACK on any other error.  fn must have no effect outside
 * the database that a rerun would duplicate. */
typedef enum gym_err (*gym_tx_fn)(struct gym_db *, void *arg);
enum gym_err gym_db_tx(struct gym_db *, gym_tx_fn fn, void *arg);
/* The same, with SET LOCAL synchronous_commit = off: COMMIT returns before
 * the WAL reaches the disk, so a database crash can lose the last fraction
 * of a second of such transactions (all of each, never part).  Only for
 * changes that are safe to lose that way: seat holds, their release and the
 * expiry sweep of lapsed holds (docs/reliability.md).  Orders, payments and
 * refunds never use it. */
enum gym_err gym_db_tx_nowait(struct gym_db *, gym_tx_fn fn, void *arg);

/* The SQLSTATE of the last failed statement ("" if none). */
const char *gym_db_sqlstate(const struct gym_db *);

/* Helpers for reading results: the value at (row, column name). */
const char *gym_db_get(PGresult *, int row, const char *col);
long long gym_db_get_ll(PGresult *, int row, const char *col);
int gym_db_isnull(PGresult *, int row, const char *col);
/* The text at (row, column name) copied into buf ("" for NULL or no such
 * row/column; truncated to len - 1 bytes); returns buf. */
char *gym_db_copy(PGresult *, int row, const char *col, char *buf, size_t len);

/* The clock as a timestamptz parameter (gym_now_us() formatted). */
void gym_db_now_param(char *buf, size_t len);

#endif
