-- One row per operator and day; averages are computed by readers from the sums.
CREATE OR REPLACE VIEW mart_operator_daily AS
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
