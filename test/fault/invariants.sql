-- The fault driver's invariants (bin/fault_driver runs them after a run has
-- settled; see docs/reliability.md).  Each block starts with a line
-- "-- invariant: NAME" and is one query returning the rows that violate it:
-- zero rows is a pass.  They run in one REPEATABLE READ snapshot.
--
-- Three temporary tables are there when they run:
--   sim_orders (out_trade_no, trade_state, transaction_id, total, refunded):
--       every order the WeChat simulator knows, from GET /sim/orders
--   sim_refunds (out_refund_no, out_trade_no, status, refund, total):
--       every refund it knows, from GET /sim/refunds
--   sim_messages (touser, template_id, data): every subscribe message the
--       simulator was sent, from GET /sim/messages
--   fault_acks (kind, id, ref): what the clients were told with a 2xx
--       (fault.h: hold, order, prepay, paid, refund)
--   fault_run (started_at): when this run of the driver began
--
-- An order being refunded or refunded here is a payment that arrived
-- without a seat (late_refunded), for a parent who already had a trial
-- (duplicate_refunded), both refunded automatically, or one an operator
-- refunded (a refund row with operator_id); the driver waits for every
-- refund to finish before checking.  "now()" leaves 10 seconds to the job process
-- (it runs every 200 ms in the test profile) before a lapse counts as stuck.

-- invariant: capacity_by_seats
-- No class has more seats held (and not lapsed) or confirmed than its capacity.
SELECT cs.id AS schedule_id, cs.capacity, count(s.id) AS taken
  FROM course_schedules cs
  JOIN seats s ON s.course_schedule_id = cs.id
 WHERE s.state = 'confirmed' OR (s.state = 'held' AND s.held_until > now())
 GROUP BY cs.id, cs.capacity
HAVING count(s.id) > cs.capacity;

-- invariant: capacity_by_bookings_and_holds
-- The same from the other side: confirmed bookings plus live holds.
WITH b AS (SELECT course_schedule_id, count(*) AS n FROM bookings
            WHERE status = 'confirmed' GROUP BY 1),
     h AS (SELECT course_schedule_id, count(*) AS n FROM seat_reservations
            WHERE status = 'temporary' AND expires_at > now() GROUP BY 1)
SELECT cs.id AS schedule_id, cs.capacity, coalesce(b.n, 0) AS bookings,
       coalesce(h.n, 0) AS live_holds
  FROM course_schedules cs
  LEFT JOIN b ON b.course_schedule_id = cs.id
  LEFT JOIN h ON h.course_schedule_id = cs.id
 WHERE coalesce(b.n, 0) + coalesce(h.n, 0) > cs.capacity;

-- invariant: seat_sold_twice
-- One seat row is never under two confirmed bookings (trial or member), or
-- a booking and a live hold.
WITH taken AS (
    SELECT r.seat_id, 'booking ' || b.id AS what
      FROM bookings b JOIN seat_reservations r ON r.id = b.reservation_id
     WHERE b.status = 'confirmed'
    UNION ALL
    SELECT r.seat_id, 'member booking ' || m.id
      FROM member_bookings m JOIN seat_reservations r ON r.id = m.reservation_id
     WHERE m.status = 'confirmed'
    UNION ALL
    SELECT seat_id, 'hold ' || id FROM seat_reservations
     WHERE status = 'temporary' AND expires_at > now())
SELECT seat_id, string_agg(what, ', ') AS holders
  FROM taken GROUP BY seat_id HAVING count(*) > 1;

-- invariant: booking_seat_not_confirmed
-- A confirmed booking's seat is marked confirmed for its hold, in its class.
SELECT b.id AS booking_id, b.order_id, r.seat_id, s.state, s.reservation_id
  FROM bookings b
  JOIN seat_reservations r ON r.id = b.reservation_id
  LEFT JOIN seats s ON s.id = r.seat_id
 WHERE b.status = 'confirmed'
   AND (s.state IS DISTINCT FROM 'confirmed' OR s.reservation_id IS DISTINCT FROM b.reservation_id
        OR s.course_schedule_id IS DISTINCT FROM b.course_schedule_id
        OR r.status <> 'confirmed');

-- invariant: seat_confirmed_without_booking
-- A seat marked confirmed belongs to a confirmed booking: a trial's, or a
-- member's (issue 15).
SELECT s.id AS seat_id, s.course_schedule_id, s.reservation_id
  FROM seats s
 WHERE s.state = 'confirmed'
   AND NOT EXISTS (SELECT 1 FROM bookings b
                    WHERE b.reservation_id = s.reservation_id AND b.status = 'confirmed')
   AND NOT EXISTS (SELECT 1 FROM member_bookings m
                    WHERE m.reservation_id = s.reservation_id AND m.status = 'confirmed');

-- invariant: wechat_paid_not_applied
-- Every order WeChat reports paid (SUCCESS, or REFUND after the money went
-- back) is paid here, or being refunded or refunded.
SELECT s.out_trade_no, s.trade_state, o.status
  FROM sim_orders s
  LEFT JOIN payment_orders o ON o.order_id = s.out_trade_no
 WHERE s.trade_state IN ('SUCCESS', 'REFUND')
   AND (o.status IS NULL OR o.status NOT IN ('paid', 'refunding', 'refunded'));

-- invariant: wechat_refunded_but_booked
-- Money WeChat gave back leaves no paid trial order behind.  A product
-- order may be refunded in part and stay paid, but only with a refund that
-- succeeded here.
SELECT s.out_trade_no, o.status
  FROM sim_orders s
  JOIN payment_orders o ON o.order_id = s.out_trade_no
 WHERE s.trade_state = 'REFUND' AND o.status NOT IN ('refunding', 'refunded')
   AND (o.course_schedule_id IS NOT NULL
        OR NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.order_id
                          AND r.status = 'success'));

-- invariant: paid_without_wechat_payment
-- An order paid (or refunded) here was paid at WeChat.  Orders older than
-- this run may predate the simulator's memory; they count only when it
-- knows them.
SELECT o.order_id, o.status, s.trade_state
  FROM payment_orders o
  LEFT JOIN sim_orders s ON s.out_trade_no = o.order_id
 WHERE o.status IN ('paid', 'refunding', 'refunded')
   AND ((s.trade_state IS NULL AND o.created_at >= (SELECT started_at FROM fault_run))
        OR s.trade_state NOT IN ('SUCCESS', 'REFUND'));

