/*
 * check_channel.c: the payment-channel seam (lib/channel.h) driven
 * directly, WeChat Pay against the simulator's own TLS listener (no
 * nginx, no database): a payment created and queried before and after
 * the payer pays, a failed one, close then query, refund and refund
 * query, and notifications as the simulator signs and sends them,
 * caught on a loopback listener of this test and opened by the channel;
 * a tampered body, signature or serial is refused as a signature failure.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>

#include "channel.h"
#include "integ.h"
#include "simtest.h"

#define OPENID "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
#define WAIT_MS 10000			/* for one notification */

static struct gym_config cfg;
static struct gym_channel *ch;
static int lfd = -1;			/* the notification listener */

static void
setup(void)
{
	simt_config(&cfg);
	ck_assert_int_eq(gym_channel_new(&cfg, GYM_CHANNEL_WECHAT, &ch), GYM_OK);
}

static void
teardown(void)
{
	gym_channel_free(ch);
	ch = NULL;
	if (lfd != -1)
		close(lfd);
	lfd = -1;
	gym_config_free(&cfg);
}

/* Listen on 127.0.0.1 (a port of the kernel's choice) and have the
 * simulator send this test's notifications there. */
static void
listen_notifications(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char url[64];

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(lfd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/notify", ntohs(sa.sin_port));
	free(cfg.wx_notify_url);
	free(cfg.wx_refund_notify_url);
	ck_assert_ptr_nonnull(cfg.wx_notify_url = strdup(url));
	ck_assert_ptr_nonnull(cfg.wx_refund_notify_url = strdup(url));
}

/* One received notification: the raw request and where its parts are. */
struct caught {
	char buf[16384];
	struct gym_channel_header h[4];
	struct gym_channel_notice n;
};

/* The value of header name in the request head (cut in place), or NULL. */
static const char *
head_value(char *head, const char *name)
{
	size_t nl = strlen(name);
	char *line, *v;

	for (line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, name, nl) != 0 || line[2 + nl] != ':')
			continue;
		for (v = line + 3 + nl; *v == ' '; v++)
			;
		return v;
	}
	return NULL;
}

