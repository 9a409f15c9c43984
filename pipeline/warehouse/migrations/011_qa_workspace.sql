-- QA workspace (pipeline.web.qa): audited corrections of a call's transcript, places, urgent flag and
-- speaker roles, and the per-call evaluation form. Topic corrections stay in topic_corrections and
-- the reviewed mark in review_events.

-- One row per correction, oldest first; the first old_value of a target is the pipeline's original.
CREATE TABLE call_edits (
    call_id     VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,         -- transcript | urgent | roles | place_add | place_remove
    target      VARCHAR,                  -- transcript: segment seq; place_*: place name; else NULL
    old_value   VARCHAR,                  -- transcript: redacted text before; urgent: true/false
    new_value   VARCHAR,                  -- transcript: redacted text after; place_add: kind
    user_name   VARCHAR NOT NULL,
    edited_at   TIMESTAMP NOT NULL
);

-- Evaluation form answers; every save appends, the latest row of (call_id, item) is the answer.
CREATE TABLE call_evaluations (
    call_id       VARCHAR NOT NULL,
    item          VARCHAR NOT NULL,       -- greeting | address_captured | next_step | handling_unit | courtesy
    answer        VARCHAR NOT NULL,       -- met | not_met | na
    comment       VARCHAR,
    user_name     VARCHAR NOT NULL,
    evaluated_at  TIMESTAMP NOT NULL
);
