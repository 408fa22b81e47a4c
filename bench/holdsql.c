/*
 * holdsql.c: writes bench/sql's pgbench script for scenario 1 from the
 * statements gymd itself sends for a hold and a release (lib/holds.c's
 * st_fast and st_release_fast, whose text is in lib/holds_sql.h), with gymd's parameters
 * replaced by pgbench variables and now(), so pgbench runs exactly the SQL
 * of the service.
 *
 *   holdsql > hold_release.sql
 */
#include <stdio.h>
#include <stdlib.h>

#include "holds_sql.h"

/* sql with $1..$n replaced by v[0]..v[n-1]. */
static void
put(const char *sql, const char *const *v, int n)
{
	for (const char *s = sql; *s != '\0'; s++) {
		char *end;
		long k;

		if (*s == '$' && (k = strtol(s + 1, &end, 10)) >= 1 && k <= n) {
			fputs(v[k - 1], stdout);
			s = end - 1;
		} else
			putchar(*s);
	}
}

int
main(void)
{
	static const char *const hold[] = { ":sid", ":uid", "now()",
	    "(now() + interval '15 minutes')", "'user'", ":uid", "'127.0.0.1'", "'pgbench'",
	    "'pgbench'", "'{\"course_schedule_id\":1}'" };
	static const char *const rel[] = { ":id", ":uid", "now()", "'user'", ":uid",
	    "'127.0.0.1'", "'pgbench'", "'pgbench'", "NULL" };

	puts("-- hold_release.sql, written by bench/holdsql.c from lib/holds.c: a hold and\n"
	    "-- its release as gymd sends them in the common case, one statement each.\n"
	    "--   -D slo=, shi=  the classes (a random one each time)\n"
	    "--   -D ubase=      user ids ubase + client_id: one user per client\n"
	    "\\set sid random(:slo, :shi)\n"
	    "\\set uid :ubase + :client_id");
	put(GYM_HOLD_FAST_SQL, hold, 10);
	puts(" \\gset");
	put(GYM_HOLD_RELEASE_FAST_SQL, rel, 9);
	puts(";");
	return ferror(stdout) ? 1 : 0;
}