/* Accept one notification within WAIT_MS, answer 204, fill c. */
static void
catch_one(struct caught *c)
{
	static const char *const names[4] = { "Wechatpay-Timestamp", "Wechatpay-Nonce",
	    "Wechatpay-Serial", "Wechatpay-Signature" };
	struct pollfd p = { lfd, POLLIN, 0 };
	size_t got = 0, blen;
	const char *cl;
	char *end, *v;
	int fd;
	ssize_t r;

	ck_assert_msg(poll(&p, 1, WAIT_MS) == 1, "no notification within %d ms", WAIT_MS);
	ck_assert_int_ne(fd = accept(lfd, NULL, NULL), -1);
	memset(c, 0, sizeof(*c));
	for (;;) {
		p = (struct pollfd){ fd, POLLIN, 0 };
		ck_assert_msg(poll(&p, 1, WAIT_MS) == 1, "notification cut short");
		r = read(fd, c->buf + got, sizeof(c->buf) - 1 - got);
		ck_assert_int_gt(r, 0);
		got += (size_t)r;
		c->buf[got] = '\0';
		if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
			continue;
		*end = '\0';
		cl = head_value(c->buf, "Content-Length");
		ck_assert_ptr_nonnull(cl);
		blen = strtoul(cl, NULL, 10);
		*end = '\r';
		if (got >= (size_t)(end + 4 - c->buf) + blen)
			break;
	}
	ck_assert_int_gt(write(fd, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", 47), 0);
	close(fd);
	c->n.body = end + 4;
	c->n.len = blen;
	*end = '\0';
	/* find every value first, then end each at its line's end */
	for (size_t i = 0; i < 4; i++) {
		c->h[i].name = names[i];
		c->h[i].value = head_value(c->buf, names[i]);
	}
	for (size_t i = 0; i < 4; i++)
		if ((v = (char *)(uintptr_t)c->h[i].value) != NULL)
			v[strcspn(v, "\r")] = '\0';
	c->n.headers = c->h;
	c->n.nheaders = 4;
}

/* A Native payment of 200 yuan under a fresh out_trade_no (into no). */
static void
pay_native(char *no, size_t len)
{
	struct gym_channel_payment p = { NULL, GYM_TRADE_NATIVE, NULL, 20000, 0, NULL };
	struct gym_channel_params out;
	enum gym_err e;

	p.out_trade_no = simt_trade_no(no, len);
	e = gym_channel_pay(ch, &p, &out);
	ck_assert_msg(e == GYM_OK, "pay %s: %s %s", no, gym_strerror(e),
	    gym_channel_last_error(ch)->code);
	ck_assert_msg(strncmp(out.code_url, "weixin://", 9) == 0, "%s", out.code_url);
	ck_assert_str_eq(out.prepay_id, "");
}

static void
query(const char *no, struct gym_channel_trade *t)
{
	enum gym_err e = gym_channel_query(ch, no, t);

	ck_assert_msg(e == GYM_OK, "query %s: %s %s", no, gym_strerror(e),
	    gym_channel_last_error(ch)->code);
	ck_assert_str_eq(t->out_trade_no, no);
	ck_assert_ptr_nonnull(t->doc);
}

START_TEST(test_pay_query_paid)
{
	struct gym_channel_trade t;
	char no[40];

	pay_native(no, sizeof(no));
	query(no, &t);
	ck_assert_int_eq(t.state, GYM_CHANNEL_PAYING);
	ck_assert_str_eq(t.state_code, "NOTPAY");
	ck_assert_int_eq(t.amount_fen, 20000);
	ck_assert_str_eq(t.transaction_id, "");
	ck_assert(t.success_us == 0);
	gym_channel_trade_clear(&t);
	ck_assert_ptr_null(t.doc);

	ck_assert_int_eq(simt_pay(no, NULL), 200);
	query(no, &t);
	ck_assert_int_eq(t.state, GYM_CHANNEL_PAID);
	ck_assert_str_eq(t.state_code, "SUCCESS");
	ck_assert_int_eq(t.amount_fen, 20000);
	ck_assert_int_eq(t.payer_fen, 20000);
	ck_assert_str_ne(t.transaction_id, "");
	ck_assert(t.success_us > 0);
	gym_channel_trade_clear(&t);
	/* paid: a close is a conflict */
	ck_assert_int_eq(gym_channel_close(ch, no), GYM_ECONFLICT);
}
END_TEST

START_TEST(test_pay_jsapi)
{
	struct gym_channel_payment p = { NULL, GYM_TRADE_JSAPI, OPENID, 20000, 0, NULL };
	struct gym_channel_params out;
	char no[40], want[160];

	p.out_trade_no = simt_trade_no(no, sizeof(no));
	ck_assert_int_eq(gym_channel_pay(ch, &p, &out), GYM_OK);
	ck_assert_str_ne(out.prepay_id, "");
	snprintf(want, sizeof(want), "prepay_id=%s", out.prepay_id);
	ck_assert_str_eq(out.package, want);
	ck_assert_uint_eq(strlen(out.nonce), 32);
	ck_assert_str_ne(out.timestamp, "");
	ck_assert_str_ne(out.pay_sign, "");
	ck_assert_str_eq(out.code_url, "");
	/* a JSAPI payment without its payer is refused before anything is sent */
	p.payer_id = NULL;
	p.out_trade_no = simt_trade_no(no, sizeof(no));
	ck_assert_int_eq(gym_channel_pay(ch, &p, &out), GYM_EINVAL);
}
END_TEST

START_TEST(test_pay_fails)
{
	struct gym_channel_trade t;
	char no[40];

	pay_native(no, sizeof(no));
	ck_assert_int_eq(simt_pay(no, "PAYERROR"), 200);
	query(no, &t);
	ck_assert_int_eq(t.state, GYM_CHANNEL_FAILED);
	ck_assert_str_eq(t.state_code, "PAYERROR");
	gym_channel_trade_clear(&t);
}
END_TEST

START_TEST(test_close_then_closed)
{
	struct gym_channel_trade t;
	char no[40];

	pay_native(no, sizeof(no));
	ck_assert_int_eq(gym_channel_close(ch, no), GYM_OK);
	query(no, &t);
	ck_assert_int_eq(t.state, GYM_CHANNEL_CLOSED);
	ck_assert_str_eq(t.state_code, "CLOSED");
	gym_channel_trade_clear(&t);
	ck_assert_int_eq(simt_pay(no, NULL), 409);
	/* a trade the channel never knew */
	simt_trade_no(no, sizeof(no));
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_ENOTFOUND);
	ck_assert_ptr_null(t.doc);
}
END_TEST

START_TEST(test_refund_and_query)
{
	struct gym_channel_refund_req req;
	struct gym_channel_refund f;
	char no[40], rno[48];
	int i;

	simt_faults("{\"refund_delay_ms\":0}");
	pay_native(no, sizeof(no));
	ck_assert_int_eq(simt_pay(no, NULL), 200);
	snprintf(rno, sizeof(rno), "R%s", no);
	req = (struct gym_channel_refund_req){ no, rno, "channel test", 20000, 20000 };
	ck_assert_int_eq(gym_channel_refund_send(ch, &req, &f), GYM_OK);
	ck_assert_str_eq(f.out_refund_no, rno);
	ck_assert_str_eq(f.out_trade_no, no);
	ck_assert_str_ne(f.refund_id, "");
	ck_assert_int_eq(f.refund_fen, 20000);
	ck_assert_int_eq(f.total_fen, 20000);
	ck_assert(f.state == GYM_CHANNEL_REFUND_PROCESSING ||
	    f.state == GYM_CHANNEL_REFUND_SUCCESS);
	gym_channel_refund_clear(&f);
	/* it settles at once (refund_delay_ms 0): the query says so */
	for (i = 0; i < 50; i++, usleep(100 * 1000)) {
		ck_assert_int_eq(gym_channel_refund_query(ch, NULL, rno, &f), GYM_OK);
		ck_assert_str_eq(f.out_refund_no, rno);
		if (f.state == GYM_CHANNEL_REFUND_SUCCESS)
			break;
		gym_channel_refund_clear(&f);
	}
	ck_assert_int_eq(f.state, GYM_CHANNEL_REFUND_SUCCESS);
	ck_assert_str_eq(f.state_code, "SUCCESS");
	ck_assert(f.success_us > 0);
	gym_channel_refund_clear(&f);
	/* a refund the channel never made */
	snprintf(rno, sizeof(rno), "RX%s", no);
	ck_assert_int_eq(gym_channel_refund_query(ch, NULL, rno, &f), GYM_ENOTFOUND);
	simt_reset();
}
END_TEST

/* The simulator's own TRANSACTION.SUCCESS of a JSAPI payment, opened;
 * then tampered. */
START_TEST(test_payment_event)
{
	struct gym_channel_event ev;
	struct gym_channel_trade t;
	static struct caught c;
	char no[40], *body, *saved;

	struct gym_channel_payment p = { NULL, GYM_TRADE_JSAPI, OPENID, 20000, 0, NULL };
	struct gym_channel_params out;

	listen_notifications();
	p.out_trade_no = simt_trade_no(no, sizeof(no));
	ck_assert_int_eq(gym_channel_pay(ch, &p, &out), GYM_OK);
	ck_assert_int_eq(simt_pay(no, NULL), 200);
	catch_one(&c);
	ck_assert_int_eq(gym_channel_open_event(ch, &c.n, &ev), GYM_OK);
	ck_assert_int_eq(ev.kind, GYM_CHANNEL_EVENT_PAYMENT);
	ck_assert_str_eq(ev.event_type, "TRANSACTION.SUCCESS");
	ck_assert_int_eq(ev.trade.state, GYM_CHANNEL_PAID);
	ck_assert_str_eq(ev.trade.out_trade_no, no);
	ck_assert_int_eq(ev.trade.amount_fen, 20000);
	ck_assert_str_eq(ev.trade.payer_id, OPENID);
	ck_assert(ev.trade.success_us > 0);
	ck_assert_ptr_nonnull(ev.trade.doc);
	ck_assert_ptr_null(ev.refund.doc);
	query(no, &t);
	ck_assert_str_eq(ev.trade.transaction_id, t.transaction_id);
	gym_channel_trade_clear(&t);
	gym_channel_event_clear(&ev);

	/* one byte of the body changed: the signature no longer holds */
	ck_assert_ptr_nonnull(body = strndup(c.n.body, c.n.len));
	body[c.n.len / 2] ^= 0x01;
	saved = (char *)(uintptr_t)c.n.body;
	c.n.body = body;
	ck_assert_int_eq(gym_channel_open_event(ch, &c.n, &ev), GYM_ECRYPTO);
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "SIGN_VERIFY_FAILED");
	ck_assert_ptr_null(ev.trade.doc);
	c.n.body = saved;
	free(body);
	/* a serial we do not know */
	c.h[2].value = "0000000000000000000000000000000000000000";
	ck_assert_int_eq(gym_channel_open_event(ch, &c.n, &ev), GYM_ECRYPTO);
}
END_TEST

