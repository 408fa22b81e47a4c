/*
 * version.h: the build's version string (git describe at build time).
 */
#ifndef GYM_VERSION_H
#define GYM_VERSION_H

/* The version this build was made from; a static string, never NULL. */
const char	*gym_version(void);

#endif
