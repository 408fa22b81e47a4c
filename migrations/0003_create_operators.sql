-- 0003: the gym's operators.  gymctl prints a bearer token once; only its
-- SHA-256 is stored.  Auditors read; operators also change things.
CREATE TABLE operators (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    role       text NOT NULL CHECK (role IN ('operator', 'auditor')),
    token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
