-- Fault tolerance (issue 13): calls started by a run that was then killed, and the
-- per-file / per-row problems a run skipped (nothing a run skips goes unrecorded).

CREATE TABLE IF NOT EXISTS call_attempts (
    recording_sha256 VARCHAR NOT NULL,
    run_id           VARCHAR NOT NULL,
    started_at       TIMESTAMP NOT NULL,   -- when the run started working on the call
    PRIMARY KEY (recording_sha256, run_id)
);                                          -- deleted once the call is loaded, quarantined or failed

CREATE TABLE IF NOT EXISTS run_problems (
    run_id   VARCHAR NOT NULL,
    seq      INTEGER NOT NULL,
    kind     VARCHAR NOT NULL,   -- file | call_log | duplicate
    ref      VARCHAR,            -- relative path or call-log line, caller numbers masked
    reason   VARCHAR NOT NULL,   -- masked, control characters escaped
    PRIMARY KEY (run_id, seq)
);

-- Calls loaded before this migration kept the PBX file name in clear, and many PBXs put
-- the caller number in it: mask digit runs of 9+ (as pipeline.logsafe.mask_numbers does
-- for unbroken runs) in the stored path and error. quarantine_path is left as it is: it
-- names the copy on disk, which `hotline purge` deletes by that path.
UPDATE calls SET
    source_path = regexp_replace(source_path, '\+?\d{6,}(\d{3})', '***\1', 'g'),
    error       = regexp_replace(error, '\+?\d{6,}(\d{3})', '***\1', 'g')
WHERE regexp_matches(coalesce(source_path, '') || coalesce(error, ''), '\d{9}');
