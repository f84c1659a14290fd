-- What a risk card's picture (/explain/{cardUuid}) is drawn from: each factor's points and the factors
-- that could not be assessed, as the card's assessment extension holds them. NULL for other cards and
-- for cards recorded before this migration.
ALTER TABLE issued_card ADD COLUMN assessment jsonb;
