-- The reporting views are files (pipeline/warehouse/views/NN_name.sql), re-created in order when
-- the warehouse opens for writing and their fingerprint differs from the one recorded here
-- (pipeline.warehouse.db.refresh_views). The views made by 003, 007 and 012 are left in place:
-- the files re-create each of them, with the same definition, on the first such opening.
CREATE TABLE schema_views (
    fingerprint VARCHAR NOT NULL,     -- sha256 over the view files' names and text, in order
    views       VARCHAR[] NOT NULL,   -- the views those files created (dropped if a later set no longer has them)
    applied_at  TIMESTAMP NOT NULL
);
