-- Outpost hub, schema 1 (PostgreSQL). Never edit a migration once released:
-- add a new numbered file. Times are milliseconds since the Unix epoch (UTC),
-- ids are UUIDs as text, JSON is stored as text.

-- Hub-wide settings shared by every instance (e.g. the hub's signing key).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Dashboard accounts (admins and trainers); passwords are argon2 hashes.
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'trainer')),
    password_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE cohorts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    trainer TEXT REFERENCES users (username),
    created_ms BIGINT NOT NULL
);

-- Codes are stored normalised (upper case, no dashes or spaces).
CREATE TABLE enrolment_codes (
    code TEXT PRIMARY KEY,
    cohort_id TEXT NOT NULL REFERENCES cohorts (id),
    uses_max BIGINT NOT NULL,
    uses BIGINT NOT NULL DEFAULT 0,
    expires_ms BIGINT,
    created_ms BIGINT NOT NULL
);

-- A learner is a person. `next_feed_seq` numbers their events in the order
-- they were stored (the pull cursor); the row is locked while it is used.
CREATE TABLE learners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT UNIQUE,
    cohort_id TEXT NOT NULL REFERENCES cohorts (id),
    language TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    next_feed_seq BIGINT NOT NULL DEFAULT 1
);

-- Every local profile id a learner is known by (their own id included).
CREATE TABLE learner_aliases (
    alias_id TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL REFERENCES learners (id)
);
CREATE INDEX learner_aliases_learner ON learner_aliases (learner_id);

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    public_key TEXT NOT NULL,
    enrolled_ms BIGINT NOT NULL,
    revoked_ms BIGINT,
    last_sync_ms BIGINT,
    -- hub clock minus device clock at the last push
    clock_offset_ms BIGINT
);

-- One token per learner profile on a device; only its SHA-256 is kept.
CREATE TABLE device_tokens (
    token_hash TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices (id),
    learner_id TEXT NOT NULL REFERENCES learners (id),
    profile_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_sync_ms BIGINT,
    pending_after BIGINT,
    UNIQUE (device_id, profile_id)
);
CREATE INDEX device_tokens_learner ON device_tokens (learner_id);

-- Published course packages; every version is kept.
CREATE TABLE packages (
    course_id TEXT NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    published_ms BIGINT NOT NULL,
    publisher_key TEXT NOT NULL,
    manifest TEXT NOT NULL,
    structure TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (course_id, version)
);

CREATE TABLE assignments (
    cohort_id TEXT NOT NULL REFERENCES cohorts (id),
    course_id TEXT NOT NULL,
    due TEXT,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (cohort_id, course_id)
);

-- Learner events, stored once by id. `content` is the canonical JSON the
-- device sent; `hub_learner_id` the canonical learner it is attributed to.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    hub_learner_id TEXT NOT NULL REFERENCES learners (id),
    learner_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    course_id TEXT NOT NULL,
    course_version TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    device_time_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    corrected_ms BIGINT NOT NULL,
    feed_seq BIGINT NOT NULL,
    -- re-graded by the hub for quiz_submitted
    score_correct BIGINT,
    score_total BIGINT,
    passed BOOLEAN,
    content TEXT NOT NULL
);
CREATE INDEX events_learner_course ON events (hub_learner_id, course_id);
CREATE UNIQUE INDEX events_feed ON events (hub_learner_id, feed_seq);
CREATE INDEX events_course_kind ON events (course_id, kind);

-- The fold of each learner's events per course, kept current on ingest.
CREATE TABLE progress (
    learner_id TEXT NOT NULL REFERENCES learners (id),
    course_id TEXT NOT NULL,
    course_version TEXT NOT NULL,
    progress TEXT NOT NULL,
    completed BOOLEAN NOT NULL,
    passed BOOLEAN NOT NULL,
    satisfied BOOLEAN NOT NULL,
    satisfied_ms BIGINT,
    fraction DOUBLE PRECISION NOT NULL,
    best_score DOUBLE PRECISION,
    seconds BIGINT NOT NULL,
    events BIGINT NOT NULL,
    last_activity_ms BIGINT,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (learner_id, course_id)
);
CREATE INDEX progress_course ON progress (course_id);

-- xAPI statements: every device event as its statement, and statements
-- posted by other tools. `seq` orders them by storage.
CREATE TABLE statements (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    content TEXT NOT NULL,
    verb_id TEXT NOT NULL,
    actor_key TEXT NOT NULL,
    activity_id TEXT,
    registration TEXT,
    stored_ms BIGINT NOT NULL,
    voided BOOLEAN NOT NULL DEFAULT FALSE,
    source TEXT NOT NULL
);
CREATE INDEX statements_actor ON statements (actor_key, seq);
CREATE INDEX statements_verb ON statements (verb_id, seq);
CREATE INDEX statements_activity ON statements (activity_id, seq);
CREATE INDEX statements_registration ON statements (registration, seq);
CREATE INDEX statements_stored ON statements (stored_ms);

-- HTTP Basic credentials for /xapi; the secret is kept as its SHA-256.
CREATE TABLE xapi_credentials (
    name TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
