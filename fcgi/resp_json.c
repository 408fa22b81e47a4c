/*
 * resp_json.c: set a response body from a cJSON tree.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"

/*
 * Print tree (consumed, even on failure) into resp->body, replacing any
 * body there, with status (0 = 200).  The body is copied out of cJSON's
 * allocation so that resp->body is always plain malloc'd memory.
 * GYM_ENOMEM when the tree is NULL or cannot be printed.
 */
enum gym_err
gym_resp_json(struct gym_resp *resp, int status, cJSON *tree)
{
	char *txt = NULL, *body = NULL;
	size_t n;
	enum gym_err rc = GYM_ENOMEM;

	if (tree == NULL)
		goto out;
	if ((txt = cJSON_PrintUnformatted(tree)) == NULL)
		goto out;
	n = strlen(txt);
	if ((body = malloc(n + 1)) == NULL)
		goto out;
	memcpy(body, txt, n + 1);
	free(resp->body);
	resp->body = body;
	resp->body_len = n;
	resp->status = status;
	resp->content_type = NULL;
	rc = GYM_OK;
out:
	cJSON_free(txt);
	cJSON_Delete(tree);
	return rc;
}
