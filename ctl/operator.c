/*
 * operator.c: gymctl operator add|list|revoke.
 *   operator add NAME --role operator|auditor   prints the new token once,
 *                                               alone on a line on stdout
 *   operator list                               id, name, role, created, revoked
 *   operator revoke ID
 * The token is never stored (only its hash) and never listed.  Add and
 * revoke leave audit rows (entity "operator", actor "system" gymctl).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "ctl.h"
#include "operators.h"

#define MAX_LIST 1000

static int
usage(void)
{
	fprintf(stderr, "usage: gymctl operator add NAME --role operator|auditor\n"
	    "       gymctl operator list\n"
	    "       gymctl operator revoke ID\n");
	return 2;
}

static int
cmd_add(struct gym_db *db, int argc, char **argv)
{
	struct gym_actor actor = { "system", 0, NULL, "gymctl", NULL, NULL };
	char token[GYM_OPERATOR_TOKEN_LEN + 1];
	const char *name = NULL, *rolename = gym_ctl_opt(argc, argv, "--role");
	long long id = 0;
	enum gym_err e;
	int role;

	/* NAME is the one argument that is not --role or its value */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0)
			i++;
		else if (name == NULL)
			name = argv[i];
		else
			return usage();
	}
	if (name == NULL || rolename == NULL)
		return usage();
	if ((role = gym_operator_role_parse(rolename)) == 0) {
		fprintf(stderr, "gymctl: --role is operator or auditor\n");
		return 2;
	}
	if ((e = gym_operator_add(db, &actor, name, role, &id, token)) != GYM_OK) {
		fprintf(stderr, "gymctl: could not add the operator: %s%s\n", gym_strerror(e),
		    e == GYM_EINVAL ? " (NAME is 1-64 bytes without control characters)" : "");
		return 1;
	}
	fprintf(stderr, "operator %lld (%s) added; the token below is shown only once\n",
	    id, gym_operator_role_name(role));
	printf("%s\n", token);
	gym_wipe(token, sizeof(token));
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
cmd_list(struct gym_db *db)
{
	struct gym_operator *o;
	char c[40], r[40];
	int n = 0;

	if ((o = calloc(MAX_LIST, sizeof(*o))) == NULL)
		return 1;
	if (gym_operator_list(db, o, MAX_LIST, &n) != GYM_OK) {
		fprintf(stderr, "gymctl: could not list operators\n");
		free(o);
		return 1;
	}
	printf("id\tname\trole\tcreated\trevoked\n");
	for (int i = 0; i < n; i++) {
		gym_time_format(o[i].created_at, c, sizeof(c));
		if (o[i].revoked_at != 0)
			gym_time_format(o[i].revoked_at, r, sizeof(r));
		else
			snprintf(r, sizeof(r), "-");
		printf("%lld\t%s\t%s\t%s\t%s\n", o[i].id, o[i].name,
		    gym_operator_role_name(o[i].role) ? gym_operator_role_name(o[i].role) : "?",
		    c, r);
	}
	free(o);
	return 0;
}

static int
cmd_revoke(struct gym_db *db, int argc, char **argv)
{
	struct gym_actor actor = { "system", 0, NULL, "gymctl", NULL, NULL };
	char *end;
	long long id;
	int changed = 0;
	enum gym_err e;

	if (argc != 2)
		return usage();
	id = strtoll(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || id < 1) {
		fprintf(stderr, "gymctl: ID is an operator id (see gymctl operator list)\n");
		return 2;
	}
	if ((e = gym_operator_revoke(db, &actor, id, &changed)) != GYM_OK) {
		fprintf(stderr, "gymctl: could not revoke operator %lld: %s\n", id,
		    gym_strerror(e));
		return 1;
	}
	printf("operator %lld %s\n", id, changed ? "revoked" : "was already revoked");
	return 0;
}

int
gym_ctl_operator(struct gym_db *db, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "add") == 0)
		return cmd_add(db, argc, argv);
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return cmd_list(db);
	if (argc >= 1 && strcmp(argv[0], "revoke") == 0)
		return cmd_revoke(db, argc, argv);
	return usage();
}
