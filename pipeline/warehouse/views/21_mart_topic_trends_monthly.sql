CREATE OR REPLACE VIEW mart_topic_trends_monthly AS
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
