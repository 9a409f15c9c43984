-- One row per case that is an incident (merged cases are counted in the case they joined).
CREATE OR REPLACE VIEW stg_cases AS
WITH source AS (
    SELECT * FROM cases WHERE status <> 'merged'
), calls AS (
    SELECT case_id, count(*) AS n_calls FROM case_calls GROUP BY case_id
), final AS (
    SELECT s.*, coalesce(c.n_calls, 0) AS n_calls,
           s.status IN ('new', 'forwarded', 'in_progress') AS is_open,
           s.status IN ('new', 'forwarded', 'in_progress') AND s.due_date < current_date AS is_overdue,
           date_diff('minute', s.opened_at, s.resolved_at) / 60.0 AS hours_to_resolve,
           CAST(date_trunc('week', s.opened_at) AS DATE) AS opened_week
    FROM source s LEFT JOIN calls c USING (case_id)
)
SELECT * FROM final;
