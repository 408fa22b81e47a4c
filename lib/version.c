/*
 * version.c: the version string the Makefile passes in as GYM_VERSION
 * (git describe, or the VERSION file outside a git tree).  Only this file
 * is compiled with it, so a new version rebuilds one object.
 */
#include "version.h"

#ifndef GYM_VERSION
#define GYM_VERSION "unknown"
#endif

const char *
gym_version(void)
{
	return GYM_VERSION;
}
