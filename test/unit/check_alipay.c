/*
 * check_alipay.c: unit tests of lib/alipay_sign.c, lib/alipay.c's pure
 * parts and lib/channel_alipay.c without the network.  Every case of
 * alipay.json (computed with Alipay's official Node SDK) is reproduced:
 * request, page-pay and v3 signing texts and signatures byte for byte, the
 * wire forms decoded back, every response verdict (tampered, re-serialised,
 * wrong key, unsigned error), every notification's decoded parameters,
 * signing text and verdict, the real notification signed by Alipay, and
 * the v3 answers' verdicts.  Tampering with a valid case is refused; yuan
 * amounts parse strictly; the channel opens the notifications.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "alipay.h"
#include "alipay_sign.h"
#include "channel.h"
#include "crypto.h"
#include "json.h"
#include "unit.h"
#include "vectors.h"

#define NREQUESTS	10
#define NRESPONSES	17
#define NNOTIFICATIONS	7
#define NPAGEPAY	2
#define NV3REQUESTS	4
#define NV3RESPONSES	5

static cJSON *root;
static EVP_PKEY *app_key, *app_pub, *ali_pub;

static void
setup(void)
{
	root = vec_load_file("alipay.json");
	app_key = vec_key(root, "app_private_key", 1);
	app_pub = vec_key(root, "app_public_key", 0);
	ali_pub = vec_key(root, "alipay_public_key", 0);
}

static void
teardown(void)
{
	EVP_PKEY_free(app_key);
	EVP_PKEY_free(app_pub);
	EVP_PKEY_free(ali_pub);
	app_key = app_pub = ali_pub = NULL;
	cJSON_Delete(root);
	root = NULL;
}

/* The members of a vector's params object, in its order. */
static void
params_of(const cJSON *obj, struct gym_ali_params *ps)
{
	const cJSON *it;

	memset(ps, 0, sizeof(*ps));
	cJSON_ArrayForEach(it, obj) {
		ck_assert(cJSON_IsString(it));
		ck_assert_int_eq(gym_ali_params_add(ps, it->string, it->valuestring), GYM_OK);
	}
}

/* ps holds exactly the members of obj, with the same values. */
static void
params_equal(const struct gym_ali_params *ps, const cJSON *obj)
{
	const cJSON *it;
	size_t n = 0;

	cJSON_ArrayForEach(it, obj) {
		const char *v = gym_ali_params_get(ps, it->string);

		ck_assert_msg(v != NULL, "parameter %s missing", it->string);
		ck_assert_str_eq(v, it->valuestring);
		n++;
	}
	ck_assert_uint_eq(ps->n, n);
}

/* Sign a case's params: the text and the sign are the SDK's. */
static void
signs_as_vector(const cJSON *c)
{
	struct gym_ali_params ps;
	char *text, *sig;
	size_t len;

	params_of(cJSON_GetObjectItemCaseSensitive(c, "params"), &ps);
	ck_assert_int_eq(gym_ali_sign_content(&ps, 0, &text, &len), GYM_OK);
	ck_assert_str_eq(text, vec_str(c, "sign_content"));
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_int_eq(gym_ali_sign(app_key, &ps, &sig), GYM_OK);
	ck_assert_str_eq(sig, vec_str(c, "sign"));
	ck_assert_int_eq(gym_rsa_verify(app_pub, text, len, sig), GYM_OK);
	free(text);
	free(sig);
	gym_ali_params_free(&ps);
}

