/*
 * db.c: connection, prepared statements, SQLSTATE mapping, transactions.
 * Owns the PGconn; nothing else calls PQconnectdb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "extern.h"
#include "log.h"

#define MAX_PREPARED 256

struct gym_db {
	PGconn *conn;
	char *conninfo;
	/* statements prepared on this connection (a handful: linear search) */
	const struct gym_stmt *prepared[MAX_PREPARED];
	int nprepared;
	int lock_timeout_ms;
	time_t last_warn;
	char sqlstate[6];
};

int
gym_db_lock_timeout_ms(const struct gym_db *db)
{
	return db->lock_timeout_ms;
}

enum gym_err
gym_db_new(const char *conninfo, int lock_timeout_ms, struct gym_db **out)
{
	struct gym_db *db;

	/* a server that never answers must not hold a worker forever */
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->conninfo = gym_asprintf("%s%s", conninfo,
	    strstr(conninfo, "connect_timeout") ? "" : " connect_timeout=3")) == NULL) {
		free(db);
		return GYM_ENOMEM;
	}
	db->lock_timeout_ms = lock_timeout_ms;
	*out = db;
	return GYM_OK;
}

void
gym_db_free(struct gym_db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

PGconn *
gym_db_conn(struct gym_db *db)
{
	return db->conn;
}

const char *
gym_db_sqlstate(const struct gym_db *db)
{
	return db->sqlstate;
}

static enum gym_err
session_setup(struct gym_db *db)
{
	char lt[32];
	const char *p[1] = { lt };
	PGresult *r;
	int ok;

	snprintf(lt, sizeof(lt), "%d", db->lock_timeout_ms);
	r = PQexecParams(db->conn,
	    "SELECT set_config('lock_timeout', $1 || 'ms', false), "
	    "set_config('timezone', 'UTC', false)", 1, NULL, p, NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	return ok ? GYM_OK : GYM_EDB;
}

enum gym_err
gym_db_ensure(struct gym_db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
		if (PQtransactionStatus(db->conn) == PQTRANS_INERROR ||
		    PQtransactionStatus(db->conn) == PQTRANS_INTRANS)
			PQclear(PQexec(db->conn, "ROLLBACK"));
		return GYM_OK;
	}
	PQfinish(db->conn);
	db->conn = PQconnectdb(db->conninfo);
	db->nprepared = 0;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		/* once per 10 s per process: an outage must not flood the log */
		if (time(NULL) - db->last_warn >= 10) {
			db->last_warn = time(NULL);
			gym_log_warnx("could not connect to the database: %s",
			    db->conn ? PQerrorMessage(db->conn) : "out of memory");
		}
		PQfinish(db->conn);
		db->conn = NULL;
		return GYM_EDB;
	}
	return session_setup(db);
}

static enum gym_err
classify(struct gym_db *db, PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", st ? st : "");
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return GYM_EDB;
	if (st == NULL)
		return GYM_EDB;
	if (strcmp(st, "23505") == 0)
		return GYM_ECONFLICT;
	if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0)
		return GYM_ERETRY;
	if (strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 ||
	    strcmp(st, "57P02") == 0 || strcmp(st, "57P03") == 0)
		return GYM_EDB;
	if (strncmp(st, "22", 2) == 0 || strcmp(st, "23514") == 0 || strcmp(st, "23503") == 0)
		return GYM_EINVAL;
	return GYM_EINTERNAL;
}

static enum gym_err
result(struct gym_db *db, PGresult *r, const char *what, PGresult **res)
{
	ExecStatusType s = PQresultStatus(r);
	enum gym_err e;

	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
		db->sqlstate[0] = '\0';
		if (res != NULL)
			*res = r;
		else
			PQclear(r);
		return GYM_OK;
	}
	e = classify(db, r);
	/* the primary message and SQLSTATE only: DETAIL may quote a row
	 * ("Failing row contains (..., openid, ...)") */
	if (e == GYM_EINTERNAL || e == GYM_EDB)
		gym_log_warnx("statement %s failed: %s%s%s", what,
		    r && PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) ?
		    PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(db->conn),
		    db->sqlstate[0] ? " sqlstate " : "", db->sqlstate);
	PQclear(r);
	return e;
}

static int
is_prepared(const struct gym_db *db, const struct gym_stmt *st)
{
	for (int i = 0; i < db->nprepared; i++)
		if (db->prepared[i] == st)
			return 1;
	return 0;
}

