//! Opening the store's SQLite database: identification, durability pragmas,
//! numbered migrations.

use crate::error::{LearnerError, Result};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::Path;

/// `PRAGMA application_id` of the learner store: "OPLS".
pub const APPLICATION_ID: i32 = 0x4F50_4C53;

/// The migrations, in order. Migration `n` (1-based) brings the store to
/// `user_version = n`. Never edit one once released; append.
const MIGRATIONS: &[(&str, &str)] = &[
    ("init", include_str!("../migrations/0001_init.sql")),
    (
        "sync_extras",
        include_str!("../migrations/0002_sync_extras.sql"),
    ),
    (
        "course_progress",
        include_str!("../migrations/0003_course_progress.sql"),
    ),
];

/// The store version this code writes and the newest it can open.
pub const STORE_VERSION: u32 = MIGRATIONS.len() as u32;

pub(crate) fn open(path: &Path) -> Result<Connection> {
    let shown = path.display().to_string();
    let not_ours = |detail: String| LearnerError::NotOutpost {
        path: shown.clone(),
        detail,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Identify the file before writing anything to it: a file that is not
    // ours must be left exactly as it was.
    let header = conn.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id), \
                (SELECT user_version FROM pragma_user_version), \
                (SELECT count(*) FROM sqlite_schema)",
        [],
        |r| {
            Ok((
                r.get::<_, i32>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        },
    );
    let (app_id, version, objects) = match header {
        Ok(h) => h,
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(
                e.code,
                rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
            ) =>
        {
            return Err(not_ours("not an SQLite database".into()));
        }
        Err(e) => return Err(e.into()),
    };
    let fresh = app_id == 0 && version == 0 && objects == 0;
    if !fresh && app_id != APPLICATION_ID {
        return Err(not_ours(format!(
            "application id {app_id:#x}, expected {APPLICATION_ID:#x}"
        )));
    }
    let version = u32::try_from(version).map_err(|_| not_ours("negative user_version".into()))?;
    if version > STORE_VERSION {
        return Err(LearnerError::NewerDatabase {
            path: shown,
            found: version,
            supported: STORE_VERSION,
        });
    }
    // WAL lets the app read while the CLI writes. synchronous=FULL syncs the
    // WAL on every commit: posts lose power, and NORMAL may then drop the
    // last commits — events the learner was told were saved.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    migrate(&conn, version)?;
    Ok(conn)
}

fn migrate(conn: &Connection, from: u32) -> Result<()> {
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let n = i as u32 + 1;
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let now: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now >= n {
            continue;
        }
        tx.execute_batch(sql)
            .map_err(|e| LearnerError::Internal(format!("migration {n:04}_{name}: {e}")))?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", n)?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    // Millisecond precision: what xAPI timestamps and UUIDv7 carry.
    let t = chrono::Utc::now();
    chrono::DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

pub(crate) fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in migrations/ is in MIGRATIONS, numbered 0001.. in order.
    #[test]
    fn migrations_are_numbered_and_all_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .enumerate()
            .map(|(i, (name, _))| format!("{:04}_{name}.sql", i + 1))
            .collect();
        assert_eq!(files, listed);
    }
}
