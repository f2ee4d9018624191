//! Learner profiles (several per laptop), their optional PIN, and settings.

use crate::db::{now, parse_ts, ts};
use crate::error::{LearnerError, Result};
use crate::Store;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A profile's id. It is also the `learner_id` every event of the profile
/// carries, so it is made once, at creation, and never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileId(pub Uuid);

impl std::fmt::Display for ProfileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The four languages of the interface and the courses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Fr,
    Es,
    Ar,
}

impl Language {
    pub const ALL: [Language; 4] = [Language::En, Language::Fr, Language::Es, Language::Ar];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::Es => "es",
            Language::Ar => "ar",
        }
    }

    pub fn parse(code: &str) -> Result<Language> {
        Language::ALL
            .into_iter()
            .find(|l| l.code() == code.trim().to_ascii_lowercase())
            .ok_or_else(|| LearnerError::UnknownLanguage(code.to_string()))
    }

    /// Arabic is laid out right to left.
    pub fn is_rtl(self) -> bool {
        self == Language::Ar
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: ProfileId,
    pub name: String,
    pub language: Language,
    pub has_pin: bool,
    pub created_at: DateTime<Utc>,
}

const MAX_NAME: usize = 80;

fn clean_name(name: &str) -> Result<String> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(LearnerError::InvalidName("the name is empty".into()));
    }
    if name.chars().count() > MAX_NAME {
        return Err(LearnerError::InvalidName(format!(
            "the name is longer than {MAX_NAME} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(LearnerError::InvalidName(
            "the name contains control characters".into(),
        ));
    }
    Ok(name)
}

fn hash_pin(pin: &str) -> Result<String> {
    let n = pin.chars().count();
    if !(4..=64).contains(&n) {
        return Err(LearnerError::InvalidPin(
            "a PIN has 4 to 64 characters".into(),
        ));
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| LearnerError::Internal(format!("hashing the PIN: {e}")))
}

fn pin_matches(hash: &str, pin: &str) -> Result<bool> {
    let parsed = PasswordHash::new(hash)
        .map_err(|e| LearnerError::Internal(format!("stored PIN hash: {e}")))?;
    Ok(Argon2::default()
        .verify_password(pin.as_bytes(), &parsed)
        .is_ok())
}

type ProfileRow = (String, String, String, Option<String>, String);

fn profile_from_row(row: ProfileRow) -> Result<Profile> {
    let (id, name, lang, pin, created) = row;
    Ok(Profile {
        id: ProfileId(
            Uuid::parse_str(&id).map_err(|e| LearnerError::Internal(format!("profile id: {e}")))?,
        ),
        name,
        language: Language::parse(&lang)?,
        has_pin: pin.is_some(),
        created_at: parse_ts(&created).unwrap_or_default(),
    })
}

const PROFILE_COLS: &str = "id, name, language, pin_hash, created_at";

