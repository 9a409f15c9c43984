CREATE OR REPLACE VIEW mart_call_volume AS
WITH calls AS (
    SELECT call_date, call_hour, call_weekday, duration_s, urgent FROM stg_calls
), final AS (
    SELECT call_date, call_hour, call_weekday, count(*) AS n_calls, count(*) FILTER (WHERE urgent) AS n_urgent,
           sum(duration_s) AS total_duration_s
    FROM calls GROUP BY ALL
)
SELECT * FROM final;
