CREATE OR REPLACE VIEW mart_topic_trends_weekly AS
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
