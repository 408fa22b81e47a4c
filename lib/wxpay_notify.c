/*
 * wxpay_notify.c: opening a WeChat Pay notification: the Wechatpay-*
 * signature over the raw body, then AES-256-GCM decryption of its
 * resource with the APIv3 key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "json.h"
#include "log.h"
#include "wxpay_transport.h"
#include "wxsign.h"

/* ---- notifications ---- */

/* Decrypt the envelope's resource; GYM_EINVAL for anything wrong. */
static enum gym_err
notify_decrypt(const struct gym_config *cfg, const cJSON *env, char **plain)
{
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(env, "resource");
	const cJSON *ad = cJSON_GetObjectItemCaseSensitive(res, "associated_data");
	const char *alg = gym_json_string(res, "algorithm"), *ct = gym_json_string(res, "ciphertext");
	const char *nonce = gym_json_string(res, "nonce");
	char *pt = NULL;
	cJSON *pj = NULL;
	enum gym_err rc = GYM_EINVAL;

	*plain = NULL;
	if (!cJSON_IsObject(res) || alg == NULL || strcmp(alg, ALG_AES_GCM) != 0 ||
	    ct == NULL || nonce == NULL ||
	    (ad != NULL && !cJSON_IsString(ad) && !cJSON_IsNull(ad)))
		goto out;
	if ((rc = gym_aesgcm_decrypt(cfg->wx_apiv3_key, nonce,
	    cJSON_IsString(ad) ? ad->valuestring : "", ct, &pt, NULL)) != GYM_OK) {
		if (rc != GYM_ENOMEM)
			rc = GYM_EINVAL;
		goto out;
	}
	rc = GYM_EINVAL;
	if (!cJSON_IsObject(pj = cJSON_Parse(pt)))
		goto out;
	*plain = pt;
	pt = NULL;
	rc = GYM_OK;
out:
	cJSON_Delete(pj);
	free(pt);
	return rc;
}

enum gym_err
gym_wx_notify_open(const struct gym_config *cfg, const char *ts,
    const char *nonce, const char *serial, const char *signature,
    const char *body, size_t len, char *event_type, size_t etlen, char **plain)
{
	cJSON *env = NULL;
	const char *et;
	enum gym_err rc = GYM_EINVAL;

	if (plain != NULL)
		*plain = NULL;
	if (event_type != NULL && etlen > 0)
		event_type[0] = '\0';
	if (cfg == NULL || plain == NULL || (body == NULL && len > 0) ||
	    (event_type != NULL && etlen == 0))
		goto out;
	rc = gym_wx_verify(&cfg->wx_platform, ts, nonce, serial, signature,
	    body, len, gym_now());
	if (rc != GYM_OK) {
		if (rc != GYM_ENOMEM)
			rc = GYM_ECRYPTO;
		gym_log_warnx("WeChat notification refused: signature, serial or "
		    "timestamp failed (serial %.64s)", gym_nonempty(serial) ? serial : "-");
		goto out;
	}
	rc = GYM_EINTERNAL;
	if (!cfg->wx_have_apiv3_key) {
		gym_log_warnx("WeChat notification refused: no APIv3 key configured");
		goto out;
	}
	rc = GYM_EINVAL;
	if (!cJSON_IsObject(env = cJSON_ParseWithLength(body, len)) ||
	    (et = gym_json_string(env, "event_type")) == NULL ||
	    (event_type != NULL && gym__wx_copy_out(event_type, etlen, et) == -1)) {
		gym_log_warnx("WeChat notification refused: envelope unparseable");
		goto out;
	}
	if ((rc = notify_decrypt(cfg, env, plain)) != GYM_OK) {
		gym_log_warnx("WeChat notification refused: resource did not decrypt");
		if (event_type != NULL)
			event_type[0] = '\0';
		goto out;
	}
	rc = GYM_OK;
out:
	cJSON_Delete(env);
	return rc;
}
