-- Alerts beyond urgent calls (issue 30 #2): spikes, overdue cases per unit, chosen categories;
-- who wants which by e-mail and in the app, quiet hours, digests, and the audit of acknowledging.
-- Written by pipeline.casework.alerts through pipeline.warehouse.alerts.

-- A spike or an overdue list is about no call and no rule.
ALTER TABLE alerts ALTER COLUMN call_id DROP NOT NULL;
ALTER TABLE alerts ALTER COLUMN rule_name DROP NOT NULL;
ALTER TABLE alerts ALTER COLUMN rule_version DROP NOT NULL;
ALTER TABLE alerts ADD COLUMN kind VARCHAR DEFAULT 'urgent';   -- urgent | category | spike | overdue
ALTER TABLE alerts ADD COLUMN unit VARCHAR;                    -- overdue: the handling unit it is for
ALTER TABLE alerts ADD COLUMN trigger VARCHAR;                 -- JSON: what raised it (counts, baseline, p, rule, moment)

-- What a user wants: which kinds (and which categories), by e-mail to which address, and when not.
CREATE TABLE alert_subscriptions (
    user_name    VARCHAR PRIMARY KEY,
    email        VARCHAR,                  -- NULL: in the app only
    kinds        VARCHAR NOT NULL,         -- comma-separated: urgent, category, spike, overdue
    categories   VARCHAR NOT NULL,         -- comma-separated rule names (kind "category")
    quiet_from   VARCHAR,                  -- 'HH:MM' local time; NULL: no quiet hours
    quiet_to     VARCHAR,                  -- 'HH:MM'; the quiet hours may cross midnight
    since        TIMESTAMP NOT NULL,       -- alerts raised before this are never e-mailed to the user
    updated_at   TIMESTAMP NOT NULL
);

-- One row per alert and user that e-mails decided on: sent alone, in a digest, or held (quiet hours).
CREATE TABLE alert_deliveries (
    alert_id     VARCHAR NOT NULL,
    user_name    VARCHAR NOT NULL,
    state        VARCHAR NOT NULL,         -- held | sent | digest | failed
    decided_at   TIMESTAMP NOT NULL,
    sent_at      TIMESTAMP,
    digest_id    VARCHAR,                  -- the digest message it went in
    error        VARCHAR,                  -- the last failure, without addresses
    PRIMARY KEY (alert_id, user_name)
);

-- Seen in the app (the bell counts alerts without a row for the user).
CREATE TABLE alert_reads (
    alert_id     VARCHAR NOT NULL,
    user_name    VARCHAR NOT NULL,
    read_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (alert_id, user_name)
);

-- Audit: every acknowledgement (and any later action on an alert), who and when.
CREATE TABLE alert_events (
    alert_id     VARCHAR NOT NULL,
    user_name    VARCHAR NOT NULL,
    action       VARCHAR NOT NULL,         -- acknowledged
    note         VARCHAR,
    acted_at     TIMESTAMP NOT NULL
);
