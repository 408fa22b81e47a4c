/*
 * wxsign.c: WeChat Pay APIv3 message signing and verification.  Owns the
 * texts that get signed (request, response/notification, paySign), the
 * Authorization header in both directions, the verification keyring and
 * the replay window.  Pure: no I/O but key loading, no clock (callers pass
 * now), every RSA operation goes through crypto.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "wxsign.h"

#define WX_SCHEME "WECHATPAY2-SHA256-RSA2048 "
/* Longest timestamp we parse: keeps strtoll far from overflow. */
#define WX_TS_MAXDIGITS 18

/* One line of a text to be signed; each gets a '\n' after it. */
struct line {
	const char *p;
	size_t len;
};

#define LINE(s) ((struct line){ (s), strlen(s) })

/* The Authorization parameters, by name, and where each one goes. */
#define AUTH_FIELD(name, member) \
	{ name, offsetof(struct gym_wx_auth, member), \
	  sizeof(((struct gym_wx_auth *)0)->member) }
static const struct auth_field {
	const char *name;
	size_t off, size;
} auth_fields[] = {
	AUTH_FIELD("mchid", mchid),
	AUTH_FIELD("serial_no", serial),
	AUTH_FIELD("timestamp", timestamp),
	AUTH_FIELD("nonce_str", nonce),
	AUTH_FIELD("signature", signature),
};
#define AUTH_NFIELDS (sizeof(auth_fields) / sizeof(auth_fields[0]))

/* 1 when s is a non-empty header value fit for double quotes. */
static int
quotable(const char *s)
{
	if (!gym_nonempty(s))
		return 0;
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* "L1\nL2\n...Ln\n" into a malloc'd NUL-terminated *out. */
static enum gym_err
join_lines(const struct line *v, size_t n, char **out, size_t *outlen)
{
	size_t i, len = 0, off = 0;
	char *s;

	for (i = 0; i < n; i++) {
		if (v[i].len > SIZE_MAX / 2 - len)
			return GYM_EINVAL;
		len += v[i].len + 1;
	}
	if ((s = malloc(len + 1)) == NULL)
		return GYM_ENOMEM;
	for (i = 0; i < n; i++) {
		if (v[i].len > 0)
			memcpy(s + off, v[i].p, v[i].len);
		off += v[i].len;
		s[off++] = '\n';
	}
	s[off] = '\0';
	*out = s;
	if (outlen != NULL)
		*outlen = len;
	return GYM_OK;
}

/* The text of a response or notification: "TS\nNONCE\nBODY\n". */
static void
response_lines(struct line v[3], const char *ts, const char *nonce,
    const char *body, size_t blen)
{
	v[0] = LINE(ts);
	v[1] = LINE(nonce);
	v[2] = (struct line){ body, blen };
}

/* Base64 RSA-SHA256 signature of the joined lines. */
static enum gym_err
sign_lines(EVP_PKEY *key, const struct line *v, size_t n, char **sig_b64)
{
	char *msg = NULL;
	size_t len;
	enum gym_err rc;

	if ((rc = join_lines(v, n, &msg, &len)) == GYM_OK)
		rc = gym_rsa_sign(key, msg, len, sig_b64);
	free(msg);
	return rc;
}

/* Parse a decimal timestamp of digits only; 0 on success, -1 if not. */
static int
parse_ts(const char *s, int64_t *out)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || s[n] != '\0' || n > WX_TS_MAXDIGITS)
		return -1;
	*out = strtoll(s, NULL, 10);
	return 0;
}


/*
 * Parse one name="value" at p into out, marking it in *seen.  Unknown
 * names are skipped.  Returns the character after the closing quote, or
 * NULL on a malformed, repeated, empty or overlong parameter.
 */
