/*
 * main.c: gymd -c FILE [-n] [-d]; gymd --help; gymd --version
 *
 *   -c FILE  the configuration file (required)
 *   -n       check the configuration and exit: 0 when valid, 1 otherwise
 *   -d       log at debug level whatever log_level says
 *   --help, -h     usage on stdout, exit 0
 *   --version, -V  the version on stdout, exit 0
 *
 * gymd stays in the foreground under its supervisor (systemd) and writes
 * nothing to stdout; its log goes to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "version.h"

static const char usage_text[] =
    "usage: gymd -c FILE [-n] [-d]\n"
    "       gymd --help | --version\n"
    "  -c FILE  the configuration file (required)\n"
    "  -n       check the configuration and exit: 0 when valid, 1 otherwise\n"
    "  -d       log at debug level whatever log_level says\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

/*
 * The long options getopt(3) does not know; returns 1 when argv[1] was one
 * of them and its answer is on stdout, 0 otherwise.
 */
static int
info_option(int argc, char *argv[])
{
	if (argc != 2)
		return 0;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		fputs(usage_text, stdout);
	else if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		printf("gymd %s\n", gym_version());
	else
		return 0;
	return 1;
}

int
main(int argc, char *argv[])
{
	struct gym_config cfg;
	const char *path = NULL;
	char err[1024], created[256];
	int ch, check = 0, debug = 0, fd, rc;

	if (info_option(argc, argv))
		return fflush(stdout) == 0 ? 0 : 1;
	while ((ch = getopt(argc, argv, "c:dn")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'n':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (path == NULL || optind != argc)
		usage();
	if (gym_config_load(path, &cfg, err, sizeof(err)) != GYM_OK) {
		fprintf(stderr, "gymd: %s\n", err);
		return 1;
	}
	if (gym_listen_check(cfg.listen, err, sizeof(err)) == -1) {
		fprintf(stderr, "gymd: %s: %s\n", path, err);
		gym_config_free(&cfg);
		return 1;
	}
	if (check) {
		fprintf(stderr, "gymd: %s: configuration OK\n", path);
		gym_config_free(&cfg);
		return 0;
	}
	gym_log_init("gymd", debug ? GYM_LOG_DEBUG : cfg.log_level);
	if ((fd = gym_listen_open(cfg.listen, created, sizeof(created))) == -1) {
		gym_config_free(&cfg);
		return 1;
	}
	rc = gym_master_run(path, &cfg, fd, debug);
	close(fd);
	if (created[0] != '\0' && unlink(created) == -1)
		gym_log_warn("could not remove %s", created);
	gym_config_free(&cfg);
	return rc;
}
