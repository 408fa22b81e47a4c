/*
 * json.h: JSON helpers over cJSON for request bodies and snapshots.
 */
#ifndef GYM_JSON_H
#define GYM_JSON_H

#include <cjson/cJSON.h>

#include "gym.h"

/* A copy of a JSON text with the values of sensitive keys (openid, code,
 * js_code, token, access_token, secret, session_key, and a parent's
 * registration details: child_name, child_birth_date, parent_phone,
 * phone, note) replaced by "****".
 * Member names are kept.  NULL when the text is not JSON (or on a lack of
 * memory).  Caller frees. */
char *gym_json_mask(const char *text);
/* Object member as a positive integer id (number or digit string):
 * GYM_OK, GYM_ENOTFOUND when absent, GYM_EINVAL when of the wrong type. */
enum gym_err gym_json_id(const cJSON *obj, const char *name, long long *out);
/* Object member as an amount in fen from WeChat: a JSON number that is a
 * whole number from 0 to GYM_JSON_FEN_MAX (the fen columns are int).
 * GYM_OK, GYM_ENOTFOUND when absent or null, GYM_EINVAL otherwise (a
 * string, 20000.5, -1, 1e308). */
#define GYM_JSON_FEN_MAX 2147483647.0
enum gym_err gym_json_fen(const cJSON *obj, const char *name, long long *out);
/* Object member as a string: GYM_OK (borrowed), GYM_ENOTFOUND, GYM_EINVAL. */
enum gym_err gym_json_str(const cJSON *obj, const char *name, const char **out);
/* A string member of obj, or NULL (absent, null or not a string). */
const char *gym_json_string(const cJSON *obj, const char *name);
/* Parse the len bytes of text, which must be one JSON object with nothing
 * after it but white space, and with no NUL in any string (no NUL byte, no
 * \u0000, in member names too); NULL otherwise. */
cJSON *gym_json_object(const char *text, size_t len);

#endif
