/*
 * audit.c: payment_audit_log rows.  Written inside the transaction of the
 * change they record, so a change and its audit row commit together or not
 * at all.  Snapshots given here must already be masked (no openid, token
 * or code): see gym_json_mask().  The User-Agent is stored as valid UTF-8
 * (whatever the client sent), at most 512 characters.
 */
#include <stdio.h>
#include <string.h>

#include "audit_sql.h"
#include "extern.h"

static struct gym_stmt st_audit = { "audit_insert",
	GYM_AUDIT_INSERT "VALUES (" GYM_AUDIT_ROW("$1", "$2", "$3", "$4::bigint", "$5::bigint",
	"$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13::jsonb", "$14::jsonb",
	"$15::timestamptz") ")", 0 };

#define UA_CHARS 512	/* what an audit row keeps of a User-Agent (audit_sql.h too) */
_Static_assert(UA_CHARS * 4 + 1 == GYM_AUDIT_UA_MAX, "GYM_AUDIT_UA_MAX");

/*
 * At most UA_CHARS characters of a client's header as valid UTF-8 in out
 * (UA_CHARS * 4 + 1 bytes): a byte that starts no well-formed sequence and
 * a control character become '?'.  PostgreSQL refuses text that is not
 * UTF-8, and the audit row shares its transaction with the change, so a
 * broken User-Agent would otherwise cost the parent the change itself.
 */
static const char *
header_text(const char *in, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, n;

	if (in == NULL)
		return NULL;
	for (int chars = 0; *s != '\0' && chars < UA_CHARS; chars++) {
		if ((n = gym_utf8_seq(s)) == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f))) {
			out[o++] = '?';
			s++;
			continue;
		}
		memcpy(out + o, s, n);
		o += n;
		s += n;
	}
	out[o] = '\0';
	return out;
}

const char *
gym__audit_user_agent(const char *in, char *out)
{
	return header_text(in, out);
}

static const char *
ll_or_null(long long v, char *buf, size_t len)
{
	if (v == 0)
		return NULL;
	snprintf(buf, len, "%lld", v);
	return buf;
}

enum gym_err
gym_audit_write(struct gym_db *db, const struct gym_actor *a, const struct gym_audit *au)
{
	char res[24], book[24], actor[24], now[40], ua[UA_CHARS * 4 + 1];
	const char *p[15];

	gym_db_now_param(now, sizeof(now));
	p[0] = au->entity;
	p[1] = au->action;
	p[2] = au->order_id;
	p[3] = ll_or_null(au->reservation_id, res, sizeof(res));
	p[4] = ll_or_null(au->booking_id, book, sizeof(book));
	p[5] = a->type;
	p[6] = ll_or_null(a->id, actor, sizeof(actor));
	p[7] = a->client_ip;
	p[8] = header_text(a->user_agent, ua);
	p[9] = a->request_id;
	p[10] = au->old_status;
	p[11] = au->new_status;
	p[12] = a->request_snapshot;
	p[13] = au->response_snapshot;
	p[14] = now;
	return gym_db_exec(db, &st_audit, 15, p, NULL);
}

struct record_arg {
	const struct gym_actor *a;
	const struct gym_audit *au;
};

static enum gym_err
record_tx(struct gym_db *db, void *v)
{
	struct record_arg *r = v;

	return gym_audit_write(db, r->a, r->au);
}

enum gym_err
gym_audit_record(struct gym_db *db, const struct gym_actor *a, const struct gym_audit *au)
{
	struct record_arg r = { a, au };

	return gym_db_tx(db, record_tx, &r);
}
