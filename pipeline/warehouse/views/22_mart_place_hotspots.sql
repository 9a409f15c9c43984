-- Calls per ward/commune and day (one call counts once per unit even if named twice).
CREATE OR REPLACE VIEW mart_place_hotspots AS
WITH units AS (
    SELECT DISTINCT call_id, place_name, kind FROM stg_call_places WHERE is_admin_unit
), calls AS (
    SELECT call_id, call_date, urgent FROM stg_calls
), joined AS (
    SELECT c.call_date, u.place_name, u.kind, c.urgent FROM units u JOIN calls c USING (call_id)
), final AS (
    SELECT call_date, place_name, kind, count(*) AS n_calls, count(*) FILTER (WHERE urgent) AS n_urgent
    FROM joined GROUP BY ALL
)
SELECT * FROM final;
