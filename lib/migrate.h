/*
 * migrate.h: apply migrations/NNNN_verb_object.sql in order, each in its
 * own transaction, recording version and SHA-256 in schema_migrations.  An
 * applied file whose checksum changed stops the run: applied files are
 * never edited.  A session advisory lock serialises concurrent runners.
 */
#ifndef GYM_MIGRATE_H
#define GYM_MIGRATE_H

#include "gym.h"
#include "db.h"

/* *applied receives how many files were applied now.  On failure err
 * names the file and the reason. */
enum gym_err gym_migrate(struct gym_db *, const char *dir, int *applied, char *err, size_t errsz);
/* GYM_OK when every file in dir is applied unchanged (gymd checks this at
 * start), GYM_EINVAL with a message otherwise. */
enum gym_err gym_migrate_check(struct gym_db *, const char *dir, char *err, size_t errsz);

#endif
