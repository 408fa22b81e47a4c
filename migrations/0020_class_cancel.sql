-- 0020: the gym cancels a class (issue 14, class management).  A cancelled
-- class takes no holds, orders or waitlist joins; its holds are released,
-- its unpaid orders cancelled, its paid orders refunded through the normal
-- operator refund path with the reason given ("课程取消" by default).  The
-- first cancel records when and why; pressing it again changes nothing.
ALTER TABLE course_schedules ADD COLUMN cancelled_at timestamptz,
    ADD COLUMN cancel_reason text CHECK (length(cancel_reason) BETWEEN 1 AND 80),
    ADD CHECK ((cancelled_at IS NULL) = (cancel_reason IS NULL));
