/*
 * alitest.c: the Alipay simulator's configuration and control requests
 * for the integration suites (alitest.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <curl/curl.h>

#include "alitest.h"
#include "crypto.h"
#include "simtest.h"

int
alit_available(const char *suite)
{
	const char *b = getenv(ALIT_ENV);

	if (b == NULL || *b == '\0') {
		fprintf(stderr, "skipped: %s: %s not set\n", suite, ALIT_ENV);
		return 0;
	}
	return 1;
}

EVP_PKEY *
alit_key(const char *name, int private)
{
	const char *d = getenv("GYM_VECTORS_DIR");
	char *p = gym_asprintf("%s/keys/%s", d != NULL && *d != '\0' ? d : "test/vectors", name);
	EVP_PKEY *k = NULL;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(private ? gym_key_load_private(p, &k) : gym_key_load_public(p, &k),
	    GYM_OK);
	free(p);
	return k;
}

void
alit_config(struct gym_config *cfg)
{
	/* the test stack's own alipay.* lines (stack.sh) give way to these */
	free(cfg->ali_app_id);
	free(cfg->ali_seller_id);
	free(cfg->ali_gateway_url);
	free(cfg->ali_notify_url);
	free(cfg->ali_cainfo);
	EVP_PKEY_free(cfg->ali_app_key);
	EVP_PKEY_free(cfg->ali_public_key);
	cfg->ali_app_id = strdup("2021000000000001");
	cfg->ali_seller_id = strdup("2088000000000001");
	cfg->ali_gateway_url = gym_asprintf("%s/gateway.do", getenv(ALIT_ENV));
	cfg->ali_notify_url = strdup("https://127.0.0.1:9/api/v1/payment/alipay/callback");
	cfg->ali_cainfo = strdup(getenv(SIMT_ENV_CA));
	cfg->ali_app_key = alit_key("alipay_app_key.pem", 1);
	cfg->ali_public_key = alit_key("alipay_platform_pub.pem", 0);
}

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	char **buf = arg;
	size_t old = *buf != NULL ? strlen(*buf) : 0;
	char *nb = realloc(*buf, old + size * n + 1);

	if (nb == NULL)
		return 0;
	memcpy(nb + old, p, size * n);
	nb[old + size * n] = '\0';
	*buf = nb;
	return size * n;
}

long
alit_request(const char *method, const char *path, const char *body, char **out)
{
	char *url = gym_asprintf("%s%s", getenv(ALIT_ENV), path);
	char *buf = NULL;
	CURL *c = curl_easy_init();
	long status = 0;

	ck_assert_ptr_nonnull(url);
	ck_assert_ptr_nonnull(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	curl_easy_setopt(c, CURLOPT_CAINFO, getenv(SIMT_ENV_CA));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 8000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	free(url);
	if (out != NULL)
		*out = buf;
	else
		free(buf);
	return status;
}
