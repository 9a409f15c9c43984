-- Several sites, one picture (issue 32 item 4): the province's warehouse registers each centre's installation
-- and keeps a copy of its calls' and cases' non-personal columns (pipeline/warehouse/sites.py). No caller
-- number, hash, initials, transcript, file name or PBX id ever lands here.

CREATE TABLE sites (
    site          VARCHAR PRIMARY KEY,   -- short key, e.g. bmt
    name          VARCHAR NOT NULL,      -- the centre, e.g. 'Trung tâm 1900.86.86.47 TP Buôn Ma Thuột'
    path          VARCHAR NOT NULL,      -- its warehouse or its extract (`hotline sites export`), read READ_ONLY
    added_at      TIMESTAMP NOT NULL,
    refreshed_at  TIMESTAMP,             -- last refresh that succeeded (NULL: never)
    n_calls       BIGINT,                -- calls copied by that refresh
    last_error    VARCHAR                -- why the last refresh failed (the copy of the one before is kept)
);

CREATE TABLE site_calls (
    site         VARCHAR NOT NULL,
    call_id      VARCHAR NOT NULL,
    line         VARCHAR,
    started_at   TIMESTAMP,
    duration_s   DOUBLE,
    urgent       BOOLEAN,
    frustrated   BOOLEAN,
    needs_review BOOLEAN,
    PRIMARY KEY (site, call_id)
);

CREATE TABLE site_call_topics (
    site     VARCHAR NOT NULL,
    call_id  VARCHAR NOT NULL,
    topic    VARCHAR NOT NULL
);

CREATE TABLE site_call_places (
    site     VARCHAR NOT NULL,
    call_id  VARCHAR NOT NULL,
    kind     VARCHAR,
    name     VARCHAR
);

CREATE TABLE site_cases (
    site        VARCHAR NOT NULL,
    case_id     VARCHAR NOT NULL,
    line        VARCHAR,              -- the line of the case's first call
    kind        VARCHAR,
    status      VARCHAR,
    topic       VARCHAR,
    place       VARCHAR,
    unit        VARCHAR,
    urgent      BOOLEAN,
    opened_at   TIMESTAMP,
    due_date    DATE,
    closed_at   TIMESTAMP,
    PRIMARY KEY (site, case_id)
);
