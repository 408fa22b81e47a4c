/*
 * fuzz_wxauth.c: the WeChat Pay Authorization header
 * (lib/wxsign.c gym_wx_parse_authorization), which the simulator parses
 * from every merchant request.  The bytes are the header value.
 *
 * Properties checked: an accepted header starts with the scheme; its five
 * parameters are non-empty, hold no '"', and are NUL-terminated within
 * their buffers; the header rebuilt from them (in gymd's own order) parses
 * to the same five; a refused header leaves the output zeroed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wxsign.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void
check_field(const char *name, const char *v, size_t size)
{
	if (memchr(v, '\0', size) == NULL)
		fuzz_fail("%s not terminated", name);
	if (v[0] == '\0' || strchr(v, '"') != NULL)
		fuzz_fail("%s is \"%s\"", name, v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gym_wx_auth zero;
	struct gym_wx_auth a, b;
	char *h = fuzz_cstr(data, size), *again;

	memset(&a, 'x', sizeof(a));
	if (gym_wx_parse_authorization(h, &a) != GYM_OK) {
		if (memcmp(&a, &zero, sizeof(a)) != 0)
			fuzz_fail("refused header left output behind");
		free(h);
		return 0;
	}
	if (strncmp(h, "WECHATPAY2-SHA256-RSA2048 ", 26) != 0)
		fuzz_fail("accepted without the scheme: %.60s", h);
	check_field("mchid", a.mchid, sizeof(a.mchid));
	check_field("serial_no", a.serial, sizeof(a.serial));
	check_field("timestamp", a.timestamp, sizeof(a.timestamp));
	check_field("nonce_str", a.nonce, sizeof(a.nonce));
	check_field("signature", a.signature, sizeof(a.signature));
	if ((again = gym_asprintf("WECHATPAY2-SHA256-RSA2048 mchid=\"%s\",serial_no=\"%s\","
	    "timestamp=\"%s\",nonce_str=\"%s\",signature=\"%s\"", a.mchid, a.serial,
	    a.timestamp, a.nonce, a.signature)) == NULL)
		fuzz_fail("out of memory");
	if (gym_wx_parse_authorization(again, &b) != GYM_OK || memcmp(&a, &b, sizeof(a)) != 0)
		fuzz_fail("rebuilt header parses differently: %s", again);
	free(again);
	free(h);
	return 0;
}
