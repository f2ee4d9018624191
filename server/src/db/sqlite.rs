//! The embedded backend: one SQLite file in the data folder (WAL mode).
//!
//! SQLite allows one writer at a time, so write transactions share one
//! connection behind an async lock; reads use a small pool of their own
//! connections and run beside the writer. Every call into SQLite runs on a
//! blocking thread so the async runtime never waits on the disk.

use super::{Backend, Database, DbError, Migration, Mode, Row, Tx, Val};
use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use std::path::Path;
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

const READERS: usize = 4;

struct Slot {
    conn: Arc<Mutex<Connection>>,
    gate: Arc<Semaphore>,
}

pub struct Sqlite {
    writer: Slot,
    readers: Vec<Slot>,
    next_reader: std::sync::atomic::AtomicUsize,
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
        let slot = |c: Connection| Slot {
            conn: Arc::new(Mutex::new(c)),
            gate: Arc::new(Semaphore::new(1)),
        };
        let db = Sqlite {
            writer: slot(writer),
            readers: Vec::new(),
            next_reader: Default::default(),
        };
        super::migrate(&db, MIGRATIONS).await?;
        let mut readers = Vec::new();
        for _ in 0..READERS {
            let p = path.to_path_buf();
            let c = tokio::task::spawn_blocking(move || open_conn(&p))
                .await
                .map_err(|e| DbError::Open(e.to_string()))??;
            readers.push(slot(c));
        }
        Ok(Arc::new(Sqlite { readers, ..db }))
    }
}

struct SqliteTx {
    conn: Arc<Mutex<Connection>>,
    _permit: OwnedSemaphorePermit,
    done: bool,
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if !self.done {
            if let Ok(c) = self.conn.lock() {
                let _ = c.execute_batch("ROLLBACK");
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
/// Row locks (`FOR UPDATE`) are PostgreSQL's: SQLite's write transaction
/// already excludes every other writer.
fn dialect(sql: &str) -> String {
    sql.replace(" FOR UPDATE", "").replace('$', "?")
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
        tokio::task::spawn_blocking(move || {
            let c = conn
                .lock()
                .map_err(|_| DbError::Open("connection lock poisoned".into()))?;
            f(&c)
        })
        .await
        .map_err(|e| DbError::Open(e.to_string()))?
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn exec(&mut self, sql: &str, params: Vec<Val>) -> Result<u64, DbError> {
        let sql = sql.to_string();
        self.with(move |c| run_exec(c, &sql, &params)).await
    }

    async fn query(&mut self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>, DbError> {
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
        let slot = match mode {
            Mode::Write => &self.writer,
            Mode::Read if self.readers.is_empty() => &self.writer,
            Mode::Read => {
                let i = self
                    .next_reader
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                &self.readers[i % self.readers.len()]
            }
        };
        let permit = slot
            .gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| DbError::Open(e.to_string()))?;
        // Should BEGIN fail, the drop's ROLLBACK is a harmless no-op.
        let tx = SqliteTx {
            conn: slot.conn.clone(),
            _permit: permit,
            done: false,
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
        Ok(Box::new(tx))
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}
