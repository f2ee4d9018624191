-- Outpost learner store, migration 3: progress without reading the whole
-- event log, and indexes for the queries that scanned it.

-- Each profile's progress in each installed course: the outpost_model::Fold
-- of the profile's events (see src/course_progress.rs), updated in the same
-- transaction as every event and install that changes it. Used only while
-- content_hash is the installed one and `events` is the number of the
-- profile's events in the course; otherwise the events are folded again.
-- Store::open fills the rows a store from before this migration lacks.
CREATE TABLE course_progress (
    profile_id TEXT NOT NULL REFERENCES profiles (id),
    course_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    events INTEGER NOT NULL CHECK (events >= 0),
    state TEXT NOT NULL,                    -- JSON of outpost_model::Fold
    PRIMARY KEY (profile_id, course_id)
) WITHOUT ROWID;

-- Counts by sync state (Store::status after every recorded event) read the
-- index alone instead of every event.
CREATE INDEX events_by_sync_state ON events (sync_state, origin);

-- A profile's events in a course by kind: the completion markers already
-- recorded, without reading the others. Its prefix serves every lookup
-- events_by_profile served.
CREATE INDEX events_by_kind ON events (profile_id, course_id, kind, activity_id);
DROP INDEX events_by_profile;
