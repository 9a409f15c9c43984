-- Resolved cases whose citizen has not been told yet (operators call back).
CREATE OR REPLACE VIEW mart_case_callbacks AS
WITH final AS (
    SELECT case_id, unit, topic, place, resolved_at, result, caller_hash, n_calls
    FROM stg_cases WHERE status = 'resolved'
)
SELECT * FROM final;
