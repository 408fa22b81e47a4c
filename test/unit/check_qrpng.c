/*
 * check_qrpng.c: unit tests of lib/qrpng.c.  The PNG is decoded here
 * independently (chunk walk, CRC-32 of every chunk, inflate) and every
 * pixel compared with libqrencode's own matrix for the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <qrencode.h>
#include <zlib.h>

#include "qrpng.h"
#include "unit.h"

/* A Native code_url as WeChat Pay returns it. */
#define CODE_URL "weixin://wxpay/bizpayurl?pr=7gQvj7Yzz"

struct png {
	uint32_t w, h;
	int depth, colour, interlace;
	unsigned char *idat;	/* all IDAT data, concatenated */
	size_t idat_len;
	int iend;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walks the chunks of p; fails the test on a bad signature, length or CRC. */
static void
png_parse(const unsigned char *p, size_t n, struct png *g)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t o = 8;

	memset(g, 0, sizeof(*g));
	ck_assert_uint_ge(n, 8);
	ck_assert_int_eq(memcmp(p, sig, 8), 0);
	while (o < n && !g->iend) {
		uint32_t len, crc;

		ck_assert_uint_le(o + 12, n);
		len = be32(p + o);
		ck_assert_uint_le(o + 12 + len, n);
		crc = (uint32_t)crc32(0L, p + o + 4, 4 + len);
		ck_assert_msg(crc == be32(p + o + 8 + len), "chunk %.4s: bad CRC",
		    (const char *)p + o + 4);
		if (memcmp(p + o + 4, "IHDR", 4) == 0) {
			ck_assert_uint_eq(len, 13);
			g->w = be32(p + o + 8);
			g->h = be32(p + o + 12);
			g->depth = p[o + 16];
			g->colour = p[o + 17];
			ck_assert_int_eq(p[o + 18], 0);	/* compression */
			ck_assert_int_eq(p[o + 19], 0);	/* filter method */
			g->interlace = p[o + 20];
		} else if (memcmp(p + o + 4, "IDAT", 4) == 0) {
			g->idat = realloc(g->idat, g->idat_len + len);
			ck_assert_ptr_nonnull(g->idat);
			memcpy(g->idat + g->idat_len, p + o + 8, len);
			g->idat_len += len;
		} else if (memcmp(p + o + 4, "IEND", 4) == 0) {
			ck_assert_uint_eq(len, 0);
			g->iend = 1;
		}
		o += 12 + len;
	}
	ck_assert_msg(g->iend, "no IEND");
	ck_assert_uint_eq(o, n);	/* nothing after IEND */
}

/* Pixel (x, y) of a 1-bit row-major raw image: 1 light, 0 dark. */
static int
pixel(const unsigned char *raw, size_t row, size_t x, size_t y)
{
	return raw[y * row + 1 + x / 8] >> (7 - x % 8) & 1;
}

START_TEST(decodes_to_the_qr_matrix)
{
	static const int scales[] = { 1, 3, 6 };
	int scale = scales[_i];
	unsigned char *png = NULL, *raw;
	size_t len = 0, row, side;
	uLongf rawlen;
	struct png g;
	QRcode *qr;

	ck_assert_int_eq(gym_qr_png(CODE_URL, scale, &png, &len), GYM_OK);
	png_parse(png, len, &g);
	qr = QRcode_encodeString(CODE_URL, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	ck_assert_ptr_nonnull(qr);
	side = ((size_t)qr->width + 2 * GYM_QR_QUIET) * (size_t)scale;
	ck_assert_uint_eq(g.w, side);
	ck_assert_uint_eq(g.h, side);
	ck_assert_int_eq(g.depth, 1);
	ck_assert_int_eq(g.colour, 0);
	ck_assert_int_eq(g.interlace, 0);
	row = 1 + (side + 7) / 8;
	rawlen = row * side + 1;	/* one spare byte: inflating more must not fit */
	raw = malloc(rawlen);
	ck_assert_ptr_nonnull(raw);
	ck_assert_int_eq(uncompress(raw, &rawlen, g.idat, (uLong)g.idat_len), Z_OK);
	ck_assert_uint_eq(rawlen, row * side);
	for (size_t y = 0; y < side; y++) {
		ck_assert_int_eq(raw[y * row], 0);	/* filter: none */
		for (size_t x = 0; x < side; x++) {
			long mx = (long)(x / (size_t)scale) - GYM_QR_QUIET;
			long my = (long)(y / (size_t)scale) - GYM_QR_QUIET;
			int dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
			    (qr->data[my * qr->width + mx] & 1);

			ck_assert_msg(pixel(raw, row, x, y) == !dark,
			    "scale %d: pixel (%zu, %zu) is %s", scale, x, y,
			    dark ? "light, not dark" : "dark, not light");
		}
	}
	/* the finder pattern's corner is dark, the quiet zone light */
	ck_assert_int_eq(pixel(raw, row, GYM_QR_QUIET * (size_t)scale,
	    GYM_QR_QUIET * (size_t)scale), 0);
	ck_assert_int_eq(pixel(raw, row, 0, 0), 1);
	QRcode_free(qr);
	free(raw);
	free(g.idat);
	free(png);
}
END_TEST

/* The size issue 19 found: 49,574 bytes with 8-bit stored blocks. */
START_TEST(native_code_is_small)
{
	unsigned char *png = NULL;
	size_t len = 0;

	ck_assert_int_eq(gym_qr_png(CODE_URL, 6, &png, &len), GYM_OK);
	ck_assert_msg(len < 1024, "a Native QR code PNG of %zu bytes", len);
	free(png);
}
END_TEST

START_TEST(refuses_bad_arguments)
{
	unsigned char *png = NULL;
	size_t len = 0;
	char *big = malloc(8000);

	ck_assert_int_eq(gym_qr_png(NULL, 6, &png, &len), GYM_EINVAL);
	ck_assert_int_eq(gym_qr_png(CODE_URL, 0, &png, &len), GYM_EINVAL);
	ck_assert_int_eq(gym_qr_png(CODE_URL, 21, &png, &len), GYM_EINVAL);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 7999);
	big[7999] = '\0';
	ck_assert_int_eq(gym_qr_png(big, 6, &png, &len), GYM_EINVAL);	/* over QR's capacity */
	ck_assert_ptr_null(png);
	free(big);
}
END_TEST

Suite *
qrpng_suite(void)
{
	Suite *s = suite_create("qrpng");
	TCase *tc = tcase_create("Core");

	tcase_add_loop_test(tc, decodes_to_the_qr_matrix, 0, 3);
	tcase_add_test(tc, native_code_is_small);
	tcase_add_test(tc, refuses_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}
