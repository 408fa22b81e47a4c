/*
 * alipay_bill.h: Alipay's daily trade bill: the download URL asked for,
 * the zip fetched at once, its detail CSV (the entry whose first line is
 * "#支付宝业务明细查询") turned from GBK into UTF-8.  The CSV is left as
 * Alipay writes it (comment lines, identifier cells ending in a tab):
 * reading its rows is reconciliation's job.
 */
#ifndef GYM_ALIPAY_BILL_H
#define GYM_ALIPAY_BILL_H

#include <stddef.h>

#include "alipay.h"
#include "config.h"
#include "gym.h"

#define GYM_ALI_BILL_MAX	(16 * 1024 * 1024)	/* the longest zip or entry read */

/* The detail CSV of the zip (len bytes) as UTF-8 in *text (malloc'd,
 * NUL-terminated, *tlen bytes): GYM_EINVAL for a zip that does not read
 * (bad records, CRC, method, or text that is not GBK), GYM_ENOTFOUND when
 * no entry is the detail file. */
enum gym_err gym_ali_bill_unzip(const unsigned char *zip, size_t len, char **text,
    size_t *tlen);
/* The bill of date ("yyyy-MM-dd", China time) through client c (cfg its
 * configuration: the CA file): the URL, the download, the detail text.
 * GYM_ENOTFOUND when Alipay has no bill of the day; GYM_EUPSTREAM with the
 * client's error code BAD_FILE when the file is not a whole bill zip
 * (DOWNLOAD_FAILED when it could not be had). */
enum gym_err gym_ali_bill_fetch(struct gym_ali_client *c, const struct gym_config *cfg,
    const char *date, char **text, size_t *len);

#endif
