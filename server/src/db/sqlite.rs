//! The embedded backend: one SQLite file in the data folder (WAL mode).
//!
//! SQLite allows one writer at a time, so write transactions share one
//! connection behind an async lock; reads take an idle connection from a
//! pool that grows on demand (up to [`MAX_READERS`]) and run beside the
//! writer. A read never waits for another read to finish unless that many
//! run at once, so code that opens a read while holding one cannot wait on
//! itself. Every call into SQLite runs on a blocking thread so the async
//! runtime never waits on the disk.

use super::{Backend, Database, DbError, Migration, Mode, Row, Tx, Val};
use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "dashboard",
        sql: include_str!("../../migrations/sqlite/0002_dashboard.sql"),
    },
];

/// Read connections open at most at once; each holds a file handle and a
/// page cache, and more concurrent readers than this only queue on 2 cores.
pub const MAX_READERS: usize = 32;

type Conn = Arc<Mutex<Connection>>;

pub struct Sqlite {
    path: PathBuf,
    writer: Conn,
    /// One permit: the single write transaction.
    write_gate: Arc<Semaphore>,
    /// Idle read connections, reused before a new one is opened.
    idle_readers: Arc<Mutex<Vec<Conn>>>,
    read_gate: Arc<Semaphore>,
}

fn open_conn(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // WAL: readers do not block the writer. synchronous=FULL: a commit is on
    // disk before the hub acknowledges it, even across a power cut.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
    )?;
    Ok(conn)
}

impl Sqlite {
    /// Open (creating if needed) `path` and bring its schema up to date.
    pub async fn open(path: &Path) -> Result<Arc<Sqlite>, DbError> {
        let p = path.to_path_buf();
        let writer = tokio::task::spawn_blocking(move || open_conn(&p))
            .await
            .map_err(|e| DbError::Open(e.to_string()))??;
        let db = Sqlite {
            path: path.to_path_buf(),
            writer: Arc::new(Mutex::new(writer)),
            write_gate: Arc::new(Semaphore::new(1)),
            idle_readers: Arc::new(Mutex::new(Vec::new())),
            read_gate: Arc::new(Semaphore::new(MAX_READERS)),
        };
        super::migrate(&db, MIGRATIONS).await?;
        Ok(Arc::new(db))
    }

    /// An idle read connection, or a new one.
    async fn reader(&self) -> Result<Conn, DbError> {
        let idle = self
            .idle_readers
            .lock()
            .map_err(|_| DbError::Open("reader pool lock poisoned".into()))?
            .pop();
        match idle {
            Some(c) => Ok(c),
            None => {
                let p = self.path.clone();
                let c = tokio::task::spawn_blocking(move || open_conn(&p))
                    .await
                    .map_err(|e| DbError::Open(e.to_string()))??;
                Ok(Arc::new(Mutex::new(c)))
            }
        }
    }
}

struct SqliteTx {
    conn: Conn,
    /// Where a read connection goes back when the transaction ends.
    return_to: Option<Arc<Mutex<Vec<Conn>>>>,
    _permit: OwnedSemaphorePermit,
    done: bool,
    /// Cleared (under the connection's lock) when the transaction is
    /// dropped. A statement runs on a blocking thread and may reach the
    /// connection after its transaction was dropped (the request was
    /// cancelled because its client went away): it must then not run, or
    /// it would run outside any transaction, or inside the next one.
    alive: Arc<AtomicBool>,
}

/// Run `f` on the connection if its transaction is still alive. Checked
/// under the connection's lock, which the transaction's drop also takes.
fn run_if_alive<T>(
    conn: &Conn,
    alive: &AtomicBool,
    f: impl FnOnce(&Connection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    let c = conn
        .lock()
        .map_err(|_| DbError::Open("connection lock poisoned".into()))?;
    if !alive.load(Ordering::SeqCst) {
        return Err(DbError::Open(
            "the transaction was abandoned before this statement ran".into(),
        ));
    }
    f(&c)
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        let clean = match self.conn.lock() {
            Ok(c) => {
                self.alive.store(false, Ordering::SeqCst);
                if !self.done && !c.is_autocommit() {
                    let _ = c.execute_batch("ROLLBACK");
                }
                c.is_autocommit()
            }
            Err(_) => false,
        };
        // A connection left inside a transaction (or poisoned) is dropped,
        // not reused.
        if let (true, Some(pool)) = (clean, &self.return_to) {
            if let Ok(mut idle) = pool.lock() {
                idle.push(self.conn.clone());
            }
        }
    }
}

