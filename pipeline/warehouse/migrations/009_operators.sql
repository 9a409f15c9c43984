-- Known operators: a voiceprint per enrolled extension (an embedding, never audio),
-- with the consent under which it was taken (pipeline/stages/operators.py).

CREATE TABLE operator_voiceprints (
    extension     VARCHAR PRIMARY KEY,   -- the operator's PBX extension, as the call log writes it
    name          VARCHAR,               -- display name (optional)
    embedding     FLOAT[] NOT NULL,      -- L2-normalised speaker embedding (CAM++, 192 values)
    model         VARCHAR NOT NULL,      -- embedding model the vector comes from
    n_calls       INTEGER NOT NULL,      -- calls it was enrolled from
    speech_s      DOUBLE NOT NULL,       -- s of the operator's speech behind it
    spread        DOUBLE,                -- mean cosine distance of the per-call embeddings to it (0 = identical)
    consent_note  VARCHAR NOT NULL,      -- how consent was given (form id, date, wording)
    enrolled_by   VARCHAR,               -- admin who enrolled it
    enrolled_at   TIMESTAMP NOT NULL
);

ALTER TABLE calls ADD COLUMN operator_voice VARCHAR;  -- extension whose voiceprint matched the operator side (NULL: none)
