-- The issued-card ledger, clinicians' feedback on those cards, and the JWT replay cache shared by
-- replicas. No patient identifier is stored: patient_key is an HMAC with a secret of the service's.
CREATE TABLE issued_card (
  card_uuid uuid PRIMARY KEY,
  service text NOT NULL,
  kind text NOT NULL,
  indicator text NOT NULL,
  model text,
  model_version text,
  tier text,
  points integer,
  factors text[] NOT NULL,
  override_reasons text[] NOT NULL,
  locale text NOT NULL,
  hook_instance text NOT NULL,
  patient_key text,
  issued_at timestamptz NOT NULL
);
CREATE INDEX issued_card_issued_at ON issued_card (issued_at);

CREATE TABLE issued_suggestion (
  suggestion_uuid uuid PRIMARY KEY,
  card_uuid uuid NOT NULL REFERENCES issued_card ON DELETE CASCADE,
  key text NOT NULL,
  label text NOT NULL
);
CREATE INDEX issued_suggestion_card ON issued_suggestion (card_uuid);

CREATE TABLE card_feedback (
  -- SHA-256 of the item as the client meant it: the same item sent twice is one row.
  digest text PRIMARY KEY,
  card_uuid uuid NOT NULL REFERENCES issued_card ON DELETE CASCADE,
  outcome text NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
  accepted_suggestions uuid[] NOT NULL,
  override_reason text,
  user_comment text,
  outcome_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL
);
CREATE INDEX card_feedback_card ON card_feedback (card_uuid);
CREATE INDEX card_feedback_received_at ON card_feedback (received_at);

CREATE TABLE seen_token (
  -- SHA-256 of issuer and jti.
  digest text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX seen_token_expires_at ON seen_token (expires_at);
