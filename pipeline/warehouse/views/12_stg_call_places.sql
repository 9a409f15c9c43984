CREATE OR REPLACE VIEW stg_call_places AS
WITH source AS (
    SELECT * FROM call_places
), final AS (
    SELECT call_id, seq, kind, text AS said, coalesce(name, text) AS place_name, unit_code, resolved_from,
           kind IN ('ward', 'commune', 'town') AS is_admin_unit
    FROM source
)
SELECT * FROM final;
