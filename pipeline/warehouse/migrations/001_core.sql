-- Raw tables. Written only by pipeline.warehouse.load; reports read the views.

CREATE TABLE runs (
    run_id          VARCHAR PRIMARY KEY,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    source_dir      VARCHAR,
    asr_model       VARCHAR,         -- the setting: "base", a folder or a hub id
    asr_fingerprint VARCHAR,         -- hash of the weights + compute type
    diarizer        VARCHAR,
    topic_model     VARCHAR,         -- topic model version
    n_found         INTEGER,         -- recordings found in the source
    n_processed     INTEGER,
    n_skipped       INTEGER,         -- already in the warehouse
    n_failed        INTEGER,
    status          VARCHAR          -- running | done | failed
);

CREATE TABLE stage_timings (
    run_id    VARCHAR NOT NULL,
    call_id   VARCHAR NOT NULL,
    stage     VARCHAR NOT NULL,      -- decode | transcribe | speakers | analyse | load
    seconds   DOUBLE NOT NULL,       -- wall seconds
    PRIMARY KEY (run_id, call_id, stage)
);

CREATE TABLE calls (
    call_id             VARCHAR PRIMARY KEY,   -- first 16 hex digits of recording_sha256
    recording_sha256    VARCHAR NOT NULL UNIQUE,
    source_path         VARCHAR,               -- path relative to the source folder
    pbx_call_id         VARCHAR,
    started_at          TIMESTAMP,             -- local time, from the call log
    duration_s          DOUBLE,
    channels            INTEGER,
    sample_rate_hz      INTEGER,               -- as recorded
    language            VARCHAR,
    language_prob       DOUBLE,
    status              VARCHAR NOT NULL,      -- done | quarantined | failed
    error               VARCHAR,
    quarantine_path     VARCHAR,
    caller_hash         VARCHAR,               -- salted HMAC-SHA-256 of the number
    caller_last3        VARCHAR,
    operator_ext        VARCHAR,
    direction           VARCHAR,
    transcript          VARCHAR,               -- redacted full text, citizen and operator
    confidence          DOUBLE,                -- mean segment confidence, 0..1
    needs_review        BOOLEAN DEFAULT FALSE,
    review_reasons      VARCHAR,               -- comma-separated
    urgent              BOOLEAN DEFAULT FALSE,
    urgency_reasons     VARCHAR,
    role_confidence     DOUBLE,                -- confidence of the operator/citizen assignment
    reviewed            BOOLEAN DEFAULT FALSE,
    reviewed_by         VARCHAR,
    reviewed_at         TIMESTAMP,
    run_id              VARCHAR,
    asr_model           VARCHAR,
    asr_fingerprint     VARCHAR,
    processed_at        TIMESTAMP
);

CREATE TABLE segments (
    call_id         VARCHAR NOT NULL,
    seq             INTEGER NOT NULL,      -- order in the call
    start_s         DOUBLE NOT NULL,
    end_s           DOUBLE NOT NULL,
    speaker         VARCHAR,
    role            VARCHAR,               -- operator | citizen | unknown
    channel         INTEGER,
    text            VARCHAR,               -- redacted
    avg_logprob     DOUBLE,
    no_speech_prob  DOUBLE,
    confidence      DOUBLE,
    flags           VARCHAR,
    PRIMARY KEY (call_id, seq)
);

-- Unredacted text, kept apart so that only allowed roles read it (or not kept).
CREATE TABLE segments_raw (
    call_id  VARCHAR NOT NULL,
    seq      INTEGER NOT NULL,
    text     VARCHAR,
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE words (
    call_id      VARCHAR NOT NULL,
    seq          INTEGER NOT NULL,      -- segment seq
    word_seq     INTEGER NOT NULL,
    start_s      DOUBLE,
    end_s        DOUBLE,
    probability  DOUBLE,
    PRIMARY KEY (call_id, seq, word_seq)
);

CREATE TABLE call_topics (
    call_id   VARCHAR NOT NULL,
    topic     VARCHAR NOT NULL,        -- taxonomy key
    score     DOUBLE,                  -- calibrated probability 0..1
    source    VARCHAR NOT NULL,        -- model | qa
    assigned  BOOLEAN NOT NULL,
    PRIMARY KEY (call_id, topic, source)
);

CREATE TABLE call_places (
    call_id        VARCHAR NOT NULL,
    seq            INTEGER NOT NULL,
    kind           VARCHAR,            -- house_number | alley | street | hamlet | ward | commune | ...
    text           VARCHAR,            -- as said
    name           VARCHAR,            -- canonical
    unit_code      VARCHAR,
    resolved_from  VARCHAR,            -- old unit name when renamed or merged
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE call_routes (
    call_id    VARCHAR NOT NULL,
    seq        INTEGER NOT NULL,
    agency     VARCHAR,
    agency_vi  VARCHAR,
    reason     VARCHAR,
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE call_metrics (
    call_id  VARCHAR NOT NULL,
    scope    VARCHAR NOT NULL,         -- call | operator | citizen
    name     VARCHAR NOT NULL,         -- talk_time_s, interruptions, loudness_mean_dbfs, ...
    value    DOUBLE,
    PRIMARY KEY (call_id, scope, name)
);

CREATE TABLE pii_counts (
    call_id  VARCHAR NOT NULL,
    kind     VARCHAR NOT NULL,         -- phone | national_id | plate | email | bank_account
    n        INTEGER NOT NULL,
    PRIMARY KEY (call_id, kind)
);

CREATE TABLE topic_corrections (
    call_id       VARCHAR NOT NULL,
    topic         VARCHAR NOT NULL,
    action        VARCHAR NOT NULL,    -- add | remove
    user_name     VARCHAR NOT NULL,
    corrected_at  TIMESTAMP NOT NULL
);
