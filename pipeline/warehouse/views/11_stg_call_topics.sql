-- The topics a call has now: a QA row (added or removed) overrides the model's decision.
CREATE OR REPLACE VIEW stg_call_topics AS
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
