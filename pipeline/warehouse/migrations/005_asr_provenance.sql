-- Which recogniser measured what: viet-asr gives text only, so its word times and
-- segment confidence are approximations (docs/asr.md, "Word times and confidence").
ALTER TABLE calls ADD COLUMN asr_word_times VARCHAR;   -- 'model': from the decoder; 'approximate': text spread over the speech by syllable length
ALTER TABLE calls ADD COLUMN asr_confidence VARCHAR;   -- 'model': token probabilities; 'approximate': speaking-rate proxy (models/viet_asr.py rate_confidence)
