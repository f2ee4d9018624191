//! Publisher keys this device trusts to sign course packages.

use crate::db::{now, parse_ts, ts};
use crate::error::{LearnerError, Result};
use crate::Store;
use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedKey {
    /// The ed25519 public key, 64 hex digits (as in a `.pub` file).
    pub public_key: String,
    pub label: String,
    pub added_at: DateTime<Utc>,
}

impl Store {
    /// Trust packages signed by `key`. Trusting a key twice keeps the first
    /// label and date.
    pub fn trust_key(&self, key: VerifyingKey, label: &str) -> Result<()> {
        let label = label.trim();
        if label.chars().any(char::is_control) || label.chars().count() > 200 {
            return Err(LearnerError::invalid(
                "key label",
                "at most 200 printable characters",
            ));
        }
        self.transact(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO trusted_keys (public_key, label, added_at) VALUES (?1, ?2, ?3)",
                [hex::encode(key.as_bytes()), label.to_string(), ts(now())],
            )?;
            Ok(())
        })
    }

    /// Stop trusting `key` for future installs. Installed courses stay.
    /// Returns whether the key was trusted.
    pub fn untrust_key(&self, key: VerifyingKey) -> Result<bool> {
        self.transact(|tx| {
            Ok(tx.execute(
                "DELETE FROM trusted_keys WHERE public_key = ?1",
                [hex::encode(key.as_bytes())],
            )? > 0)
        })
    }

    pub fn trusted_keys(&self) -> Result<Vec<TrustedKey>> {
        let mut stmt = self.conn.prepare(
            "SELECT public_key, label, added_at FROM trusted_keys ORDER BY added_at, public_key",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(TrustedKey {
                public_key: r.get(0)?,
                label: r.get(1)?,
                added_at: parse_ts(&r.get::<_, String>(2)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(crate) fn trusted_verifying_keys(&self) -> Result<Vec<VerifyingKey>> {
        Ok(self
            .trusted_keys()?
            .iter()
            .filter_map(|k| outpost_package::keys::verifying_key_from_hex(&k.public_key))
            .collect())
    }
}
