-- Lines (đường dây nóng, issue 32): which hotline each call came in on, and users scoped to lines.
-- A line's agency, number, routing, hours, report header and QA team are settings (pipeline.lines).

ALTER TABLE calls ADD COLUMN line VARCHAR;      -- line key (pipeline.lines): from the DID, the source, or the default
ALTER TABLE calls ADD COLUMN dialled VARCHAR;   -- the hotline number the citizen dialled (Asterisk dst / FreePBX DID); never the caller's

-- A user with rows here sees only those lines' calls and cases; a user with none sees every line.
CREATE TABLE user_lines (
    user_name  VARCHAR NOT NULL,
    line       VARCHAR NOT NULL,
    PRIMARY KEY (user_name, line)
);
