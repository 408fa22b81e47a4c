/*
 * pgtest.c: database helpers for the integration tests (see pgtest.h).
 * Statements here are test fixtures, run with gym_db_query; times given to
 * SQL come from the gym clock, never from now().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "pgtest.h"

const struct gym_actor pgt_actor_system = {
	"system", 0, NULL, NULL, "test-system", NULL
};

static const struct gym_actor actor_operator = {
	"operator", 1, "127.0.0.1", "check_integ", "test-operator",
	"{\"route\":\"test\",\"who\":\"operator\"}"
};

const char *
pgt_uri(void)
{
	const char *s = getenv(PGT_ENV);

	return s != NULL && *s != '\0' ? s : NULL;
}

int
pgt_heavy(const char *what)
{
	const char *s = getenv(PGT_NO_HEAVY_ENV);

	if (s == NULL || strcmp(s, "1") != 0)
		return 1;
	fprintf(stderr, "%s: not run (%s=1: it ran in the normal pass)\n", what, PGT_NO_HEAVY_ENV);
	return 0;
}

static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

void
pgt_quiet(struct gym_db *db)
{
	if (gym_db_conn(db) != NULL)
		PQsetNoticeProcessor(gym_db_conn(db), quiet, NULL);
}

struct gym_db *
pgt_connect_nock(void)
{
	struct gym_db *db = NULL;

	if (pgt_uri() == NULL || gym_db_new(pgt_uri(), PGT_LOCK_TIMEOUT_MS, &db) != GYM_OK)
		return NULL;
	if (gym_db_ensure(db) != GYM_OK) {
		gym_db_free(db);
		return NULL;
	}
	pgt_quiet(db);
	return db;
}

struct gym_db *
pgt_connect_to(const char *conninfo)
{
	struct gym_db *db = NULL;
	enum gym_err e;

	if (conninfo == NULL)
		conninfo = pgt_uri();
	ck_assert_msg(conninfo != NULL, PGT_ENV " is not set");
	ck_assert_int_eq(gym_db_new(conninfo, PGT_LOCK_TIMEOUT_MS, &db), GYM_OK);
	e = gym_db_ensure(db);
	if (e != GYM_OK)
		gym_db_free(db);
	ck_assert_msg(e == GYM_OK, "could not connect to the test database: %s", gym_strerror(e));
	pgt_quiet(db);
	return db;
}

struct gym_db *
pgt_connect(void)
{
	return pgt_connect_to(NULL);
}

struct gym_db *
pgt_open(void)
{
	struct gym_db *db;

	gym_clock_set_offset(0);
	db = pgt_connect();
	pgt_reset(db);
	return db;
}

void
pgt_close(struct gym_db **db)
{
	gym_clock_set_offset(0);
	gym_db_free(*db);
	*db = NULL;
}

static void
append_kv(char *buf, size_t len, const char *key, const char *val)
{
	size_t n = strlen(buf);

	if (n + 1 >= len)
		return;
	n += (size_t)snprintf(buf + n, len - n, "%s%s='", n ? " " : "", key);
	for (; *val != '\0' && n + 3 < len; val++) {
		if (*val == '\'' || *val == '\\')
			buf[n++] = '\\';
		buf[n++] = *val;
	}
	if (n + 2 <= len) {
		buf[n++] = '\'';
		buf[n] = '\0';
	}
}

void
pgt_conninfo_with_db(const char *conninfo, const char *dbname, char *buf, size_t len)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;

	buf[0] = '\0';
	opts = PQconninfoParse(conninfo, &err);
	ck_assert_msg(opts != NULL, "bad conninfo: %s", err ? err : "out of memory");
	for (o = opts; o->keyword != NULL; o++)
		if (o->val != NULL && *o->val != '\0' && strcmp(o->keyword, "dbname") != 0)
			append_kv(buf, len, o->keyword, o->val);
	append_kv(buf, len, "dbname", dbname);
	PQconninfoFree(opts);
	ck_assert_msg(strlen(buf) + 1 < len, "conninfo too long");
}

static void
fail_sql(struct gym_db *db, const char *sql, enum gym_err e)
{
	ck_abort_msg("statement failed (%s, SQLSTATE %s): %s\n  %s", gym_strerror(e),
	    gym_db_sqlstate(db), PQerrorMessage(gym_db_conn(db)), sql);
}

void
pgt_execp(struct gym_db *db, const char *sql, int n, const char *const *params)
{
	enum gym_err e;

	if ((e = gym_db_query(db, sql, n, params, NULL)) != GYM_OK)
		fail_sql(db, sql, e);
}

void
pgt_exec(struct gym_db *db, const char *sql)
{
	pgt_execp(db, sql, 0, NULL);
}

const char *
pgt_sqlstate(struct gym_db *db, const char *sql, int n, const char *const *params)
{
	gym_db_query(db, sql, n, params, NULL);
	return gym_db_sqlstate(db);
}

void
pgt_textp(struct gym_db *db, const char *sql, int n, const char *const *params,
    char *buf, size_t len)
{
	PGresult *r = NULL;
	enum gym_err e;

	if ((e = gym_db_query(db, sql, n, params, &r)) != GYM_OK)
		fail_sql(db, sql, e);
	snprintf(buf, len, "%s", PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0) ?
	    PQgetvalue(r, 0, 0) : "");
	PQclear(r);
}

long long
pgt_countp(struct gym_db *db, const char *sql, int n, const char *const *params)
{
	char buf[64], *end;
	long long v;

	pgt_textp(db, sql, n, params, buf, sizeof(buf));
	if (buf[0] == '\0')
		return 0;
	v = strtoll(buf, &end, 10);
	ck_assert_msg(*end == '\0', "not an integer: '%s' from %s", buf, sql);
	return v;
}

long long
pgt_count(struct gym_db *db, const char *sql)
{
	return pgt_countp(db, sql, 0, NULL);
}

void
pgt_reset(struct gym_db *db)
{
	char sql[4096];

	pgt_textp(db, "SELECT 'TRUNCATE ' || string_agg(format('%I', tablename), ', ' "
	    "ORDER BY tablename) || ' RESTART IDENTITY CASCADE' FROM pg_tables "
	    "WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'",
	    0, NULL, sql, sizeof(sql));
	ck_assert_msg(sql[0] != '\0', "no tables: is the test database migrated?");
	pgt_exec(db, sql);
}

long long
pgt_user(struct gym_db *db, const char *openid)
{
	long long id = 0;
	enum gym_err e;

	e = gym_user_login(db, openid, &id);
	ck_assert_msg(e == GYM_OK, "gym_user_login(%s): %s", openid, gym_strerror(e));
	ck_assert_int_gt(id, 0);
	return id;
}

long long
pgt_schedule_at(struct gym_db *db, int capacity, int64_t start_s)
{
	int64_t start = gym_now_us() + start_s * 1000000;
	long long id = 0;
	enum gym_err e;

	e = gym_schedule_create(db, &actor_operator, "Trial class", start,
	    start + (int64_t)3600 * 1000000, capacity, &id);
	ck_assert_msg(e == GYM_OK, "gym_schedule_create: %s", gym_strerror(e));
	ck_assert_int_gt(id, 0);
	return id;
}

long long
pgt_schedule(struct gym_db *db, int capacity)
{
	return pgt_schedule_at(db, capacity, 86400);
}

void
pgt_time(char *buf, size_t len, int64_t offset_s)
{
	gym_time_format(gym_now_us() + offset_s * 1000000, buf, len);
}

int
pgt_available(struct gym_db *db, long long schedule_id)
{
	struct gym_schedule s;
	enum gym_err e;

	memset(&s, 0, sizeof(s));
	e = gym_schedule_get(db, schedule_id, &s);
	ck_assert_msg(e == GYM_OK, "gym_schedule_get: %s", gym_strerror(e));
	return s.available;
}

struct gym_actor
pgt_actor_user(long long user_id)
{
	struct gym_actor a = {
		"user", user_id, "127.0.0.1", "check_integ", "test-request",
		"{\"route\":\"test\",\"who\":\"user\"}"
	};

	return a;
}

const struct gym_actor pgt_actor_wechat = {
	"wechat", 0, "127.0.0.1", "check_integ", "test-notify", NULL
};

enum gym_err
pgt_pay(struct gym_db *db, const char *order_id, const char *transaction_id,
    char *outcome, size_t len)
{
	char when[40];
	struct gym_wx_txn t;

	pgt_time(when, sizeof(when), 0);
	memset(&t, 0, sizeof(t));
	t.out_trade_no = order_id;
	t.transaction_id = transaction_id;
	t.trade_state = "SUCCESS";
	t.trade_type = "JSAPI";
	t.bank_type = "OTHERS";
	t.appid = "wxd678efh567hg6787";
	t.mchid = "1230000109";
	t.total = GYM_PRICE_FEN;
	t.payer_total = GYM_PRICE_FEN;
	t.success_time = when;
	t.payload = "{\"trade_state\":\"SUCCESS\",\"payer\":{\"openid\":\"****\"}}";
	t.source = "notify";
	outcome[0] = '\0';
	return gym_payment_apply(db, &pgt_actor_wechat, &t, outcome, len);
}

static int
read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = read(fd, (char *)buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const void *buf, size_t len)
{
	size_t put = 0;
	ssize_t w;

	while (put < len) {
		w = write(fd, (const char *)buf + put, len - put);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		put += (size_t)w;
	}
	return 0;
}

/* A forked client: never returns, never touches Check or the parent's
 * connection. */
