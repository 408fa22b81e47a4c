/*
 * main.c: gymctl, the operators' and sysadmin's command line.
 *   gymctl [-c FILE] migrate [-d DIR]
 *   gymctl [-c FILE] schedule add --course NAME --starts RFC3339 --ends RFC3339 --capacity N
 *   gymctl [-c FILE] schedule list
 *   gymctl [-c FILE] sweep
 *   gymctl [-c FILE] operator add|list|revoke ...
 *   gymctl [-c FILE] pii rekey
 *   gymctl [-c FILE] product list | add ... | set ID ...   (product.c)
 *   gymctl [-c FILE] reconcile --date YYYY-MM-DD [--channel wechat|alipay] [--force]
 *   gymctl help | --help | -h      usage on stdout, exit 0
 *   gymctl --version | -V          the version on stdout, exit 0
 * Without -c it uses $GYM_CONFIG, else the config make run wrote
 * (var/dev/gymd.conf).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "booking.h"
#include "config.h"
#include "ctl.h"
#include "log.h"
#include "migrate.h"
#include "version.h"

static const char usage_text[] =
    "usage: gymctl [-c FILE] migrate [-d DIR]\n"
    "       gymctl [-c FILE] schedule add --course NAME --starts RFC3339 --ends RFC3339 --capacity N\n"
    "       gymctl [-c FILE] schedule list\n"
    "       gymctl [-c FILE] sweep\n"
    "       gymctl [-c FILE] operator add NAME --role operator|auditor [--password-file F|-]\n"
    "       gymctl [-c FILE] operator password NAME [--password-file F|-]\n"
    "       gymctl [-c FILE] retention run --dir DIR | --dry-run\n"
    "       gymctl [-c FILE] operator list | operator revoke ID\n"
    "       gymctl [-c FILE] pii rekey\n"
    "       gymctl [-c FILE] product list\n"
    "       gymctl [-c FILE] product add --kind membership|class_pack --name NAME --price-fen N --days N [--credits N]\n"
    "       gymctl [-c FILE] product set ID [--name NAME] [--price-fen N] [--days N] [--credits N] [--active true|false]\n"
    "       gymctl [-c FILE] reconcile --date YYYY-MM-DD [--channel wechat|alipay] [--force]\n"
    "       gymctl help | --version\n"
    "Without -c: $GYM_CONFIG, else var/dev/gymd.conf.\n";

static int
usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

/*
 * help, --help, -h, --version, -V: the answer on stdout.  Returns 1 when
 * ARG was one of them, 0 otherwise.
 */
static int
info_command(const char *arg)
{
	if (strcmp(arg, "help") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
		fputs(usage_text, stdout);
	else if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0)
		printf("gymctl %s\n", gym_version());
	else
		return 0;
	return 1;
}

const char *
gym_ctl_opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int
cmd_migrate(struct gym_db *db, int argc, char **argv)
{
	const char *dir = gym_ctl_opt(argc, argv, "-d");
	char err[1024];
	int n = 0;

	if (dir == NULL)
		dir = getenv("GYM_MIGRATIONS") ? getenv("GYM_MIGRATIONS") : "migrations";
	if (gym_migrate(db, dir, &n, err, sizeof(err)) != GYM_OK) {
		fprintf(stderr, "gymctl: migrate: %s\n", err);
		return 1;
	}
	printf("%d migration(s) applied\n", n);
	return 0;
}