impl Store {
    /// Make a profile. The name is trimmed, must be unique on this device
    /// (ignoring case) and at most 80 characters.
    pub fn create_profile(
        &self,
        name: &str,
        language: Language,
        pin: Option<&str>,
    ) -> Result<Profile> {
        let name = clean_name(name)?;
        let pin_hash = pin.map(hash_pin).transpose()?;
        let id = ProfileId(Uuid::now_v7());
        let created_at = now();
        self.transact(|tx| {
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM profiles WHERE name_key = ?1)",
                [name.to_lowercase()],
                |r| r.get(0),
            )?;
            if taken {
                return Err(LearnerError::ProfileNameTaken(name.clone()));
            }
            tx.execute(
                "INSERT INTO profiles (id, name, name_key, language, pin_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id.0.to_string(),
                    name,
                    name.to_lowercase(),
                    language.code(),
                    pin_hash,
                    ts(created_at)
                ],
            )?;
            Ok(())
        })?;
        Ok(Profile {
            id,
            name,
            language,
            has_pin: pin_hash.is_some(),
            created_at,
        })
    }

    /// Every profile, oldest first.
    pub fn profiles(&self) -> Result<Vec<Profile>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PROFILE_COLS} FROM profiles ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.map(|r| profile_from_row(r?)).collect()
    }

    pub fn profile(&self, id: ProfileId) -> Result<Profile> {
        self.conn
            .query_row(
                &format!("SELECT {PROFILE_COLS} FROM profiles WHERE id = ?1"),
                [id.0.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?
            .map(profile_from_row)
            .transpose()?
            .ok_or_else(|| LearnerError::UnknownProfile(id.to_string()))
    }

    /// Find a profile by name, ignoring case and extra spaces.
    pub fn profile_by_name(&self, name: &str) -> Result<Profile> {
        let key = clean_name(name)
            .map_err(|_| LearnerError::UnknownProfile(format!("{name:?}")))?
            .to_lowercase();
        self.conn
            .query_row(
                &format!("SELECT {PROFILE_COLS} FROM profiles WHERE name_key = ?1"),
                [key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?
            .map(profile_from_row)
            .transpose()?
            .ok_or_else(|| LearnerError::UnknownProfile(format!("named {name:?}")))
    }

    pub fn rename_profile(&self, id: ProfileId, name: &str) -> Result<()> {
        let name = clean_name(name)?;
        self.transact(|tx| {
            let other: Option<String> = tx
                .query_row(
                    "SELECT id FROM profiles WHERE name_key = ?1",
                    [name.to_lowercase()],
                    |r| r.get(0),
                )
                .optional()?;
            if other.is_some_and(|o| o != id.0.to_string()) {
                return Err(LearnerError::ProfileNameTaken(name.clone()));
            }
            let n = tx.execute(
                "UPDATE profiles SET name = ?2, name_key = ?3 WHERE id = ?1",
                params![id.0.to_string(), name, name.to_lowercase()],
            )?;
            if n == 0 {
                return Err(LearnerError::UnknownProfile(id.to_string()));
            }
            Ok(())
        })
    }

    pub fn set_language(&self, id: ProfileId, language: Language) -> Result<()> {
        let n = self.transact(|tx| {
            Ok(tx.execute(
                "UPDATE profiles SET language = ?2 WHERE id = ?1",
                params![id.0.to_string(), language.code()],
            )?)
        })?;
        if n == 0 {
            return Err(LearnerError::UnknownProfile(id.to_string()));
        }
        Ok(())
    }

    /// Whether `pin` opens the profile. A profile without a PIN opens with
    /// any input, so the UI can call this unconditionally.
    pub fn verify_pin(&self, id: ProfileId, pin: &str) -> Result<bool> {
        match self.pin_hash(id)? {
            None => Ok(true),
            Some(hash) => pin_matches(&hash, pin),
        }
    }

    /// Set, change (`new` = Some) or remove (`new` = None) the PIN. When the
    /// profile has a PIN, `current` must match it.
    pub fn set_pin(&self, id: ProfileId, current: Option<&str>, new: Option<&str>) -> Result<()> {
        if let Some(hash) = self.pin_hash(id)? {
            if !pin_matches(&hash, current.unwrap_or(""))? {
                return Err(LearnerError::WrongPin);
            }
        }
        let new_hash = new.map(hash_pin).transpose()?;
        self.transact(|tx| {
            tx.execute(
                "UPDATE profiles SET pin_hash = ?2 WHERE id = ?1",
                params![id.0.to_string(), new_hash],
            )?;
            Ok(())
        })
    }

    fn pin_hash(&self, id: ProfileId) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT pin_hash FROM profiles WHERE id = ?1",
                [id.0.to_string()],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .ok_or_else(|| LearnerError::UnknownProfile(id.to_string()))
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        if key.trim().is_empty() {
            return Err(LearnerError::invalid("setting", "the key is empty"));
        }
        self.transact(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )?;
            Ok(())
        })
    }

    pub fn remove_setting(&self, key: &str) -> Result<()> {
        self.transact(|tx| {
            tx.execute("DELETE FROM settings WHERE key = ?1", [key])?;
            Ok(())
        })
    }
}

/// Well-known setting keys.
pub mod settings {
    /// The hub to sync with, before any profile is enrolled.
    pub const HUB_URL: &str = "hub_url";
    /// Interface language before a profile is chosen.
    pub const UI_LANGUAGE: &str = "ui_language";
    /// SHA-256 of the bundled package last ensured (so start-up skips it).
    pub const BUNDLED_SHA256: &str = "bundled_sha256";
}
