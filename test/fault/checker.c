/*
 * checker.c: the invariant checker.  The simulators' own record of every
 * order and refund (GET /sim/orders, /sim/refunds of WeChat's, and of the
 * Alipay simulator's in WeChat's words) goes into the temporary
 * tables sim_orders and sim_refunds, the start of the run into fault_run, and then each invariant of
 * test/fault/invariants.sql (a query that returns the violating rows)
 * runs in one REPEATABLE READ snapshot.  Each invariant's name and count
 * are printed, with its first violating rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

#define SHOW_ROWS 10

static int
exec_ok(PGconn *pg, const char *sql, int n, const char *const *p)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
	int st = PQresultStatus(r), ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		fault_log("SQL failed: %.80s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

static long long
sql_int(PGconn *pg, const char *sql)
{
	PGresult *r = PQexec(pg, sql);
	long long v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fault_log("SQL failed: %.80s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return v;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (s = malloc((size_t)n + 1)) != NULL) {
		if (fread(s, 1, (size_t)n, f) != (size_t)n) {
			free(s);
			s = NULL;
		} else
			s[n] = '\0';
	}
	fclose(f);
	return s;
}

/* Both simulators' records (the Alipay simulator's in WeChat's words). */
#define SIM_ORDERS_INSERT "INSERT INTO sim_orders SELECT x->>'out_trade_no', " \
	"x->>'trade_state', nullif(x->>'transaction_id', ''), (x->>'total')::bigint, " \
	"(x->>'refunded')::bigint FROM jsonb_array_elements($1::jsonb -> 'items') x"
#define SIM_REFUNDS_INSERT "INSERT INTO sim_refunds SELECT x->>'out_refund_no', " \
	"x->>'out_trade_no', x->>'status', (x->>'refund')::bigint, (x->>'total')::bigint " \
	"FROM jsonb_array_elements($1::jsonb -> 'items') x"

/* GET path at the simulator (alipay: the Alipay one) into the temporary
 * table named in insert_sql (whose $1 is the answer's JSON). */
static int
load_list(PGconn *pg, int alipay, const char *path, const char *insert_sql)
{
	struct fault_resp r = { 0 };
	const char *p[1];
	int rc = -1;

	if ((alipay ? fault_alisim("GET", path, NULL, &r) : fault_sim("GET", path, NULL, &r)) != 200 ||
	    (!alipay && r.json == NULL))
		fault_log("GET %s: %ld", path, r.status);
	else {
		p[0] = r.body;
		rc = exec_ok(pg, insert_sql, 1, p);
	}
	fault_resp_free(&r);
	return rc;
}

int
fault_load_sim_orders(PGconn *pg)
{
	if (exec_ok(pg, "CREATE TEMP TABLE IF NOT EXISTS sim_orders (out_trade_no text PRIMARY KEY, "
	    "trade_state text NOT NULL, transaction_id text, total bigint, refunded bigint)",
	    0, NULL) != 0 ||
	    exec_ok(pg, "CREATE TEMP TABLE IF NOT EXISTS sim_refunds (out_refund_no text PRIMARY KEY, "
	    "out_trade_no text NOT NULL, status text NOT NULL, refund bigint, total bigint)",
	    0, NULL) != 0 ||
	    exec_ok(pg, "CREATE TEMP TABLE IF NOT EXISTS sim_messages (touser text NOT NULL, "
	    "template_id text NOT NULL, data jsonb)", 0, NULL) != 0 ||
	    exec_ok(pg, "TRUNCATE sim_orders, sim_refunds, sim_messages", 0, NULL) != 0)
		return -1;
	if (load_list(pg, 0, "/sim/messages", "INSERT INTO sim_messages SELECT x->>'touser', "
	    "x->>'template_id', x->'data' FROM jsonb_array_elements($1::jsonb -> 'items') x") != 0)
		return -1;
	return load_list(pg, 0, "/sim/orders", SIM_ORDERS_INSERT) == 0 &&
	    load_list(pg, 0, "/sim/refunds", SIM_REFUNDS_INSERT) == 0 &&
	    (fault_env_alisim()[0] == '\0' ||
	    (load_list(pg, 1, "/sim/orders", SIM_ORDERS_INSERT) == 0 &&
	    load_list(pg, 1, "/sim/refunds", SIM_REFUNDS_INSERT) == 0)) ? 0 : -1;
}

