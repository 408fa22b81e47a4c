/*
 * qrpng.h: a QR code (libqrencode) as a PNG image: 1-bit greyscale
 * (0 dark, 1 light), deflated and checksummed with zlib.  A Native
 * payment's code_url at scale 6 comes to a few hundred bytes (384 for
 * test/unit/check_qrpng.c's; 49,574 with 8-bit pixels in stored blocks).
 */
#ifndef GYM_QRPNG_H
#define GYM_QRPNG_H

#include <stddef.h>

#include "gym.h"

/* The quiet zone around the code, in modules. */
#define GYM_QR_QUIET	4

/*
 * text as a QR code (level M), scale pixels per module, with a
 * GYM_QR_QUIET-module quiet zone.  *png is malloc'd (caller frees).
 * Returns GYM_EINVAL for a NULL text, a scale outside 1..20 or a text too
 * long for a QR code, GYM_ENOMEM otherwise on failure.
 */
enum gym_err gym_qr_png(const char *text, int scale, unsigned char **png, size_t *len);

#endif