fn bind(v: &Val) -> ToSqlOutput<'_> {
    match v {
        Val::Null => ToSqlOutput::Owned(SqlValue::Null),
        Val::I64(i) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
        Val::F64(f) => ToSqlOutput::Owned(SqlValue::Real(*f)),
        Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Val::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        Val::Bool(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
    }
}

struct Bound<'a>(&'a Val);
impl ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(bind(self.0))
    }
}

/// The shared SQL uses PostgreSQL's `$1`; SQLite's positional form is `?1`.
/// Only placeholders are rewritten: a `$` inside a string literal (a JSON
/// path such as `'$.score'`) or a quoted identifier stays as it is.
/// Row locks (`FOR UPDATE`) are PostgreSQL's: SQLite's write transaction
/// already excludes every other writer.
fn dialect(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        match quote {
            Some(q) => {
                // A doubled quote inside a literal is an escaped quote; it
                // closes and reopens, which this toggling handles.
                if ch == q {
                    quote = None;
                }
                out.push(ch);
            }
            None if ch == '\'' || ch == '"' => {
                quote = Some(ch);
                out.push(ch);
            }
            None if ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
            None => out.push(ch),
        }
    }
    out.replace(" FOR UPDATE", "")
}

fn run_query(c: &Connection, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError> {
    let mut stmt = c.prepare_cached(&dialect(sql))?;
    let n = stmt.column_count();
    let bound: Vec<Bound> = params.iter().map(Bound).collect();
    let refs: Vec<&dyn ToSql> = bound.iter().map(|b| b as &dyn ToSql).collect();
    let mut rows = stmt.query(refs.as_slice())?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut vals = Vec::with_capacity(n);
        for i in 0..n {
            vals.push(match r.get_ref(i)? {
                ValueRef::Null => Val::Null,
                ValueRef::Integer(i) => Val::I64(i),
                ValueRef::Real(f) => Val::F64(f),
                ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Val::Bytes(b.to_vec()),
            });
        }
        out.push(Row(vals));
    }
    Ok(out)
}

fn run_exec(c: &Connection, sql: &str, params: &[Val]) -> Result<u64, DbError> {
    let mut stmt = c.prepare_cached(&dialect(sql))?;
    let bound: Vec<Bound> = params.iter().map(Bound).collect();
    let refs: Vec<&dyn ToSql> = bound.iter().map(|b| b as &dyn ToSql).collect();
    Ok(stmt.execute(refs.as_slice())? as u64)
}

impl SqliteTx {
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let conn = self.conn.clone();
        let alive = self.alive.clone();
        tokio::task::spawn_blocking(move || run_if_alive(&conn, &alive, f))
            .await
            .map_err(|e| DbError::Open(e.to_string()))?
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn exec(&mut self, sql: &str, params: Vec<Val>) -> Result<u64, DbError> {
        super::check_params(&params)?;
        let sql = sql.to_string();
        self.with(move |c| run_exec(c, &sql, &params)).await
    }

