-- Survey answers (issue 7): one row per answered question of a sheet
-- submitted through a one-time link (survey_invitation, 0008). The sheet is
-- the set of rows of one invitation; the link is marked used in the same
-- transaction that stores them.

CREATE TABLE survey_answer (
    id             INTEGER PRIMARY KEY,
    invitation_id  INTEGER NOT NULL REFERENCES survey_invitation (id),
    customer_id    INTEGER NOT NULL REFERENCES customer (id),
    survey         TEXT    NOT NULL,
    question_id    TEXT    NOT NULL,
    kind           TEXT    NOT NULL,   -- nps | csat | kano | importance | urgency | free_text
    score          INTEGER,            -- nps, csat, importance, urgency
    functional     TEXT,               -- kano: like | must_be | neutral | live_with | dislike
    dysfunctional  TEXT,               -- kano
    answer_text    TEXT,               -- free_text
    answered_at    TEXT    NOT NULL
);
CREATE INDEX survey_answer_question_idx ON survey_answer (survey, question_id);
CREATE INDEX survey_answer_invitation_idx ON survey_answer (invitation_id);