-- invariant: paid_order_one_booking
-- Every paid trial order has exactly one booking, confirmed, for its user
-- and class (a product order has none: product_paid_fulfilled_once).
SELECT o.order_id, count(b.id) AS bookings,
       count(b.id) FILTER (WHERE b.status = 'confirmed' AND b.user_id = o.user_id
                             AND b.course_schedule_id = o.course_schedule_id) AS good
  FROM payment_orders o
  LEFT JOIN bookings b ON b.order_id = o.order_id
 WHERE o.status = 'paid' AND o.course_schedule_id IS NOT NULL
 GROUP BY o.order_id
HAVING count(b.id) <> 1
    OR count(b.id) FILTER (WHERE b.status = 'confirmed' AND b.user_id = o.user_id
                             AND b.course_schedule_id = o.course_schedule_id) <> 1;

-- invariant: booking_without_paid_order
-- A confirmed booking belongs to a paid order.
SELECT b.id AS booking_id, b.order_id, o.status
  FROM bookings b
  JOIN payment_orders o ON o.order_id = b.order_id
 WHERE b.status = 'confirmed' AND o.status <> 'paid';

-- invariant: paid_order_transaction
-- A paid order has exactly one transaction applied to it (outcome paid or
-- late_paid), the one its transaction_id names.
SELECT o.order_id, o.transaction_id,
       count(t.id) FILTER (WHERE t.outcome IN ('paid', 'late_paid')) AS applied
  FROM payment_orders o
  LEFT JOIN payment_transactions t ON t.order_id = o.order_id
 WHERE o.status = 'paid'
 GROUP BY o.order_id, o.transaction_id
HAVING count(t.id) FILTER (WHERE t.outcome IN ('paid', 'late_paid')) <> 1
    OR NOT bool_or(t.outcome IN ('paid', 'late_paid') AND t.transaction_id = o.transaction_id);

-- invariant: transaction_once
-- WeChat makes one transaction per order: it is recorded once.
SELECT order_id, count(*) AS transactions, string_agg(outcome, ',') AS outcomes
  FROM payment_transactions
 GROUP BY order_id HAVING count(*) > 1;

-- invariant: transaction_is_wechats
-- The transaction recorded is the one WeChat reports for the order.
SELECT t.order_id, t.transaction_id, s.transaction_id AS wechat_transaction_id
  FROM payment_transactions t
  JOIN sim_orders s ON s.out_trade_no = t.order_id
 WHERE s.transaction_id IS DISTINCT FROM t.transaction_id;

-- invariant: outcome_matches_order
-- A payment applied with a seat left the order paid (unless an operator
-- refunded it since); a payment without a seat (or a second trial) left it
-- being refunded, with no booking.
SELECT t.order_id, t.outcome, o.status, b.id AS booking_id
  FROM payment_transactions t
  JOIN payment_orders o ON o.order_id = t.order_id
  LEFT JOIN bookings b ON b.order_id = t.order_id AND b.status = 'confirmed'
 WHERE (t.outcome IN ('paid', 'late_paid') AND o.status <> 'paid'
        AND NOT (o.status IN ('refunding', 'refunded')
                 AND EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.order_id
                                AND r.operator_id IS NOT NULL)))
    OR (t.outcome IN ('late_refunded', 'duplicate_refunded')
        AND (o.status NOT IN ('refunding', 'refunded') OR b.id IS NOT NULL));

-- invariant: refund_without_cause
-- An order is refunded only for a late payment without a seat, a second
-- trial, or by an operator (a refund row naming the operator) after it was
-- paid with a seat.
SELECT o.order_id, o.status
  FROM payment_orders o
 WHERE o.status IN ('refunding', 'refunded')
   AND NOT EXISTS (SELECT 1 FROM payment_transactions t
                    WHERE t.order_id = o.order_id
                      AND t.outcome IN ('late_refunded', 'duplicate_refunded'))
   AND NOT EXISTS (SELECT 1 FROM payment_transactions t JOIN refunds r USING (order_id)
                    WHERE t.order_id = o.order_id AND t.outcome IN ('paid', 'late_paid')
                      AND r.operator_id IS NOT NULL);

-- invariant: operator_refund_not_paid
-- An operator refunds only an order that was paid with a seat (or a paid
-- product order), a trial once (a product order may be refunded in parts:
-- product_refund_matches_order).
SELECT r.order_id, count(*) AS operator_refunds, string_agg(t.outcome, ',') AS outcomes
  FROM refunds r
  JOIN payment_orders o ON o.order_id = r.order_id
  LEFT JOIN payment_transactions t ON t.order_id = r.order_id
 WHERE r.operator_id IS NOT NULL
 GROUP BY r.order_id, o.course_schedule_id
HAVING (count(*) > 1 AND o.course_schedule_id IS NOT NULL)
    OR NOT bool_and(t.outcome IN ('paid', 'late_paid'));

-- invariant: refund_matches_order
-- A trial order is 'refunded' exactly when one refund of it succeeded; no
-- trial order has two successful refunds; an order still 'refunding' has a
-- refund under way.  (Product orders: product_refund_matches_order.)
SELECT o.order_id, o.status, string_agg(r.out_refund_no || ':' || r.status, ', ') AS refunds
  FROM payment_orders o
  LEFT JOIN refunds r ON r.order_id = o.order_id
 WHERE (o.status IN ('refunding', 'refunded') OR r.id IS NOT NULL)
   AND o.course_schedule_id IS NOT NULL
 GROUP BY o.order_id, o.status
HAVING (o.status = 'refunded') <> (count(r.id) FILTER (WHERE r.status = 'success') = 1)
    OR count(r.id) FILTER (WHERE r.status = 'success') > 1
    OR (o.status = 'refunding'
        AND count(r.id) FILTER (WHERE r.status IN ('pending', 'processing', 'abnormal')) = 0);