int
fault_settle(PGconn *pg, long timeout_ms)
{
	long long end = fault_now_ms() + timeout_ms, left = -1, last = -2;

	for (;;) {
		if (fault_load_sim_orders(pg) == 0)
			left = sql_int(pg,
			    "SELECT (SELECT count(*) FROM sim_orders s LEFT JOIN payment_orders o "
			    "  ON o.order_id = s.out_trade_no WHERE s.trade_state IN ('SUCCESS', 'REFUND') "
			    "  AND (o.status IS NULL OR o.status NOT IN ('paid', 'refunding', 'refunded'))) "
			    "+ (SELECT count(*) FROM seat_reservations WHERE status = 'temporary' "
			    "  AND expires_at <= now()) "
			    "+ (SELECT count(*) FROM payment_orders WHERE status = 'pending' "
			    "  AND expires_at <= now()) "
			    "+ (SELECT count(*) FROM payment_orders WHERE status = 'refunding') "
			    "+ (SELECT count(*) FROM payment_orders o JOIN course_schedules c "
			    "  ON c.id = o.course_schedule_id WHERE c.cancelled_at IS NOT NULL "
			    "  AND o.status = 'paid') "
			    "+ (SELECT count(*) FROM refunds WHERE status IN ('pending', 'processing')) "
			    "+ (SELECT count(*) FROM parent_notifications WHERE status = 'pending')");
		/* settled: the simulators' lists again, so that a message
		 * (or refund) gymd finished between the load above and the
		 * count is in them too */
		if (left == 0)
			return fault_load_sim_orders(pg) == 0;
		if (left != last)
			fault_log("settling: %lld payment(s), lapse(s) or refund(s) not "
			    "finished yet", left);
		last = left;
		if (fault_now_ms() >= end)
			return 0;
		if (PQstatus(pg) != CONNECTION_OK)
			PQreset(pg);
		fault_sleep_ms(500);
	}
}

int
fault_load_acks(PGconn *pg)
{
	char path[1024], *text;
	const char *p[1];
	int rc;

	if (exec_ok(pg, "CREATE TEMP TABLE IF NOT EXISTS fault_acks (kind text NOT NULL, "
	    "id text NOT NULL, ref text NOT NULL)", 0, NULL) != 0 ||
	    exec_ok(pg, "TRUNCATE fault_acks", 0, NULL) != 0)
		return -1;
	fault_var_path("log/fault-acks.log", path, sizeof(path));
	if ((text = read_file(path)) == NULL)
		return 0;		/* a check-only run: nothing acknowledged */
	p[0] = text;
	rc = exec_ok(pg, "INSERT INTO fault_acks SELECT f[1], f[2], f[3] FROM "
	    "regexp_split_to_table($1, '\\n') l, regexp_split_to_array(l, ' ') f "
	    "WHERE l <> '' AND array_length(f, 1) = 3", 1, p);
	free(text);
	return rc;
}

long long
fault_lost_holds(PGconn *pg)
{
	return sql_int(pg, "SELECT count(*) FROM fault_acks a WHERE a.kind = 'hold' AND NOT EXISTS "
	    "(SELECT 1 FROM seat_reservations r WHERE r.id = a.id::bigint "
	    " AND r.course_schedule_id = a.ref::bigint)");
}

/* Print the first rows of a violating result, one line each. */
static void
show_rows(PGresult *r)
{
	int rows = PQntuples(r), cols = PQnfields(r);

	for (int i = 0; i < rows && i < SHOW_ROWS; i++) {
		fprintf(stdout, "      ");
		for (int j = 0; j < cols; j++)
			fprintf(stdout, "%s%s=%s", j ? " " : "", PQfname(r, j),
			    PQgetisnull(r, i, j) ? "NULL" : PQgetvalue(r, i, j));
		fputc('\n', stdout);
	}
	if (rows > SHOW_ROWS)
		fprintf(stdout, "      ... %d more\n", rows - SHOW_ROWS);
}

/* Run one invariant; prints its line. */
static void
run_one(PGconn *pg, const char *name, const char *sql, struct fault_check *c)
{
	PGresult *r = PQexec(pg, sql);
	int n;

	c->checked++;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stdout, "  invariant %-32s ERROR %s", name, PQresultErrorMessage(r));
		c->failed++;
		c->violations++;
		PQclear(r);
		/* the snapshot's transaction is aborted: start another */
		PQclear(PQexec(pg, "ROLLBACK"));
		PQclear(PQexec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
		return;
	}
	n = PQntuples(r);
	fprintf(stdout, "  invariant %-32s %d violation%s\n", name, n, n == 1 ? "" : "s");
	if (n > 0) {
		show_rows(r);
		c->failed++;
		c->violations += n;
	} else
		c->passed++;
	PQclear(r);
}

/*
 * The file: blocks that start with a line "-- invariant: NAME" (at the
 * start of a line, never the first of the file); the SQL
 * of a block is everything up to the next such line (comments included),
 * without its final semicolon.
 */
int
fault_check_run(PGconn *pg, const char *sqlfile, struct fault_check *c)
{
	static const char mark[] = "\n-- invariant:";
	char *text, *p, *next, *eol, name[96];
	size_t len;

	memset(c, 0, sizeof(*c));
	if ((text = read_file(sqlfile)) == NULL) {
		fault_log("cannot read %s: %s", sqlfile, strerror(errno));
		return -1;
	}
	PQclear(PQexec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
	p = strstr(text, mark);
	while (p != NULL) {
		p += sizeof(mark) - 1;
		while (*p == ' ')
			p++;
		eol = strchr(p, '\n');
		len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		p = eol != NULL ? eol + 1 : p + len;
		if ((next = strstr(p, mark)) != NULL)
			*next = '\0';
		len = strlen(p);
		while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == ' ' || p[len - 1] == ';'))
			p[--len] = '\0';
		run_one(pg, name, p, c);
		if (next != NULL)
			*next = '\n';
		p = next;
	}
	PQclear(PQexec(pg, "COMMIT"));
	free(text);
	return c->checked > 0 ? 0 : -1;
}

