-- Bumped whenever something every instance keeps in memory for the company changes: one of its
-- product pricings is archived (the only change a pricing ever sees). An instance trusts what it
-- keeps only while the company's version, read with the request's own rows, is the one it was
-- read under, so a change made through any instance is seen by all on their next request.
ALTER TABLE companies ADD COLUMN cache_version BIGINT NOT NULL DEFAULT 0;