-- invariant: refund_finished
-- Every refund (automatic or an operator's) is done once the run has settled: no order is left
-- 'refunding' and no refund pending or processing.
SELECT 'order' AS what, order_id AS id, status FROM payment_orders WHERE status = 'refunding'
UNION ALL
SELECT 'refund', out_refund_no, status FROM refunds WHERE status IN ('pending', 'processing');

-- invariant: wechat_refund_matches
-- The money WeChat gave back for an order is what the refunds here say:
-- nothing refunded twice, nothing refunded unrecorded, nothing recorded
-- that WeChat did not pay out.
-- (A product order may have several refunds, one after the other: only
-- the sums must agree.)
WITH here AS (
    SELECT order_id, sum(amount_fen) FILTER (WHERE status = 'success') AS ok,
           count(*) FILTER (WHERE status = 'success') AS n
      FROM refunds GROUP BY order_id),
     wx AS (
    SELECT out_trade_no, sum(refund) FILTER (WHERE status = 'SUCCESS') AS ok,
           count(*) FILTER (WHERE status IN ('SUCCESS', 'PROCESSING')) AS live
      FROM sim_refunds GROUP BY out_trade_no)
SELECT coalesce(h.order_id, w.out_trade_no) AS order_id, h.ok AS refunded_here,
       w.ok AS refunded_at_wechat, w.live AS wechat_refunds
  FROM here h FULL JOIN wx w ON w.out_trade_no = h.order_id
  LEFT JOIN payment_orders o ON o.order_id = coalesce(h.order_id, w.out_trade_no)
 WHERE coalesce(h.ok, 0) <> coalesce(w.ok, 0)
    OR (o.course_schedule_id IS NOT NULL
        AND (coalesce(w.live, 0) > 1 OR coalesce(h.n, 0) > 1));

-- invariant: refund_audit_chain
-- Every status a refund went through has its audit row (entity 'refund',
-- the refund's id in the snapshot), from NULL -> pending to its status now.
WITH a AS (
    SELECT (response_snapshot ->> 'refund_id')::bigint AS refund_id, old_status, new_status,
           lag(new_status) OVER w AS prev, row_number() OVER w AS k
      FROM payment_audit_log
     WHERE entity = 'refund' AND response_snapshot ? 'refund_id' AND new_status IS NOT NULL
    WINDOW w AS (PARTITION BY (response_snapshot ->> 'refund_id')::bigint ORDER BY id)),
c AS (
    SELECT refund_id,
           bool_or(k = 1 AND old_status IS NULL AND new_status = 'pending') AS starts,
           bool_and(k = 1 OR old_status IS NOT DISTINCT FROM prev) AS linked,
           (array_agg(new_status ORDER BY k DESC))[1] AS last,
           string_agg(coalesce(old_status, '-') || '>' || new_status, ' ' ORDER BY k) AS trail
      FROM a GROUP BY refund_id)
SELECT t.id, t.status, c.trail
  FROM refunds t
  LEFT JOIN c ON c.refund_id = t.id
 WHERE c.refund_id IS NULL OR NOT c.starts OR NOT c.linked OR c.last <> t.status;

-- invariant: two_trials
-- No user has two confirmed bookings, two paid trial orders, or a paid and
-- an open one (product orders are not trials).
SELECT user_id, 'orders' AS what, count(*) AS n
  FROM payment_orders WHERE status IN ('pending', 'paid') AND course_schedule_id IS NOT NULL
 GROUP BY user_id HAVING count(*) > 1
UNION ALL
SELECT user_id, 'bookings', count(*)
  FROM bookings WHERE status = 'confirmed'
 GROUP BY user_id HAVING count(*) > 1;

-- invariant: order_audit_chain
-- Every status an order went through has its audit row: the order's rows
-- (entity 'order') run from NULL -> pending to its status now, each one's
-- old_status the previous one's new_status.
WITH a AS (
    SELECT order_id AS order_id, old_status, new_status,
           lag(new_status) OVER w AS prev, row_number() OVER w AS k
      FROM payment_audit_log
     WHERE entity = 'order' AND order_id IS NOT NULL AND new_status IS NOT NULL
    WINDOW w AS (PARTITION BY order_id ORDER BY id)),
c AS (
    SELECT order_id,
           bool_or(k = 1 AND old_status IS NULL AND new_status = 'pending') AS starts,
           bool_and(k = 1 OR old_status IS NOT DISTINCT FROM prev) AS linked,
           (array_agg(new_status ORDER BY k DESC))[1] AS last,
           string_agg(coalesce(old_status, '-') || '>' || new_status, ' ' ORDER BY k) AS trail
      FROM a GROUP BY order_id)
SELECT t.order_id, t.status, c.trail
  FROM payment_orders t
  LEFT JOIN c ON c.order_id = t.order_id
 WHERE c.order_id IS NULL OR NOT c.starts OR NOT c.linked OR c.last <> t.status;

-- invariant: hold_audit_chain
-- The same for holds (entity 'hold'): NULL -> temporary, then how it ended.
WITH a AS (
    SELECT reservation_id AS reservation_id, old_status, new_status,
           lag(new_status) OVER w AS prev, row_number() OVER w AS k
      FROM payment_audit_log
     WHERE entity = 'hold' AND reservation_id IS NOT NULL AND new_status IS NOT NULL
    WINDOW w AS (PARTITION BY reservation_id ORDER BY id)),
c AS (
    SELECT reservation_id,
           bool_or(k = 1 AND old_status IS NULL AND new_status = 'temporary') AS starts,
           bool_and(k = 1 OR old_status IS NOT DISTINCT FROM prev) AS linked,
           (array_agg(new_status ORDER BY k DESC))[1] AS last,
           string_agg(coalesce(old_status, '-') || '>' || new_status, ' ' ORDER BY k) AS trail
      FROM a GROUP BY reservation_id)
SELECT t.id, t.status, c.trail
  FROM seat_reservations t
  LEFT JOIN c ON c.reservation_id = t.id
 WHERE c.reservation_id IS NULL OR NOT c.starts OR NOT c.linked OR c.last <> t.status;

-- invariant: booking_audit
-- Every trial booking has its booking_confirmed audit row, and its last
-- booking row ends in its status now.  (A member booking's rows, actions
-- member_booking_*, name a member_bookings id: member_booking_audit.)
WITH l AS (
    SELECT booking_id,
           bool_or(action_type = 'booking_confirmed' AND new_status = 'confirmed') AS confirmed,
           (array_agg(new_status ORDER BY id DESC))[1] AS last
      FROM payment_audit_log
     WHERE entity = 'booking' AND booking_id IS NOT NULL
       AND action_type NOT LIKE 'member\_booking\_%'
     GROUP BY booking_id)
SELECT b.id AS booking_id, b.order_id, b.status, l.last
  FROM bookings b
  LEFT JOIN l ON l.booking_id = b.id
 WHERE l.booking_id IS NULL OR NOT l.confirmed OR l.last IS DISTINCT FROM b.status;

-- invariant: payment_audit
-- Every transaction recorded has its payment_received audit row naming it.
SELECT t.order_id, t.transaction_id, t.outcome
  FROM payment_transactions t
 WHERE NOT EXISTS (SELECT 1 FROM payment_audit_log l
                    WHERE l.entity = 'payment' AND l.action_type = 'payment_received'
                      AND l.order_id = t.order_id
                      AND l.response_snapshot ->> 'transaction_id' = t.transaction_id
                      AND l.response_snapshot ->> 'outcome' = t.outcome);

-- invariant: hold_stuck_after_expiry
-- No hold is still 'temporary' 10 s after it lapsed (the sweep ends it; its
-- seat was free to claim from the lapse on).
SELECT id AS reservation_id, course_schedule_id, expires_at
  FROM seat_reservations
 WHERE status = 'temporary' AND expires_at < now() - interval '10 seconds';

-- invariant: seat_held_after_expiry
-- The sweep writes no seat: a seat whose hold lapsed stays 'held' with
-- held_until in the past, and the claim and the availability count
-- (lib/holds.c, lib/schedules.c) take it as free from held_until on.  So a
-- seat must be held no longer than its hold: held_until is exactly the
-- hold's expires_at (a later one would keep the seat from being sold after
-- the hold lapsed).
SELECT s.id AS seat_id, s.course_schedule_id, s.reservation_id, s.held_until,
       r.expires_at AS hold_expires_at
  FROM seats s
  LEFT JOIN seat_reservations r ON r.id = s.reservation_id
 WHERE s.state = 'held'
   AND (r.id IS NULL OR s.held_until IS DISTINCT FROM r.expires_at);

-- invariant: seat_held_by_ended_hold
-- A held seat belongs to a hold that names that seat and is still temporary,
-- or has lapsed and been expired (the sweep leaves its seat alone); a hold
-- released, confirmed or cancelled gives its seat back at once, and an
-- expired hold whose seat is still held by it in the future would keep the
-- seat from being sold until held_until.
SELECT s.id AS seat_id, s.reservation_id, r.status AS hold_status, r.seat_id AS hold_seat,
       s.held_until
  FROM seats s
  LEFT JOIN seat_reservations r ON r.id = s.reservation_id
 WHERE s.state = 'held'
   AND (r.id IS NULL OR r.seat_id <> s.id
        OR r.status NOT IN ('temporary', 'expired')
        OR (r.status = 'expired' AND s.held_until > now()));

-- invariant: order_stuck_after_expiry
-- No order is still 'pending' 10 s after it lapsed.
SELECT order_id, expires_at
  FROM payment_orders
 WHERE status = 'pending' AND expires_at < now() - interval '10 seconds';

-- invariant: ack_hold_lost_then_used
-- Holds commit without waiting for the disk, so a PostgreSQL crash may lose
-- the last acknowledged ones (the driver reports how many).  A lost hold
-- must never have been used: no acknowledged order names it.
SELECT h.id AS reservation_id, h.ref AS schedule_id, o.id AS order_id
  FROM fault_acks h
  JOIN fault_acks o ON o.kind = 'order' AND o.ref = h.id
 WHERE h.kind = 'hold'
   AND NOT EXISTS (SELECT 1 FROM seat_reservations r
                    WHERE r.id = h.id::bigint AND r.course_schedule_id = h.ref::bigint);

-- invariant: ack_order_lost
-- Every order a client was given exists, and the hold it was made from
-- too, the parent's, in the order's class (a late payment that took a
-- free seat moved the order to a new hold).
SELECT a.id AS order_id, a.ref AS reservation_id, o.status, r.status AS hold_status
  FROM fault_acks a
  LEFT JOIN payment_orders o ON o.order_id = a.id
  LEFT JOIN seat_reservations r ON r.id = a.ref::bigint
 WHERE a.kind = 'order'
   AND (o.id IS NULL OR r.id IS NULL OR r.user_id <> o.user_id
        OR r.course_schedule_id <> o.course_schedule_id);

-- invariant: ack_prepay_lost
-- Every prepay a client was given has its payment attempt.
SELECT a.id AS order_id
  FROM fault_acks a
 WHERE a.kind = 'prepay'
   AND NOT EXISTS (SELECT 1 FROM payment_attempts p WHERE p.order_id = a.id);

-- invariant: ack_paid_lost
-- An order a client saw paid is paid, being refunded or refunded, with its
-- transaction and its booking.
SELECT a.id AS order_id, o.status, t.outcome, b.id AS booking_id
  FROM fault_acks a
  LEFT JOIN payment_orders o ON o.order_id = a.id
  LEFT JOIN payment_transactions t ON t.order_id = a.id
  LEFT JOIN bookings b ON b.order_id = a.id
 WHERE a.kind = 'paid'
   AND (o.status IS NULL OR o.status NOT IN ('paid', 'refunding', 'refunded')
        OR t.outcome IS DISTINCT FROM 'paid' AND t.outcome IS DISTINCT FROM 'late_paid'
        OR b.id IS NULL);

-- invariant: ack_refund_lost
-- Every refund an operator was given exists, for its order, and finished:
-- WeChat paid it back and the order is refunded.
SELECT a.id AS out_refund_no, a.ref AS order_id, r.status, o.status AS order_status
  FROM fault_acks a
  LEFT JOIN refunds r ON r.out_refund_no = a.id
  LEFT JOIN payment_orders o ON o.order_id = a.ref
 WHERE a.kind = 'refund'
   AND (r.id IS NULL OR r.order_id <> a.ref OR r.status <> 'success'
        OR o.status IS DISTINCT FROM 'refunded');

-- invariant: amount_matches_wechat
-- Every amount paid here is what WeChat charged: the order's price, the
-- transaction's amount and payer total equal the simulator's total for
-- the attempt that paid.
SELECT o.order_id, p.out_trade_no, o.amount_fen, t.amount_fen AS transaction_fen,
       t.payer_total, s.total AS wechat_total
  FROM payment_orders o
  JOIN payment_transactions t ON t.order_id = o.order_id
  JOIN payment_attempts p ON p.order_id = o.order_id
  JOIN sim_orders s ON s.out_trade_no = p.out_trade_no
 WHERE s.trade_state IN ('SUCCESS', 'REFUND')
   AND (s.total IS DISTINCT FROM o.amount_fen OR s.total IS DISTINCT FROM t.amount_fen
        OR t.payer_total IS DISTINCT FROM s.total);

-- invariant: wechat_charged_unknown
-- Every payment the simulator took belongs to an attempt recorded here.
SELECT s.out_trade_no, s.trade_state, s.total
  FROM sim_orders s
 WHERE s.trade_state IN ('SUCCESS', 'REFUND')
   AND NOT EXISTS (SELECT 1 FROM payment_attempts p WHERE p.out_trade_no = s.out_trade_no);

-- invariant: confirmation_sent
-- Each booking of this run has its confirmation (parent_notifications kind
-- booking_confirmed), sent; or failed only because the sender stopped in
-- the middle of the send (a crash), when it is never sent again and the
-- simulator says whether it arrived (confirmation_once).
SELECT b.order_id, n.status, n.attempts, n.last_error
  FROM bookings b
  JOIN payment_orders o ON o.order_id = b.order_id
  LEFT JOIN parent_notifications n ON n.order_id = b.order_id AND n.kind = 'booking_confirmed'
 WHERE o.created_at >= (SELECT started_at FROM fault_run)
   AND (n.id IS NULL OR (n.status <> 'sent'
        AND NOT (n.status = 'failed' AND n.last_error LIKE 'outcome unknown%')));

-- invariant: confirmation_once
-- ... and reached WeChat exactly once: for each parent, template and data,
-- the simulator holds as many messages as there are bookings' confirmations
-- (a parent refunded and booked again has two, with the same data only
-- when it was the same class).
WITH here AS (
    SELECT u.openid, n.template_id, n.data, count(*) AS bookings,
           count(*) FILTER (WHERE n.status = 'sent') AS sent
      FROM bookings b
      JOIN payment_orders o ON o.order_id = b.order_id
      JOIN parent_notifications n ON n.order_id = b.order_id AND n.kind = 'booking_confirmed'
      JOIN users u ON u.id = n.user_id
     WHERE o.created_at >= (SELECT started_at FROM fault_run)
     GROUP BY 1, 2, 3),
     wx AS (
    SELECT m.touser, m.template_id, m.data, count(*) AS messages
      FROM sim_messages m
     WHERE m.template_id IN (SELECT template_id FROM here)
     GROUP BY 1, 2, 3)
SELECT coalesce(h.openid, w.touser) AS openid, h.data, h.bookings, h.sent, w.messages
  FROM here h
  FULL JOIN wx w ON w.touser = h.openid AND w.template_id = h.template_id AND w.data = h.data
 WHERE coalesce(h.bookings, 0) <> coalesce(w.messages, 0);

-- invariant: order_has_registration
-- Every trial order created in the run carries its registration details,
-- sealed (the API takes none without them, and they commit with the order;
-- a product order asks for none).
SELECT o.order_id
  FROM payment_orders o
 WHERE o.created_at >= (SELECT started_at FROM fault_run) AND o.course_schedule_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM order_registrations r WHERE r.order_id = o.order_id);

