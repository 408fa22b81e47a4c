/*
 * operator.c: gymctl operator add|password|list|revoke.
 *   operator add NAME --role operator|auditor   prints the new token once,
 *     [--password-file F|-]                     alone on a line on stdout;
 *                                               with a password file also
 *                                               sets the console password
 *   operator password NAME [--password-file F|-]  sets or resets it
 *                                               (without F: asks twice)
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
#include "password.h"

#define MAX_LIST 1000

static int
usage(void)
{
	fprintf(stderr, "usage: gymctl operator add NAME --role operator|auditor "
	    "[--password-file F|-]\n"
	    "       gymctl operator password NAME [--password-file F|-]\n"
	    "       gymctl operator list\n"
	    "       gymctl operator revoke ID\n");
	return 2;
}

/* A password from pwfile (or the prompt) that password.h accepts. */
static int
read_acceptable(const char *pwfile, char *buf, size_t len)
{
	if (!gym_ctl_read_password(pwfile, buf, len))
		return 0;
	if (!gym_password_acceptable(buf)) {
		gym_wipe(buf, len);
		fprintf(stderr, "gymctl: a password is %d to %d characters without control "
		    "characters\n", GYM_PASSWORD_MIN, GYM_PASSWORD_MAX);
		return 0;
	}
	return 1;
}

static int
cmd_add(struct gym_db *db, int argc, char **argv)
{
	struct gym_actor actor = { "system", 0, NULL, "gymctl", NULL, NULL };
	char token[GYM_OPERATOR_TOKEN_LEN + 1];
	const char *name = NULL, *rolename = gym_ctl_opt(argc, argv, "--role");
	const char *pwfile = gym_ctl_opt(argc, argv, "--password-file");
	char password[GYM_PASSWORD_MAX + 2];
	long long id = 0, other = 0;
	enum gym_err e;
	int role;

	/* NAME is the one argument that is not an option or its value */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 || strcmp(argv[i], "--password-file") == 0)
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
	/* staff sign in by name: one active operator per name with a password */
	if (pwfile != NULL && gym_operator_find_active(db, name, &other) == GYM_OK) {
		fprintf(stderr, "gymctl: operator %lld is called %s already: set its password with "
		    "gymctl operator password NAME, or revoke it first\n", other, name);
		return 1;
	}
	if (pwfile != NULL && !read_acceptable(pwfile, password, sizeof(password)))
		return 1;
	if ((e = gym_operator_add(db, &actor, name, role, &id, token)) != GYM_OK) {
		fprintf(stderr, "gymctl: could not add the operator: %s%s\n", gym_strerror(e),
		    e == GYM_EINVAL ? " (NAME is 1-64 bytes without control characters)" : "");
		return 1;
	}
	fprintf(stderr, "operator %lld (%s) added; the token below is shown only once\n",
	    id, gym_operator_role_name(role));
	printf("%s\n", token);
	gym_wipe(token, sizeof(token));
	if (pwfile != NULL) {
		e = gym_operator_set_password(db, &actor, id, password);
		gym_wipe(password, sizeof(password));
		if (e != GYM_OK) {
			fprintf(stderr, "gymctl: could not set the password: %s\n", gym_strerror(e));
			return 1;
		}
		fprintf(stderr, "operator %lld signs in to the console as %s with the password\n",
		    id, name);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* cmd_password: set or reset the sign-in password of the newest active
 * operator called NAME (ends its sessions, lifts a lockout). */
static int
cmd_password(struct gym_db *db, int argc, char **argv)
{
	struct gym_actor actor = { "system", 0, NULL, "gymctl", NULL, NULL };
	const char *name = NULL, *pwfile = gym_ctl_opt(argc, argv, "--password-file");
	char password[GYM_PASSWORD_MAX + 2];
	long long id = 0;
	enum gym_err e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--password-file") == 0)
			i++;
		else if (name == NULL)
			name = argv[i];
		else
			return usage();
	}
	if (name == NULL)
		return usage();
	if ((e = gym_operator_find_active(db, name, &id)) != GYM_OK) {
		fprintf(stderr, "gymctl: no active operator called %s: %s\n", name, gym_strerror(e));
		return 1;
	}
	if (!read_acceptable(pwfile, password, sizeof(password)))
		return 1;
	e = gym_operator_set_password(db, &actor, id, password);
	gym_wipe(password, sizeof(password));
	if (e != GYM_OK) {
		fprintf(stderr, "gymctl: could not set the password: %s\n", gym_strerror(e));
		return 1;
	}
	printf("operator %lld (%s): password set; its sessions are ended\n", id, name);
	return 0;
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
	if (argc >= 1 && strcmp(argv[0], "password") == 0)
		return cmd_password(db, argc, argv);
	if (argc >= 1 && strcmp(argv[0], "revoke") == 0)
		return cmd_revoke(db, argc, argv);
	return usage();
}
