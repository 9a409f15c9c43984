-- Fault tolerance (issue 13): calls started by a run that was then killed, and the
-- per-file / per-row problems a run skipped (nothing a run skips goes unrecorded).

CREATE TABLE call_attempts (
    recording_sha256 VARCHAR NOT NULL,
    run_id           VARCHAR NOT NULL,
    started_at       TIMESTAMP NOT NULL,   -- when the run started working on the call
    PRIMARY KEY (recording_sha256, run_id)
);                                          -- deleted once the call is loaded, quarantined or failed

CREATE TABLE run_problems (
    run_id   VARCHAR NOT NULL,
    seq      INTEGER NOT NULL,
    kind     VARCHAR NOT NULL,   -- file | call_log | duplicate
    ref      VARCHAR,            -- relative path or call-log line, caller numbers masked
    reason   VARCHAR NOT NULL,   -- masked, control characters escaped
    PRIMARY KEY (run_id, seq)
);
