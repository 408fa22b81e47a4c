/* ctl.h: gymctl's subcommands, one file each. */
#ifndef GYM_CTL_H
#define GYM_CTL_H

#include "config.h"
#include "db.h"

const char *gym_ctl_opt(int argc, char **argv, const char *name);
int gym_ctl_schedule_list(struct gym_db *);
int gym_ctl_operator(struct gym_db *, int argc, char **argv);
int gym_ctl_pii(struct gym_db *, const struct gym_config *, int argc, char **argv);
int gym_ctl_reconcile(struct gym_db *, const struct gym_config *, int argc, char **argv);

#endif
