-- Reporting views: raw tables -> stg_ (rename, cast, one meaning per column) -> mart_ (what reports read).
-- Each view is a chain of named CTEs ending in `final`. Marts keep a day or week column so that
-- readers (pipeline.report.reports, the web dashboard) filter a period with bind parameters.

CREATE VIEW stg_calls AS
WITH source AS (
    SELECT * FROM calls WHERE status = 'done'
), renamed AS (
    SELECT
        call_id,
        source_path,
        run_id,
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

-- The topics a call has now: a QA row (added or removed) overrides the model's decision.
CREATE VIEW stg_call_topics AS
WITH model AS (
    SELECT call_id, topic, score, assigned FROM call_topics WHERE source = 'model'
), qa AS (
    SELECT call_id, topic, assigned FROM call_topics WHERE source = 'qa'
), merged AS (
    SELECT coalesce(q.call_id, m.call_id) AS call_id,
           coalesce(q.topic, m.topic)     AS topic,
           m.score                        AS model_score,
           coalesce(q.assigned, m.assigned) AS assigned,
           q.call_id IS NOT NULL          AS corrected
    FROM model m FULL OUTER JOIN qa q ON q.call_id = m.call_id AND q.topic = m.topic
), final AS (
    SELECT call_id, topic, model_score, corrected FROM merged WHERE assigned
)
SELECT * FROM final;

CREATE VIEW stg_call_places AS
WITH source AS (
    SELECT * FROM call_places
), final AS (
    SELECT call_id, seq, kind, text AS said, coalesce(name, text) AS place_name, unit_code, resolved_from,
           kind IN ('ward', 'commune', 'town') AS is_admin_unit
    FROM source
)
SELECT * FROM final;

CREATE VIEW stg_call_metrics AS
WITH source AS (
    SELECT * FROM call_metrics
), final AS (
    SELECT call_id, scope, name AS metric, CAST(value AS DOUBLE) AS value FROM source
)
SELECT * FROM final;

CREATE VIEW mart_topic_trends_weekly AS
WITH calls AS (
    SELECT call_id, call_week FROM stg_calls
), topics AS (
    SELECT call_id, topic FROM stg_call_topics
), joined AS (
    SELECT c.call_week, t.topic FROM calls c JOIN topics t USING (call_id)
), final AS (
    SELECT call_week AS week, topic, count(*) AS n_calls FROM joined GROUP BY ALL
)
SELECT * FROM final;

CREATE VIEW mart_topic_trends_monthly AS
WITH calls AS (
    SELECT call_id, call_month FROM stg_calls
), topics AS (
    SELECT call_id, topic FROM stg_call_topics
), joined AS (
    SELECT c.call_month, t.topic FROM calls c JOIN topics t USING (call_id)
), final AS (
    SELECT call_month AS month, topic, count(*) AS n_calls FROM joined GROUP BY ALL
)
SELECT * FROM final;

-- Calls per ward/commune and day (one call counts once per unit even if named twice).
CREATE VIEW mart_place_hotspots AS
WITH units AS (
    SELECT DISTINCT call_id, place_name, kind FROM stg_call_places WHERE is_admin_unit
), calls AS (
    SELECT call_id, call_date, urgent FROM stg_calls
), joined AS (
    SELECT c.call_date, u.place_name, u.kind, c.urgent FROM units u JOIN calls c USING (call_id)
), final AS (
    SELECT call_date, place_name, kind, count(*) AS n_calls, count(*) FILTER (WHERE urgent) AS n_urgent
    FROM joined GROUP BY ALL
)
SELECT * FROM final;

CREATE VIEW mart_call_volume AS
WITH calls AS (
    SELECT call_date, call_hour, call_weekday, duration_s, urgent FROM stg_calls
), final AS (
    SELECT call_date, call_hour, call_weekday, count(*) AS n_calls, count(*) FILTER (WHERE urgent) AS n_urgent,
           sum(duration_s) AS total_duration_s
    FROM calls GROUP BY ALL
)
SELECT * FROM final;

-- One row per operator and day; averages are computed by readers from the sums.
CREATE VIEW mart_operator_daily AS
WITH calls AS (
    SELECT call_id, call_date, operator_ext, duration_s, confidence, needs_review FROM stg_calls
), operator_metrics AS (
    SELECT call_id,
           max(value) FILTER (WHERE metric = 'talk_time_s')  AS operator_talk_s,
           max(value) FILTER (WHERE metric = 'overlap_s')    AS operator_overlap_s
    FROM stg_call_metrics WHERE scope = 'operator' GROUP BY call_id
), joined AS (
    SELECT c.*, m.operator_talk_s, m.operator_overlap_s FROM calls c LEFT JOIN operator_metrics m USING (call_id)
), final AS (
    SELECT call_date, operator_ext, count(*) AS n_calls, sum(duration_s) AS total_duration_s,
           sum(operator_talk_s) AS operator_talk_s, sum(operator_overlap_s) AS operator_overlap_s,
           avg(confidence) AS mean_confidence, count(*) FILTER (WHERE needs_review) AS n_needs_review
    FROM joined GROUP BY ALL
)
SELECT * FROM final;

-- Calls waiting for QA: urgent first, then the least confident transcripts, oldest first.
CREATE VIEW mart_review_queue AS
WITH calls AS (
    SELECT * FROM stg_calls WHERE NOT reviewed AND (needs_review OR urgent)
), topics AS (
    SELECT call_id, string_agg(topic, ',' ORDER BY topic) AS topics FROM stg_call_topics GROUP BY call_id
), final AS (
    SELECT c.call_id, c.started_at, c.call_date, c.operator_ext, c.urgent, c.urgency_reasons, c.needs_review,
           c.review_reasons, c.confidence, coalesce(t.topics, '') AS topics,
           row_number() OVER (ORDER BY c.urgent DESC, c.confidence ASC NULLS FIRST, c.started_at ASC) AS priority
    FROM calls c LEFT JOIN topics t USING (call_id)
)
SELECT * FROM final;
