/*
 * alipay_bill.h: Alipay's daily bills: the trade bill (bill_type trade,
 * its detail CSV the entry whose first line is "#支付宝业务明细查询") and the
 * account's bill (signcustomer, "#支付宝账务明细查询").  The download URL
 * asked for, the zip fetched at once, the detail CSV (the entry with that
 * first line and the detail's header row, not its 汇总) turned from GBK
 * into UTF-8.  The CSV is left as Alipay writes it (comment lines,
 * identifier cells ending in a tab): reading its rows is reconciliation's
 * job.
 */
#ifndef GYM_ALIPAY_BILL_H
#define GYM_ALIPAY_BILL_H

#include <stddef.h>

#include "alipay.h"
#include "config.h"
#include "gym.h"

#define GYM_ALI_BILL_MAX	(16 * 1024 * 1024)	/* the longest zip or entry read */

enum gym_ali_bill_kind {
	GYM_ALI_BILL_TRADE,		/* trade: 业务明细 */
	GYM_ALI_BILL_ACCOUNT		/* signcustomer: 账务明细 */
};

/* The detail CSV of kind in the zip (len bytes) as UTF-8 in *text
 * (malloc'd, NUL-terminated, *tlen bytes): GYM_EINVAL for a zip that does
 * not read (bad records, CRC, method, or text that is not GBK),
 * GYM_ENOTFOUND when no entry is that detail file. */
enum gym_err gym_ali_bill_unzip(enum gym_ali_bill_kind, const unsigned char *zip, size_t len,
    char **text, size_t *tlen);
/* The bill of kind of date ("yyyy-MM-dd", China time) through client c
 * (cfg its configuration: the CA file): the URL, the download, the detail
 * text.  GYM_ENOTFOUND when Alipay has no bill of the day; GYM_EUPSTREAM
 * with the client's error code BAD_FILE when the file is not a whole bill
 * zip (DOWNLOAD_FAILED when it could not be had). */
enum gym_err gym_ali_bill_fetch(struct gym_ali_client *c, const struct gym_config *cfg,
    enum gym_ali_bill_kind, const char *date, char **text, size_t *len);

#endif
