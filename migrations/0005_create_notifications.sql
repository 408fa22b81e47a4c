-- 0005: messages to parents (WeChat subscribe messages) and the shared
-- access token.  A parent_notifications row is written in the transaction
-- of the change it tells about; the sender job claims due rows with
-- FOR UPDATE SKIP LOCKED, records every send in notification_attempts and
-- never sends one row twice (lib/notify.c).  No openid is stored here: the
-- sender reads it from users at send time.
CREATE TABLE parent_notifications (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id),
    order_id        text NOT NULL REFERENCES payment_orders (order_id),
    kind            text NOT NULL CHECK (kind IN ('booking_confirmed', 'payment_failed',
                                                  'order_cancelled', 'refund_done')),
    template_id     text NOT NULL CHECK (length(template_id) BETWEEN 1 AND 128),
    data            jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    status          text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- when the row is next due; a claim moves it forward by a lease
    next_attempt_at timestamptz NOT NULL,
    -- the claim that owns the row now (random, set by each claim): a sender
    -- whose lease passed cannot begin a send on a row claimed again
    claim_token     text,
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL,
    UNIQUE (order_id, kind),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX parent_notifications_due ON parent_notifications (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX parent_notifications_user ON parent_notifications (user_id, id);

-- One row per send.  ok is NULL while the send is in flight: a row found
-- that way by a later claim means the sender stopped mid-send, and the
-- message is not sent again (at most once).
CREATE TABLE notification_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id bigint NOT NULL REFERENCES parent_notifications (id),
    attempted_at    timestamptz NOT NULL,
    finished_at     timestamptz,
    ok              boolean,
    errcode         integer,
    errmsg          text
);
CREATE INDEX notification_attempts_notification ON notification_attempts (notification_id, id);

-- The mini program's access token, shared by every process on every host.
-- Refreshed under this row's lock, so one process calls stable_token.
CREATE TABLE wx_access_tokens (
    appid        text PRIMARY KEY,
    access_token text NOT NULL,
    expires_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