static const char *
parse_param(const char *p, struct gym_wx_auth *out, unsigned *seen)
{
	const char *v, *end;
	size_t namelen = strcspn(p, "=,"), i;

	if (namelen == 0 || p[namelen] != '=' || p[namelen + 1] != '"')
		return NULL;
	v = p + namelen + 2;
	if ((end = strchr(v, '"')) == NULL || end == v)
		return NULL;
	for (i = 0; i < AUTH_NFIELDS; i++) {
		if (strlen(auth_fields[i].name) != namelen ||
		    strncmp(auth_fields[i].name, p, namelen) != 0)
			continue;
		if ((*seen & (1u << i)) || (size_t)(end - v) >= auth_fields[i].size)
			return NULL;
		*seen |= 1u << i;
		memcpy((char *)out + auth_fields[i].off, v, (size_t)(end - v));
		((char *)out)[auth_fields[i].off + (size_t)(end - v)] = '\0';
	}
	return end + 1;
}

/* The expiry of the certificate in the PEM file at path (Unix seconds), or
 * 0 when it holds a bare public key (WeChat's newer public keys carry no
 * expiry of their own). */
static int64_t
cert_not_after(const char *path)
{
	struct tm tm;
	int64_t t = 0;
	X509 *x;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x != NULL) {
		memset(&tm, 0, sizeof(tm));
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
			t = (int64_t)timegm(&tm);
		X509_free(x);
	}
	ERR_clear_error();
	return t;
}

enum gym_err
gym_wx_keyring_add(struct gym_wx_keyring *kr, const char *serial, const char *path)
{
	EVP_PKEY *key = NULL;
	size_t i;
	enum gym_err rc;

	if (kr == NULL || !gym_nonempty(serial) || path == NULL ||
	    strlen(serial) >= sizeof(kr->k[0].serial))
		return GYM_EINVAL;
	for (i = 0; i < kr->n; i++)
		if (strcmp(kr->k[i].serial, serial) == 0)
			break;
	if (i == GYM_WX_MAXKEYS)
		return GYM_EINVAL;
	if ((rc = gym_key_load_public(path, &key)) != GYM_OK)
		return rc;
	/* A serial added again (a re-downloaded certificate) replaces its key. */
	if (i == kr->n)
		kr->n++;
	else
		EVP_PKEY_free(kr->k[i].key);
	memcpy(kr->k[i].serial, serial, strlen(serial) + 1);
	kr->k[i].key = key;
	kr->k[i].not_after = cert_not_after(path);
	return GYM_OK;
}

void
gym_wx_keyring_free(struct gym_wx_keyring *kr)
{
	size_t i;

	if (kr == NULL)
		return;
	for (i = 0; i < kr->n; i++) {
		EVP_PKEY_free(kr->k[i].key);
		kr->k[i].key = NULL;
	}
	kr->n = 0;
}

EVP_PKEY *
gym_wx_keyring_get(const struct gym_wx_keyring *kr, const char *serial)
{
	size_t i;

	if (kr == NULL || serial == NULL)
		return NULL;
	for (i = 0; i < kr->n; i++)
		if (strcmp(kr->k[i].serial, serial) == 0)
			return kr->k[i].key;
	return NULL;
}

enum gym_err
gym_wx_request_message(const char *method, const char *url, long ts,
    const char *nonce, const char *body, size_t blen, char **out, size_t *outlen)
{
	char tsbuf[24];
	struct line v[5];

	if (out != NULL)
		*out = NULL;
	if (!gym_nonempty(method) || !gym_nonempty(url) || !gym_nonempty(nonce) ||
	    out == NULL || ts < 0 || (body == NULL && blen > 0))
		return GYM_EINVAL;
	snprintf(tsbuf, sizeof(tsbuf), "%ld", ts);
	v[0] = LINE(method);
	v[1] = LINE(url);
	v[2] = LINE(tsbuf);
	v[3] = LINE(nonce);
	v[4] = (struct line){ body, blen };
	return join_lines(v, 5, out, outlen);
}

