/*
 * fuzz_headers.c: the request headers gymd parses itself (lib/httputil.c):
 * X-Request-Id (gym_http_rid_valid: it goes into logs and JSON bodies) and
 * CONTENT_LENGTH (gym_http_content_length: it sizes the body buffer).  The
 * bytes are "X-Request-Id\nContent-Length".
 *
 * Properties checked: an accepted request id is 1 to 64 characters of
 * [0-9A-Za-z-]; an accepted length is all digits (or empty, meaning 0)
 * and its value is the decimal number written, without overflow.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "httputil.h"

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
	char *parts[2];
	size_t n, v = 12345, want = 0;
	int overflow = 0;

	fuzz_split(data, size, parts, 2, NULL);
	if (gym_http_rid_valid(parts[0])) {
		n = strlen(parts[0]);
		if (n < 1 || n > GYM_HTTP_RID_MAX ||
		    strspn(parts[0], "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-") != n)
			fuzz_fail("request id \"%s\" accepted", parts[0]);
	}
	n = strlen(parts[1]);
	for (size_t i = 0; i < n && !overflow; i++) {
		if (parts[1][i] < '0' || parts[1][i] > '9' || want > (SIZE_MAX - 9) / 10)
			overflow = 1;
		else
			want = want * 10 + (size_t)(parts[1][i] - '0');
	}
	if (gym_http_content_length(parts[1], &v) == 0) {
		if (overflow || v != want)
			fuzz_fail("Content-Length \"%s\" read as %zu", parts[1], v);
	} else if (!overflow || v != 0)
		fuzz_fail("Content-Length \"%s\" refused (or left %zu)", parts[1], v);
	fuzz_free_parts(parts, 2);
	return 0;
}
