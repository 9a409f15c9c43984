-- Raw tables -> stg_ (rename, cast, one meaning per column) -> mart_ (what reports read).
-- Marts keep a day or week column so that readers (pipeline.report.reports, the web dashboard)
-- filter a period with bind parameters.
CREATE OR REPLACE VIEW stg_calls AS
WITH source AS (
    SELECT * FROM calls WHERE status = 'done'
), renamed AS (
    SELECT
        call_id,
        source_path,
        run_id,
        line,                                                           -- pipeline.lines key (migration 022)
        started_at,
        CAST(started_at AS DATE)                    AS call_date,
        CAST(date_trunc('week', started_at) AS DATE)  AS call_week,     -- Monday
        CAST(date_trunc('month', started_at) AS DATE) AS call_month,
        CAST(hour(started_at) AS INTEGER)           AS call_hour,       -- 0..23, local time
        CAST(isodow(started_at) AS INTEGER)         AS call_weekday,    -- 1 = Monday .. 7 = Sunday
        CAST(duration_s AS DOUBLE)                  AS duration_s,
        coalesce(operator_ext, '?')                 AS operator_ext,
        caller_last3,
        direction,
        transcript,
        coalesce(transcript_readable, transcript)   AS transcript_readable,  -- what people read (migration 014)
        CAST(confidence AS DOUBLE)                  AS confidence,
        coalesce(needs_review, FALSE)               AS needs_review,
        review_reasons,
        coalesce(urgent, FALSE)                     AS urgent,
        urgency_reasons,
        coalesce(reviewed, FALSE)                   AS reviewed,
        reviewed_by,
        reviewed_at
    FROM source
), final AS (
    SELECT * FROM renamed
)
SELECT * FROM final;
