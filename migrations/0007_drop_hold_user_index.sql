-- 0007: drop seat_reservations_user (user_id, course_schedule_id).  Every
-- lookup of a user's holds asks for the temporary one (lib/holds.c), which
-- the partial unique index seat_reservations_one_temporary answers; nothing
-- looks holds up by user and class.  Each hold paid an entry in it when
-- created and another when it ended (status is in partial-index
-- predicates, so that update is never HOT): make bench, scenario 1.
DROP INDEX seat_reservations_user;
