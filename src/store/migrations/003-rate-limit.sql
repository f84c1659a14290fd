-- The per-client rate limit shared by replicas (rate-limiter-flexible's PostgreSQL store, its own
-- table layout): one row per client and window, the key a digest of the client's issuer or address,
-- expire in epoch milliseconds. Rows of past windows are reused or deleted by the limiter itself.
CREATE TABLE rate_limit (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
