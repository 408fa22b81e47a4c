/*
 * migrate.c: the migration runner (see migrate.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "migrate.h"

#define MAXFILES 512

struct mfile {
	char name[256];
	char *sql;
	char sum[65];
};

static int
is_migration(const char *n)
{
	size_t len = strlen(n);

	return len > 9 && strspn(n, "0123456789") == 4 && n[4] == '_' &&
	    strcmp(n + len - 4, ".sql") == 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(((const struct mfile *)a)->name, ((const struct mfile *)b)->name);
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else
			buf[n] = '\0';
	}
	fclose(fp);
	return buf;
}

static void
files_free(struct mfile *f, int n)
{
	for (int i = 0; i < n; i++)
		free(f[i].sql);
	free(f);
}

static enum gym_err
files_load(const char *dir, struct mfile **out, int *n, char *err, size_t errsz)
{
	struct mfile *f;
	struct dirent *de;
	DIR *d;
	char path[4096];

	*n = 0;
	if ((f = calloc(MAXFILES, sizeof(*f))) == NULL)
		return GYM_ENOMEM;
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errsz, "could not open %s: %s", dir, strerror(errno));
		free(f);
		return GYM_EINVAL;
	}
	while ((de = readdir(d)) != NULL && *n < MAXFILES) {
		if (!is_migration(de->d_name))
			continue;
		snprintf(f[*n].name, sizeof(f[*n].name), "%s", de->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f[*n].sql = slurp(path)) == NULL) {
			snprintf(err, errsz, "could not read %s", path);
			closedir(d);
			files_free(f, *n);
			return GYM_EINVAL;
		}
		gym_sha256_hex(f[*n].sql, strlen(f[*n].sql), f[*n].sum);
		(*n)++;
	}
	closedir(d);
	qsort(f, (size_t)*n, sizeof(*f), cmp);
	*out = f;
	return GYM_OK;
}

/* The checksum recorded for a version, "" when not applied. */
static enum gym_err
applied_sum(struct gym_db *db, const char *name, char *sum, size_t len)
{
	const char *p[1] = { name };
	PGresult *r;
	enum gym_err e;

	e = gym_db_query(db, "SELECT checksum FROM schema_migrations WHERE version = $1", 1, p, &r);
	if (e != GYM_OK)
		return e;
	snprintf(sum, len, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return GYM_OK;
}

static enum gym_err
apply_one(struct gym_db *db, const struct mfile *f, char *err, size_t errsz)
{
	const char *p[2] = { f->name, f->sum };
	PGresult *r;
	enum gym_err e;

	if ((e = gym_db_query(db, "BEGIN", 0, NULL, NULL)) != GYM_OK)
		return e;
	/* a migration is a script of several statements: the simple protocol */
	r = PQexec(gym_db_conn(db), f->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errsz, "%s: %s", f->name, PQresultErrorMessage(r));
		PQclear(r);
		PQclear(PQexec(gym_db_conn(db), "ROLLBACK"));
		return GYM_EINVAL;
	}
	PQclear(r);
	if ((e = gym_db_query(db, "INSERT INTO schema_migrations (version, checksum, applied_at) "
	    "VALUES ($1, $2, now())", 2, p, NULL)) != GYM_OK ||
	    (e = gym_db_query(db, "COMMIT", 0, NULL, NULL)) != GYM_OK) {
		snprintf(err, errsz, "%s: could not record the migration", f->name);
		PQclear(PQexec(gym_db_conn(db), "ROLLBACK"));
		return e;
	}
	return GYM_OK;
}

static enum gym_err
run(struct gym_db *db, const char *dir, int apply, int *applied, char *err, size_t errsz)
{
	struct mfile *f = NULL;
	char sum[80];
	enum gym_err e;
	int n = 0;

	*applied = 0;
	if ((e = gym_db_ensure(db)) != GYM_OK) {
		snprintf(err, errsz, "could not connect to the database");
		return e;
	}
	if ((e = files_load(dir, &f, &n, err, errsz)) != GYM_OK)
		return e;
	if (apply && ((e = gym_db_query(db, "SELECT pg_advisory_lock(7242001)", 0, NULL, NULL)) != GYM_OK ||
	    (e = gym_db_query(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version text "
	    "PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL)", 0, NULL, NULL)) != GYM_OK))
		goto out;
	for (int i = 0; i < n; i++) {
		if ((e = applied_sum(db, f[i].name, sum, sizeof(sum))) != GYM_OK) {
			snprintf(err, errsz, "could not read schema_migrations (not migrated?)");
			e = GYM_EINVAL;
			goto out;
		}
		if (*sum != '\0' && strcmp(sum, f[i].sum) != 0) {
			snprintf(err, errsz, "%s was edited after it was applied (checksum %.12s, "
			    "recorded %.12s): add a new migration instead", f[i].name, f[i].sum, sum);
			e = GYM_EINVAL;
			goto out;
		}
		if (*sum != '\0')
			continue;
		if (!apply) {
			snprintf(err, errsz, "%s is not applied: run gymctl migrate", f[i].name);
			e = GYM_EINVAL;
			goto out;
		}
		if ((e = apply_one(db, &f[i], err, errsz)) != GYM_OK)
			goto out;
		(*applied)++;
	}
	e = GYM_OK;
out:
	if (apply)
		gym_db_query(db, "SELECT pg_advisory_unlock(7242001)", 0, NULL, NULL);
	files_free(f, n);
	return e;
}

enum gym_err
gym_migrate(struct gym_db *db, const char *dir, int *applied, char *err, size_t errsz)
{
	return run(db, dir, 1, applied, err, errsz);
}

enum gym_err
gym_migrate_check(struct gym_db *db, const char *dir, char *err, size_t errsz)
{
	int n;

	return run(db, dir, 0, &n, err, errsz);
}
