-- Call categories by rule and the alerts they raise (issue 30). Written by pipeline.casework.categories
-- and pipeline.casework.alerts through pipeline.warehouse.rules.

-- Every save of a rule is a new version row: who saved what, when. The rule in force is its
-- latest version; the shipped defaults are stored as version 1 the first time rules are applied.
CREATE TABLE rule_versions (
    name        VARCHAR NOT NULL,          -- ascii slug, the rule's key ("khan-cap-tu-khoa")
    version     INTEGER NOT NULL,          -- 1, 2, ... per name
    title       VARCHAR NOT NULL,          -- Vietnamese, for people
    condition   VARCHAR NOT NULL,          -- JSON (pipeline.analysis.rules), never code
    urgent      BOOLEAN NOT NULL,          -- hits raise alerts
    enabled     BOOLEAN NOT NULL,
    saved_by    VARCHAR NOT NULL,          -- user name, or "shipped"
    saved_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (name, version)
);

-- Which calls a rule version matched, and when in the call. Applying again replaces a call's
-- rows for that version: never duplicates.
CREATE TABLE rule_hits (
    call_id       VARCHAR NOT NULL,
    rule_name     VARCHAR NOT NULL,
    rule_version  INTEGER NOT NULL,
    moment_s      DOUBLE NOT NULL,         -- s from the start of the call
    found_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (call_id, rule_name, rule_version)
);

-- Alerts: one per call and urgent rule, with what triggered it. E-mails carry no personal data
-- (reason, topic, ward, a link); sending and acknowledging are recorded here.
CREATE TABLE alerts (
    alert_id          VARCHAR PRIMARY KEY,   -- "AL-" + call_id + "-" + rule name: one per call and rule
    call_id           VARCHAR NOT NULL,
    rule_name         VARCHAR NOT NULL,
    rule_version      INTEGER NOT NULL,
    reason            VARCHAR NOT NULL,      -- the rule's title
    moment_s          DOUBLE,                -- s from the start of the call
    topic             VARCHAR,               -- main assigned topic key
    ward              VARCHAR,               -- first ward/commune said
    created_at        TIMESTAMP NOT NULL,
    sent_to           VARCHAR,               -- comma-separated addresses the server accepted
    sent_at           TIMESTAMP,
    send_error        VARCHAR,               -- the last failure, without addresses
    acknowledged_by   VARCHAR,
    acknowledged_at   TIMESTAMP
);