-- invariant: waitlist_offer_is_own_hold
-- A waitlist offer is a hold of that parent in that class.
SELECT w.id AS entry_id, w.hold_id, r.user_id AS hold_user, w.user_id
  FROM waitlist_entries w
  LEFT JOIN seat_reservations r ON r.id = w.hold_id
 WHERE w.hold_id IS NOT NULL
   AND (r.id IS NULL OR r.user_id <> w.user_id OR r.course_schedule_id <> w.course_schedule_id);

-- invariant: waitlist_seat_offered_twice
-- No seat is on offer to two waiting parents at once.
SELECT r.seat_id, count(*) AS offers
  FROM waitlist_entries w
  JOIN seat_reservations r ON r.id = w.hold_id
 WHERE w.state = 'offered' AND r.status = 'temporary' AND r.expires_at > now()
 GROUP BY r.seat_id
HAVING count(*) > 1;

-- invariant: waitlist_order
-- First come, first served: no parent got an offer while one who joined
-- the same class's queue earlier (a second before, at least) still waited
-- or was offered later.  The driver's waitlist parents are fresh, so none
-- is passed over for holding a seat elsewhere or having had the trial.
SELECT x.id AS earlier, y.id AS later, x.state, x.offered_at, y.offered_at AS later_offered_at
  FROM waitlist_entries x
  JOIN waitlist_entries y ON y.course_schedule_id = x.course_schedule_id AND y.id > x.id
 WHERE y.offered_at IS NOT NULL
   AND x.joined_at < y.offered_at - interval '1 second'
   AND (x.state = 'waiting' OR x.offered_at > y.offered_at)
   AND x.joined_at >= (SELECT started_at FROM fault_run);

