-- Where a call's start time came from (issue 29): 'call_log' (the PBX log row), or an estimate made from the
-- recording when no log row gave one: 'metadata' (the file's date tag), 'file_name' (a FreePBX/Asterisk name),
-- 'file_time' (the file's modification time). Pages mark an estimated time "ước tính". NULL: no start time.
ALTER TABLE calls ADD COLUMN started_at_source VARCHAR;
UPDATE calls SET started_at_source = 'call_log' WHERE started_at IS NOT NULL;

-- A case re-routed away from a unit (a QA topic correction, a place correction): the unit that lost it sees a
-- notice in its case list ("Phiếu đã được chuyển sang đơn vị khác"), without the case's content.
CREATE TABLE case_unit_moves (
    case_id    VARCHAR NOT NULL,
    from_unit  VARCHAR NOT NULL,   -- the unit that lost the case
    to_unit    VARCHAR,            -- the unit it went to (NULL: none yet)
    moved_by   VARCHAR NOT NULL,   -- user name
    moved_at   TIMESTAMP NOT NULL,
    call_id    VARCHAR             -- the corrected call, when a QA topic correction moved it
);
