/*
 * pii.c: gymctl pii rekey: re-seal every registration record under the
 * first key of pii_keys_file (after a new key was put first and gymd
 * restarted).  Safe beside the running service and a second rekey; prints
 * how many records were re-sealed.  The old key can leave the file once a
 * rekey reports 0.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "registration.h"

int
gym_ctl_pii(struct gym_db *db, const struct gym_config *cfg, int argc, char **argv)
{
	long long done = 0;
	enum gym_err e;

	if (argc < 1 || strcmp(argv[0], "rekey") != 0) {
		fprintf(stderr, "usage: gymctl [-c FILE] pii rekey\n");
		return 2;
	}
	if ((e = gym_registration_rekey(db, &cfg->pii, 200, &done)) != GYM_OK) {
		fprintf(stderr, "gymctl: pii rekey stopped after %lld record(s): %s%s\n", done,
		    gym_strerror(e), e == GYM_ENOTFOUND ?
		    " (a record is sealed under a key that is not in pii_keys_file)" : "");
		return 1;
	}
	printf("%lld record(s) re-sealed under key %s\n", done, cfg->pii.k[0].id);
	return 0;
}