-- invariant: waitlist_offer_message_once
-- Every offer has its one message row, and WeChat got no more waitlist
-- messages for a parent than offers made to them.
WITH here AS (
    SELECT u.openid, count(*) AS offers
      FROM waitlist_entries w JOIN users u ON u.id = w.user_id
     WHERE w.hold_id IS NOT NULL
     GROUP BY 1),
     wx AS (
    SELECT m.touser, count(*) AS messages
      FROM sim_messages m
     WHERE m.template_id = 'tpl-waitlist-offer'
     GROUP BY 1)
SELECT coalesce(h.openid, w.touser) AS openid, h.offers, w.messages, NULL::bigint AS entry_id
  FROM here h FULL JOIN wx w ON w.touser = h.openid
 WHERE coalesce(w.messages, 0) > coalesce(h.offers, 0)
UNION ALL
SELECT NULL, NULL, NULL, w.id
  FROM waitlist_entries w
 WHERE w.hold_id IS NOT NULL
   AND (SELECT count(*) FROM parent_notifications n
         WHERE n.waitlist_entry_id = w.id AND n.kind = 'waitlist_offer') <> 1;

-- invariant: cancelled_class_takes_no_one
-- A class the gym cancelled holds no seat for anyone (its holds were
-- released, and no claim in flight commits after the cancel: it waits for
-- the seats), and every order paid in it is being refunded or refunded.
SELECT s.id AS course_schedule_id, r.id AS reservation_id, NULL::text AS order_id, r.status
  FROM course_schedules s JOIN seat_reservations r ON r.course_schedule_id = s.id
 WHERE s.cancelled_at IS NOT NULL AND r.status = 'temporary'
