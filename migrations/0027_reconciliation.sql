-- Daily bill reconciliation (issue 18): one run per channel and day
-- (claimed by one job process at a time), the bill's lines with each
-- transaction's fee, and the discrepancies found with their evidence.
CREATE TABLE recon_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel        text NOT NULL CHECK (channel IN ('wechat', 'alipay')),
    bill_date      date NOT NULL,
    state          text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    claim_token    text NOT NULL,
    lease_until    timestamptz NOT NULL,
    tries          integer NOT NULL DEFAULT 1,
    bill_rows      integer NOT NULL DEFAULT 0,
    matched        integer NOT NULL DEFAULT 0,
    discrepancies  integer NOT NULL DEFAULT 0,
    gross_fen      bigint NOT NULL DEFAULT 0,
    refund_fen     bigint NOT NULL DEFAULT 0,
    fee_fen        bigint NOT NULL DEFAULT 0,
    fund_in_fen    bigint,
    fund_out_fen   bigint,
    error_code     text,
    error_message  text,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    UNIQUE (channel, bill_date)
);

CREATE TABLE recon_lines (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id         bigint NOT NULL REFERENCES recon_runs (id),
    channel        text NOT NULL,
    bill_date      date NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('payment', 'refund')),
    traded_at      timestamptz NOT NULL,
    transaction_id text NOT NULL,
    out_trade_no   text NOT NULL,
    trade_state    text NOT NULL,
    refund_id      text,
    out_refund_no  text,
    refund_state   text,
    amount_fen     bigint NOT NULL,
    fee_fen        bigint NOT NULL,
    -- what it matched here: the attempt's order, or NULL
    order_id       text
);
CREATE INDEX recon_lines_run ON recon_lines (run_id);
CREATE INDEX recon_lines_trade ON recon_lines (channel, transaction_id);
CREATE INDEX recon_lines_refund ON recon_lines (channel, out_refund_no) WHERE out_refund_no IS NOT NULL;
CREATE INDEX recon_lines_date ON recon_lines (bill_date);

CREATE TABLE recon_discrepancies (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          bigint NOT NULL REFERENCES recon_runs (id),
    channel         text NOT NULL,
    bill_date       date NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('missing_here', 'missing_there',
                                                  'amount_mismatch', 'status_mismatch',
                                                  'bad_file')),
    out_trade_no    text,
    out_refund_no   text,
    order_id        text,
    bill_amount_fen bigint,
    our_amount_fen  bigint,
    bill_state      text,
    our_state       text,
    evidence        jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    resolved_at     timestamptz,
    resolved_by     bigint,
    resolution_note text,
    CHECK ((resolved_at IS NULL) = (resolution_note IS NULL))
);
-- one of each kind per trade or refund and day
CREATE UNIQUE INDEX recon_discrepancies_one ON recon_discrepancies
    (run_id, kind, coalesce(out_trade_no, ''), coalesce(out_refund_no, ''));
CREATE INDEX recon_discrepancies_open ON recon_discrepancies (id) WHERE resolved_at IS NULL;
CREATE INDEX recon_discrepancies_date ON recon_discrepancies (bill_date, id);
