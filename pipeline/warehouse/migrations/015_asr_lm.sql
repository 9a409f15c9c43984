-- Which language model viet-asr's beam search fused (issue 27): its fingerprint, NULL without one.
-- asr_fingerprint already includes it ("…+lm:<fingerprint>@weight,bonus"); these columns make it
-- queryable on its own (`hotline lm build` makes a new one; `backfill` re-runs the calls it did not decode).
ALTER TABLE runs ADD COLUMN asr_lm VARCHAR;   -- sha256:… (one model file) or mix:… (shipped + site mixture)
ALTER TABLE calls ADD COLUMN asr_lm VARCHAR;
