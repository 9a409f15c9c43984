-- Web app: accounts, sessions, log-in attempts (lockout) and the search index state.

CREATE TABLE users (
    user_name      VARCHAR PRIMARY KEY,
    password_hash  VARCHAR NOT NULL,      -- scrypt$n$r$p$salt$hash (pipeline.web.auth.hash_password)
    role           VARCHAR NOT NULL,      -- qa | manager | admin
    created_at     TIMESTAMP NOT NULL,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE sessions (
    token_sha256  VARCHAR PRIMARY KEY,    -- the cookie holds the token; only its hash is stored
    user_name     VARCHAR NOT NULL,
    csrf_token    VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL
);

CREATE TABLE login_attempts (
    user_name     VARCHAR NOT NULL,       -- as typed (lower case)
    attempted_at  TIMESTAMP NOT NULL,
    ok            BOOLEAN NOT NULL
);

-- Audit trail of the "reviewed" mark (topic changes are in topic_corrections).
CREATE TABLE review_events (
    call_id      VARCHAR NOT NULL,
    action       VARCHAR NOT NULL,        -- reviewed | reopened
    user_name    VARCHAR NOT NULL,
    acted_at     TIMESTAMP NOT NULL
);

-- One row per call in the full-text index (pipeline.warehouse.search), plus what it was built from.
CREATE TABLE search_docs (
    call_id     VARCHAR PRIMARY KEY,
    text_norm   VARCHAR,                  -- pipeline.textnorm.normalize_text(redacted transcript)
    text_fold   VARCHAR                   -- pipeline.textnorm.fold_accents(redacted transcript)
);

CREATE TABLE search_index_state (
    fingerprint  VARCHAR NOT NULL,        -- calls' count + last processed_at when the index was built
    built_at     TIMESTAMP NOT NULL
);