static int
cmd_schedule(struct gym_db *db, int argc, char **argv)
{
	struct gym_actor actor = { "operator", 0, NULL, "gymctl", NULL, NULL };
	const char *course, *starts, *ends, *cap;
	char *end;
	long capacity;
	int64_t s, e;
	long long id;
	enum gym_err err;

	if (argc >= 1 && strcmp(argv[0], "list") == 0)
		return gym_ctl_schedule_list(db);
	if (argc < 1 || strcmp(argv[0], "add") != 0)
		return usage();
	course = gym_ctl_opt(argc, argv, "--course");
	starts = gym_ctl_opt(argc, argv, "--starts");
	ends = gym_ctl_opt(argc, argv, "--ends");
	cap = gym_ctl_opt(argc, argv, "--capacity");
	if (course == NULL || starts == NULL || ends == NULL || cap == NULL)
		return usage();
	if (gym_time_parse(starts, &s) == -1 || gym_time_parse(ends, &e) == -1) {
		fprintf(stderr, "gymctl: --starts and --ends take RFC 3339 times\n");
		return 2;
	}
	errno = 0;
	capacity = strtol(cap, &end, 10);
	if (errno != 0 || end == cap || *end != '\0' || capacity < 0 || capacity > 10000) {
		fprintf(stderr, "gymctl: --capacity takes a whole number from 0 to 10000, not '%s'\n",
		    cap);
		return 2;
	}
	if (s <= gym_now_us()) {
		fprintf(stderr, "gymctl: --starts is in the past: a class starts in the future\n");
		return 2;
	}
	if (e <= s) {
		fprintf(stderr, "gymctl: --ends must be after --starts\n");
		return 2;
	}
	if ((err = gym_schedule_create(db, &actor, course, s, e, (int)capacity, &id)) != GYM_OK) {
		fprintf(stderr, "gymctl: could not create the class: %s\n", gym_strerror(err));
		return 1;
	}
	printf("%lld\n", id);
	return 0;
}

int
gym_ctl_schedule_list(struct gym_db *db)
{
	struct gym_schedule s[200];
	char t[40];
	int n = 0;
	int64_t now = gym_now_us();

	if (gym_schedule_list(db, now - 86400LL * 1000000, now + 366LL * 86400 * 1000000,
	    s, 200, &n) != GYM_OK) {
		fprintf(stderr, "gymctl: could not list classes\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		gym_time_format(s[i].starts_at, t, sizeof(t));
		printf("%lld\t%s\t%d/%d\t%s\n", s[i].id, t, s[i].available, s[i].capacity,
		    s[i].course_name);
	}
	return 0;
}

static int
cmd_sweep(struct gym_db *db, const struct gym_config *cfg)
{
	int h = 0, o = 0;

	if (gym_sweep_orders(db, cfg->sweep_batch, &o) != GYM_OK ||
	    gym_sweep_holds(db, cfg->sweep_batch, &h) != GYM_OK) {
		fprintf(stderr, "gymctl: sweep failed\n");
		return 1;
	}
	printf("expired %d order(s), %d hold(s)\n", o, h);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct gym_config cfg;
	struct gym_db *db = NULL;
	const char *file = getenv("GYM_CONFIG");
	char err[1024];
	int rc = 2, i = 1;

	if (file == NULL)
		file = "var/dev/gymd.conf";
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		file = argv[2];
		i = 3;
	}
	if (i >= argc)
		return usage();
	if (i + 1 == argc && info_command(argv[i]))
		return fflush(stdout) == 0 ? 0 : 1;
	gym_log_init("gymctl", GYM_LOG_WARN);
	if (gym_config_load(file, &cfg, err, sizeof(err)) != GYM_OK) {
		fprintf(stderr, "gymctl: %s\n", err);
		return 1;
	}
	if (gym_db_new(cfg.db, cfg.db_lock_timeout_ms, &db) != GYM_OK ||
	    gym_db_ensure(db) != GYM_OK) {
		fprintf(stderr, "gymctl: could not connect to the database\n");
		rc = 1;
	} else if (strcmp(argv[i], "migrate") == 0)
		rc = cmd_migrate(db, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "schedule") == 0)
		rc = cmd_schedule(db, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "sweep") == 0)
		rc = cmd_sweep(db, &cfg);
	else if (strcmp(argv[i], "operator") == 0)
		rc = gym_ctl_operator(db, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "pii") == 0)
		rc = gym_ctl_pii(db, &cfg, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "product") == 0)
		rc = gym_ctl_product(db, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "retention") == 0)
		rc = gym_ctl_retention(db, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "reconcile") == 0)
		rc = gym_ctl_reconcile(db, &cfg, argc - i - 1, argv + i + 1);
	else
		rc = usage();
	gym_db_free(db);
	gym_config_free(&cfg);
	return rc;
}
