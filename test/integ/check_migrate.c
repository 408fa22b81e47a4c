/*
 * check_migrate.c: the migration runner (lib/migrate.c) on a throwaway
 * folder of migrations and a throwaway database, gym_migtest_<pid>,
 * created through the main test connection and dropped afterwards.
 * Leftovers of crashed runs (their pid gone) are dropped at setup.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <check.h>

#include "crypto.h"
#include "integ.h"
#include "migrate.h"
#include "pgtest.h"

static struct gym_db *db;	/* the main test database */
static struct gym_db *mdb;	/* the throwaway one */
static char dbname[64];
static char conninfo[2048];
static char dir[64];

static void
drop_database(const char *name)
{
	char sql[160];

	/* name is gym_migtest_ and digits: nothing to quote */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.63s WITH (FORCE)", name);
	pgt_exec(db, sql);
}

/* Databases of earlier runs whose process is gone. */
static void
drop_leftovers(void)
{
	PGresult *r = NULL;
	char names[32][64];
	int n = 0;

	ck_assert_int_eq(gym_db_query(db, "SELECT datname FROM pg_database WHERE "
	    "datname ~ '^gym_migtest_[0-9]+(_r)?$' LIMIT 32", 0, NULL, &r), GYM_OK);
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);
		long pid = strtol(name + strlen("gym_migtest_"), NULL, 10);

		if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			snprintf(names[n++], sizeof(names[0]), "%s", name);
	}
	PQclear(r);
	for (int i = 0; i < n; i++)
		drop_database(names[i]);
}

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_msg(fp != NULL, "could not create %s: %s", path, strerror(errno));
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

static void
remove_file(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(unlink(path), 0);
}

