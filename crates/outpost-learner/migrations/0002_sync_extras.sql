-- Outpost learner store, migration 2: what the sync client needs beyond
-- the event log's own bookkeeping.

-- Receipts carried back from the hub on a USB stick, by the progress file
-- they answer: a receipt is applied once, however often it is imported.
CREATE TABLE receipts (
    file_id TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES profiles (id),
    results INTEGER NOT NULL,
    imported_at TEXT NOT NULL
) WITHOUT ROWID;

-- Courses the hub asks an enrolled profile to take, as of the last pull.
CREATE TABLE assignments (
    profile_id TEXT NOT NULL REFERENCES profiles (id),
    course_id TEXT NOT NULL,
    due TEXT,                               -- YYYY-MM-DD, or NULL
    PRIMARY KEY (profile_id, course_id)
) WITHOUT ROWID;