static void
client_main(int idx, pgt_client_fn setup, pgt_client_fn run, void *arg,
    int res_fd, int ready_fd, int go_fd)
{
	struct pgt_client c;
	char b;
	ssize_t r;

	memset(&c, 0, sizeof(c));
	c.idx = idx;
	c.arg = arg;
	srand((unsigned)getpid());	/* distinct retry jitter per client */
	if ((c.db = pgt_connect_nock()) == NULL)
		c.err = GYM_EDB;
	else if (setup != NULL)
		setup(&c);
	(void)write_full(ready_fd, "r", 1);
	close(ready_fd);
	do
		r = read(go_fd, &b, 1);
	while (r > 0 || (r < 0 && errno == EINTR));
	close(go_fd);
	if (c.err == GYM_OK && run != NULL)
		run(&c);
	gym_db_free(c.db);
	c.db = NULL;
	c.arg = NULL;
	/* one record is far below PIPE_BUF: written atomically */
	_exit(write_full(res_fd, &c, sizeof(c)) == 0 ? 0 : 1);
}

int
pgt_fork_clients(int n, pgt_client_fn setup, pgt_client_fn run, void *arg,
    struct pgt_client *out, int *bad_exits)
{
	int res[2], ready[2], go[2], reported = 0, status, started = 0;
	struct pgt_client c;
	pid_t *pids;
	char buf[256];
	ssize_t r;
	int got = 0;