START_TEST(test_requests)
{
	const cJSON *c, *wire;
	struct gym_ali_params q, b;
	const char *pq, *qs;
	char *text;
	size_t len;

	for (int i = 0; i < NREQUESTS; i++) {
		c = vec_item(root, "classic_requests", i);
		signs_as_vector(c);
		/* the wire form decodes back to the params and their sign */
		wire = cJSON_GetObjectItemCaseSensitive(c, "wire");
		pq = vec_str(wire, "path_and_query");
		ck_assert_ptr_nonnull(qs = strchr(pq, '?'));
		memset(&q, 0, sizeof(q));
		memset(&b, 0, sizeof(b));
		ck_assert_int_eq(gym_ali_form_parse(qs + 1, strlen(qs + 1), &q), GYM_OK);
		ck_assert_int_eq(gym_ali_form_parse(vec_str(wire, "body"),
		    strlen(vec_str(wire, "body")), &b), GYM_OK);
		for (size_t k = 0; k < b.n; k++)
			ck_assert_int_eq(gym_ali_params_add(&q, b.p[k].key, b.p[k].value), GYM_OK);
		ck_assert_str_eq(gym_ali_params_get(&q, "sign"), vec_str(c, "sign"));
		ck_assert_int_eq(gym_ali_sign_content(&q, 0, &text, &len), GYM_OK);
		ck_assert_str_eq(text, vec_str(c, "sign_content"));
		free(text);
		gym_ali_params_free(&q);
		gym_ali_params_free(&b);
	}
}
END_TEST

START_TEST(test_page_pay)
{
	const cJSON *c = vec_item(root, "page_pay", 0);
	struct gym_ali_params q;
	const char *qs;

	for (int i = 0; i < NPAGEPAY; i++)
		signs_as_vector(vec_item(root, "page_pay", i));
	/* the GET URL carries the same parameters and sign */
	ck_assert_ptr_nonnull(qs = strchr(vec_str(c, "url"), '?'));
	memset(&q, 0, sizeof(q));
	ck_assert_int_eq(gym_ali_form_parse(qs + 1, strlen(qs + 1), &q), GYM_OK);
	ck_assert_str_eq(gym_ali_params_get(&q, "sign"), vec_str(c, "sign"));
	ck_assert_int_eq(gym_ali_verify_notify(app_pub, &q), GYM_ECRYPTO);	/* sign_type kept */
	gym_ali_params_free(&q);
}
END_TEST

START_TEST(test_responses)
{
	const cJSON *c, *with, *valid;
	const char *body, *part;
	char node[128];
	EVP_PKEY *key;
	cJSON *got;
	size_t n;
	enum gym_err want;

	for (int i = 0; i < NRESPONSES; i++) {
		c = vec_item(root, "classic_responses", i);
		body = vec_str(c, "body");
		with = cJSON_GetObjectItemCaseSensitive(c, "verify_with");
		valid = cJSON_GetObjectItemCaseSensitive(c, "valid");
		key = ali_pub;
		if (with != NULL) {
			ck_assert_str_eq(with->valuestring, "keys/alipay_app_pub.pem");
			key = app_pub;
		}
		want = cJSON_IsNull(valid) ? GYM_EUPSTREAM :
		    cJSON_IsTrue(valid) ? GYM_OK : GYM_ECRYPTO;
		ck_assert_msg(gym_ali_verify_response(key, vec_str(c, "method"), body,
		    strlen(body), &got) == want, "response %d (%s)", i, vec_str(c, "case"));
		if (want == GYM_ECRYPTO)
			ck_assert_ptr_null(got);
		else
			ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(got, "code")));
		cJSON_Delete(got);
		if (want != GYM_OK)
			continue;
		/* the signed part is the node's exact bytes */
		ck_assert_int_eq(gym_ali_response_node(vec_str(c, "method"), node,
		    sizeof(node)), GYM_OK);
		ck_assert_int_eq(gym_ali_response_member(body, strlen(body), node, &part, &n),
		    GYM_OK);
		ck_assert_uint_eq(n, strlen(vec_str(c, "signed_content")));
		ck_assert(memcmp(part, vec_str(c, "signed_content"), n) == 0);
	}
}
END_TEST

/* A valid answer with one byte changed, a node named twice, trailing
 * text, or no sign is refused. */