UNION ALL
SELECT s.id, NULL, o.order_id, o.status
  FROM course_schedules s JOIN payment_orders o ON o.course_schedule_id = s.id
 WHERE s.cancelled_at IS NOT NULL AND o.status = 'paid';

-- invariant: ack_class_cancel_lost
-- Every class a cancel was acknowledged for is cancelled, once (one audit row).
SELECT a.id AS course_schedule_id, s.cancelled_at,
       (SELECT count(*) FROM payment_audit_log l WHERE l.action_type = 'schedule_cancelled'
           AND l.response_snapshot->>'course_schedule_id' = a.id) AS cancels
  FROM fault_acks a LEFT JOIN course_schedules s ON s.id = a.id::bigint
 WHERE a.kind = 'class_cancel'
   AND (s.cancelled_at IS NULL OR (SELECT count(*) FROM payment_audit_log l
           WHERE l.action_type = 'schedule_cancelled'
             AND l.response_snapshot->>'course_schedule_id' = a.id) <> 1);

-- invariant: product_paid_fulfilled_once
-- Every paid membership or class pack order (issue 15) has exactly one
-- period or credit lot, except an upgrade that came too late (it waits for
-- an operator, upgrade_stale, and gives nothing).
SELECT o.order_id, o.status
  FROM payment_orders o
 WHERE o.course_schedule_id IS NULL
   AND o.status IN ('paid', 'refunding', 'refunded')
   AND o.attention_reason IS DISTINCT FROM 'upgrade_stale'
   AND (SELECT count(*) FROM membership_periods m WHERE m.order_id = o.order_id) +
       (SELECT count(*) FROM credit_lots l WHERE l.order_id = o.order_id) <> 1;

-- invariant: product_entitlement_only_when_paid
-- No period or credit lot for an order that was never paid.
SELECT m.order_id FROM membership_periods m JOIN payment_orders o ON o.order_id = m.order_id
 WHERE o.status NOT IN ('paid', 'refunding', 'refunded')
UNION ALL
SELECT l.order_id FROM credit_lots l JOIN payment_orders o ON o.order_id = l.order_id
 WHERE o.status NOT IN ('paid', 'refunding', 'refunded');

-- invariant: credit_lot_not_negative
-- No credit spent twice: no lot's ledger sum below zero, and each credits
-- booking consumed exactly one credit.
SELECT c.lot_id, sum(c.delta) AS left FROM credit_ledger c GROUP BY c.lot_id
HAVING sum(c.delta) < 0
UNION ALL
SELECT b.id, count(c.id) FROM member_bookings b
  LEFT JOIN credit_ledger c ON c.booking_id = b.id AND c.kind = 'consume'
 WHERE b.pay_with = 'credits' GROUP BY b.id HAVING count(c.id) <> 1;

-- invariant: credit_returned_matches_ledger
-- A member booking says its credit came back exactly when a 'return' row
-- exists for it.
SELECT b.id FROM member_bookings b
 WHERE b.credit_returned <> EXISTS (SELECT 1 FROM credit_ledger c
                                     WHERE c.booking_id = b.id AND c.kind = 'return');

-- invariant: membership_periods_do_not_overlap
-- A parent's active periods follow each other without overlapping.
SELECT a.user_id, a.id, b.id
  FROM membership_periods a JOIN membership_periods b
    ON a.user_id = b.user_id AND a.id < b.id
 WHERE a.status = 'active' AND b.status = 'active'
   AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at;

-- invariant: capacity_with_member_bookings
-- Trial bookings, member bookings and live holds together within capacity.
WITH b AS (SELECT course_schedule_id, count(*) AS n FROM bookings
            WHERE status = 'confirmed' GROUP BY 1),
     mb AS (SELECT course_schedule_id, count(*) AS n FROM member_bookings
             WHERE status = 'confirmed' GROUP BY 1),
     h AS (SELECT course_schedule_id, count(*) AS n FROM seat_reservations
            WHERE status = 'temporary' AND expires_at > now() GROUP BY 1)
SELECT cs.id, cs.capacity
  FROM course_schedules cs
  LEFT JOIN b ON b.course_schedule_id = cs.id
  LEFT JOIN mb ON mb.course_schedule_id = cs.id
  LEFT JOIN h ON h.course_schedule_id = cs.id
 WHERE coalesce(b.n, 0) + coalesce(mb.n, 0) + coalesce(h.n, 0) > cs.capacity;

-- ---- the fault driver's product clients (issue 15, products.c) -------------------------

-- invariant: member_booking_audit
-- Every member booking has its member_booking_confirmed audit row, and its
-- last member_booking_* row ends in its status now.
WITH l AS (
    SELECT booking_id,
           bool_or(action_type = 'member_booking_confirmed' AND new_status = 'confirmed')
               AS confirmed,
           (array_agg(new_status ORDER BY id DESC))[1] AS last
      FROM payment_audit_log
     WHERE entity = 'booking' AND booking_id IS NOT NULL
       AND action_type LIKE 'member\_booking\_%'
     GROUP BY booking_id)
SELECT m.id AS member_booking_id, m.status, l.last
  FROM member_bookings m
  LEFT JOIN l ON l.booking_id = m.id
 WHERE l.booking_id IS NULL OR NOT l.confirmed OR l.last IS DISTINCT FROM m.status;

