-- The hits of the rules in force (issue 30): each rule's latest version, if enabled. Older versions'
-- hits stay in rule_hits (the audit); the call page, list filter, search, dashboard, exports and
-- reports read these.
CREATE OR REPLACE VIEW stg_rule_hits AS
WITH in_force AS (
    SELECT name, version, title, urgent, enabled FROM rule_versions
    QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1
), final AS (
    SELECT h.call_id, h.rule_name, h.rule_version, h.moment_s, v.title, v.urgent
    FROM rule_hits h JOIN in_force v ON v.name = h.rule_name AND v.version = h.rule_version
    WHERE v.enabled
)
SELECT * FROM final;
