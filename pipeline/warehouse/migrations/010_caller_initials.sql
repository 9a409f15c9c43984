-- A caller who gives their name is referred to by initials in exports, as the press does
-- ("anh N.V.H."); the name itself is redacted everywhere (pipeline.analysis.names).

ALTER TABLE calls ADD COLUMN caller_initials VARCHAR;  -- initials of the name the citizen gave ("N.V.H."); NULL: none given