/* The simulator's REFUND.SUCCESS, opened as a refund. */
START_TEST(test_refund_event)
{
	struct gym_channel_refund_req req;
	struct gym_channel_refund f;
	struct gym_channel_event ev;
	static struct caught c;
	char no[40], rno[48];
	int i;

	simt_faults("{\"refund_delay_ms\":0}");
	pay_native(no, sizeof(no));
	listen_notifications();		/* only the refund's comes here */
	ck_assert_int_eq(simt_pay(no, NULL), 200);
	snprintf(rno, sizeof(rno), "R%s", no);
	req = (struct gym_channel_refund_req){ no, rno, NULL, 20000, 20000 };
	ck_assert_int_eq(gym_channel_refund_send(ch, &req, &f), GYM_OK);
	gym_channel_refund_clear(&f);
	/* the listener may see a retry of another test's first: skip those */
	for (i = 0; i < 5; i++) {
		catch_one(&c);
		ck_assert_int_eq(gym_channel_open_event(ch, &c.n, &ev), GYM_OK);
		if (ev.kind == GYM_CHANNEL_EVENT_REFUND && strcmp(ev.refund.out_refund_no,
		    rno) == 0)
			break;
		gym_channel_event_clear(&ev);
	}
	ck_assert_int_eq(ev.kind, GYM_CHANNEL_EVENT_REFUND);
	ck_assert_str_eq(ev.event_type, "REFUND.SUCCESS");
	ck_assert_int_eq(ev.refund.state, GYM_CHANNEL_REFUND_SUCCESS);
	ck_assert_str_eq(ev.refund.out_trade_no, no);
	ck_assert_int_eq(ev.refund.refund_fen, 20000);
	ck_assert_ptr_nonnull(ev.refund.doc);
	ck_assert_ptr_null(ev.trade.doc);
	gym_channel_event_clear(&ev);
	simt_reset();
}
END_TEST

Suite *
channel_suite(void)
{
	Suite *s = suite_create("channel");
	TCase *tc = tcase_create("wechat");

	if (!simt_available("channel suite"))
		return s;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pay_query_paid);
	tcase_add_test(tc, test_pay_jsapi);
	tcase_add_test(tc, test_pay_fails);
	tcase_add_test(tc, test_close_then_closed);
	tcase_add_test(tc, test_refund_and_query);
	tcase_add_test(tc, test_payment_event);
	tcase_add_test(tc, test_refund_event);
	suite_add_tcase(s, tc);
	return s;
}