START_TEST(test_responses_tampered)
{
	const cJSON *c = vec_item(root, "classic_responses", 1);
	const char *method = vec_str(c, "method"), *body = vec_str(c, "body");
	char *copy = strdup(body), *p, *two;
	size_t len = strlen(body);
	cJSON *got;

	ck_assert_ptr_nonnull(copy);
	ck_assert_ptr_nonnull(p = strstr(copy, "TRADE_SUCCESS"));
	p[6] = 'X';
	ck_assert_int_eq(gym_ali_verify_response(ali_pub, method, copy, len, &got), GYM_ECRYPTO);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(gym_ali_verify_response(ali_pub, method, body, len - 1, &got),
	    GYM_EINVAL);
	free(copy);
	/* {"node":{...},"sign":"..","node":{...}} */
	ck_assert_ptr_nonnull(two = malloc(2 * len + 2));
	memcpy(two, body, len - 1);
	two[len - 1] = ',';
	memcpy(two + len, body + 1, len - 1);
	two[2 * len - 1] = '\0';
	ck_assert_int_eq(gym_ali_verify_response(ali_pub, method, two, strlen(two), &got),
	    GYM_EINVAL);
	free(two);
	/* unsigned success */
	ck_assert_int_eq(gym_ali_verify_response(ali_pub, "alipay.trade.close",
	    "{\"alipay_trade_close_response\":{\"code\":\"10000\",\"msg\":\"Success\"}}", 64,
	    &got), GYM_ECRYPTO);
	ck_assert_int_eq(gym_ali_verify_response(ali_pub, method, "{}", 2, &got), GYM_EINVAL);
	ck_assert_int_eq(gym_ali_verify_response(ali_pub, method, "[1]", 3, &got), GYM_EINVAL);
}
END_TEST

START_TEST(test_notifications)
{
	const cJSON *c;
	struct gym_ali_params ps;
	const char *body;
	char *text;
	size_t len;

	for (int i = 0; i < NNOTIFICATIONS; i++) {
		c = vec_item(root, "notifications", i);
		body = vec_str(c, "body");
		memset(&ps, 0, sizeof(ps));
		ck_assert_int_eq(gym_ali_form_parse(body, strlen(body), &ps), GYM_OK);
		params_equal(&ps, cJSON_GetObjectItemCaseSensitive(c, "params"));
		ck_assert_int_eq(gym_ali_sign_content(&ps, 1, &text, &len), GYM_OK);
		ck_assert_str_eq(text, vec_str(c, "sign_content"));
		free(text);
		ck_assert_msg(gym_ali_verify_notify(ali_pub, &ps) == (cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(c, "signature_valid")) ? GYM_OK : GYM_ECRYPTO),
		    "notification %d (%s)", i, vec_str(c, "case"));
		/* never with the merchant's own public key */
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "signature_valid")))
			ck_assert_int_eq(gym_ali_verify_notify(app_pub, &ps), GYM_ECRYPTO);
		gym_ali_params_free(&ps);
	}
}
END_TEST

/* A valid notification with a value changed, sign_type signed, sign
 * missing, or the value decoded twice is refused. */
START_TEST(test_notifications_tampered)
{
	const cJSON *c = vec_item(root, "notifications", 0);
	struct gym_ali_params ps;
	const char *body = vec_str(c, "body");
	char *text, *sig;
	size_t len, i;

	memset(&ps, 0, sizeof(ps));
	ck_assert_int_eq(gym_ali_form_parse(body, strlen(body), &ps), GYM_OK);
	ck_assert_int_eq(gym_ali_verify_notify(ali_pub, &ps), GYM_OK);
	for (i = 0; i < ps.n && strcmp(ps.p[i].key, "passback_params") != 0; i++)
		;
	ck_assert_uint_lt(i, ps.n);
	free(ps.p[i].value);
	ck_assert_ptr_nonnull(ps.p[i].value = strdup("{\"order_id\":1042}"));	/* twice */
	ck_assert_int_eq(gym_ali_verify_notify(ali_pub, &ps), GYM_ECRYPTO);
	gym_ali_params_free(&ps);

	memset(&ps, 0, sizeof(ps));
	ck_assert_int_eq(gym_ali_form_parse(body, strlen(body), &ps), GYM_OK);
	ck_assert_int_eq(gym_ali_sign_content(&ps, 0, &text, &len), GYM_OK);
	sig = strdup(gym_ali_params_get(&ps, "sign"));
	ck_assert_int_eq(gym_rsa_verify(ali_pub, text, len, sig), GYM_ECRYPTO);
	free(text);
	for (i = 0; i < ps.n && strcmp(ps.p[i].key, "sign") != 0; i++)
		;
	ps.p[i].value[0] = '\0';
	ck_assert_int_eq(gym_ali_verify_notify(ali_pub, &ps), GYM_ECRYPTO);
	free(sig);
	gym_ali_params_free(&ps);
}
END_TEST

