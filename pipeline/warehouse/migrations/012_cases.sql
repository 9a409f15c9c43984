-- Cases (phiếu phản ánh): what a call reports, who handles it, by when, and every change.
-- Written by pipeline.casework.cases; reports read the mart_case_ views.

CREATE TABLE cases (
    case_id       VARCHAR PRIMARY KEY,      -- "PA-" + first call's id (stable: reloads find the same case)
    kind          VARCHAR NOT NULL,         -- complaint | inquiry (a question answered on the line)
    status        VARCHAR NOT NULL,         -- new | forwarded | in_progress | resolved | informed | closed | answered | merged
    topic         VARCHAR,                  -- main taxonomy key
    topics        VARCHAR,                  -- all assigned keys, comma-separated
    place         VARCHAR,                  -- ward/commune/town said ("phường Tân Tiến"); NULL: none
    place_detail  VARCHAR,                  -- street, alley or hamlet said, for grouping
    summary       VARCHAR,                  -- redacted: the citizen's first words
    unit          VARCHAR,                  -- handling unit (agency_vi from routing, or set by a person)
    unit_locked   BOOLEAN NOT NULL DEFAULT FALSE,  -- a person chose the unit: re-routing leaves it
    urgent        BOOLEAN NOT NULL DEFAULT FALSE,
    priority      INTEGER NOT NULL,         -- 1 = urgent .. 3 = question; lists sort by it
    caller_hash   VARCHAR,                  -- of the first call (never shown to unit users)
    opened_at     TIMESTAMP NOT NULL,       -- when the first call started
    due_date      DATE,                     -- last working day to resolve (pipeline.casework.workdays)
    forwarded_at  TIMESTAMP,
    resolved_at   TIMESTAMP,                -- last time it reached resolved
    informed_at   TIMESTAMP,
    closed_at     TIMESTAMP,
    result        VARCHAR,                  -- what the unit reports it did
    n_reopened    INTEGER NOT NULL DEFAULT 0,
    merged_into   VARCHAR                   -- case_id when status = merged
);

-- Which calls a case holds: a call belongs to one case.
CREATE TABLE case_calls (
    call_id    VARCHAR PRIMARY KEY,
    case_id    VARCHAR NOT NULL,
    linked_at  TIMESTAMP NOT NULL,
    linked_by  VARCHAR NOT NULL            -- "pipeline" or a user name
);

-- Audit trail: every change of status, unit, routing, calls.
CREATE TABLE case_events (
    case_id      VARCHAR NOT NULL,
    acted_at     TIMESTAMP NOT NULL,
    user_name    VARCHAR NOT NULL,
    action       VARCHAR NOT NULL,          -- opened | status | unit | rerouted | place | merged | split | proposal
    from_status  VARCHAR,
    to_status    VARCHAR,
    note         VARCHAR
);

-- Proposed merges ("one incident, many calls"); a person confirms or splits.
CREATE TABLE case_merge_proposals (
    case_id       VARCHAR NOT NULL,         -- the later case
    into_case_id  VARCHAR NOT NULL,         -- the earlier, open case it would join
    reason        VARCHAR NOT NULL,         -- same_caller | same_place_topic
    proposed_at   TIMESTAMP NOT NULL,
    decision      VARCHAR,                  -- NULL (waiting) | confirmed | split
    decided_by    VARCHAR,
    decided_at    TIMESTAMP,
    PRIMARY KEY (case_id, into_case_id)
);

-- A user of role `unit` belongs to one handling unit and sees only its cases.
CREATE TABLE user_units (
    user_name  VARCHAR PRIMARY KEY,
    unit       VARCHAR NOT NULL
);

-- One row per case that is an incident (merged cases are counted in the case they joined).
CREATE VIEW stg_cases AS
WITH source AS (
    SELECT * FROM cases WHERE status <> 'merged'
), calls AS (
    SELECT case_id, count(*) AS n_calls FROM case_calls GROUP BY case_id
), final AS (
    SELECT s.*, coalesce(c.n_calls, 0) AS n_calls,
           s.status IN ('new', 'forwarded', 'in_progress') AS is_open,
           s.status IN ('new', 'forwarded', 'in_progress') AND s.due_date < current_date AS is_overdue,
           date_diff('minute', s.opened_at, s.resolved_at) / 60.0 AS hours_to_resolve,
           CAST(date_trunc('week', s.opened_at) AS DATE) AS opened_week
    FROM source s LEFT JOIN calls c USING (case_id)
)
SELECT * FROM final;

-- Open and overdue cases by unit, median time to resolve, reopened share (complaints only).
CREATE VIEW mart_cases_by_unit AS
WITH complaints AS (
    SELECT * FROM stg_cases WHERE kind = 'complaint'
), final AS (
    SELECT coalesce(unit, '?') AS unit,
           count(*) AS n_cases,
           sum(n_calls) AS n_calls,
           count(*) FILTER (WHERE is_open) AS n_open,
           count(*) FILTER (WHERE is_overdue) AS n_overdue,
           median(hours_to_resolve) AS median_hours_to_resolve,
           count(*) FILTER (WHERE n_reopened > 0) / count(*)::DOUBLE AS reopened_share
    FROM complaints GROUP BY ALL
)
SELECT * FROM final;

-- Per unit and week: the cases opened (the weekly list each unit receives).
CREATE VIEW mart_cases_weekly AS
WITH final AS (
    SELECT opened_week AS week, coalesce(unit, '?') AS unit, case_id, kind, status, topic, place, urgent,
           opened_at, due_date, is_overdue, n_calls, resolved_at, result
    FROM stg_cases
)
SELECT * FROM final;

-- Resolved cases whose citizen has not been told yet (operators call back).
CREATE VIEW mart_case_callbacks AS
WITH final AS (
    SELECT case_id, unit, topic, place, resolved_at, result, caller_hash, n_calls
    FROM stg_cases WHERE status = 'resolved'
)
SELECT * FROM final;