    async fn query(&mut self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>, DbError> {
        super::check_params(&params)?;
        let sql = sql.to_string();
        self.with(move |c| run_query(c, &sql, &params)).await
    }

    async fn commit(mut self: Box<Self>) -> Result<(), DbError> {
        self.with(|c| Ok(c.execute_batch("COMMIT")?)).await?;
        self.done = true;
        Ok(())
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}

#[async_trait]
impl Database for Sqlite {
    async fn begin(&self, mode: Mode) -> Result<Box<dyn Tx>, DbError> {
        Ok(Box::new(self.begin_tx(mode).await?))
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}

impl Sqlite {
    async fn begin_tx(&self, mode: Mode) -> Result<SqliteTx, DbError> {
        let gate = |g: &Arc<Semaphore>| {
            let g = g.clone();
            async move {
                g.acquire_owned()
                    .await
                    .map_err(|e| DbError::Open(e.to_string()))
            }
        };
        // Should BEGIN fail, the drop's ROLLBACK is a harmless no-op.
        let tx = match mode {
            Mode::Write => SqliteTx {
                _permit: gate(&self.write_gate).await?,
                conn: self.writer.clone(),
                return_to: None,
                done: false,
                alive: Arc::new(AtomicBool::new(true)),
            },
            Mode::Read => {
                let permit = gate(&self.read_gate).await?;
                SqliteTx {
                    conn: self.reader().await?,
                    return_to: Some(self.idle_readers.clone()),
                    _permit: permit,
                    done: false,
                    alive: Arc::new(AtomicBool::new(true)),
                }
            }
        };
        let begin = match mode {
            Mode::Write => "BEGIN IMMEDIATE",
            Mode::Read => "BEGIN DEFERRED",
        };
        tx.with(move |c| {
            if !c.is_autocommit() {
                c.execute_batch("ROLLBACK")?;
            }
            Ok(c.execute_batch(begin)?)
        })
        .await?;
        Ok(tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_rewrites_placeholders_only() {
        assert_eq!(
            dialect("SELECT a FROM t WHERE b = $1 AND c = $12 FOR UPDATE"),
            "SELECT a FROM t WHERE b = ?1 AND c = ?12"
        );
        assert_eq!(
            dialect("SELECT json_extract(x, '$.score'), 'it''s $2' FROM t WHERE y = $1"),
            "SELECT json_extract(x, '$.score'), 'it''s $2' FROM t WHERE y = ?1"
        );
        assert_eq!(dialect(r#"SELECT "$1" FROM t"#), r#"SELECT "$1" FROM t"#);
    }

    /// A statement that reaches the connection after its transaction was
    /// dropped (a cancelled request) does nothing: before the fix it ran
    /// in autocommit mode — an event stored outside its batch's
    /// transaction, its feed number then taken again by the next batch
    /// (UNIQUE failures on every later push of that learner).
    #[tokio::test]
    async fn a_statement_of_a_dropped_transaction_never_runs() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("hub.db")).await.unwrap();
        let mut tx = db.begin(Mode::Write).await.unwrap();
        tx.exec("CREATE TABLE t (x INTEGER)", vec![]).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = db.begin_tx(Mode::Write).await.unwrap();
        tx.exec("INSERT INTO t VALUES (1)", vec![]).await.unwrap();
        // What a late statement holds: the connection and the flag.
        let (conn, alive) = (tx.conn.clone(), tx.alive.clone());
        drop(tx); // rolled back
        let late = run_if_alive(&conn, &alive, |c| {
            Ok(c.execute_batch("INSERT INTO t VALUES (2)")?)
        });
        assert!(late.is_err(), "the late statement was refused");
        let mut tx = db.begin(Mode::Read).await.unwrap();
        let rows = tx.query("SELECT count(*) FROM t", vec![]).await.unwrap();
        assert_eq!(
            rows[0].i64(0).unwrap(),
            0,
            "nothing of the dropped transaction stayed"
        );
        // The writer works on.
        drop(tx);
        let mut tx = db.begin(Mode::Write).await.unwrap();
        tx.exec("INSERT INTO t VALUES (3)", vec![]).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// Code that opens a read while it holds reads (the dashboard reading a
    /// course text inside a report) must not wait on itself.
    #[tokio::test]
    async fn nested_reads_do_not_wait_on_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("hub.db")).await.unwrap();
        let nested = async {
            let mut held = Vec::new();
            for i in 0..9 {
                let mut tx = db.begin(Mode::Read).await?;
                tx.query(&format!("SELECT {i}"), vec![]).await?;
                held.push(tx);
            }
            Ok::<_, DbError>(held)
        };
        let held = tokio::time::timeout(std::time::Duration::from_secs(10), nested)
            .await
            .expect("nine reads held at once, none waits for another")
            .unwrap();
        drop(held);
        // Ended transactions give their connections back for reuse.
        assert!(db.idle_readers.lock().unwrap().len() >= 8);
    }
}