enum gym_err
gym_wx_authorization(EVP_PKEY *merchant_key, const char *mchid,
    const char *serial, const char *method, const char *url, long ts,
    const char *nonce, const char *body, size_t blen, char **out)
{
	char *msg = NULL, *sig = NULL;
	size_t len;
	enum gym_err rc = GYM_EINVAL;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || !quotable(mchid) || !quotable(serial) || !quotable(nonce))
		goto out;
	if ((rc = gym_wx_request_message(method, url, ts, nonce, body, blen,
	    &msg, &len)) != GYM_OK ||
	    (rc = gym_rsa_sign(merchant_key, msg, len, &sig)) != GYM_OK)
		goto out;
	*out = gym_asprintf(WX_SCHEME "mchid=\"%s\",serial_no=\"%s\",timestamp=\"%ld\","
	    "nonce_str=\"%s\",signature=\"%s\"", mchid, serial, ts, nonce, sig);
	rc = *out == NULL ? GYM_ENOMEM : GYM_OK;
out:
	free(sig);
	free(msg);
	return rc;
}

enum gym_err
gym_wx_verify(const struct gym_wx_keyring *kr, const char *ts,
    const char *nonce, const char *serial, const char *signature,
    const char *body, size_t blen, time_t now)
{
	struct line v[3];
	EVP_PKEY *key;
	char *msg = NULL;
	size_t len;
	int64_t t;
	enum gym_err rc;

	if (kr == NULL || !gym_nonempty(ts) || !gym_nonempty(nonce) || !gym_nonempty(serial) ||
	    !gym_nonempty(signature) || (body == NULL && blen > 0))
		return GYM_EINVAL;
	if ((key = gym_wx_keyring_get(kr, serial)) == NULL || parse_ts(ts, &t) != 0 ||
	    t - (int64_t)now > GYM_WX_WINDOW || (int64_t)now - t > GYM_WX_WINDOW)
		return GYM_ECRYPTO;
	response_lines(v, ts, nonce, body, blen);
	if ((rc = join_lines(v, 3, &msg, &len)) == GYM_OK)
		rc = gym_rsa_verify(key, msg, len, signature);
	free(msg);
	return rc;
}

enum gym_err
gym_wx_sign_response(EVP_PKEY *key, const char *ts, const char *nonce,
    const char *body, size_t blen, char **sig_b64)
{
	struct line v[3];

	if (sig_b64 != NULL)
		*sig_b64 = NULL;
	if (!gym_nonempty(ts) || !gym_nonempty(nonce) || (body == NULL && blen > 0))
		return GYM_EINVAL;
	response_lines(v, ts, nonce, body, blen);
	return sign_lines(key, v, 3, sig_b64);
}

enum gym_err
gym_wx_paysign(EVP_PKEY *merchant_key, const char *appid, const char *ts,
    const char *nonce, const char *package, char **out)
{
	struct line v[4];

	if (out != NULL)
		*out = NULL;
	if (!gym_nonempty(appid) || !gym_nonempty(ts) || !gym_nonempty(nonce) ||
	    !gym_nonempty(package))
		return GYM_EINVAL;
	v[0] = LINE(appid);
	v[1] = LINE(ts);
	v[2] = LINE(nonce);
	v[3] = LINE(package);
	return sign_lines(merchant_key, v, 4, out);
}

enum gym_err
gym_wx_parse_authorization(const char *header, struct gym_wx_auth *out)
{
	const char *p;
	unsigned seen = 0;

	if (header == NULL || out == NULL)
		return GYM_EINVAL;
	memset(out, 0, sizeof(*out));
	if (strncmp(header, WX_SCHEME, strlen(WX_SCHEME)) != 0)
		return GYM_EINVAL;
	p = header + strlen(WX_SCHEME);
	for (;;) {
		p += strspn(p, " ");
		if ((p = parse_param(p, out, &seen)) == NULL)
			break;
		p += strspn(p, " ");
		if (*p != ',')
			break;
		p++;
	}
	if (p == NULL || *p != '\0' || seen != (1u << AUTH_NFIELDS) - 1) {
		memset(out, 0, sizeof(*out));
		return GYM_EINVAL;
	}
	return GYM_OK;
}
