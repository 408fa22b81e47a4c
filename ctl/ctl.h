/* ctl.h: gymctl's subcommands, one file each. */
#ifndef GYM_CTL_H
#define GYM_CTL_H

#include "config.h"
#include "db.h"

const char *gym_ctl_opt(int argc, char **argv, const char *name);
int gym_ctl_schedule_list(struct gym_db *);
int gym_ctl_operator(struct gym_db *, int argc, char **argv);
/* password.c: a staff password from file ("-" = stdin) or, with file NULL,
 * a terminal prompt; 1 with buf filled, 0 after saying why not. */
int gym_ctl_read_password(const char *file, char *buf, size_t len);
/* retention.c: gymctl retention run --dir DIR | --dry-run */
int gym_ctl_retention(struct gym_db *, int argc, char **argv);
int gym_ctl_pii(struct gym_db *, const struct gym_config *, int argc, char **argv);
int gym_ctl_product(struct gym_db *, int argc, char **argv);
int gym_ctl_reconcile(struct gym_db *, const struct gym_config *, int argc, char **argv);

#endif
