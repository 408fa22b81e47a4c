-- 0010: a bounded sample of refused notifications in the audit log (issue
-- 13, finding 3).  Every refused notification used to insert an audit row,
-- so anyone could write to the database through the notify URLs (32
-- connections for 10 s: 10,289 rows).  Now each refusal only counts in the
-- row of its kind, source address and minute (one row, updated), and an
-- audit row is written for the first audit_refusals_per_minute of them.
-- Rows older than an hour are dropped whenever a new minute's row is made.
CREATE TABLE audit_samples (
    kind    text NOT NULL,
    source  text NOT NULL,
    minute  timestamptz NOT NULL,
    hits    integer NOT NULL,
    PRIMARY KEY (kind, source, minute)
);
CREATE INDEX audit_samples_minute ON audit_samples (minute);
