/*
 * ctl_operator.c: gymctl operator add|list|revoke.
 * XXX: operators arrive with the operators' console (issue 5).
 */
#include <stdio.h>

#include "ctl.h"

int
gym_ctl_operator(struct gym_db *db, int argc, char **argv)
{
	(void)db;
	(void)argc;
	(void)argv;
	fprintf(stderr, "gymctl: operators are not available in this version\n");
	return 2;
}