START_TEST(test_real_notification)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "real_alipay_notification");
	char path[] = "/tmp/gym-alipay-pubXXXXXX", *text;
	const char *pem = vec_str(c, "alipay_public_key_pem");
	struct gym_ali_params ps;
	EVP_PKEY *real;
	size_t len;
	int fd;

	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_int_eq(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
	close(fd);
	ck_assert_int_eq(gym_key_load_public(path, &real), GYM_OK);
	unlink(path);
	params_of(cJSON_GetObjectItemCaseSensitive(c, "params"), &ps);
	ck_assert_int_eq(gym_ali_sign_content(&ps, 1, &text, &len), GYM_OK);
	ck_assert_str_eq(text, vec_str(c, "sign_content"));
	free(text);
	ck_assert_int_eq(gym_ali_verify_notify(real, &ps), GYM_OK);
	ck_assert_int_eq(gym_ali_verify_notify(ali_pub, &ps), GYM_ECRYPTO);
	gym_ali_params_free(&ps);
	EVP_PKEY_free(real);
}
END_TEST

/* The v3 requests' Authorization headers byte for byte, the v3 answers'
 * verdicts. */
START_TEST(test_v3)
{
	const cJSON *c, *h;
	const char *body;
	char *auth;

	for (int i = 0; i < NV3REQUESTS; i++) {
		c = vec_item(root, "v3_requests", i);
		body = vec_str(c, "body");
		ck_assert_int_eq(gym_ali_v3_authorization(app_key, vec_str(c, "app_id"),
		    vec_str(c, "nonce"), vec_str(c, "timestamp_ms"), vec_str(c, "http_method"),
		    vec_str(c, "request_uri"), body, strlen(body), &auth), GYM_OK);
		ck_assert_str_eq(auth, vec_str(c, "authorization"));
		free(auth);
	}
	for (int i = 0; i < NV3RESPONSES; i++) {
		c = vec_item(root, "v3_responses", i);
		h = cJSON_GetObjectItemCaseSensitive(c, "headers");
		body = vec_str(c, "body");
		ck_assert_msg(gym_ali_v3_verify(ali_pub, vec_str(h, "alipay-timestamp"),
		    vec_str(h, "alipay-nonce"), body, strlen(body), vec_str(h, "alipay-signature")) ==
		    (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "valid")) ? GYM_OK :
		    GYM_ECRYPTO), "v3 response %d", i);
		ck_assert_int_eq(gym_ali_v3_verify(app_pub, vec_str(h, "alipay-timestamp"),
		    vec_str(h, "alipay-nonce"), body, strlen(body), vec_str(h, "alipay-signature")),
		    GYM_ECRYPTO);
	}
}
END_TEST

