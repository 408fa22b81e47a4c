-- 0035: staff sign in with a name and a password (issue 19).  The password
-- is kept as libargon2's encoded Argon2id string (salt and parameters in it);
-- an operator without one signs in with a bearer token only.  A session is a
-- random id in an HttpOnly cookie; only its SHA-256 is stored, with its
-- expiry.  Failed sign-ins are counted per name to lock a name out after
-- repeated failures (the name as typed: unknown names lock out the same way).
ALTER TABLE operators ADD COLUMN password_hash text
    CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%');

CREATE TABLE operator_sessions (
    id_hash     text PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
    operator_id bigint NOT NULL REFERENCES operators (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
CREATE INDEX operator_sessions_expires ON operator_sessions (expires_at);

CREATE TABLE operator_signin_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    failed_at timestamptz NOT NULL
);
CREATE INDEX operator_signin_failures_name ON operator_signin_failures (name, failed_at);