-- invariant: member_booking_seat
-- A confirmed member booking holds its seat: its hold confirmed, in its
-- class, for its parent, and the seat confirmed for that hold.  A cancelled
-- one gave the seat back: its hold cancelled, no seat kept by it.
SELECT m.id AS member_booking_id, m.status, r.status AS hold_status, s.state AS seat_state
  FROM member_bookings m
  JOIN seat_reservations r ON r.id = m.reservation_id
  LEFT JOIN seats s ON s.id = r.seat_id
 WHERE (m.status = 'confirmed'
        AND (r.status <> 'confirmed' OR r.course_schedule_id <> m.course_schedule_id
             OR r.user_id <> m.user_id OR s.state IS DISTINCT FROM 'confirmed'
             OR s.reservation_id IS DISTINCT FROM m.reservation_id))
    OR (m.status = 'cancelled'
        AND (r.status <> 'cancelled'
             OR EXISTS (SELECT 1 FROM seats x WHERE x.reservation_id = m.reservation_id
                           AND x.state IN ('held', 'confirmed'))));

-- invariant: credit_lot_matches_ledger
-- A parent's balance is the ledger's sum over the lots, so each lot's sum
-- must be what its facts say: one grant of the lot's credits (for its
-- order), one consume per credits booking of the lot, one return per
-- booking whose credit came back, and no more than the lot had (never
-- below zero: credit_lot_not_negative).
WITH f AS (
    SELECT l.id AS lot_id, l.credits, l.order_id,
           (SELECT count(*) FROM member_bookings m WHERE m.lot_id = l.id) AS booked,
           (SELECT count(*) FROM member_bookings m WHERE m.lot_id = l.id
               AND m.credit_returned) AS returned
      FROM credit_lots l),
     g AS (
    SELECT lot_id,
           count(*) FILTER (WHERE kind = 'grant') AS grants,
           sum(delta) FILTER (WHERE kind = 'grant') AS granted,
           bool_and(kind <> 'grant' OR order_id IS NOT NULL) AS grant_names_order,
           count(*) FILTER (WHERE kind = 'consume') AS consumes,
           sum(delta) FILTER (WHERE kind = 'consume') AS consumed,
           count(*) FILTER (WHERE kind = 'return') AS returns,
           sum(delta) FILTER (WHERE kind = 'return') AS given_back,
           sum(delta) AS left
      FROM credit_ledger GROUP BY lot_id)
SELECT f.lot_id, f.credits, f.booked, f.returned, g.grants, g.granted, g.consumes,
       g.returns, g.left
  FROM f LEFT JOIN g ON g.lot_id = f.lot_id
 WHERE g.grants IS DISTINCT FROM 1 OR g.granted IS DISTINCT FROM f.credits
    OR (f.order_id IS NOT NULL AND NOT g.grant_names_order)
    OR g.consumes <> f.booked OR coalesce(g.consumed, 0) <> -f.booked
    OR g.returns <> f.returned OR coalesce(g.given_back, 0) <> f.returned
    OR g.left > f.credits;

-- invariant: credit_spent_once
-- No credit spent twice or given back for nothing: a consume or return row
-- names a credits booking of the same lot and parent, a return only a
-- cancelled booking; a membership booking moves no credit; and per parent
-- the balance (the sum over unexpired lots, what GET /me shows) is never
-- below zero.
SELECT c.id AS ledger_id, c.kind, c.booking_id, m.pay_with, m.status, NULL::bigint AS user_id
  FROM credit_ledger c
  LEFT JOIN member_bookings m ON m.id = c.booking_id
 WHERE c.kind IN ('consume', 'return')
   AND (m.id IS NULL OR m.pay_with <> 'credits' OR m.lot_id <> c.lot_id
        OR m.user_id <> c.user_id OR (c.kind = 'return' AND m.status <> 'cancelled'))
UNION ALL
SELECT NULL, NULL, m.id, m.pay_with, m.status, NULL
  FROM member_bookings m
 WHERE m.pay_with = 'membership'
   AND EXISTS (SELECT 1 FROM credit_ledger c WHERE c.booking_id = m.id)
UNION ALL
SELECT NULL, 'balance', NULL, NULL, NULL, l.user_id
  FROM credit_lots l JOIN credit_ledger c ON c.lot_id = l.id
 WHERE l.expires_at > now()
 GROUP BY l.user_id HAVING sum(c.delta) < 0;

-- invariant: member_booking_entitled
-- A member booking was paid for by its own parent: a credits booking by a
-- lot of theirs, a membership booking by a period of theirs, each from a
-- paid order (a refund may shorten the period or take the lot's credits
-- back later, so what is left now is not checked here).
SELECT m.id AS member_booking_id, m.pay_with, coalesce(lo.status, po.status) AS order_status
  FROM member_bookings m
  LEFT JOIN credit_lots l ON l.id = m.lot_id
  LEFT JOIN payment_orders lo ON lo.order_id = l.order_id
  LEFT JOIN membership_periods p ON p.id = m.membership_period_id
  LEFT JOIN payment_orders po ON po.order_id = p.order_id
 WHERE (m.pay_with = 'credits' AND (l.id IS NULL OR l.user_id <> m.user_id
        OR lo.status NOT IN ('paid', 'refunding', 'refunded')))
    OR (m.pay_with = 'membership' AND (p.id IS NULL OR p.user_id <> m.user_id
        OR po.status NOT IN ('paid', 'refunding', 'refunded')));

-- invariant: product_refund_matches_order
-- A product order is refunded in parts up to what was paid: the refunds
-- that succeeded never pass the order's amount, and the order is
-- 'refunded' exactly when they reach it (and 'paid' before).
SELECT o.order_id, o.status, o.amount_fen,
       coalesce(sum(r.amount_fen) FILTER (WHERE r.status = 'success'), 0) AS refunded
  FROM payment_orders o
  JOIN refunds r ON r.order_id = o.order_id
 WHERE o.course_schedule_id IS NULL
 GROUP BY o.order_id, o.status, o.amount_fen
HAVING coalesce(sum(r.amount_fen) FILTER (WHERE r.status = 'success'), 0) > o.amount_fen
    OR (o.status = 'refunded') <>
       (coalesce(sum(r.amount_fen) FILTER (WHERE r.status = 'success'), 0) = o.amount_fen)
    OR o.status NOT IN ('paid', 'refunding', 'refunded');

