/*
 * qrpng.c: QR code to PNG (see qrpng.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "qrpng.h"

#define QUIET 4

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static uint32_t
crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

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

/* A chunk: length, type, data, CRC over type and data. */
static void
chunk(struct buf *b, const char *type, const unsigned char *data, size_t n)
{
	put32(b, (uint32_t)n);
	put(b, type, 4);
	if (n)
		put(b, data, n);
	put32(b, crc32_update(crc32_update(0, (const unsigned char *)type, 4), data, n));
}

/* zlib stream of stored blocks over raw. */
static unsigned char *
zstore(const unsigned char *raw, size_t n, size_t *zlen)
{
	size_t blocks = n / 65535 + 1, o = 0;
	unsigned char *z = malloc(2 + n + blocks * 5 + 4);
	uint32_t a = 1, b = 0;

	if (z == NULL)
		return NULL;
	z[o++] = 0x78;
	z[o++] = 0x01;
	for (size_t i = 0; i < n || i == 0; ) {
		size_t k = n - i > 65535 ? 65535 : n - i;

		z[o++] = i + k >= n ? 1 : 0;
		z[o++] = k & 0xff;
		z[o++] = k >> 8;
		z[o++] = ~k & 0xff;
		z[o++] = (~k >> 8) & 0xff;
		memcpy(z + o, raw + i, k);
		o += k;
		i += k;
		if (k == 0)
			break;
	}
	for (size_t i = 0; i < n; i++) {
		a = (a + raw[i]) % 65521;
		b = (b + a) % 65521;
	}
	z[o++] = b >> 8;
	z[o++] = b & 0xff;
	z[o++] = a >> 8;
	z[o++] = a & 0xff;
	*zlen = o;
	return z;
}

enum gym_err
gym_qr_png(const char *text, int scale, unsigned char **png, size_t *len)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	QRcode *qr = NULL;
	unsigned char *raw = NULL, *z = NULL, ihdr[13];
	struct buf out = { NULL, 0, 0 };
	size_t side, row, zlen = 0;
	enum gym_err e = GYM_ENOMEM;

	if (text == NULL || scale < 1 || scale > 20)
		return GYM_EINVAL;
	if ((qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL)
		return GYM_EINVAL;
	side = ((size_t)qr->width + 2 * QUIET) * (size_t)scale;
	row = side + 1;
	if ((raw = malloc(row * side)) == NULL)
		goto out;
	for (size_t y = 0; y < side; y++) {
		unsigned char *r = raw + y * row;
		long my = (long)(y / (size_t)scale) - QUIET;

		r[0] = 0;	/* filter: none */
		for (size_t x = 0; x < side; x++) {
			long mx = (long)(x / (size_t)scale) - QUIET;
			int dark = my >= 0 && mx >= 0 && my < qr->width && mx < qr->width &&
			    (qr->data[my * qr->width + mx] & 1);

			r[1 + x] = dark ? 0 : 255;
		}
	}
	if ((z = zstore(raw, row * side, &zlen)) == NULL)
		goto out;
	out.cap = sizeof(sig) + 25 + 12 + zlen + 12;
	if ((out.p = malloc(out.cap)) == NULL)
		goto out;
	put(&out, sig, sizeof(sig));
	memset(ihdr, 0, sizeof(ihdr));
	for (int i = 0; i < 4; i++) {
		ihdr[i] = (unsigned char)(side >> (24 - 8 * i));
		ihdr[4 + i] = ihdr[i];
	}
	ihdr[8] = 8;		/* bit depth; colour type 0 = grey */
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