	ck_assert_int_gt(n, 0);
	ck_assert_msg(sizeof(struct pgt_client) < 512, "record too big for an atomic write");
	pids = calloc((size_t)n, sizeof(*pids));
	ck_assert_ptr_nonnull(pids);
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].idx = i;
		out[i].err = -1;
	}
	ck_assert_int_eq(pipe(res), 0);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(res[0]);
			close(ready[0]);
			close(go[1]);
			client_main(i, setup, run, arg, res[1], ready[1], go[0]);
		}
		if (pids[i] < 0)
			break;
		started++;
	}
	close(res[1]);
	close(ready[1]);
	close(go[0]);
	/* every client connected and set up (or died): start them all at once */
	while (got < started) {
		r = read(ready[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (int)r;
	}
	close(ready[0]);
	close(go[1]);
	while (read_full(res[0], &c, sizeof(c)) == 0) {
		if (c.idx < 0 || c.idx >= n)
			continue;
		out[c.idx] = c;
		reported++;
	}
	close(res[0]);
	*bad_exits = n - started;
	for (int i = 0; i < started; i++) {
		pid_t w;

		status = 0;
		do
			w = waitpid(pids[i], &status, 0);
		while (w < 0 && errno == EINTR);
		if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			(*bad_exits)++;
	}
	free(pids);
	ck_assert_msg(started == n, "could only fork %d of %d clients", started, n);
	return reported;
}
