-- Understanding v2 (issue 16): one-line summary, sentiment per turn and per call.
ALTER TABLE calls ADD COLUMN summary VARCHAR;            -- one-line Vietnamese summary built from the extracted facts (pipeline.analysis.summary)
ALTER TABLE calls ADD COLUMN frustration DOUBLE;         -- 0..1, mean of the citizen's two most frustrated turns (pipeline.analysis.sentiment)
ALTER TABLE calls ADD COLUMN frustrated BOOLEAN;         -- frustration >= pipeline.analysis.sentiment.FRUSTRATED_AT
ALTER TABLE calls ADD COLUMN operator_courtesy DOUBLE;   -- 0..1, the operator's least courteous turn
ALTER TABLE calls ADD COLUMN repeat_unresolved BOOLEAN;  -- caller says it was reported before and is still not solved

CREATE TABLE turn_sentiment (
    call_id VARCHAR NOT NULL,
    seq     INTEGER NOT NULL,   -- segment number (segments.seq)
    role    VARCHAR NOT NULL,   -- citizen | operator | unknown
    label   VARCHAR NOT NULL,   -- calm | worried | annoyed | angry (citizen); courteous | not_courteous (operator)
    score   DOUBLE NOT NULL,    -- 0..1: frustration P(annoyed)+P(angry) for citizen turns, P(courteous) for operator turns
    PRIMARY KEY (call_id, seq)
);

-- Share of frustrated callers by topic and week, for managers.
CREATE VIEW mart_frustration_weekly AS
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

-- The review queue as in 003, with frustrated callers whose earlier report went nowhere
-- right after urgent calls: they say so ("báo mấy lần rồi"), or the same caller (hash)
-- called about the same topic in the 30 days before.
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
