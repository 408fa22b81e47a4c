/*
 * common.c: helpers of the fuzz harnesses (see fuzz.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fuzz.h"
#include "log.h"

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz property failed: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		fuzz_fail("out of memory copying %zu bytes", size);
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void
fuzz_split(const uint8_t *data, size_t size, char **parts, size_t n, size_t *lastlen)
{
	size_t i, off = 0;

	for (i = 0; i < n; i++) {
		const uint8_t *nl = NULL;
		size_t len = size - off;

		if (i + 1 < n && len > 0)
			nl = memchr(data + off, '\n', len);
		if (nl != NULL)
			len = (size_t)(nl - (data + off));
		parts[i] = fuzz_cstr(data + off, len);
		if (i + 1 == n && lastlen != NULL)
			*lastlen = len;
		off += len + (nl != NULL);
	}
}

void
fuzz_free_parts(char **parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(parts[i]);
		parts[i] = NULL;
	}
}

const char *
fuzz_key_path(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("GYM_VECTORS_DIR");

	snprintf(buf, len, "%s/keys/%s", dir != NULL && *dir != '\0' ? dir : "test/vectors",
	    name);
	return buf;
}

/* The 32-byte APIv3 key file (not a secret here: the shared test key). */
static void
load_apiv3(unsigned char key[32])
{
	char path[1024], buf[128];
	size_t n;
	FILE *f;

	if ((f = fopen(fuzz_key_path("apiv3_key.txt", path, sizeof(path)), "r")) == NULL) {
		fprintf(stderr, "fuzz: cannot read %s (set GYM_VECTORS_DIR)\n", path);
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	if (n != 32) {
		fprintf(stderr, "fuzz: %s is not 32 bytes\n", path);
		exit(2);
	}
	memcpy(key, buf, 32);
}

const struct gym_config *
fuzz_config(void)
{
	static struct gym_config cfg;
	static char appid[] = FUZZ_APPID, mchid[] = FUZZ_MCHID;
	static int loaded;
	char path[1024];

	if (loaded)
		return &cfg;
	memset(&cfg, 0, sizeof(cfg));
	if (gym_wx_keyring_add(&cfg.wx_platform, FUZZ_SERIAL,
	    fuzz_key_path("platform_pub.pem", path, sizeof(path))) != GYM_OK) {
		fprintf(stderr, "fuzz: cannot load %s (set GYM_VECTORS_DIR)\n", path);
		exit(2);
	}
	load_apiv3(cfg.wx_apiv3_key);
	cfg.wx_have_apiv3_key = 1;
	cfg.wx_appid = appid;
	cfg.wx_mchid = mchid;
	loaded = 1;
	return &cfg;
}

void
fuzz_quiet(void)
{
	/* only errors: a refused input logs a warning, which is its job */
	gym_log_init("fuzz", GYM_LOG_ERR);
}
