-- Calls waiting for QA: urgent first, then frustrated callers whose earlier report went nowhere
-- (they say so, "báo mấy lần rồi", or the same caller (hash) called about the same topic in
-- the 30 days before), then the least confident transcripts, oldest first.
CREATE OR REPLACE VIEW mart_review_queue AS
WITH called_before AS (
    SELECT DISTINCT c.call_id
    FROM main.calls c
    JOIN main.calls p ON p.caller_hash = c.caller_hash AND p.call_id <> c.call_id
         AND p.started_at < c.started_at AND p.started_at >= c.started_at - INTERVAL 30 DAY
    JOIN main.call_topics ct ON ct.call_id = c.call_id AND ct.assigned AND ct.topic <> 'other'
    JOIN main.call_topics pt ON pt.call_id = p.call_id AND pt.assigned AND pt.topic = ct.topic
    WHERE c.caller_hash IS NOT NULL
), calls AS (
    SELECT s.*, coalesce(c.frustrated AND (c.repeat_unresolved OR b.call_id IS NOT NULL), FALSE) AS frustrated_repeat
    FROM stg_calls s JOIN main.calls c USING (call_id) LEFT JOIN called_before b USING (call_id)
    WHERE NOT s.reviewed AND (s.needs_review OR s.urgent)
), topics AS (
    SELECT call_id, string_agg(topic, ',' ORDER BY topic) AS topics FROM stg_call_topics GROUP BY call_id
), final AS (
    SELECT c.call_id, c.started_at, c.call_date, c.operator_ext, c.urgent, c.urgency_reasons, c.needs_review,
           c.review_reasons, c.confidence, coalesce(t.topics, '') AS topics,
           row_number() OVER (ORDER BY c.urgent DESC, c.frustrated_repeat DESC, c.confidence ASC NULLS FIRST,
                              c.started_at ASC) AS priority
    FROM calls c LEFT JOIN topics t USING (call_id)
)
SELECT * FROM final;
