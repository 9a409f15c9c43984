-- Share of frustrated callers by topic and week, for managers.
CREATE OR REPLACE VIEW mart_frustration_weekly AS
WITH calls AS (
    SELECT c.call_id, s.call_week, coalesce(c.frustrated, FALSE) AS frustrated
    FROM calls c JOIN stg_calls s USING (call_id)
    WHERE c.frustration IS NOT NULL
), joined AS (
    SELECT c.call_week, t.topic, c.frustrated FROM calls c JOIN stg_call_topics t USING (call_id)
), final AS (
    SELECT call_week AS week, topic, count(*) AS n_calls, count(*) FILTER (WHERE frustrated) AS n_frustrated,
           count(*) FILTER (WHERE frustrated) / count(*) AS share_frustrated
    FROM joined GROUP BY ALL
)
SELECT * FROM final;
