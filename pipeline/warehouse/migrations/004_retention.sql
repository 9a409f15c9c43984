-- Retention: audio-derived personal data is removed after the retention period
-- (pipeline.warehouse.purge.purge); the non-personal aggregates stay for trend reports.

ALTER TABLE calls ADD COLUMN purged_at TIMESTAMP;   -- when the call's personal data was removed; NULL: kept

CREATE TABLE purges (
    purge_id        VARCHAR PRIMARY KEY,
    purged_at       TIMESTAMP NOT NULL,
    older_than_days INTEGER NOT NULL,      -- retention period applied
    cutoff          TIMESTAMP NOT NULL,    -- calls that started (or were processed) before this
    n_calls         INTEGER NOT NULL,      -- calls whose personal data was removed
    n_rows          INTEGER NOT NULL,      -- rows deleted or blanked, all tables together
    n_files         INTEGER NOT NULL       -- quarantined copies and cached results deleted
);
