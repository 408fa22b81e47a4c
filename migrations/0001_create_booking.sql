-- 0001: the booking core.  Users, classes, one row per seat, seat holds
-- (seat_reservations), orders, WeChat transactions, bookings, the audit
-- log and idempotency keys.  Times are timestamptz, money integer fen.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    openid        text NOT NULL UNIQUE CHECK (length(openid) BETWEEN 1 AND 128),
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz NOT NULL
);

CREATE TABLE course_schedules (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_name text NOT NULL CHECK (length(course_name) BETWEEN 1 AND 100),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    capacity    integer NOT NULL CHECK (capacity BETWEEN 0 AND 10000),
    created_at  timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX course_schedules_starts_at ON course_schedules (starts_at);

-- A hold.  'temporary' until paid (confirmed), released (cancelled) or
-- lapsed (expired).  A lapsed hold is not live the moment expires_at passes,
-- whether or not the sweep has marked it yet.
CREATE TABLE seat_reservations (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            bigint NOT NULL REFERENCES users (id),
    course_schedule_id bigint NOT NULL REFERENCES course_schedules (id),
    seat_id            bigint NOT NULL,
    status             text NOT NULL CHECK (status IN ('temporary', 'confirmed', 'cancelled', 'expired')),
    expires_at         timestamptz NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
-- one unswept hold per user: the hold path expires the user's lapsed one first
CREATE UNIQUE INDEX seat_reservations_one_temporary ON seat_reservations (user_id)
    WHERE status = 'temporary';
CREATE INDEX seat_reservations_expiry ON seat_reservations (expires_at)
    WHERE status = 'temporary';
CREATE INDEX seat_reservations_user ON seat_reservations (user_id, course_schedule_id);

-- One row per seat.  A hold claims a row; only non-indexed columns change,
-- so with fillfactor below 100 those updates stay HOT.  A seat is free when
-- state = 'free' or its hold lapsed (state = 'held' AND held_until <= now).
CREATE TABLE seats (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_schedule_id bigint NOT NULL REFERENCES course_schedules (id),
    seat_no            integer NOT NULL,
    state              text NOT NULL DEFAULT 'free' CHECK (state IN ('free', 'held', 'confirmed')),
    reservation_id     bigint,
    held_until         timestamptz,
    UNIQUE (course_schedule_id, seat_no),
    CHECK ((state = 'free') = (reservation_id IS NULL)),
    CHECK ((state = 'held') = (held_until IS NOT NULL))
) WITH (fillfactor = 70);

CREATE TABLE payment_orders (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id           text NOT NULL UNIQUE CHECK (order_id ~ '^[0-9A-Za-z_-]{6,32}$'),
    user_id            bigint NOT NULL REFERENCES users (id),
    course_schedule_id bigint NOT NULL REFERENCES course_schedules (id),
    reservation_id     bigint REFERENCES seat_reservations (id),
    amount_fen         integer NOT NULL CHECK (amount_fen = 20000),
    currency           text NOT NULL DEFAULT 'CNY' CHECK (currency = 'CNY'),
    status             text NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'cancelled',
                                                       'expired', 'refunding', 'refunded')),
    expires_at         timestamptz NOT NULL,
    trade_type         text CHECK (trade_type IN ('JSAPI', 'NATIVE')),
    prepay_id          text,
    code_url           text,
    prepay_at          timestamptz,
    wx_time_expire     timestamptz,
    wx_closed_at       timestamptz,
    paid_at            timestamptz,
    transaction_id     text,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
-- The one-trial rule, in the database: at most one order per user that is
-- open or paid, and (below) at most one confirmed booking.  An order being
-- refunded, refunded, failed, cancelled or expired no longer counts; the
-- booking of an order being refunded still does until the refund succeeds.
CREATE UNIQUE INDEX payment_orders_one_trial ON payment_orders (user_id)
    WHERE status IN ('pending', 'paid');
CREATE INDEX payment_orders_expiry ON payment_orders (expires_at) WHERE status = 'pending';
CREATE INDEX payment_orders_reconcile ON payment_orders (prepay_at) WHERE status = 'pending' AND prepay_at IS NOT NULL;
CREATE INDEX payment_orders_user ON payment_orders (user_id, id);
CREATE INDEX payment_orders_created ON payment_orders (created_at, id);
CREATE INDEX payment_orders_schedule ON payment_orders (course_schedule_id, id);

CREATE TABLE payment_transactions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id text NOT NULL UNIQUE,
    order_id       text NOT NULL REFERENCES payment_orders (order_id),
    trade_state    text NOT NULL,
    trade_type     text,
    amount_fen     integer NOT NULL,
    payer_total    integer,
    success_time   timestamptz,
    source         text NOT NULL CHECK (source IN ('notify', 'query')),
    outcome        text NOT NULL CHECK (outcome IN ('paid', 'late_paid', 'late_refunded', 'duplicate_refunded')),
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL
);
CREATE INDEX payment_transactions_order ON payment_transactions (order_id);

CREATE TABLE bookings (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id           text NOT NULL UNIQUE REFERENCES payment_orders (order_id),
    user_id            bigint NOT NULL REFERENCES users (id),
    course_schedule_id bigint NOT NULL REFERENCES course_schedules (id),
    reservation_id     bigint NOT NULL REFERENCES seat_reservations (id),
    status             text NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
    confirmed_at       timestamptz NOT NULL,
    cancelled_at       timestamptz
);
CREATE UNIQUE INDEX bookings_one_trial ON bookings (user_id) WHERE status = 'confirmed';
CREATE INDEX bookings_schedule ON bookings (course_schedule_id);

CREATE TABLE payment_audit_log (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity            text NOT NULL CHECK (entity IN ('order', 'hold', 'booking', 'payment', 'refund',
                                                      'notification', 'schedule', 'operator')),
    action_type       text NOT NULL,
    order_id          text,
    reservation_id    bigint,
    booking_id        bigint,
    actor_type        text NOT NULL CHECK (actor_type IN ('user', 'operator', 'system', 'wechat')),
    actor_id          text,
    client_ip         text,
    user_agent        text,
    request_id        text,
    old_status        text,
    new_status        text,
    request_snapshot  jsonb,
    response_snapshot jsonb,
    created_at        timestamptz NOT NULL
);
CREATE INDEX payment_audit_log_order ON payment_audit_log (order_id, id);
CREATE INDEX payment_audit_log_reservation ON payment_audit_log (reservation_id, id);
CREATE INDEX payment_audit_log_action ON payment_audit_log (action_type, id);
CREATE INDEX payment_audit_log_created ON payment_audit_log (created_at, id);

CREATE TABLE idempotency_keys (
    scope         text NOT NULL,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    route         text NOT NULL,
    request_hash  text NOT NULL,
    status_code   integer,
    response_body text,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
