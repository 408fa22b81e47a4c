-- The fault driver's self-test: each block starts with a line
-- "-- corrupt: NAME" and is one statement that breaks what invariant NAME
-- (test/fault/invariants.sql) guards, on rows a run leaves behind.  After
-- the invariants, the driver runs each block in a transaction of its own,
-- runs invariant NAME in it and rolls back: the invariant must report at
-- least one violation ("caught").  A statement that changes no row (a run
-- without such rows, or --check-only on an empty database) is "skipped".
-- Nothing here is ever committed.

-- corrupt: member_booking_audit
-- a member booking cancelled without its audit row
UPDATE member_bookings SET status = 'cancelled', cancelled_at = now()
 WHERE id = (SELECT min(id) FROM member_bookings WHERE status = 'confirmed');

-- corrupt: member_booking_seat
-- a confirmed member booking whose seat went back to free
UPDATE seats SET state = 'free', reservation_id = NULL, held_until = NULL
 WHERE reservation_id = (SELECT reservation_id FROM member_bookings
                          WHERE status = 'confirmed' ORDER BY id LIMIT 1);

-- corrupt: seat_confirmed_without_booking
-- the same from the seat's side: the booking gone, the seat still confirmed
UPDATE member_bookings SET status = 'cancelled', cancelled_at = now()
 WHERE id = (SELECT max(id) FROM member_bookings WHERE status = 'confirmed');

-- corrupt: credit_lot_matches_ledger
-- a credits booking whose consume row is lost: the balance would be a
-- credit too high
DELETE FROM credit_ledger
 WHERE id = (SELECT min(id) FROM credit_ledger WHERE kind = 'consume');

-- corrupt: credit_spent_once
-- a credit given back for a booking that still holds its seat
INSERT INTO credit_ledger (user_id, lot_id, kind, delta, booking_id, created_at)
SELECT m.user_id, m.lot_id, 'return', 1, m.id, now()
  FROM member_bookings m
 WHERE m.pay_with = 'credits' AND m.status = 'confirmed'
   AND NOT EXISTS (SELECT 1 FROM credit_ledger c WHERE c.booking_id = m.id AND c.kind = 'return')
 ORDER BY m.id LIMIT 1;

-- corrupt: credit_lot_not_negative
-- a lot spent below zero
INSERT INTO credit_ledger (user_id, lot_id, kind, delta, created_at)
SELECT user_id, id, 'revoke', -(credits + 1), now()
  FROM credit_lots ORDER BY id LIMIT 1;

-- corrupt: member_booking_entitled
-- a credits booking paid from another parent's lot
UPDATE member_bookings m SET lot_id = l.id
  FROM credit_lots l
 WHERE m.id = (SELECT min(id) FROM member_bookings WHERE pay_with = 'credits')
   AND l.user_id <> m.user_id
   AND l.id = (SELECT min(x.id) FROM credit_lots x WHERE x.user_id <> m.user_id);

-- corrupt: capacity_with_member_bookings
-- a regular class with more member bookings than seats
UPDATE course_schedules SET capacity = 0
 WHERE id = (SELECT min(course_schedule_id) FROM member_bookings WHERE status = 'confirmed');

-- corrupt: product_paid_fulfilled_once
-- a paid class pack order that also got a membership period
INSERT INTO membership_periods (user_id, product_id, order_id, kind, starts_at, ends_at,
                                created_at)
SELECT o.user_id, o.product_id, o.order_id, 'purchase', now(), now() + interval '1 day', now()
  FROM payment_orders o JOIN credit_lots l ON l.order_id = o.order_id
 WHERE o.status = 'paid'
 ORDER BY o.id LIMIT 1;

-- corrupt: product_refund_matches_order
-- a product refund that gave back more than was paid
UPDATE refunds SET amount_fen = amount_fen + 100000
 WHERE id = (SELECT min(r.id) FROM refunds r JOIN payment_orders o USING (order_id)
              WHERE o.course_schedule_id IS NULL AND r.status = 'success');

-- corrupt: product_refund_reversed_once
-- a pack refund's credits revoked a second time
INSERT INTO credit_ledger (user_id, lot_id, kind, delta, order_id, created_at)
SELECT l.user_id, l.id, 'revoke', -1, l.order_id, now()
  FROM credit_lots l
 WHERE EXISTS (SELECT 1 FROM credit_ledger c WHERE c.lot_id = l.id AND c.kind = 'revoke')
   AND (SELECT count(*) FROM credit_ledger c WHERE c.lot_id = l.id AND c.kind = 'revoke') >=
       (SELECT count(*) FROM refunds r WHERE r.order_id = l.order_id AND r.status = 'success')
 ORDER BY l.id LIMIT 1;

-- corrupt: ack_product_order_lost
INSERT INTO fault_acks VALUES ('product_order', 'GYMselftestnoorder', '1');

-- corrupt: ack_product_paid_lost
INSERT INTO fault_acks VALUES ('product_paid', 'GYMselftestnoorder', '-');

-- corrupt: ack_member_booking_lost
-- a cancel acknowledged for a booking that is still confirmed
INSERT INTO fault_acks
SELECT 'member_cancel', id::text, '-' FROM member_bookings WHERE status = 'confirmed'
 ORDER BY id LIMIT 1;

-- corrupt: ack_product_refund_lost
INSERT INTO fault_acks VALUES ('product_refund', 'RFselftestnorefund', 'GYMselftestnoorder');

-- corrupt: ack_balance_matches_ledger
-- a balance shown one credit above the ledger
UPDATE fault_acks SET ref = (ref::bigint + 1)::text
 WHERE ctid = (SELECT ctid FROM fault_acks WHERE kind = 'balance' LIMIT 1);
