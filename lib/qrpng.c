/*
 * qrpng.c: QR code to PNG (see qrpng.h).  One IHDR, one IDAT (a zlib
 * stream from compress2), IEND; every row has filter 0: the image is
 * made of runs that deflate finds without help.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>
#include <zlib.h>

#include "qrpng.h"

struct buf {
	unsigned char *p;
	size_t len;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
put32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, x, 4);
}

/* A chunk: length, type, data, CRC-32 over type and data. */
static void
chunk(struct buf *b, const char *type, const unsigned char *data, size_t n)
{
	uLong crc = crc32(0L, (const Bytef *)type, 4);

	put32(b, (uint32_t)n);
	put(b, type, 4);
	if (n > 0) {
		put(b, data, n);
		crc = crc32(crc, data, (uInt)n);
	}
	put32(b, (uint32_t)crc);
}

/*
 * The raw image: side rows of a filter byte then ceil(side / 8) bytes,
 * most significant bit first, a set bit light.  Returns a malloc'd buffer
 * of *n bytes, NULL when out of memory.
 */
static unsigned char *
raster(const QRcode *qr, size_t scale, size_t side, size_t *n)
{
	size_t row = 1 + (side + 7) / 8;
	unsigned char *raw;

	if ((raw = calloc(side, row)) == NULL)
		return NULL;
	for (size_t y = 0; y < side; y++) {
		unsigned char *r = raw + y * row;
		long my = (long)(y / scale) - GYM_QR_QUIET;

		/* r[0], the filter byte, stays 0 (none) */
		for (size_t x = 0; x < side; x++) {
			long mx = (long)(x / scale) - GYM_QR_QUIET;
			int dark = my >= 0 && mx >= 0 && my < qr->width && mx < qr->width &&
			    (qr->data[my * qr->width + mx] & 1);

			if (!dark)
				r[1 + x / 8] |= (unsigned char)(0x80u >> (x % 8));
		}
		/* the pad bits after the last pixel stay 0 */
	}
	*n = side * row;
	return raw;
}

enum gym_err
gym_qr_png(const char *text, int scale, unsigned char **png, size_t *len)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	QRcode *qr = NULL;
	unsigned char *raw = NULL, *z = NULL, ihdr[13];
	struct buf out = { NULL, 0 };
	size_t side, rawlen = 0;
	uLongf zlen;
	enum gym_err e = GYM_ENOMEM;

	if (text == NULL || scale < 1 || scale > 20)
		return GYM_EINVAL;
	if ((qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL)
		return GYM_EINVAL;
	side = ((size_t)qr->width + 2 * GYM_QR_QUIET) * (size_t)scale;
	if ((raw = raster(qr, (size_t)scale, side, &rawlen)) == NULL)
		goto out;
	zlen = compressBound((uLong)rawlen);
	if ((z = malloc(zlen)) == NULL)
		goto out;
	if (compress2(z, &zlen, raw, (uLong)rawlen, Z_BEST_COMPRESSION) != Z_OK)
		goto out;
	if ((out.p = malloc(sizeof(sig) + 25 + 12 + zlen + 12)) == NULL)
		goto out;
	put(&out, sig, sizeof(sig));
	memset(ihdr, 0, sizeof(ihdr));
	for (int i = 0; i < 4; i++) {
		ihdr[i] = (unsigned char)(side >> (24 - 8 * i));
		ihdr[4 + i] = ihdr[i];
	}
	ihdr[8] = 1;		/* bit depth 1; colour type 0 (grey), no interlace */
	chunk(&out, "IHDR", ihdr, sizeof(ihdr));
	chunk(&out, "IDAT", z, zlen);
	chunk(&out, "IEND", NULL, 0);
	*png = out.p;
	*len = out.len;
	out.p = NULL;
	e = GYM_OK;
out:
	QRcode_free(qr);
	free(raw);
	free(z);
	free(out.p);
	return e;
}
