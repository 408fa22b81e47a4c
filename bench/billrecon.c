/*
 * billrecon.c: times the reconciliation of a trade bill of N rows, WeChat's
 * or Alipay's 业务明细 (lib/billrecon.c, gym_recon_day_text: parse, the lines
 * with their fees, matching in SQL, the summary; one transaction) beside a
 * plain COPY of the same rows into a table of text columns, on the database
 * bench/sql/recon_load.sql filled with N paid payments "BR<i>" of CHANNEL
 * on DATE.
 *
 *   billrecon CONNINFO N DATE [wechat|alipay]
 *       prints "rows=N seconds=S copy_seconds=C discrepancies=D"
 * Every row's payment is there with its amount: a correct run finds 0
 * discrepancies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "bill.h"
#include "db.h"

#define HEAD "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识," \
	"交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号," \
	"商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包," \
	"手续费,费率,订单金额,申请退款金额,费率备注\r\n"

#define ALI_TOP "#支付宝业务明细查询\r\n#账号：[20880000000000010156]\r\n" \
	"#-----------------------------------------业务明细列表-------------------------------\r\n"
#define ALI_HEAD "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称," \
	"操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）," \
	"支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）," \
	"卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n"
#define WECHAT_COLS 27
#define ALI_COLS 25

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bill of n payments of 200.00 yuan on date (as recon_load.sql made
 * them); *rows_at the offset where the data rows start, *rows_len their
 * length (what COPY gets). */
static char *
make_bill(long n, const char *date, size_t *len, size_t *rows_at, size_t *rows_len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	long i;

	if (f == NULL)
		return NULL;
	fputs(HEAD, f);
	fflush(f);
	*rows_at = *len;
	for (i = 1; i <= n; i++)
		fprintf(f, "`%s %02ld:%02ld:%02ld,`wxd678efh567hg6787,`1900000001,`0,`,`42%026ld,"
		    "`BR%010ld,`oBench%ld,`NATIVE,`SUCCESS,`OTHERS,`CNY,`200.00,`0.00,`0,`0,`0.00,"
		    "`0.00,`,`,`体验课,`,`1.20,`0.60%%,`200.00,`0.00,`\r\n", date, (i / 3600) % 24,
		    (i / 60) % 60, i % 60, i, i, i);
	fflush(f);
	*rows_len = *len - *rows_at;
	fputs("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
	    "申请退款总金额\r\n", f);
	fprintf(f, "`%ld,`%ld.00,`0.00,`0.00,`%ld.%02ld,`%ld.00,`0.00\r\n", n, n * 200,
	    n * 120 / 100, n * 120 % 100, n * 200);
	if (fclose(f) != 0)
		return NULL;
	return text;
}

/* The same payments as Alipay's 业务明细 (UTF-8, as the zip's GBK becomes). */
static char *
make_ali_bill(long n, const char *date, size_t *len, size_t *rows_at, size_t *rows_len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	long i;

	if (f == NULL)
		return NULL;
	fputs(ALI_TOP ALI_HEAD, f);
	fflush(f);
	*rows_at = *len;
	for (i = 1; i <= n; i++)
		fprintf(f, "42%026ld\t,BR%010ld\t,交易\t,体验课,%s %02ld:%02ld:%02ld,"
		    "%s %02ld:%02ld:%02ld,,,,,208810******0001,200.00,200.00,0.00,0.00,0.00,0.00,"
		    "0.00,,0.00,0.00,,-1.20,0.00,\r\n", i, i, date, (i / 3600) % 24, (i / 60) % 60,
		    i % 60, date, (i / 3600) % 24, (i / 60) % 60, i % 60);
	fflush(f);
	*rows_len = *len - *rows_at;
	fprintf(f, "#-----------------------------------------业务明细列表结束-----------\r\n"
	    "#交易合计：%ld笔，商家实收共%ld.00元，商家优惠共0.00元\r\n"
	    "#退款合计：0笔，商家实收退款共-0.00元，商家优惠退款共0.00元\r\n", n, n * 200);
	if (fclose(f) != 0)
		return NULL;
	return text;
}

/* COPY the rows (as CSV lines, backticks and all) into a fresh table. */
static double
copy_rows(const char *conninfo, int ncols, const char *rows, size_t len)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;
	double t0, t;
	char cols[1024];
	int i, o = 0;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "billrecon: %s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	for (i = 0; i < ncols; i++)
		o += snprintf(cols + o, sizeof(cols) - (size_t)o, "%sc%d text", i ? ", " : "", i);
	r = PQexec(c, "DROP TABLE IF EXISTS bench_bill_copy");
	PQclear(r);
	snprintf(cols + o, sizeof(cols) - (size_t)o, ")");
	{
		char sql[1200];

		snprintf(sql, sizeof(sql), "CREATE TABLE bench_bill_copy (%s", cols);
		PQclear(PQexec(c, sql));
	}
	t0 = now_s();
	PQclear(PQexec(c, "BEGIN"));
	r = PQexec(c, "COPY bench_bill_copy FROM STDIN WITH (FORMAT csv)");
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		fprintf(stderr, "billrecon: COPY: %s", PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		return -1;
	}
	PQclear(r);
	if (PQputCopyData(c, rows, (int)len) != 1 || PQputCopyEnd(c, NULL) != 1) {
		PQfinish(c);
		return -1;
	}
	r = PQgetResult(c);
	i = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	PQclear(PQexec(c, "COMMIT"));
	t = now_s() - t0;
	PQclear(PQexec(c, "DROP TABLE bench_bill_copy"));
	PQfinish(c);
	return i ? t : -1;
}

int
main(int argc, char **argv)
{
	struct gym_recon_summary s;
	struct gym_db *db = NULL;
	size_t len = 0, at = 0, rlen = 0;
	double t0, t, tc;
	const char *channel = argc == 5 ? argv[4] : "wechat";
	int ali = strcmp(channel, "alipay") == 0;
	char *text;
	long n;
	enum gym_err e;

	if ((argc != 4 && argc != 5) || (n = strtol(argv[2], NULL, 10)) < 1 ||
	    (!ali && strcmp(channel, "wechat") != 0)) {
		fprintf(stderr, "usage: billrecon CONNINFO N DATE [wechat|alipay]\n");
		return 2;
	}
	text = ali ? make_ali_bill(n, argv[3], &len, &at, &rlen) :
	    make_bill(n, argv[3], &len, &at, &rlen);
	if (text == NULL)
		return 1;
	if ((tc = copy_rows(argv[1], ali ? ALI_COLS : WECHAT_COLS, text + at, rlen)) < 0)
		return 1;
	if (gym_db_new(argv[1], 0, &db) != GYM_OK || gym_db_ensure(db) != GYM_OK) {
		fprintf(stderr, "billrecon: cannot connect\n");
		return 1;
	}
	t0 = now_s();
	e = gym_recon_day_text(db, channel, argv[3], text, len, &s);
	t = now_s() - t0;
	if (e != GYM_OK || strcmp(s.state, "done") != 0) {
		fprintf(stderr, "billrecon: %s (%s %s)\n", gym_strerror(e), s.error_code,
		    s.error_message);
		return 1;
	}
	printf("rows=%lld seconds=%.3f copy_seconds=%.3f discrepancies=%lld\n", s.bill_rows, t, tc,
	    s.discrepancies);
	gym_db_free(db);
	free(text);
	return 0;
}