START_TEST(test_form)
{
	static const char *bad[] = { "a", "=1", "a=1&&b=2", "a=1&", "a=%2", "a=%zz", "a=%00",
	    "a=1&a=2" };
	struct gym_ali_params ps = { 0 };
	char *enc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(gym_ali_form_parse(bad[i], strlen(bad[i]), &ps) == GYM_EINVAL,
		    "%s", bad[i]);
	ck_assert_int_eq(gym_ali_form_parse("a=x+y%2B%26&b=", 14, &ps), GYM_OK);
	ck_assert_str_eq(gym_ali_params_get(&ps, "a"), "x y+&");
	ck_assert_str_eq(gym_ali_params_get(&ps, "b"), "");
	ck_assert_int_eq(gym_ali_form_encode(&ps, &enc), GYM_OK);
	ck_assert_str_eq(enc, "a=x%20y%2B%26&b=");
	free(enc);
	gym_ali_params_free(&ps);
}
END_TEST

START_TEST(test_amounts)
{
	static const char *bad[] = { "200", "200.5", "200.000", "-1.00", "+1.00", "01.00",
	    "1e2", " 1.00", "1.00 ", "", "1,00", "123456789012.00" };
	long long fen;
	char buf[24];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(gym_ali_fen(bad[i], &fen) == GYM_EINVAL, "%s", bad[i]);
	ck_assert_int_eq(gym_ali_fen(NULL, &fen), GYM_EINVAL);
	ck_assert_int_eq(gym_ali_fen("200.00", &fen), GYM_OK);
	ck_assert_int_eq(fen, 20000);
	ck_assert_int_eq(gym_ali_fen("0.01", &fen), GYM_OK);
	ck_assert_int_eq(fen, 1);
	ck_assert_int_eq(gym_ali_fen("0.00", &fen), GYM_OK);
	ck_assert_int_eq(fen, 0);
	gym_ali_yuan(20000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "200.00");
	gym_ali_yuan(5, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0.05");
	gym_ali_yuan(12345, buf, sizeof(buf));
	ck_assert_str_eq(buf, "123.45");
}
END_TEST

/* The client's signed parameters for a vector's call: the same text and
 * sign as the SDK's (notify_url only where it was sent). */
START_TEST(test_client_request)
{
	struct gym_config cfg;
	struct gym_ali_params ps;
	const cJSON *c, *params;
	const char *notify;
	char *text;

	for (int i = 0; i < NREQUESTS; i++) {
		c = vec_item(root, "classic_requests", i);
		params = cJSON_GetObjectItemCaseSensitive(c, "params");
		notify = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "notify_url"));
		memset(&cfg, 0, sizeof(cfg));
		cfg.ali_app_id = (char *)(uintptr_t)vec_str(root, "app_id");
		cfg.ali_app_key = app_key;
		cfg.ali_public_key = ali_pub;
		cfg.ali_gateway_url = (char *)(uintptr_t)"https://127.0.0.1:1/gateway.do";
		cfg.ali_notify_url = (char *)(uintptr_t)"https://gym.example.com/api/v1/payment/alipay/notify";
		ck_assert_int_eq(gym_ali_request(&cfg, vec_str(c, "method"),
		    vec_str(params, "biz_content"), vec_str(params, "timestamp"), notify != NULL,
		    NULL, &ps), GYM_OK);
		ck_assert_int_eq(gym_ali_sign_content(&ps, 0, &text, NULL), GYM_OK);
		ck_assert_str_eq(text, vec_str(c, "sign_content"));
		ck_assert_str_eq(gym_ali_params_get(&ps, "sign"), vec_str(c, "sign"));
		free(text);
		gym_ali_params_free(&ps);
	}
	/* no account configured: nothing is signed */
	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(gym_ali_request(&cfg, "alipay.trade.query", "{}", "2026-11-21 16:00:00",
	    0, NULL, &ps), GYM_EINTERNAL);
}
END_TEST

