-- 0014: a class's waitlist (issue 14, "Sold out").  A parent joins a full
-- class's waitlist; when a seat frees, the job's offer pass gives the first
-- waiting parent a normal 15-minute hold on it (a seat_reservations row,
-- paid through the normal order flow) and a message.  The order is id: the
-- identity gives every join a distinct, increasing number as it is
-- inserted, so "first come, first served" never ties (joined_at is the gym
-- clock's time, for people).  States: waiting -> offered (hold_id, its
-- expiry) -> done (the offer was used, lapsed, or the parent could no longer
-- book); waiting or offered -> left (the parent left).  One active
-- (waiting or offered) entry per parent and class.
CREATE TABLE waitlist_entries (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_schedule_id bigint NOT NULL REFERENCES course_schedules (id),
    user_id            bigint NOT NULL REFERENCES users (id),
    state              text NOT NULL CHECK (state IN ('waiting', 'offered', 'done', 'left')),
    hold_id            bigint REFERENCES seat_reservations (id),
    offer_expires_at   timestamptz,
    offered_at         timestamptz,
    -- why an entry is done: used (an order was made with the hold), lapsed
    -- (the hold ended unused), ineligible (had the trial meanwhile),
    -- closed (the class started)
    done_reason        text CHECK (done_reason IN ('used', 'lapsed', 'ineligible', 'closed')),
    joined_at          timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CHECK (state <> 'offered' OR (hold_id IS NOT NULL AND offer_expires_at IS NOT NULL)),
    CHECK ((state = 'done') = (done_reason IS NOT NULL))
);
CREATE UNIQUE INDEX waitlist_entries_one_active ON waitlist_entries (course_schedule_id, user_id)
    WHERE state IN ('waiting', 'offered');
-- the queue of a class, in order
CREATE INDEX waitlist_entries_queue ON waitlist_entries (course_schedule_id, id)
    WHERE state = 'waiting';
CREATE INDEX waitlist_entries_offers ON waitlist_entries (offer_expires_at)
    WHERE state = 'offered';
CREATE INDEX waitlist_entries_user ON waitlist_entries (user_id, id);

ALTER TABLE payment_audit_log DROP CONSTRAINT payment_audit_log_entity_check;
ALTER TABLE payment_audit_log ADD CONSTRAINT payment_audit_log_entity_check
    CHECK (entity IN ('order', 'hold', 'booking', 'payment', 'refund', 'notification', 'schedule',
                      'operator', 'attempt', 'waitlist'));

-- A waitlist offer's message has no order: it names its entry instead,
-- once per entry and kind.
ALTER TABLE parent_notifications ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE parent_notifications ADD COLUMN waitlist_entry_id bigint
    REFERENCES waitlist_entries (id);
ALTER TABLE parent_notifications ADD CONSTRAINT parent_notifications_subject_check
    CHECK (order_id IS NOT NULL OR waitlist_entry_id IS NOT NULL);
CREATE UNIQUE INDEX parent_notifications_waitlist ON parent_notifications (waitlist_entry_id, kind)
    WHERE waitlist_entry_id IS NOT NULL;
-- every kind any change of session 5 adds (waitlist, class management), so
-- the migrations that widen this list agree whatever order they run in
ALTER TABLE parent_notifications DROP CONSTRAINT parent_notifications_kind_check;
ALTER TABLE parent_notifications ADD CONSTRAINT parent_notifications_kind_check
    CHECK (kind IN ('booking_confirmed', 'payment_failed', 'order_cancelled', 'refund_done',
                    'order_expired', 'waitlist_offer', 'class_rescheduled', 'class_cancelled'));
