-- Per unit and week: the cases opened (the weekly list each unit receives).
CREATE OR REPLACE VIEW mart_cases_weekly AS
WITH final AS (
    SELECT opened_week AS week, coalesce(unit, '?') AS unit, case_id, kind, status, topic, place, urgent,
           opened_at, due_date, is_overdue, n_calls, resolved_at, result
    FROM stg_cases
)
SELECT * FROM final;