/* China time, whatever the host's zone. */
START_TEST(test_time)
{
	char buf[20];
	time_t t;

	gym_ali_time(1795248000, buf);			/* 2026-11-21 08:00:00 UTC */
	ck_assert_str_eq(buf, "2026-11-21 16:00:00");
	ck_assert_int_eq(gym_ali_time_parse("2026-11-21 16:00:00", &t), GYM_OK);
	ck_assert_int_eq(t, 1795248000);
	ck_assert_int_eq(gym_ali_time_parse("2026-11-22 10:01:02.418", &t), GYM_OK);
	ck_assert_int_eq(t, 1795248000 + 18 * 3600 + 62);
	ck_assert_int_eq(gym_ali_time_parse("2026-11-21T16:00:00", &t), GYM_EINVAL);
	ck_assert_int_eq(gym_ali_time_parse("2026-13-21 16:00:00", &t), GYM_EINVAL);
	ck_assert_int_eq(gym_ali_time_parse("2026-11-21 16:00", &t), GYM_EINVAL);
	ck_assert_int_eq(gym_ali_time_parse(NULL, &t), GYM_EINVAL);
}
END_TEST

/* ---- the channel (channel_alipay.c) over the vectors: no network ---- */

static struct gym_config ccfg;

static void
channel_setup(void)
{
	setup();
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.ali_app_id = (char *)(uintptr_t)vec_str(root, "app_id");
	ccfg.ali_app_key = app_key;
	ccfg.ali_public_key = ali_pub;
	ccfg.ali_gateway_url = (char *)(uintptr_t)"https://127.0.0.1:9/gateway.do";
	ccfg.ali_notify_url = (char *)(uintptr_t)"https://gym.example.com/api/v1/payment/alipay/callback";
	ccfg.ali_seller_id = (char *)(uintptr_t)vec_str(root, "seller_id");
}

static enum gym_err
open_body(struct gym_channel *ch, const char *body, struct gym_channel_event *ev)
{
	const struct gym_channel_notice n = { NULL, 0, body, strlen(body) };

	memset(ev, 0, sizeof(*ev));
	return gym_channel_open_event(ch, &n, ev);
}

START_TEST(test_channel_not_configured)
{
	struct gym_config none;
	struct gym_channel *ch = (struct gym_channel *)1;

	memset(&none, 0, sizeof(none));
	ck_assert_int_eq(gym_channel_new(&none, "alipay", &ch), GYM_ENOTFOUND);
	ck_assert_ptr_null(ch);
	none.ali_app_id = ccfg.ali_app_id;		/* half configured: still not */
	ck_assert_int_eq(gym_channel_new(&none, "alipay", &ch), GYM_ENOTFOUND);
}
END_TEST

/* Every notification vector through the channel: the accepted ones open
 * into neutral events, the rest are refused with a reason. */
