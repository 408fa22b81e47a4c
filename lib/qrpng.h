/*
 * qrpng.h: a QR code (libqrencode) as a PNG image.  The PNG is written
 * with stored (uncompressed) deflate blocks: a QR code image is small, and
 * this keeps zlib out of the build.
 */
#ifndef GYM_QRPNG_H
#define GYM_QRPNG_H

#include <stddef.h>

#include "gym.h"

/* scale pixels per module, with a 4-module quiet zone.  *png is malloc'd. */
enum gym_err gym_qr_png(const char *text, int scale, unsigned char **png, size_t *len);

#endif
