/*
 * password.c: where gymctl reads a staff password from: --password-file F
 * (its first line; F "-" is standard input), or, without the option, a
 * prompt on the terminal with echo off (asked twice).  Never from the
 * command line, where ps and the shell history would show it.
 */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "crypto.h"
#include "ctl.h"

/* The first line of f into buf without its newline: 1, or 0 when there is
 * none or it does not fit. */
static int
first_line(FILE *f, char *buf, size_t len)
{
	size_t n;

	if (fgets(buf, (int)len, f) == NULL)
		return 0;
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == len - 1)
		return 0;
	buf[n] = '\0';
	return 1;
}

static int
prompt(const char *what, char *buf, size_t len)
{
	struct termios old, quiet;
	int ok;

	fprintf(stderr, "%s", what);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return 0;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
		return 0;
	ok = first_line(stdin, buf, len);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fprintf(stderr, "\n");
	return ok;
}

int
gym_ctl_read_password(const char *file, char *buf, size_t len)
{
	char again[256];
	FILE *f;
	int ok;

	if (file != NULL && strcmp(file, "-") == 0)
		return first_line(stdin, buf, len);
	if (file != NULL) {
		if ((f = fopen(file, "r")) == NULL) {
			perror(file);
			return 0;
		}
		ok = first_line(f, buf, len);
		fclose(f);
		return ok;
	}
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "gymctl: no terminal to ask for the password: use --password-file\n");
		return 0;
	}
	if (!prompt("new password: ", buf, len) || !prompt("again: ", again, sizeof(again)))
		return 0;
	ok = strcmp(buf, again) == 0;
	gym_wipe(again, sizeof(again));
	if (!ok)
		fprintf(stderr, "gymctl: the two passwords differ\n");
	return ok;
}
