/*
 * audit_sql.h: the one INSERT of a payment_audit_log row.  gym_audit_write
 * (audit.c) uses it for the rows written inside a caller's transaction;
 * the statements that must write their audit row in the same statement as
 * the change (the one-round-trip hold and release in holds_sql.h, the hold
 * end in hold_rows.c, the batched sweep in sweep.c) use it as a CTE:
 *
 *	"aud AS (" GYM_AUDIT_INSERT "SELECT " GYM_AUDIT_ROW(...) " FROM x) "
 *
 * GYM_AUDIT_ROW takes the fifteen values in the column order below, each
 * an SQL expression ("NULL" for none); the User-Agent is cut to the 512
 * characters gym_audit_write keeps (GYM_AUDIT_UA_MAX).
 */
#ifndef GYM_AUDIT_SQL_H
#define GYM_AUDIT_SQL_H

#define GYM_AUDIT_INSERT "INSERT INTO payment_audit_log (entity, action_type, order_id, " \
	"reservation_id, booking_id, actor_type, actor_id, client_ip, user_agent, request_id, " \
	"old_status, new_status, request_snapshot, response_snapshot, created_at) "

#define GYM_AUDIT_ROW(entity, action, order_id, reservation_id, booking_id, actor_type, \
    actor_id, client_ip, user_agent, request_id, old_status, new_status, request_snapshot, \
    response_snapshot, created_at) \
	entity ", " action ", " order_id ", " reservation_id ", " booking_id ", " actor_type \
	", " actor_id ", " client_ip ", left(" user_agent ", 512), " request_id ", " old_status \
	", " new_status ", " request_snapshot ", " response_snapshot ", " created_at " "

#endif
