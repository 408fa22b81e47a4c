/*
 * retention.c: archive and remove rows past their retention (see
 * retention.h).  $1 is the gym clock, $2 the years to keep, $3 the batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "retention.h"

#define PAST "created_at < $1::timestamptz - make_interval(years => $2::int) "

static struct gym_stmt st_audit = { "retention_audit",
	"SELECT l.id, row_to_json(l)::text AS j FROM payment_audit_log l WHERE " PAST
	"ORDER BY l.id LIMIT $3::int", 0 };
static struct gym_stmt st_audit_rm = { "retention_audit_rm",
	"DELETE FROM payment_audit_log WHERE id = ANY($1::bigint[])", 0 };
static struct gym_stmt st_txn = { "retention_txn",
	"SELECT t.id, row_to_json(t)::text AS j FROM payment_transactions t WHERE " PAST
	"ORDER BY t.id LIMIT $3::int FOR UPDATE", 0 };
static struct gym_stmt st_txn_rm = { "retention_txn_rm",
	"DELETE FROM payment_transactions WHERE id = ANY($1::bigint[])", 0 };
/* An order whose entitlement (a membership period, a credit lot or ledger
 * row) still refers to it is kept: the member's history is the ledger. */
#define NO_ENTITLEMENT \
	"AND NOT EXISTS (SELECT 1 FROM membership_periods m WHERE m.order_id = o.order_id) " \
	"AND NOT EXISTS (SELECT 1 FROM credit_lots c WHERE c.order_id = o.order_id) " \
	"AND NOT EXISTS (SELECT 1 FROM credit_ledger g WHERE g.order_id = o.order_id) "
static struct gym_stmt st_orders = { "retention_orders",
	"SELECT o.id, json_build_object('order', row_to_json(o), "
	"'registration', (SELECT row_to_json(x) FROM order_registrations x WHERE x.order_id = o.order_id), "
	"'bookings', (SELECT json_agg(x) FROM bookings x WHERE x.order_id = o.order_id), "
	"'refunds', (SELECT json_agg(x) FROM refunds x WHERE x.order_id = o.order_id), "
	"'attempts', (SELECT json_agg(x) FROM payment_attempts x WHERE x.order_id = o.order_id), "
	"'transactions', (SELECT json_agg(x) FROM payment_transactions x WHERE x.order_id = o.order_id), "
	"'notifications', (SELECT json_agg(x) FROM parent_notifications x WHERE x.order_id = o.order_id)"
	")::text AS j FROM payment_orders o WHERE o." PAST
	"AND o.status IN ('paid', 'refunded', 'failed', 'cancelled', 'expired') " NO_ENTITLEMENT
	"ORDER BY o.id LIMIT $3::int FOR UPDATE", 0 };
/* the order's rows, children first ($1: the orders' row ids) */
static struct gym_stmt st_orders_rm[] = {
	{ "retention_rm_nattempts", "DELETE FROM notification_attempts WHERE notification_id IN "
	  "(SELECT n.id FROM parent_notifications n JOIN payment_orders o ON o.order_id = n.order_id "
	  "WHERE o.id = ANY($1::bigint[]))", 0 },
	{ "retention_rm_notifications", "DELETE FROM parent_notifications WHERE order_id IN "
	  "(SELECT order_id FROM payment_orders WHERE id = ANY($1::bigint[]))", 0 },
	{ "retention_rm_registrations", "DELETE FROM order_registrations WHERE order_id IN "
	  "(SELECT order_id FROM payment_orders WHERE id = ANY($1::bigint[]))", 0 },
	{ "retention_rm_bookings", "DELETE FROM bookings WHERE order_id IN "
	  "(SELECT order_id FROM payment_orders WHERE id = ANY($1::bigint[]))", 0 },
	{ "retention_rm_refunds", "DELETE FROM refunds WHERE order_id IN "
	  "(SELECT order_id FROM payment_orders WHERE id = ANY($1::bigint[]))", 0 },
	{ "retention_rm_attempts", "DELETE FROM payment_attempts WHERE order_id IN "
	  "(SELECT order_id FROM payment_orders WHERE id = ANY($1::bigint[]))", 0 },
	{ "retention_rm_transactions", "DELETE FROM payment_transactions WHERE order_id IN "
	  "(SELECT order_id FROM payment_orders WHERE id = ANY($1::bigint[]))", 0 },
	{ "retention_rm_orders", "DELETE FROM payment_orders WHERE id = ANY($1::bigint[])", 0 },
};
static struct gym_stmt st_count[] = {
	{ "retention_count_orders", "SELECT count(*) AS n FROM payment_orders o WHERE o." PAST
	  "AND o.status IN ('paid', 'refunded', 'failed', 'cancelled', 'expired') " NO_ENTITLEMENT
	  "AND $3::int > 0", 0 },
	{ "retention_count_txn", "SELECT count(*) AS n FROM payment_transactions WHERE " PAST
	  "AND $3::int > 0", 0 },
	{ "retention_count_audit", "SELECT count(*) AS n FROM payment_audit_log WHERE " PAST
	  "AND $3::int > 0", 0 },
};

