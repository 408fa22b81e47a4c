-- read.sql (pgbench -M prepared): the statement behind GET
-- /course-schedules/{id} (lib/schedules.c schedule_get).
--   -D slo=, shi=  the classes (a random one each time)
\set sid random(:slo, :shi)
SELECT s.id, s.course_name, s.capacity, (extract(epoch FROM s.starts_at) * 1000000)::bigint AS starts_us, (extract(epoch FROM s.ends_at) * 1000000)::bigint AS ends_us, (SELECT count(*) FROM seats t WHERE t.course_schedule_id = s.id AND (t.state = 'free' OR (t.state = 'held' AND t.held_until <= now()))) AS available FROM course_schedules s WHERE s.id = :sid::bigint;
