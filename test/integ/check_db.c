/*
 * check_db.c: lib/db.c against a real database: statements are prepared
 * per connection (db.h), so two connections in one process, or a new
 * connection in a child forked after the parent used its own, must each
 * prepare what they run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "integ.h"
#include "pgtest.h"

static struct gym_db *db;

static void
setup(void)
{
	db = pgt_open();
}

static void
teardown(void)
{
	gym_db_free(db);
	db = NULL;
}

START_TEST(test_two_connections_one_process)
{
	struct gym_db *db2;
	long long u1 = 0, u2 = 0;

	db2 = pgt_connect();
	ck_assert_int_eq(gym_user_login(db, "o-db-user-1", &u1), GYM_OK);
	ck_assert_int_eq(gym_user_login(db2, "o-db-user-2", &u2), GYM_OK);
	ck_assert_int_eq(gym_user_login(db, "o-db-user-3", &u1), GYM_OK);
	ck_assert_int_eq(gym_user_login(db2, "o-db-user-4", &u2), GYM_OK);
	gym_db_free(db2);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM users"), 4);
}
END_TEST

START_TEST(test_new_connection_after_fork)
{
	long long u = 0;
	pid_t pid;
	int status = -1;

	ck_assert_int_eq(gym_user_login(db, "o-db-parent", &u), GYM_OK);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* the child never touches the parent's connection */
		struct gym_db *c = pgt_connect_nock();
		long long cu = 0;
		int ok = c != NULL && gym_user_login(c, "o-db-child", &cu) == GYM_OK && cu > 0;

		gym_db_free(c);
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a fresh connection in a forked child could not run a statement its parent had "
	    "prepared on its own connection");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM users"), 2);
}
END_TEST

Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc;

	tc = tcase_create("prepared");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_two_connections_one_process);
	tcase_add_test(tc, test_new_connection_after_fork);
	suite_add_tcase(s, tc);
	return s;
}