static void
setup_named(const char *suffix)
{
	char sql[160];

	gym_clock_set_offset(0);
	db = pgt_connect();
	drop_leftovers();
	snprintf(dbname, sizeof(dbname), "gym_migtest_%ld%s", (long)getpid(), suffix);
	drop_database(dbname);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	pgt_exec(db, sql);
	pgt_conninfo_with_db(pgt_uri(), dbname, conninfo, sizeof(conninfo));
	mdb = pgt_connect_to(conninfo);
	snprintf(dir, sizeof(dir), "/tmp/gym-migtest-XXXXXX");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void
setup(void)
{
	setup_named("");
}

static void
setup_race(void)
{
	setup_named("_r");
}

static void
teardown(void)
{
	static const char *const files[] = {
		"0001_a.sql", "0002_b.sql", "0003_c.sql", "readme.txt", "01_short.sql",
		"0001_a.sql.orig",
	};
	char path[256];

	gym_db_free(mdb);
	mdb = NULL;
	drop_database(dbname);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
	gym_db_free(db);
	db = NULL;
}

static long long
mcount(const char *sql)
{
	return pgt_count(mdb, sql);
}

static int
table_exists(const char *name)
{
	const char *p[1] = { name };

	return (int)pgt_countp(mdb, "SELECT count(*) FROM pg_tables WHERE "
	    "schemaname = current_schema() AND tablename = $1", 1, p);
}

START_TEST(test_runner)
{
	static const char a_sql[] = "CREATE TABLE mig_t (x int)";
	char err[512], sum[65], recorded[80];
	const char *p[1] = { "0001_a.sql" };
	int applied;

	write_file("0001_a.sql", a_sql);
	write_file("readme.txt", "not a migration");
	write_file("01_short.sql", "CREATE TABLE mig_wrong_name (x int)");
	write_file("0001_a.sql.orig", "CREATE TABLE mig_wrong_ext (x int)");

	/* first run: one file applied and recorded with its SHA-256 */
	err[0] = '\0';
	applied = -1;
	ck_assert_msg(gym_migrate(mdb, dir, &applied, err, sizeof(err)) == GYM_OK, "%s", err);
	ck_assert_int_eq(applied, 1);
	ck_assert_int_eq(table_exists("mig_t"), 1);
	ck_assert_int_eq(table_exists("mig_wrong_name"), 0);
	ck_assert_int_eq(table_exists("mig_wrong_ext"), 0);
	ck_assert_int_eq(mcount("SELECT count(*) FROM schema_migrations"), 1);
	gym_sha256_hex(a_sql, strlen(a_sql), sum);
	pgt_textp(mdb, "SELECT checksum FROM schema_migrations WHERE version = $1", 1, p,
	    recorded, sizeof(recorded));
	ck_assert_str_eq(recorded, sum);

	/* again: nothing to do; the check agrees */
	applied = -1;
	ck_assert_msg(gym_migrate(mdb, dir, &applied, err, sizeof(err)) == GYM_OK, "%s", err);
	ck_assert_int_eq(applied, 0);
	ck_assert_msg(gym_migrate_check(mdb, dir, err, sizeof(err)) == GYM_OK, "%s", err);
	ck_assert_int_eq(mcount("SELECT count(*) FROM schema_migrations"), 1);

	/* a new file: the check names it and applies nothing */
	write_file("0002_b.sql", "CREATE TABLE mig_b (y int);\nINSERT INTO mig_b VALUES (1), (2);\n");
	err[0] = '\0';
	ck_assert_int_eq(gym_migrate_check(mdb, dir, err, sizeof(err)), GYM_EINVAL);
	ck_assert_msg(strstr(err, "0002_b.sql") != NULL, "message: %s", err);
	ck_assert_int_eq(table_exists("mig_b"), 0);
	applied = -1;
	ck_assert_msg(gym_migrate(mdb, dir, &applied, err, sizeof(err)) == GYM_OK, "%s", err);
	ck_assert_int_eq(applied, 1);
	ck_assert_int_eq(mcount("SELECT count(*) FROM mig_b"), 2);
	ck_assert_msg(gym_migrate_check(mdb, dir, err, sizeof(err)) == GYM_OK, "%s", err);

	/* a failing file: named, and nothing of it stays */
	write_file("0003_c.sql", "CREATE TABLE mig_c (z int);\nSELECT * FROM mig_missing;\n");
	err[0] = '\0';
	applied = -1;
	ck_assert_int_eq(gym_migrate(mdb, dir, &applied, err, sizeof(err)), GYM_EINVAL);
	ck_assert_int_eq(applied, 0);
	ck_assert_msg(strstr(err, "0003_c.sql") != NULL, "message: %s", err);
	ck_assert_int_eq(table_exists("mig_c"), 0);
	ck_assert_int_eq(mcount("SELECT count(*) FROM schema_migrations"), 2);
	remove_file("0003_c.sql");

	/* an applied file edited: refused, by the runner and by the check */
	write_file("0001_a.sql", "CREATE TABLE mig_t (x bigint)");
	write_file("0003_c.sql", "CREATE TABLE mig_c (z int)");
	err[0] = '\0';
	applied = -1;
	ck_assert_int_eq(gym_migrate(mdb, dir, &applied, err, sizeof(err)), GYM_EINVAL);
	ck_assert_int_eq(applied, 0);
	ck_assert_msg(strstr(err, "0001_a.sql") != NULL, "message: %s", err);
	ck_assert_int_eq(table_exists("mig_c"), 0);	/* the run stopped there */
	err[0] = '\0';
	ck_assert_int_eq(gym_migrate_check(mdb, dir, err, sizeof(err)), GYM_EINVAL);
	ck_assert_msg(strstr(err, "0001_a.sql") != NULL, "message: %s", err);
	ck_assert_int_eq(mcount("SELECT count(*) FROM schema_migrations"), 2);
	pgt_textp(mdb, "SELECT checksum FROM schema_migrations WHERE version = $1", 1, p,
	    recorded, sizeof(recorded));
	ck_assert_str_eq(recorded, sum);

	/* a folder that does not exist */
	err[0] = '\0';
	ck_assert_int_eq(gym_migrate_check(mdb, "/nonexistent/gym-migrations", err,
	    sizeof(err)), GYM_EINVAL);
	ck_assert_msg(err[0] != '\0', "no message");
}
END_TEST

START_TEST(test_check_on_empty_database)
{
	char err[512];

	write_file("0001_a.sql", "CREATE TABLE mig_t (x int)");
	err[0] = '\0';
	/* never migrated: no schema_migrations at all */
	ck_assert_int_eq(gym_migrate_check(mdb, dir, err, sizeof(err)), GYM_EINVAL);
	ck_assert_msg(err[0] != '\0', "no message");
	ck_assert_int_eq(table_exists("mig_t"), 0);
	ck_assert_int_eq(table_exists("schema_migrations"), 0);
}
END_TEST

static void
race_migrate(struct pgt_client *c)
{
	struct gym_db *m = NULL;
	char err[512];
	int applied = 0;

	if (gym_db_new(conninfo, PGT_LOCK_TIMEOUT_MS, &m) != GYM_OK) {
		c->err = GYM_ENOMEM;
		return;
	}
	if (gym_db_ensure(m) == GYM_OK)
		pgt_quiet(m);
	c->err = gym_migrate(m, c->arg, &applied, err, sizeof(err));
	c->id = applied;
	if (c->err != GYM_OK)
		snprintf(c->text, sizeof(c->text), "%.39s", err);
	gym_db_free(m);
}

START_TEST(test_concurrent_runners)
{
	struct pgt_client out[2];
	int reported, bad;

	/* each file sleeps so that the runners overlap */
	write_file("0001_a.sql", "CREATE TABLE mig_t (x int); SELECT pg_sleep(0.3);");
	write_file("0002_b.sql", "CREATE TABLE mig_b (y int); SELECT pg_sleep(0.3);");
	write_file("0003_c.sql", "CREATE TABLE mig_c (z int); SELECT pg_sleep(0.3);");
	reported = pgt_fork_clients(2, NULL, race_migrate, dir, out, &bad);
	ck_assert_int_eq(reported, 2);
	ck_assert_int_eq(bad, 0);
	ck_assert_msg(out[0].err == GYM_OK, "runner 0: %s", out[0].text);
	ck_assert_msg(out[1].err == GYM_OK, "runner 1: %s", out[1].text);
	ck_assert_int_eq(out[0].id + out[1].id, 3);
	ck_assert_int_eq(mcount("SELECT count(*) FROM schema_migrations"), 3);
	ck_assert_int_eq(table_exists("mig_c"), 1);
}
END_TEST

Suite *
migrate_suite(void)
{
	Suite *s = suite_create("migrate");
	TCase *tc;

	tc = tcase_create("runner");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_runner);
	tcase_add_test(tc, test_check_on_empty_database);
	suite_add_tcase(s, tc);

	tc = tcase_create("race");
	tcase_add_checked_fixture(tc, setup_race, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_concurrent_runners);
	suite_add_tcase(s, tc);
	return s;
}
