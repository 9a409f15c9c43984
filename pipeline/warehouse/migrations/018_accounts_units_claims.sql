-- Issue 29: accounts managed in the web app (audited), handling units renamed or merged by an admin,
-- and QA's claims on calls (two reviewers never work on one call unknowingly).

-- Every change an admin makes to an account, by page or command: who, when, what.
CREATE TABLE user_events (
    acted_at   TIMESTAMP NOT NULL,
    actor      VARCHAR NOT NULL,          -- the admin's user name, or "cli"
    user_name  VARCHAR NOT NULL,          -- the account changed
    action     VARCHAR NOT NULL,          -- created | disabled | enabled | password | role | unit
    note       VARCHAR                    -- e.g. "qa → manager"; never a password
);

-- A unit renamed, or merged into another: routing's name (or an earlier new name) → the name in use.
-- Cases and unit accounts are moved at once; new cases routed to the old name get the new one.
CREATE TABLE unit_renames (
    old_name    VARCHAR PRIMARY KEY,
    new_name    VARCHAR NOT NULL,
    renamed_by  VARCHAR NOT NULL,
    renamed_at  TIMESTAMP NOT NULL
);

-- A QA reviewer working on a call; a claim older than the web app's claim time has expired.
CREATE TABLE call_claims (
    call_id     VARCHAR PRIMARY KEY,
    user_name   VARCHAR NOT NULL,
    claimed_at  TIMESTAMP NOT NULL
);