-- invariant: product_refund_reversed_once
-- A refund's reversal of the entitlement is recorded at most once per
-- refund that succeeded (none before one did): a pack's 'revoke' ledger
-- rows, a membership's membership_shortened audit rows.  When a pack order
-- is refunded in full, what the lot had left at its last revoke is gone; a
-- membership refunded in full ends by the time its last refund succeeded.
WITH o AS (
    SELECT o.order_id, o.status,
           count(r.id) FILTER (WHERE r.status = 'success') AS ok,
           max(r.updated_at) FILTER (WHERE r.status = 'success') AS last_ok
      FROM payment_orders o JOIN refunds r ON r.order_id = o.order_id
     WHERE o.course_schedule_id IS NULL
     GROUP BY o.order_id, o.status)
SELECT o.order_id, o.status, o.ok AS refunds_ok, 'revokes' AS what,
       count(c.id) AS n
  FROM o JOIN credit_lots l ON l.order_id = o.order_id
  LEFT JOIN credit_ledger c ON c.lot_id = l.id AND c.kind = 'revoke'
 GROUP BY o.order_id, o.status, o.ok
HAVING count(c.id) > o.ok
UNION ALL
SELECT o.order_id, o.status, o.ok, 'shortened',
       (SELECT count(*) FROM payment_audit_log a WHERE a.order_id = o.order_id
           AND a.action_type = 'membership_shortened')
  FROM o
 WHERE (SELECT count(*) FROM payment_audit_log a WHERE a.order_id = o.order_id
           AND a.action_type = 'membership_shortened') > o.ok
UNION ALL
SELECT o.order_id, o.status, o.ok, 'credits left after a full refund', sum(c.delta)
  FROM o JOIN credit_lots l ON l.order_id = o.order_id
  JOIN credit_ledger c ON c.lot_id = l.id
 WHERE o.status = 'refunded'
   AND c.id <= (SELECT max(x.id) FROM credit_ledger x WHERE x.lot_id = l.id
                   AND x.kind = 'revoke')
 GROUP BY o.order_id, o.status, o.ok
HAVING sum(c.delta) <> 0
UNION ALL
SELECT o.order_id, o.status, o.ok, 'membership left after a full refund', p.id
  FROM o JOIN membership_periods p ON p.order_id = o.order_id
 WHERE o.status = 'refunded' AND p.status = 'active'
   AND p.ends_at > o.last_ok + interval '5 seconds';

-- invariant: ack_product_order_lost
-- Every product order a client was given exists, for that product, with no class.
WITH a AS MATERIALIZED (SELECT * FROM fault_acks WHERE kind = 'product_order')
SELECT a.id AS order_id, a.ref AS product_id, o.product_id AS order_product
  FROM a
  LEFT JOIN payment_orders o ON o.order_id = a.id
 WHERE a.kind = 'product_order'
   AND (o.id IS NULL OR o.product_id IS DISTINCT FROM a.ref::bigint
        OR o.course_schedule_id IS NOT NULL);

-- invariant: ack_product_paid_lost
-- A product order a client saw paid is paid (or refunded since), with its
-- applied transaction and its one period or lot (an upgrade that came too
-- late has none: it waits for an operator, upgrade_stale).
SELECT a.id AS order_id, o.status, t.outcome
  FROM fault_acks a
  LEFT JOIN payment_orders o ON o.order_id = a.id
  LEFT JOIN payment_transactions t ON t.order_id = a.id
 WHERE a.kind = 'product_paid'
   AND (o.status IS NULL OR o.status NOT IN ('paid', 'refunding', 'refunded')
        OR t.outcome IS NULL OR t.outcome NOT IN ('paid', 'late_paid')
        OR (o.attention_reason IS DISTINCT FROM 'upgrade_stale'
            AND (SELECT count(*) FROM membership_periods m WHERE m.order_id = a.id) +
                (SELECT count(*) FROM credit_lots l WHERE l.order_id = a.id) <> 1));

-- invariant: ack_member_booking_lost
-- Every member booking a client was given exists, paid as it asked (a
-- credits booking with its one consume), and one a cancel was acknowledged
-- for is cancelled.
WITH a AS MATERIALIZED (SELECT * FROM fault_acks
                        WHERE kind IN ('member_booking', 'member_cancel'))
SELECT a.kind, a.id AS member_booking_id, m.pay_with, m.status
  FROM a
  LEFT JOIN member_bookings m ON m.id = a.id::bigint
 WHERE (a.kind = 'member_booking'
        AND (m.id IS NULL OR m.pay_with <> a.ref
             OR (m.pay_with = 'credits' AND (SELECT count(*) FROM credit_ledger c
                     WHERE c.booking_id = m.id AND c.kind = 'consume') <> 1)))
    OR (a.kind = 'member_cancel' AND (m.id IS NULL OR m.status <> 'cancelled'));

-- invariant: ack_product_refund_lost
-- Every product refund an operator was given exists, for its order, and succeeded.
SELECT a.id AS out_refund_no, a.ref AS order_id, r.status
  FROM fault_acks a
  LEFT JOIN refunds r ON r.out_refund_no = a.id
 WHERE a.kind = 'product_refund'
   AND (r.id IS NULL OR r.order_id <> a.ref OR r.status <> 'success');

-- invariant: ack_balance_matches_ledger
-- The credit balance a parent was shown at the end of its pass (nothing of
-- theirs in flight by then) is the ledger's sum over their unexpired lots.
WITH a AS MATERIALIZED (SELECT id, ref::bigint AS shown FROM fault_acks WHERE kind = 'balance'),
     b AS (
    SELECT a.id AS order_id, a.shown,
           (SELECT coalesce(sum(c.delta), 0) FROM credit_ledger c
              JOIN credit_lots l ON l.id = c.lot_id
             WHERE l.user_id = o.user_id AND l.expires_at > now()) AS ledger_sum
      FROM a JOIN payment_orders o ON o.order_id = a.id)
SELECT order_id, shown AS balance_shown, ledger_sum FROM b WHERE shown <> ledger_sum;
