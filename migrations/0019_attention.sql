-- 0019: the operators' needs-attention queue (issue 14, "Refunds start with
-- an operator").  A payment that cannot have a seat (it came after its order
-- ended and the class was full: late_no_seat; or the parent had a trial
-- already: second_trial) leaves its order 'refunding' with the reason here.
-- With late_payment_refund = operator (the default) the job leaves it for an
-- operator's one-click refund; with auto it refunds it at once, as before.
-- An order is in the queue while it is 'refunding' with a reason and no
-- refund under way or done (a closed refund puts it back).
ALTER TABLE payment_orders ADD COLUMN attention_reason text
    CHECK (attention_reason IN ('late_no_seat', 'second_trial'));
CREATE INDEX payment_orders_attention ON payment_orders (id)
    WHERE attention_reason IS NOT NULL AND status = 'refunding';
