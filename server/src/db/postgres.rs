//! The PostgreSQL backend: a connection pool (deadpool), transactions at
//! READ COMMITTED with explicit row locks where order matters. Several hub
//! instances can share one database: nothing is kept in the instance.

use super::{Backend, Database, DbError, Migration, Mode, Row, Tx, Val};
use async_trait::async_trait;
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::sync::Arc;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::NoTls;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "dashboard",
        sql: include_str!("../../migrations/postgres/0002_dashboard.sql"),
    },
];

pub struct Postgres {
    pool: Pool,
}

impl Postgres {
    /// Connect to `url` (`postgres://user:pass@host:port/db`) and bring the
    /// schema up to date.
    pub async fn open(url: &str, max_connections: usize) -> Result<Arc<Postgres>, DbError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| DbError::Open(format!("{url:?}: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .build()
            .map_err(|e| DbError::Open(e.to_string()))?;
        let db = Postgres { pool };
        super::migrate(&db, MIGRATIONS).await?;
        Ok(Arc::new(db))
    }
}

/// Binds a [`Val`] as whatever type the server inferred for the parameter,
/// so one SQL text serves both backends.
#[derive(Debug)]
struct Param<'a>(&'a Val);

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = || -> Box<dyn std::error::Error + Sync + Send> {
            format!("cannot bind {:?} as {ty}", self.0).into()
        };
        match self.0 {
            Val::Null => Ok(IsNull::Yes),
            Val::I64(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v).map_err(|_| mismatch())?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v).map_err(|_| mismatch())?.to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Val::F64(v) => match *ty {
                Type::FLOAT8 => v.to_sql(ty, out),
                Type::FLOAT4 => (*v as f32).to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Val::Text(s) => match *ty {
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                _ => s.as_str().to_sql(&Type::TEXT, out),
            },
            Val::Bytes(b) => b.as_slice().to_sql(ty, out),
            Val::Bool(b) => match *ty {
                Type::BOOL => b.to_sql(ty, out),
                Type::INT8 => i64::from(*b).to_sql(ty, out),
                _ => Err(mismatch()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn read_row(r: &tokio_postgres::Row) -> Result<Row, DbError> {
    let mut vals = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Val::I64),
            Type::INT4 => r.try_get::<_, Option<i32>>(i)?.map(|v| Val::I64(v.into())),
            Type::INT2 => r.try_get::<_, Option<i16>>(i)?.map(|v| Val::I64(v.into())),
            Type::FLOAT8 => r.try_get::<_, Option<f64>>(i)?.map(Val::F64),
            Type::FLOAT4 => r.try_get::<_, Option<f32>>(i)?.map(|v| Val::F64(v.into())),
            Type::BOOL => r.try_get::<_, Option<bool>>(i)?.map(Val::Bool),
            Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Val::Bytes),
            Type::VOID => None,
            _ => r.try_get::<_, Option<String>>(i)?.map(Val::Text),
        };
        vals.push(v.unwrap_or(Val::Null));
    }
    Ok(Row(vals))
}

struct PgTx {
    client: Option<Object>,
}

impl PgTx {
    fn client(&self) -> Result<&Object, DbError> {
        self.client
            .as_ref()
            .ok_or_else(|| DbError::Pool("transaction already finished".into()))
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        // Never hand a connection back to the pool inside a transaction.
        if let Some(client) = self.client.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if client.batch_execute("ROLLBACK").await.is_err() {
                        // A broken connection must not be reused.
                        let _ = Object::take(client);
                    }
                });
            }
        }
    }
}

#[async_trait]
impl Tx for PgTx {
    async fn exec(&mut self, sql: &str, params: Vec<Val>) -> Result<u64, DbError> {
        super::check_params(&params)?;
        let client = self.client()?;
        let stmt = client.prepare_cached(sql).await?;
        let bound: Vec<Param> = params.iter().map(Param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        Ok(client.execute(&stmt, &refs).await?)
    }

    async fn query(&mut self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>, DbError> {
        super::check_params(&params)?;
        let client = self.client()?;
        let stmt = client.prepare_cached(sql).await?;
        let bound: Vec<Param> = params.iter().map(Param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        client
            .query(&stmt, &refs)
            .await?
            .iter()
            .map(read_row)
            .collect()
    }

    async fn commit(mut self: Box<Self>) -> Result<(), DbError> {
        let client = self
            .client
            .take()
            .ok_or_else(|| DbError::Pool("transaction already finished".into()))?;
        match client.batch_execute("COMMIT").await {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = Object::take(client);
                Err(e.into())
            }
        }
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}

#[async_trait]
impl Database for Postgres {
    async fn begin(&self, mode: Mode) -> Result<Box<dyn Tx>, DbError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| DbError::Pool(e.to_string()))?;
        let begin = match mode {
            Mode::Write => "BEGIN",
            Mode::Read => "BEGIN READ ONLY",
        };
        client.batch_execute(begin).await?;
        Ok(Box::new(PgTx {
            client: Some(client),
        }))
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}