/* Print "label: a=1 b=2 ..." from a two-column result (name, count). */
static void
print_pairs(PGconn *pg, const char *label, const char *sql)
{
	PGresult *r = PQexec(pg, sql);

	fprintf(stdout, "%s:", label);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		for (int i = 0; i < PQntuples(r); i++)
			fprintf(stdout, " %s=%s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	else
		fprintf(stdout, " (%s)", PQresultErrorMessage(r));
	fputc('\n', stdout);
	PQclear(r);
}

void
fault_report_db(PGconn *pg)
{
	print_pairs(pg, "orders by status", "SELECT status, count(*) FROM payment_orders "
	    "WHERE created_at >= (SELECT started_at FROM fault_run) GROUP BY 1 ORDER BY 1");
	print_pairs(pg, "transactions by outcome", "SELECT outcome, count(*) FROM "
	    "payment_transactions t JOIN payment_orders o ON o.order_id = t.order_id "
	    "WHERE o.created_at >= (SELECT started_at FROM fault_run) GROUP BY 1 ORDER BY 1");
	print_pairs(pg, "holds by status", "SELECT status, count(*) FROM seat_reservations "
	    "WHERE created_at >= (SELECT started_at FROM fault_run) GROUP BY 1 ORDER BY 1");
	print_pairs(pg, "WeChat orders by state", "SELECT trade_state, count(*) FROM sim_orders "
	    "GROUP BY 1 ORDER BY 1");
}

/* ---- the self-test: each invariant can fail ------------------------------------------ */

/* The block of text after the line "<mark> name" up to the next mark (or
 * the end), its final semicolon and blank lines cut: a copy, or NULL. */
static char *
block_of(const char *text, const char *mark, const char *name)
{
	const char *p = text, *start, *end;
	size_t mlen = strlen(mark), nlen = strlen(name), len;
	char *s;

	while ((p = strstr(p, mark)) != NULL) {
		p += mlen;
		while (*p == ' ')
			p++;
		if (strncmp(p, name, nlen) == 0 && (p[nlen] == '\n' || p[nlen] == '\0'))
			break;
	}
	if (p == NULL)
		return NULL;
	start = p + nlen;
	end = strstr(start, mark);
	len = end != NULL ? (size_t)(end - start) : strlen(start);
	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(s, start, len);
	s[len] = '\0';
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == ';'))
		s[--len] = '\0';
	return s;
}

/* One corruption: apply it, run its invariant, roll back. */
static void
corrupt_one(PGconn *pg, const char *name, const char *corruption, const char *inv,
    struct fault_selftest *t)
{
	PGresult *r;
	long changed;
	int n = -1;

	PQclear(PQexec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
	r = PQexec(pg, corruption);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stdout, "  corrupt %-34s ERROR %s", name, PQresultErrorMessage(r));
		t->missed++;
		PQclear(r);
		PQclear(PQexec(pg, "ROLLBACK"));
		return;
	}
	changed = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	if (changed == 0) {
		fprintf(stdout, "  corrupt %-34s skipped (no row to corrupt)\n", name);
		t->skipped++;
		PQclear(PQexec(pg, "ROLLBACK"));
		return;
	}
	r = PQexec(pg, inv);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		n = PQntuples(r);
	PQclear(r);
	PQclear(PQexec(pg, "ROLLBACK"));
	if (n > 0) {
		fprintf(stdout, "  corrupt %-34s caught (%d violation%s)\n", name, n, n == 1 ? "" : "s");
		t->caught++;
	} else {
		fprintf(stdout, "  corrupt %-34s MISSED (%s)\n", name, n == 0 ? "no violation" :
		    "the invariant failed to run");
		t->missed++;
	}
}

int
fault_selftest_run(PGconn *pg, const char *corruptfile, const char *sqlfile,
    struct fault_selftest *t)
{
	static const char cmark[] = "\n-- corrupt:", imark[] = "\n-- invariant:";
	char *corr, *invs, *p, *eol, *c, *inv, name[96];
	size_t len;

	memset(t, 0, sizeof(*t));
	if ((corr = read_file(corruptfile)) == NULL || (invs = read_file(sqlfile)) == NULL) {
		fault_log("cannot read %s or %s: %s", corruptfile, sqlfile, strerror(errno));
		free(corr);
		return -1;
	}
	for (p = strstr(corr, cmark); p != NULL; p = strstr(p, cmark)) {
		p += sizeof(cmark) - 1;
		while (*p == ' ')
			p++;
		eol = strchr(p, '\n');
		len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		c = block_of(corr, cmark, name);
		inv = block_of(invs, imark, name);
		if (c == NULL || inv == NULL) {
			fprintf(stdout, "  corrupt %-34s MISSED (no such invariant)\n", name);
			t->missed++;
		} else
			corrupt_one(pg, name, c, inv, t);
		free(c);
		free(inv);
	}
	free(corr);
	free(invs);
	return 0;
}
