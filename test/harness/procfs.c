/*
 * procfs.c: gymd's processes as /proc shows them (see procfs.h).
 */
#include <sys/types.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

int
procfs_children(long master, long *kids)
{
	char path[96];
	FILE *f;
	long pid;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", master, master);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (n < PROCFS_MAXKIDS && fscanf(f, "%ld", &pid) == 1)
		kids[n++] = pid;
	fclose(f);
	return n;
}

int
procfs_has_epoll(long pid)
{
	char dir[64], path[512], target[256];
	struct dirent *de;
	DIR *d;
	ssize_t len;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((len = readlink(path, target, sizeof(target) - 1)) <= 0)
			continue;
		target[len] = '\0';
		found = strstr(target, "eventpoll") != NULL;
	}
	closedir(d);
	return found;
}
