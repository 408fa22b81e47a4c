/*
 * retention.c: gymctl retention run --dir DIR | --dry-run: archive and
 * remove what is past the spec's retention (lib/retention.h): orders 7
 * years, transactions 5, the audit log 2.  Prints what it did.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "retention.h"

static int
usage(void)
{
	fprintf(stderr, "usage: gymctl retention run --dir DIR | --dry-run\n");
	return 2;
}

int
gym_ctl_retention(struct gym_db *db, int argc, char **argv)
{
	struct gym_retention_counts c;
	const char *dir = gym_ctl_opt(argc, argv, "--dir");
	int dry = argc == 2 && strcmp(argv[1], "--dry-run") == 0;
	enum gym_err e;

	if (argc < 2 || strcmp(argv[0], "run") != 0 || (!dry && (dir == NULL || argc != 3)))
		return usage();
	if ((e = gym_retention_run(db, dir, dry, &c)) != GYM_OK) {
		fprintf(stderr, "gymctl: retention: %s%s\n", gym_strerror(e),
		    e == GYM_EINVAL ? " (--dir must be a writable directory)" : "");
		return 1;
	}
	printf("%s orders %lld (over %d years), transactions %lld (over %d), audit rows %lld "
	    "(over %d)%s\n", dry ? "would archive:" : "archived:", c.orders,
	    GYM_RETAIN_ORDERS_YEARS, c.transactions, GYM_RETAIN_TRANSACTIONS_YEARS, c.audit,
	    GYM_RETAIN_AUDIT_YEARS, dry ? "" : "");
	if (!dry)
		printf("%d file(s) in %s\n", c.files, dir);
	return fflush(stdout) == 0 ? 0 : 1;
}
