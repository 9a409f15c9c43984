-- Open and overdue cases by unit, median time to resolve, reopened share (complaints only).
CREATE OR REPLACE VIEW mart_cases_by_unit AS
WITH complaints AS (
    SELECT * FROM stg_cases WHERE kind = 'complaint'
), final AS (
    SELECT coalesce(unit, '?') AS unit,
           count(*) AS n_cases,
           sum(n_calls) AS n_calls,
           count(*) FILTER (WHERE is_open) AS n_open,
           count(*) FILTER (WHERE is_overdue) AS n_overdue,
           median(hours_to_resolve) AS median_hours_to_resolve,
           count(*) FILTER (WHERE n_reopened > 0) / count(*)::DOUBLE AS reopened_share
    FROM complaints GROUP BY ALL
)
SELECT * FROM final;
