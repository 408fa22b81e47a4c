-- 0025: the operator who cancelled a class (issue 14).  Cancelling starts a
-- refund of every paid booking in the class in the operator's name; when
-- the process stops half way (a crash, PostgreSQL lost), the job's cancel
-- sweep starts the rest in the same operator's name (lib/schedule_changes.c).
ALTER TABLE course_schedules ADD COLUMN cancelled_by bigint;	-- operators.id
