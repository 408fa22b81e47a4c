-- 0022: products beyond the trial (issue 15).  A catalogue the operators
-- manage: the trial class (its price is the contract's 200.00, so fixed
-- here too), membership plans (days) and class packs (credits valid for
-- days).  An order names its product and keeps its own price (amount_fen):
-- a later price change never touches it.  A product order has no class
-- (course_schedule_id NULL) and no seat; the one-trial index now counts
-- trial orders only.  A deactivated product is not listed or sold.
CREATE TABLE products (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('trial', 'membership', 'class_pack')),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    price_fen  integer NOT NULL CHECK (price_fen BETWEEN 1 AND 10000000),
    days       integer CHECK (days BETWEEN 1 AND 3660),
    credits    integer CHECK (credits BETWEEN 1 AND 1000),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (kind <> 'trial' OR (price_fen = 20000 AND days IS NULL AND credits IS NULL)),
    CHECK (kind <> 'membership' OR (days IS NOT NULL AND credits IS NULL)),
    CHECK (kind <> 'class_pack' OR (days IS NOT NULL AND credits IS NOT NULL))
);
CREATE UNIQUE INDEX products_one_trial ON products ((kind)) WHERE kind = 'trial';
CREATE INDEX products_active ON products (id) WHERE active;
INSERT INTO products (kind, name, price_fen, created_at, updated_at)
    VALUES ('trial', '体验课', 20000, now(), now());

ALTER TABLE payment_orders ADD COLUMN product_id bigint REFERENCES products (id),
    -- an upgrade order: the membership period it was priced against and
    -- the membership's end then (the payment applies it only if both hold)
    ADD COLUMN upgrade_of bigint,
    ADD COLUMN upgrade_until timestamptz,
    ALTER COLUMN course_schedule_id DROP NOT NULL,
    DROP CONSTRAINT payment_orders_amount_fen_check,
    ADD CONSTRAINT payment_orders_amount_fen_check
        CHECK (amount_fen > 0 AND (course_schedule_id IS NULL OR amount_fen = 20000)),
    ADD CONSTRAINT payment_orders_subject_check
        CHECK (course_schedule_id IS NOT NULL OR product_id IS NOT NULL),
    ADD CONSTRAINT payment_orders_upgrade_check
        CHECK ((upgrade_of IS NULL) = (upgrade_until IS NULL));
UPDATE payment_orders SET product_id = (SELECT id FROM products WHERE kind = 'trial')
    WHERE course_schedule_id IS NOT NULL;
DROP INDEX payment_orders_one_trial;
CREATE UNIQUE INDEX payment_orders_one_trial ON payment_orders (user_id)
    WHERE status IN ('pending', 'paid') AND course_schedule_id IS NOT NULL;
CREATE INDEX payment_orders_user_paid ON payment_orders (user_id, paid_at)
    WHERE status IN ('paid', 'refunding', 'refunded');

ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_attention_reason_check;
ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_attention_reason_check
    CHECK (attention_reason IN ('late_no_seat', 'second_trial', 'upgrade_stale'));

-- Membership periods: one row per paid membership order (UNIQUE order_id:
-- a payment fulfils once).  A renewal starts where the membership ends; an
-- upgrade ends the current period now (ended_early), supersedes the ones
-- queued after it, and runs the new plan from now to the same end.
CREATE TABLE membership_periods (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    product_id  bigint NOT NULL REFERENCES products (id),
    order_id    text NOT NULL UNIQUE REFERENCES payment_orders (order_id),
    kind        text NOT NULL CHECK (kind IN ('purchase', 'renewal', 'upgrade')),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded')),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    ended_early boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX membership_periods_user ON membership_periods (user_id, ends_at)
    WHERE status = 'active';

-- Credits: a lot per grant (a class pack's credits and their expiry), and
-- the append-only ledger; a lot's credits left and a parent's balance are
-- the ledger's sums, never a counter.  Every movement names its lot.
CREATE TABLE credit_lots (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    product_id bigint REFERENCES products (id),
    order_id   text UNIQUE REFERENCES payment_orders (order_id),
    credits    integer NOT NULL CHECK (credits > 0),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX credit_lots_user ON credit_lots (user_id, expires_at);
CREATE INDEX credit_lots_expiry ON credit_lots (expires_at);

-- Classes are trial classes (the 200-yuan trial, paid per seat) or regular
-- ones that members book with a membership or a credit.
ALTER TABLE course_schedules ADD COLUMN kind text NOT NULL DEFAULT 'trial'
    CHECK (kind IN ('trial', 'regular'));

-- A member's booking of a regular class: a confirmed seat (the same seat
-- rows and holds as the trial), paid with the membership or one credit.
CREATE TABLE member_bookings (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id              bigint NOT NULL REFERENCES users (id),
    course_schedule_id   bigint NOT NULL REFERENCES course_schedules (id),
    reservation_id       bigint NOT NULL REFERENCES seat_reservations (id),
    pay_with             text NOT NULL CHECK (pay_with IN ('membership', 'credits')),
    membership_period_id bigint REFERENCES membership_periods (id),
    lot_id               bigint REFERENCES credit_lots (id),
    status               text NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
    credit_returned      boolean NOT NULL DEFAULT false,
    confirmed_at         timestamptz NOT NULL,
    cancelled_at         timestamptz,
    CHECK ((pay_with = 'credits') = (lot_id IS NOT NULL)),
    CHECK ((pay_with = 'membership') = (membership_period_id IS NOT NULL))
);
CREATE UNIQUE INDEX member_bookings_one_per_class ON member_bookings (user_id, course_schedule_id)
    WHERE status = 'confirmed';
CREATE INDEX member_bookings_user ON member_bookings (user_id, id);

CREATE TABLE credit_ledger (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    lot_id     bigint NOT NULL REFERENCES credit_lots (id),
    kind       text NOT NULL CHECK (kind IN ('grant', 'consume', 'return', 'expire', 'revoke',
                                             'adjust')),
    delta      integer NOT NULL CHECK (delta <> 0),
    order_id   text REFERENCES payment_orders (order_id),
    booking_id bigint REFERENCES member_bookings (id),
    reason     text CHECK (length(reason) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL,
    CHECK (kind NOT IN ('grant', 'return') OR delta > 0),
    CHECK (kind NOT IN ('consume', 'expire', 'revoke') OR delta < 0),
    CHECK (kind <> 'adjust' OR reason IS NOT NULL)
);
CREATE INDEX credit_ledger_lot ON credit_ledger (lot_id);
CREATE INDEX credit_ledger_user ON credit_ledger (user_id, id);
-- one grant per lot, one consume and at most one return per booking
CREATE UNIQUE INDEX credit_ledger_one_grant ON credit_ledger (lot_id) WHERE kind = 'grant';
CREATE UNIQUE INDEX credit_ledger_one_consume ON credit_ledger (booking_id) WHERE kind = 'consume';
CREATE UNIQUE INDEX credit_ledger_one_return ON credit_ledger (booking_id) WHERE kind = 'return';

ALTER TABLE payment_audit_log DROP CONSTRAINT payment_audit_log_entity_check;
ALTER TABLE payment_audit_log ADD CONSTRAINT payment_audit_log_entity_check
    CHECK (entity IN ('order', 'hold', 'booking', 'payment', 'refund', 'notification', 'schedule',
                      'operator', 'attempt', 'waitlist', 'product', 'membership', 'credit'));
