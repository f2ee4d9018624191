//! Storage: one small trait, two backends.
//!
//! Everything the hub stores goes through [`Database::begin`] and the
//! [`Tx`] it returns. The SQL is written once, in the subset that SQLite and
//! PostgreSQL share (`$1` placeholders, `ON CONFLICT`, `RETURNING`, BIGINT
//! milliseconds for times, TEXT for ids and JSON), so the hub's logic exists
//! once and the same integration suite runs on both. What differs — the
//! connection handling, locking and the schema's DDL — lives in
//! [`sqlite`] and [`postgres`], and in `migrations/<backend>/NNNN_*.sql`.

pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A value bound to or read from SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    I64(i64),
    F64(f64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<u32> for Val {
    fn from(v: u32) -> Val {
        Val::I64(i64::from(v))
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Bool(v)
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<uuid::Uuid> for Val {
    fn from(v: uuid::Uuid) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Val {
        Val::Bytes(v)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// `params![a, b, …]`: a `Vec<Val>` from anything `Into<Val>`.
#[macro_export]
macro_rules! params {
    () => { Vec::<$crate::db::Val>::new() };
    ($($v:expr),+ $(,)?) => { vec![$($crate::db::Val::from($v)),+] };
}

/// One result row. Accessors convert loosely between the backends'
/// representations (SQLite has no booleans, PostgreSQL no untyped columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Val>);

impl Row {
    fn at(&self, i: usize) -> Result<&Val, DbError> {
        self.0
            .get(i)
            .ok_or_else(|| DbError::Decode(format!("no column {i}")))
    }
    pub fn i64(&self, i: usize) -> Result<i64, DbError> {
        match self.at(i)? {
            Val::I64(v) => Ok(*v),
            Val::Bool(b) => Ok(i64::from(*b)),
            other => Err(DbError::Decode(format!(
                "column {i}: expected an integer, got {other:?}"
            ))),
        }
    }
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.i64(i).map(Some),
        }
    }
    pub fn f64(&self, i: usize) -> Result<f64, DbError> {
        match self.at(i)? {
            Val::F64(v) => Ok(*v),
            Val::I64(v) => Ok(*v as f64),
            other => Err(DbError::Decode(format!(
                "column {i}: expected a number, got {other:?}"
            ))),
        }
    }
    pub fn opt_f64(&self, i: usize) -> Result<Option<f64>, DbError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.f64(i).map(Some),
        }
    }
    pub fn bool(&self, i: usize) -> Result<bool, DbError> {
        match self.at(i)? {
            Val::Bool(b) => Ok(*b),
            Val::I64(v) => Ok(*v != 0),
            other => Err(DbError::Decode(format!(
                "column {i}: expected a boolean, got {other:?}"
            ))),
        }
    }
    pub fn text(&self, i: usize) -> Result<String, DbError> {
        match self.at(i)? {
            Val::Text(s) => Ok(s.clone()),
            other => Err(DbError::Decode(format!(
                "column {i}: expected text, got {other:?}"
            ))),
        }
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, DbError> {
        match self.at(i)? {
            Val::Bytes(b) => Ok(b.clone()),
            Val::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(DbError::Decode(format!(
                "column {i}: expected bytes, got {other:?}"
            ))),
        }
    }
    pub fn uuid(&self, i: usize) -> Result<uuid::Uuid, DbError> {
        let s = self.text(i)?;
        uuid::Uuid::parse_str(&s).map_err(|e| DbError::Decode(format!("column {i}: {e}")))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("database: unexpected value: {0}")]
    Decode(String),
    #[error("database schema {found} is newer than this outpost-hub understands ({supported}); update outpost-hub")]
    NewerSchema { found: i64, supported: i64 },
    #[error("cannot open the database: {0}")]
    Open(String),
    /// A text parameter that no backend stores as it was given (see
    /// [`check_params`]): bad input, not a failure of the hub.
    #[error("{0}")]
    InvalidText(String),
}

/// PostgreSQL refuses a NUL character in text (a 500 deep inside a
/// statement); SQLite would store it. Both backends refuse it the same way,
/// before the statement runs, so every name, e-mail or id a client sends
/// gets one answer: 400 with this reason.
pub(crate) fn check_params(params: &[Val]) -> Result<(), DbError> {
    if params
        .iter()
        .any(|p| matches!(p, Val::Text(s) if s.contains('\0')))
    {
        return Err(DbError::InvalidText(
            "text must not contain a NUL character (\\0)".into(),
        ));
    }
    Ok(())
}

impl DbError {
    /// A PostgreSQL deadlock or serialization failure: the transaction was
    /// rolled back and can simply be run again.
    pub fn is_retryable(&self) -> bool {
        match self {
            DbError::Postgres(e) => e.code().is_some_and(|c| {
                *c == tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED
                    || *c == tokio_postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
            }),
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DatabaseBusy
            }
            _ => false,
        }
    }

    /// A unique or primary key constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Postgres(e) => {
                e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::ConstraintViolation
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Read,
    Write,
}

/// A transaction. Dropped without [`Tx::commit`], it is rolled back.
#[async_trait]
pub trait Tx: Send {
    /// Run a statement; the number of rows it changed.
    async fn exec(&mut self, sql: &str, params: Vec<Val>) -> Result<u64, DbError>;
    async fn query(&mut self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>, DbError>;
    async fn commit(self: Box<Self>) -> Result<(), DbError>;
    fn backend(&self) -> Backend;

    async fn query_opt(&mut self, sql: &str, params: Vec<Val>) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }
}

#[async_trait]
pub trait Database: Send + Sync {
    async fn begin(&self, mode: Mode) -> Result<Box<dyn Tx>, DbError>;
    fn backend(&self) -> Backend;
}

/// A numbered migration: `NNNN_name.sql`.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Apply the migrations the database has not seen, in order, each in its
/// own transaction; refuse a database newer than this code.
pub async fn migrate(db: &dyn Database, migrations: &[Migration]) -> Result<(), DbError> {
    let supported = migrations.iter().map(|m| m.version).max().unwrap_or(0);
    let mut tx = db.begin(Mode::Write).await?;
    if tx.backend() == Backend::Postgres {
        // Several instances may start at once on one database.
        tx.query("SELECT pg_advisory_xact_lock(4707)", vec![])
            .await?;
    }
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)",
        vec![],
    )
    .await?;
    let found = tx
        .query(
            "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_migrations",
            vec![],
        )
        .await?
        .first()
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(0);
    if found > supported {
        return Err(DbError::NewerSchema { found, supported });
    }
    for m in migrations.iter().filter(|m| m.version > found) {
        for statement in split_sql(m.sql) {
            tx.exec(&statement, vec![]).await?;
        }
        tx.exec(
            "INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)",
            params![m.version, m.name, chrono::Utc::now().timestamp_millis()],
        )
        .await?;
    }
    tx.commit().await
}

/// Split a migration file into statements on `;` at the end of a line.
/// (Migrations contain no semicolons inside string literals.)
fn split_sql(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let code = line.split("--").next().unwrap_or("");
        current.push_str(code);
        current.push('\n');
        if code.trim_end().ends_with(';') {
            let s = current.trim().trim_end_matches(';').trim().to_string();
            if !s.is_empty() {
                out.push(s);
            }
            current.clear();
        }
    }
    let s = current.trim().to_string();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_split_on_line_ending_semicolons() {
        let s = split_sql(
            "-- header\nCREATE TABLE a (x TEXT); -- note\n\nCREATE INDEX i\n  ON a (x);\n",
        );
        assert_eq!(
            s,
            vec!["CREATE TABLE a (x TEXT)", "CREATE INDEX i\n  ON a (x)"]
        );
    }
}