START_TEST(test_channel_notifications)
{
	struct gym_channel *ch;
	struct gym_channel_event ev;
	const cJSON *c;
	enum gym_err e;
	time_t paid;

	ck_assert_int_eq(gym_channel_new(&ccfg, "alipay", &ch), GYM_OK);
	for (int i = 0; i < NNOTIFICATIONS; i++) {
		c = vec_item(root, "notifications", i);
		e = open_body(ch, vec_str(c, "body"), &ev);
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "accept")))
			ck_assert_msg(e == GYM_OK, "notification %d refused: %d", i, e);
		else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "signature_valid"))) {
			ck_assert_int_eq(e, GYM_EINVAL);
			ck_assert_str_eq(gym_channel_last_error(ch)->code, "WRONG_APP_ID");
		} else {
			ck_assert_int_eq(e, GYM_ECRYPTO);
			ck_assert_str_eq(gym_channel_last_error(ch)->code, "SIGN_VERIFY_FAILED");
		}
		if (e == GYM_OK)
			gym_channel_event_clear(&ev);
	}
	/* the payment */
	ck_assert_int_eq(open_body(ch, vec_str(vec_item(root, "notifications", 0), "body"), &ev),
	    GYM_OK);
	ck_assert_int_eq(ev.kind, GYM_CHANNEL_EVENT_PAYMENT);
	ck_assert_str_eq(ev.event_type, "TRADE_SUCCESS");
	ck_assert_int_eq(ev.trade.state, GYM_CHANNEL_PAID);
	ck_assert_str_eq(ev.trade.out_trade_no, "GYM20261121A1B2C3D4");
	ck_assert_str_eq(ev.trade.transaction_id, "2026112122001446880500012345");
	ck_assert_str_eq(ev.trade.payer_id, "2088102177846880");
	ck_assert_int_eq(ev.trade.amount_fen, 20000);
	ck_assert_int_eq(ev.trade.payer_fen, 20000);
	ck_assert_int_eq(gym_ali_time_parse("2026-11-21 16:02:31", &paid), GYM_OK);
	ck_assert_int_eq(ev.trade.success_us, (int64_t)paid * 1000000);
	ck_assert_str_eq(gym_json_string(ev.trade.doc, "passback_params"),
	    "%7B%22order_id%22%3A1042%7D");
	gym_channel_event_clear(&ev);
	/* a partial refund: TRADE_SUCCESS with out_biz_no is a refund */
	ck_assert_int_eq(open_body(ch, vec_str(vec_item(root, "notifications", 1), "body"), &ev),
	    GYM_OK);
	ck_assert_int_eq(ev.kind, GYM_CHANNEL_EVENT_REFUND);
	ck_assert_int_eq(ev.refund.state, GYM_CHANNEL_REFUND_SUCCESS);
	ck_assert_str_eq(ev.refund.out_refund_no, "RF20261122000001");
	ck_assert_str_eq(ev.refund.out_trade_no, "GYM20261121A1B2C3D4");
	ck_assert_int_eq(ev.refund.refund_fen, 5000);
	ck_assert_int_eq(ev.refund.total_fen, 20000);
	ck_assert_int_ne(ev.refund.success_us, 0);
	gym_channel_event_clear(&ev);
	/* the full refund: TRADE_CLOSED, this refund 150.00 of a 200.00 total */
	ck_assert_int_eq(open_body(ch, vec_str(vec_item(root, "notifications", 2), "body"), &ev),
	    GYM_OK);
	ck_assert_int_eq(ev.kind, GYM_CHANNEL_EVENT_REFUND);
	ck_assert_str_eq(ev.event_type, "REFUND.TRADE_CLOSED");
	ck_assert_int_eq(ev.refund.refund_fen, 15000);
	gym_channel_event_clear(&ev);
	gym_channel_free(ch);
}
END_TEST

/* Another seller, a tampered amount, a body that is not a form. */
START_TEST(test_channel_notification_refusals)
{
	const char *body = vec_str(vec_item(root, "notifications", 0), "body");
	struct gym_channel *ch;
	struct gym_channel_event ev;
	char *copy = strdup(body), *p;

	ck_assert_ptr_nonnull(copy);
	ccfg.ali_seller_id = (char *)(uintptr_t)"2088000000000002";
	ck_assert_int_eq(gym_channel_new(&ccfg, "alipay", &ch), GYM_OK);
	ck_assert_int_eq(open_body(ch, body, &ev), GYM_EINVAL);
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "WRONG_SELLER_ID");
	gym_channel_free(ch);
	ccfg.ali_seller_id = NULL;			/* not configured: not checked */
	ck_assert_int_eq(gym_channel_new(&ccfg, "alipay", &ch), GYM_OK);
	ck_assert_int_eq(open_body(ch, body, &ev), GYM_OK);
	gym_channel_event_clear(&ev);
	ck_assert_ptr_nonnull(p = strstr(copy, "&total_amount=200.00"));
	p[strlen("&total_amount=2")] = '1';
	ck_assert_int_eq(open_body(ch, copy, &ev), GYM_ECRYPTO);
	ck_assert_int_eq(open_body(ch, "{\"not\":\"a form\"}", &ev), GYM_ECRYPTO);
	ck_assert_int_eq(open_body(ch, "", &ev), GYM_ECRYPTO);
	free(copy);
	gym_channel_free(ch);
}
END_TEST