struct kind {
	const char *name;		/* the files' prefix */
	int years;
	struct gym_stmt *select;
	struct gym_stmt *rm;
	size_t nrm;
};

struct batch {
	const struct kind *k;
	const char *dir;
	const char *stamp;
	int seq;
	char path[4096];		/* the batch's file, without ".partial" */
	int rows;
};

/* Write the rows' "j" column to path.partial, one per line, synced. */
static enum gym_err
write_file(const char *partial, PGresult *r)
{
	int fd, n = PQntuples(r);
	FILE *f;

	if ((fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		gym_log_err("retention: %s", partial);
		return GYM_ESYSTEM;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return GYM_ESYSTEM;
	}
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\n", gym_db_get(r, i, "j"));
	if (fflush(f) != 0 || ferror(f) || fsync(fd) != 0) {
		gym_log_err("retention: writing %s", partial);
		fclose(f);
		return GYM_ESYSTEM;
	}
	return fclose(f) == 0 ? GYM_OK : GYM_ESYSTEM;
}

/* "{1,2,3}" of the rows' ids (malloc'd). */
static char *
ids_of(PGresult *r)
{
	int n = PQntuples(r);
	size_t len = 3 + (size_t)n * 21, o = 1;
	char *s = malloc(len);

	if (s == NULL)
		return NULL;
	s[0] = '{';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, len - o, "%s%s", i ? "," : "", gym_db_get(r, i, "id"));
	snprintf(s + o, len - o, "}");
	return s;
}

/* One audit row per batch: what went, and the file that keeps it. */
static enum gym_err
audit_batch(struct gym_db *db, const struct batch *b)
{
	struct gym_actor sys = { "system", 0, NULL, "retention", NULL, NULL };
	char action[40], snap[4400];
	struct gym_audit au = { "order", action, NULL, 0, 0, NULL, NULL, snap };

	snprintf(action, sizeof(action), "%s_archived", b->k->name);
	/* the path is ours ([0-9A-Za-z/._-] plus the operator's --dir): quote-safe
	 * only when it has no quote or backslash */
	if (strpbrk(b->path, "\"\\") != NULL)
		snprintf(snap, sizeof(snap), "{\"rows\":%d}", b->rows);
	else
		snprintf(snap, sizeof(snap), "{\"rows\":%d,\"file\":\"%s\"}", b->rows, b->path);
	return gym_audit_write(db, &sys, &au);
}