enum gym_err
gym_db_exec(struct gym_db *db, struct gym_stmt *st, int n,
    const char *const *params, PGresult **res)
{
	PGresult *r;

	if (res != NULL)
		*res = NULL;
	if (db->conn == NULL)
		return GYM_EDB;
	if (!is_prepared(db, st)) {
		r = PQprepare(db->conn, st->name, st->sql, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return result(db, r, st->name, NULL);
		PQclear(r);
		if (db->nprepared < MAX_PREPARED)
			db->prepared[db->nprepared++] = st;
	}
	r = PQexecPrepared(db->conn, st->name, n, params, NULL, NULL, 0);
	return result(db, r, st->name, res);
}

enum gym_err
gym_db_query(struct gym_db *db, const char *sql, int n, const char *const *params,
    PGresult **res)
{
	if (res != NULL)
		*res = NULL;
	if (db->conn == NULL)
		return GYM_EDB;
	return result(db, PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0),
	    "query", res);
}

/* sql in the simple protocol: no Parse/Bind/Describe, and several
 * statements in one round trip. */
static enum gym_err
plain(struct gym_db *db, const char *sql)
{
	if (db->conn == NULL)
		return GYM_EDB;
	return result(db, PQexec(db->conn, sql), sql, NULL);
}

/* Run fn in a transaction opened by begin (one simple-protocol string,
 * so "BEGIN; SET LOCAL ..." is one round trip); retried on GYM_ERETRY. */
static enum gym_err
tx(struct gym_db *db, const char *begin, gym_tx_fn fn, void *arg)
{
	enum gym_err e = GYM_EDB;

	for (int attempt = 0; attempt < 4; attempt++) {
		if ((e = gym_db_ensure(db)) != GYM_OK)
			return e;
		if ((e = plain(db, begin)) != GYM_OK)
			return e;
		e = fn(db, arg);
		if (e == GYM_OK)
			e = plain(db, "COMMIT");
		else if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
			PQclear(PQexec(db->conn, "ROLLBACK"));
		if (e != GYM_ERETRY)
			return e;
		/* jitter: 1-8 ms, growing */
		usleep((useconds_t)(1000 * (1 + (rand() % (2 << attempt)))));
	}
	return e;
}

enum gym_err
gym_db_tx(struct gym_db *db, gym_tx_fn fn, void *arg)
{
	return tx(db, "BEGIN", fn, arg);
}

enum gym_err
gym_db_tx_nowait(struct gym_db *db, gym_tx_fn fn, void *arg)
{
	return tx(db, "BEGIN; SET LOCAL synchronous_commit = off", fn, arg);
}

const char *
gym_db_get(PGresult *r, int row, const char *col)
{
	int c = PQfnumber(r, col);

	if (c < 0 || row >= PQntuples(r) || PQgetisnull(r, row, c))
		return NULL;
	return PQgetvalue(r, row, c);
}

enum gym_err
gym_db_claim_ids(struct gym_db *db, struct gym_stmt *st, int n, const char *const *params,
    char *ids, size_t width, int max, int *count)
{
	PGresult *r;
	enum gym_err e;

	*count = 0;
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, st, n, params, &r)) != GYM_OK)
		return e;
	for (int i = 0; i < PQntuples(r) && *count < max; i++)
		snprintf(ids + (size_t)(*count)++ * width, width, "%s", PQgetvalue(r, i, 0));
	PQclear(r);
	return GYM_OK;
}

char *
gym_db_copy(PGresult *r, int row, const char *col, char *buf, size_t len)
{
	const char *v = gym_db_get(r, row, col);

	snprintf(buf, len, "%s", v != NULL ? v : "");
	return buf;
}

long long
gym_db_get_ll(PGresult *r, int row, const char *col)
{
	const char *v = gym_db_get(r, row, col);

	return v ? strtoll(v, NULL, 10) : 0;
}

int
gym_db_isnull(PGresult *r, int row, const char *col)
{
	return gym_db_get(r, row, col) == NULL;
}

void
gym_db_now_param(char *buf, size_t len)
{
	gym_time_format(gym_now_us(), buf, len);
}

void
gym__ll(char *buf, size_t len, long long v)
{
	snprintf(buf, len, "%lld", v);
}
