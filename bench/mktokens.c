/*
 * mktokens.c: session tokens for the benchmark's users, minted with the
 * token secret of the running configuration (the same HMAC gymd checks),
 * so make bench needs no login round trip per user.
 *
 *   mktokens CONF FIRST_UID LAST_UID    prints "UID TOKEN" lines, valid 1 day
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "token.h"

int
main(int argc, char *argv[])
{
	struct gym_config cfg;
	char err[256], tok[128];
	long long first, last;
	time_t exp = time(NULL) + 86400;
	int rc = 1;

	if (argc != 4 || (first = atoll(argv[2])) <= 0 || (last = atoll(argv[3])) < first) {
		fprintf(stderr, "usage: mktokens CONF FIRST_UID LAST_UID\n");
		return 2;
	}
	if (gym_config_load(argv[1], &cfg, err, sizeof(err)) != GYM_OK) {
		fprintf(stderr, "mktokens: %s: %s\n", argv[1], err);
		return 1;
	}
	for (long long uid = first; uid <= last; uid++) {
		if (gym_token_issue(cfg.token_secret, cfg.token_secret_len, uid, exp, tok,
		    sizeof(tok)) != GYM_OK) {
			fprintf(stderr, "mktokens: could not issue a token for %lld\n", uid);
			goto out;
		}
		printf("%lld %s\n", uid, tok);
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	gym_config_free(&cfg);
	return rc;
}
