-- The readable transcript (issue 27): capitals, punctuation and digits for people, kept apart
-- from the normalised text that search, topics, PII and places read (pipeline.analysis.readable).
-- NULL on calls loaded before this migration until `hotline backfill --readable` fills them.

ALTER TABLE segments ADD COLUMN readable VARCHAR;            -- readable text, redacted (what non-raw roles see)
ALTER TABLE segments ADD COLUMN readable_align VARCHAR;      -- recogniser words per token of `readable` ("1 1 3 1"); NULL: they do not line up
ALTER TABLE segments_raw ADD COLUMN readable VARCHAR;        -- readable text of the unredacted text (QA's typed text after an edit)
ALTER TABLE segments_raw ADD COLUMN readable_align VARCHAR;  -- as segments.readable_align, for the unredacted form
ALTER TABLE calls ADD COLUMN transcript_readable VARCHAR;    -- the call's readable text, redacted (lists, case snippets, exports)
ALTER TABLE calls ADD COLUMN readable_model VARCHAR;         -- fingerprint of the case and punctuation model (models/readable_text.py)
ALTER TABLE runs ADD COLUMN readable_model VARCHAR;          -- the same, for the run
ALTER TABLE call_edits ADD COLUMN new_readable VARCHAR;      -- transcript edits: the readable text QA saved, redacted