/* Page and wap pay: a signed URL on the gateway, nothing sent. */
START_TEST(test_channel_pay_url)
{
	struct gym_channel_payment p = { "GYM20261121PC000001", GYM_TRADE_PAGE, NULL, 20000,
	    0, "https://gym.example.com/pay/return" };
	struct gym_channel_params *out = calloc(1, sizeof(*out));
	struct gym_channel *ch;
	struct gym_ali_params q = { 0 };
	cJSON *biz;
	char *text;
	size_t len;

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(gym_channel_new(&ccfg, "alipay", &ch), GYM_OK);
	for (int wap = 0; wap < 2; wap++) {
		p.trade = wap ? GYM_TRADE_WAP : GYM_TRADE_PAGE;
		p.expire_us = wap ? (int64_t)1795249800 * 1000000 : 0;
		ck_assert_int_eq(gym_channel_pay(ch, &p, out), GYM_OK);
		ck_assert(strncmp(out->pay_url, "https://127.0.0.1:9/gateway.do?", 31) == 0);
		ck_assert_int_eq(gym_ali_form_parse(out->pay_url + 31, strlen(out->pay_url + 31),
		    &q), GYM_OK);
		ck_assert_str_eq(gym_ali_params_get(&q, "method"),
		    wap ? "alipay.trade.wap.pay" : "alipay.trade.page.pay");
		ck_assert_str_eq(gym_ali_params_get(&q, "return_url"), p.return_url);
		ck_assert_str_eq(gym_ali_params_get(&q, "notify_url"), ccfg.ali_notify_url);
		ck_assert_int_eq(gym_ali_sign_content(&q, 0, &text, &len), GYM_OK);
		ck_assert_int_eq(gym_rsa_verify(app_pub, text, len, gym_ali_params_get(&q, "sign")),
		    GYM_OK);
		free(text);
		ck_assert_ptr_nonnull(biz = cJSON_Parse(gym_ali_params_get(&q, "biz_content")));
		ck_assert_str_eq(gym_json_string(biz, "total_amount"), "200.00");
		ck_assert_str_eq(gym_json_string(biz, "out_trade_no"), p.out_trade_no);
		ck_assert_str_eq(gym_json_string(biz, "product_code"),
		    wap ? "QUICK_WAP_WAY" : "FAST_INSTANT_TRADE_PAY");
		if (wap)
			ck_assert_str_eq(gym_json_string(biz, "time_expire"), "2026-11-21 16:30:00");
		else
			ck_assert_ptr_null(gym_json_string(biz, "time_expire"));
		cJSON_Delete(biz);
		gym_ali_params_free(&q);
	}
	p.trade = GYM_TRADE_JSAPI;
	ck_assert_int_eq(gym_channel_pay(ch, &p, out), GYM_EINVAL);
	gym_channel_free(ch);
	free(out);
}
END_TEST

Suite *
alipay_suite(void)
{
	Suite *s = suite_create("alipay");
	TCase *tc = tcase_create("sign");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_requests);
	tcase_add_test(tc, test_page_pay);
	tcase_add_test(tc, test_responses);
	tcase_add_test(tc, test_responses_tampered);
	tcase_add_test(tc, test_notifications);
	tcase_add_test(tc, test_notifications_tampered);
	tcase_add_test(tc, test_real_notification);
	tcase_add_test(tc, test_v3);
	tcase_add_test(tc, test_form);
	tcase_add_test(tc, test_amounts);
	tcase_add_test(tc, test_client_request);
	tcase_add_test(tc, test_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("channel");
	tcase_add_checked_fixture(tc, channel_setup, teardown);
	tcase_add_test(tc, test_channel_not_configured);
	tcase_add_test(tc, test_channel_notifications);
	tcase_add_test(tc, test_channel_notification_refusals);
	tcase_add_test(tc, test_channel_pay_url);
	suite_add_tcase(s, tc);
	return s;
}