static enum gym_err
batch_tx(struct gym_db *db, void *v)
{
	struct batch *b = v;
	char now[40], years[8], lim[16], partial[4200], *ids;
	const char *p[3] = { now, years, lim }, *pi[1];
	PGresult *r;
	enum gym_err e;

	b->rows = 0;
	gym_db_now_param(now, sizeof(now));
	snprintf(years, sizeof(years), "%d", b->k->years);
	snprintf(lim, sizeof(lim), "%d", GYM_RETENTION_BATCH);
	if ((e = gym_db_exec(db, b->k->select, 3, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_OK;
	}
	snprintf(b->path, sizeof(b->path), "%s/%s-%s-%04d.jsonl", b->dir, b->k->name, b->stamp,
	    b->seq);
	snprintf(partial, sizeof(partial), "%s.partial", b->path);
	if ((e = write_file(partial, r)) != GYM_OK || (ids = ids_of(r)) == NULL) {
		PQclear(r);
		unlink(partial);
		return e != GYM_OK ? e : GYM_ENOMEM;
	}
	b->rows = PQntuples(r);
	PQclear(r);
	pi[0] = ids;
	for (size_t i = 0; e == GYM_OK && i < b->k->nrm; i++)
		e = gym_db_exec(db, &b->k->rm[i], 1, pi, NULL);
	free(ids);
	if (e == GYM_OK)
		e = audit_batch(db, b);
	return e;
}

/* Every batch of one kind; *count the rows archived. */
static enum gym_err
run_kind(struct gym_db *db, const struct kind *k, const char *dir, const char *stamp,
    long long *count, int *files)
{
	struct batch b;
	char partial[4200];
	enum gym_err e;

	memset(&b, 0, sizeof(b));
	b.k = k;
	b.dir = dir;
	b.stamp = stamp;
	for (;;) {
		b.seq++;
		e = gym_db_tx(db, batch_tx, &b);
		snprintf(partial, sizeof(partial), "%s.partial", b.path);
		if (e != GYM_OK) {
			/* rolled back: the rows are still there, the file goes */
			if (b.path[0] != '\0')
				unlink(partial);
			return e;
		}
		if (b.rows == 0)
			return GYM_OK;
		if (rename(partial, b.path) != 0) {
			gym_log_err("retention: rename %s (its rows are removed; the file "
			    "keeps them)", partial);
			return GYM_ESYSTEM;
		}
		*count += b.rows;
		(*files)++;
		gym_log_infox("retention: %d %s rows archived to %s", b.rows, k->name, b.path);
		b.path[0] = '\0';
	}
}

enum gym_err
gym_retention_run(struct gym_db *db, const char *dir, int dry_run,
    struct gym_retention_counts *out)
{
	/* orders first: their transactions go with them */
	const struct kind kinds[3] = {
		{ "orders", GYM_RETAIN_ORDERS_YEARS, &st_orders, st_orders_rm,
		  sizeof(st_orders_rm) / sizeof(st_orders_rm[0]) },
		{ "transactions", GYM_RETAIN_TRANSACTIONS_YEARS, &st_txn, &st_txn_rm, 1 },
		{ "audit", GYM_RETAIN_AUDIT_YEARS, &st_audit, &st_audit_rm, 1 },
	};
	long long *counts[3] = { &out->orders, &out->transactions, &out->audit };
	char stamp[32], now[40], years[8];
	const char *p[3] = { now, years, "1" };
	time_t t = time(NULL);
	struct tm tm;
	enum gym_err e;

	memset(out, 0, sizeof(*out));
	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	if (dry_run) {
		gym_db_now_param(now, sizeof(now));
		for (int i = 0; i < 3; i++) {
			PGresult *r;

			snprintf(years, sizeof(years), "%d", kinds[i].years);
			if ((e = gym_db_exec(db, &st_count[i], 3, p, &r)) != GYM_OK)
				return e;
			*counts[i] = gym_db_get_ll(r, 0, "n");
			PQclear(r);
		}
		return GYM_OK;
	}
	if (dir == NULL || access(dir, W_OK) != 0)
		return GYM_EINVAL;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 0; i < 3; i++)
		if ((e = run_kind(db, &kinds[i], dir, stamp, counts[i], &out->files)) != GYM_OK)
			return e;
	return GYM_OK;
}
