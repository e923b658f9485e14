-- Bearer tokens for the API's writes: only a hash of the secret is stored; scopes limit what a
-- token may do; a revoked token stays for the record.
CREATE TABLE api_tokens (
    token_id    uuid PRIMARY KEY,
    name        text NOT NULL,
    scopes      text[] NOT NULL,
    secret_sha256 bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
