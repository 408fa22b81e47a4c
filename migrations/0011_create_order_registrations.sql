-- 0011: the registration details a parent gives with a trial order (the
-- child's name and birth date, the parent's phone, a note), sealed with
-- AES-256-GCM under a key of pii_keys_file (lib/pii.c): key_id names the
-- key, nonce is the record's own, sealed is base64(ciphertext || tag) with
-- the order id as associated data.  phone_index is HMAC-SHA256 of the phone
-- under the index key, so operators can find an order by the phone a parent
-- reads out without the phone being stored in clear.  Orders from before
-- this migration have no row.
CREATE TABLE order_registrations (
    order_id    text PRIMARY KEY REFERENCES payment_orders (order_id),
    key_id      text NOT NULL CHECK (key_id ~ '^[A-Za-z0-9_-]{1,16}$'),
    nonce       text NOT NULL CHECK (nonce ~ '^[0-9A-Za-z]{16}$'),
    sealed      text NOT NULL,
    phone_index text NOT NULL CHECK (phone_index ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX order_registrations_phone ON order_registrations (phone_index);
-- what a rekey looks for: records not under the first key
CREATE INDEX order_registrations_key ON order_registrations (key_id);
