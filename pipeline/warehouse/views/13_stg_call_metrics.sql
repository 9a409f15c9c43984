CREATE OR REPLACE VIEW stg_call_metrics AS
WITH source AS (
    SELECT * FROM call_metrics
), final AS (
    SELECT call_id, scope, name AS metric, CAST(value AS DOUBLE) AS value FROM source
)
SELECT * FROM final;
