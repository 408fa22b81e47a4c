/*
 * fuzz_b64.c: strict base64 (lib/crypto.c gym_b64_decode), which reads
 * the Wechatpay-Signature header and the ciphertext of a notification
 * before anything is verified.  The bytes are the text.
 *
 * Properties checked: accepted text is a multiple of 4 characters of the
 * standard alphabet with at most two '=' at the end; the decoded length
 * is 3 bytes per 4 characters less the padding; decoding, encoding and
 * decoding again gives the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fuzz.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *enc = NULL;
	unsigned char *out = NULL, *again = NULL;
	size_t n = strlen(s), outlen = 0, len2 = 0, pad = 0, body;

	if (gym_b64_decode(s, &out, &outlen) == GYM_OK) {
		if (n % 4 != 0)
			fuzz_fail("accepted %zu characters", n);
		if (n > 0)
			pad = (s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
		body = strspn(s, alphabet);
		if (body != n - pad || pad > 2)
			fuzz_fail("accepted \"%.100s\"", s);
		if (outlen != n / 4 * 3 - pad)
			fuzz_fail("%zu characters decoded to %zu bytes", n, outlen);
		if (gym_b64_encode(out, outlen, &enc) != GYM_OK ||
		    gym_b64_decode(enc, &again, &len2) != GYM_OK || len2 != outlen ||
		    (outlen > 0 && memcmp(out, again, outlen) != 0))
			fuzz_fail("\"%.100s\" does not survive encode and decode", s);
	} else if (out != NULL || outlen != 0)
		fuzz_fail("refused but left output");
	free(out);
	free(again);
	free(enc);
	free(s);
	return 0;
}
