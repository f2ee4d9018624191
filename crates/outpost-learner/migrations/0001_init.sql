-- Outpost learner store, migration 1. Never edit a migration once released:
-- add the next numbered file instead.

-- This device: its id, the next per-device event sequence number, and the
-- ed25519 key it signs progress files with. Exactly one row.
CREATE TABLE device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    device_id TEXT NOT NULL,
    next_seq INTEGER NOT NULL CHECK (next_seq >= 1),
    signing_key BLOB NOT NULL CHECK (length(signing_key) = 32),
    created_at TEXT NOT NULL
);

-- Learners who use this laptop. `id` is the learner_id their events carry.
CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,          -- lower-cased name: one "Amina" per laptop
    language TEXT NOT NULL CHECK (language IN ('en', 'fr', 'es', 'ar')),
    pin_hash TEXT,                          -- argon2 PHC string, or NULL for no PIN
    created_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Publisher keys whose packages this device installs (hex ed25519).
CREATE TABLE trusted_keys (
    public_key TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    added_at TEXT NOT NULL
) WITHOUT ROWID;

-- The installed version of each course. The package itself is the file
-- `courses/<file>` in the data directory, verified before it got here.
CREATE TABLE courses (
    course_id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    file TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    signer TEXT NOT NULL,
    manifest TEXT NOT NULL,                 -- JSON outpost_package::Manifest
    structure TEXT NOT NULL,                -- JSON outpost_model::CourseStructure
    installed_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- Titles of modules, lessons and the assessment per language, copied from
-- the package on install so catalogs and outlines need not open it.
CREATE TABLE titles (
    course_id TEXT NOT NULL REFERENCES courses (course_id) ON DELETE CASCADE,
    activity_id TEXT NOT NULL,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    PRIMARY KEY (course_id, activity_id, lang)
) WITHOUT ROWID;

-- The event log. `body` is the event's canonical JSON (the source of truth);
-- the other columns are copies for queries. Rows are never updated except
-- for their sync bookkeeping, and never deleted.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES profiles (id),
    course_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    attempt TEXT,
    timestamp TEXT NOT NULL,
    body TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('local', 'pulled')),
    sync_state TEXT NOT NULL CHECK (sync_state IN
        ('pending', 'accepted', 'duplicate', 'conflict', 'rejected', 'receipted', 'pulled')),
    sync_detail TEXT,
    synced_at TEXT,
    recorded_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX events_by_profile ON events (profile_id, course_id);
-- This device's sequence numbers are unique (and, by construction, gapless).
CREATE UNIQUE INDEX events_local_seq ON events (seq) WHERE origin = 'local';
CREATE INDEX events_pending ON events (seq) WHERE sync_state = 'pending';
CREATE INDEX events_by_attempt ON events (attempt) WHERE attempt IS NOT NULL;

-- A profile's enrolment with a hub. The token is a secret: stored here,
-- never printed.
CREATE TABLE enrolments (
    profile_id TEXT PRIMARY KEY REFERENCES profiles (id),
    hub_url TEXT NOT NULL,
    device_token TEXT NOT NULL,
    hub_learner_id TEXT NOT NULL,
    cohort TEXT NOT NULL,
    hub_public_key TEXT,
    pull_cursor TEXT,
    enrolled_at TEXT NOT NULL
) WITHOUT ROWID;

-- What the last sync did. Exactly one row.
CREATE TABLE sync_status (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_attempt_at TEXT,
    last_success_at TEXT,
    last_error TEXT,
    last_error_at TEXT
);
INSERT INTO sync_status (id) VALUES (1);

-- Lesson text of every installed course and language, for search.
CREATE VIRTUAL TABLE search USING fts5 (
    course_id UNINDEXED,
    lang UNINDEXED,
    module_id UNINDEXED,
    lesson_id UNINDEXED,
    title,
    text,
    tokenize = 'unicode61 remove_diacritics 2'
);
