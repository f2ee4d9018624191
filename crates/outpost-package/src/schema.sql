-- Outpost course package, schema 1. One file per course version.
-- `PRAGMA application_id` marks the file as a package and `user_version`
-- holds the schema version; a reader refuses a newer schema.

-- The course as a whole: manifest (titles, languages, rules) and the
-- language-independent structure with the answer key, both JSON.
CREATE TABLE package (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    course_id TEXT NOT NULL,
    version TEXT NOT NULL,
    manifest TEXT NOT NULL,
    structure TEXT NOT NULL
);

CREATE TABLE modules (
    module_id TEXT NOT NULL,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    objectives TEXT NOT NULL, -- JSON array of strings
    intro_html TEXT NOT NULL,
    PRIMARY KEY (module_id, lang)
) WITHOUT ROWID;

CREATE TABLE lessons (
    lesson_id TEXT NOT NULL,
    lang TEXT NOT NULL,
    module_id TEXT NOT NULL,
    title TEXT NOT NULL,
    html TEXT NOT NULL,      -- sanitised by the compiler
    text TEXT NOT NULL,      -- plain text
    headings TEXT NOT NULL,  -- JSON [{level, anchor, text}]
    PRIMARY KEY (lesson_id, lang)
) WITHOUT ROWID;

CREATE TABLE questions (
    question_id TEXT NOT NULL,
    lang TEXT NOT NULL,
    content TEXT NOT NULL,   -- JSON QuestionText (display only; the key is in structure)
    PRIMARY KEY (question_id, lang)
) WITHOUT ROWID;

CREATE TABLE assets (
    name TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    bytes BLOB NOT NULL
) WITHOUT ROWID;

-- Full-text index of the lessons, ready to query or to copy.
CREATE VIRTUAL TABLE search USING fts5(
    lang UNINDEXED,
    lesson_id UNINDEXED,
    module_id UNINDEXED,
    title,
    text,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Who signed, and the ed25519 signature over the SHA-256 of the whole
-- file as it was with a fixed placeholder in `signature`.
CREATE TABLE signature (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    public_key BLOB NOT NULL,
    signature BLOB NOT NULL
);
