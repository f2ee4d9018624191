-- Outpost hub, schema 2 (SQLite): the trainer dashboard. Never edit a
-- migration once released: add a new numbered file.

-- Dashboard sign-ins. Only the SHA-256 of the session id (the cookie) is
-- kept; `csrf` is the per-session token every form must send back.
CREATE TABLE dashboard_sessions (
    id_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    csrf TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires_ms);

-- Failed sign-ins per `user:NAME` and per `ip:ADDRESS`, for the lockout.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    first_ms INTEGER NOT NULL,
    locked_until_ms INTEGER
);

-- One row per question asked in a submitted quiz attempt, written with the
-- event at ingest, for item analysis. `options`: the chosen option ids,
-- sorted, without repeats, joined by ','; '' when unanswered.
CREATE TABLE quiz_answers (
    event_id TEXT NOT NULL REFERENCES events (id),
    learner_id TEXT NOT NULL REFERENCES learners (id),
    question_id TEXT NOT NULL,
    course_id TEXT NOT NULL,
    course_version TEXT NOT NULL,
    quiz_id TEXT NOT NULL,
    options TEXT NOT NULL,
    PRIMARY KEY (event_id, question_id)
);
CREATE INDEX quiz_answers_version ON quiz_answers (course_id, course_version, quiz_id, question_id, options, learner_id);

-- Events stored before this schema.
-- (No JSON paths here: the hub's SQLite dialect turns every '$' into '?'.)
INSERT INTO quiz_answers (event_id, learner_id, question_id, course_id, course_version, quiz_id, options)
SELECT e.id, e.hub_learner_id, q.value, e.course_id, e.course_version, e.activity_id,
       COALESCE((SELECT string_agg(o.value, ',' ORDER BY o.value)
                 FROM (SELECT DISTINCT r.value AS value
                       FROM json_each(e.content) rt, json_each(rt.value) rs, json_each(rs.value) r
                       WHERE rt.key = 'responses' AND rs.key = q.value) o), '')
FROM events e, json_each(e.content) top, json_each(top.value) q
WHERE e.kind = 'quiz_submitted' AND top.key = 'questions'
ON CONFLICT DO NOTHING;

-- Publisher keys (64 hex digits) whose packages the dashboard accepts. Keys
-- already used to publish from the command line are trusted as well.
CREATE TABLE publisher_keys (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_ms INTEGER NOT NULL
);

-- A package uploaded on the dashboard, verified, waiting for the user to
-- confirm its publication after reading the update summary.
CREATE TABLE staged_packages (
    id TEXT PRIMARY KEY,
    uploaded_by TEXT NOT NULL,
    uploaded_ms INTEGER NOT NULL,
    course_id TEXT NOT NULL,
    version TEXT NOT NULL,
    publisher_key TEXT NOT NULL,
    bytes BLOB NOT NULL
);

-- Receipts of progress files imported on the dashboard, to download.
CREATE TABLE dashboard_receipts (
    id TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    learner_id TEXT NOT NULL,
    bytes BLOB NOT NULL
);

CREATE INDEX learners_cohort_name ON learners (cohort_id, name, id);
CREATE INDEX cohorts_trainer ON cohorts (trainer);
CREATE INDEX devices_last_sync ON devices (last_sync_ms);
CREATE INDEX enrolment_codes_cohort ON enrolment_codes (cohort_id);
CREATE INDEX progress_course_satisfied ON progress (course_id, satisfied_ms);
