//! The hub's logic, written once over [`Database`]: enrolment, ingest (the
//! one code path for online pushes and USB progress files), the pull feed,
//! publishing and downloading packages, and the admin operations.

use crate::db::{Database, DbError, Mode, Tx};
use crate::error::{HubError, HubResult};
use crate::params;
use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::SigningKey;
use outpost_model::xapi::{self, XapiContext};
use outpost_model::{fold, CourseStructure, Event, EventKind};
use outpost_protocol::limits::{self, FUTURE_TOLERANCE_SECONDS, MAX_NAME_CHARS};
use outpost_protocol::{
    Assignment, Confirmed, CourseUpdate, EnrollRequest, EnrollResponse, EventResult, EventStatus,
    ProgressFile, PullResponse, PushRequest, PushResponse, Receipt, PROTOCOL_VERSION,
};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use uuid::Uuid;

/// Settings of one hub instance. Every instance serving one database must
/// be given the same `public_url`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The hub's address as devices and xAPI clients see it, without a
    /// trailing slash; learner accounts in statements point at it.
    pub public_url: String,
    /// Requests per second allowed per token or address, and the burst.
    pub rate_per_second: f64,
    pub rate_burst: f64,
    pub push_compressed_max: usize,
    pub push_decompressed_max: usize,
    pub events_per_push_max: usize,
}

impl Config {
    pub fn new(public_url: &str) -> Config {
        Config {
            public_url: public_url.trim_end_matches('/').to_string(),
            rate_per_second: 20.0,
            rate_burst: 60.0,
            push_compressed_max: limits::MAX_PUSH_COMPRESSED_BYTES,
            push_decompressed_max: limits::MAX_PUSH_DECOMPRESSED_BYTES,
            events_per_push_max: limits::MAX_EVENTS_PER_PUSH,
        }
    }
}

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Order course versions: dotted numbers compare numerically
/// (`1.10.0` > `1.9.2`), anything else as text.
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<Result<u64, String>> {
        s.split(['.', '-', '+'])
            .map(|p| p.parse::<u64>().map_err(|_| p.to_string()))
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x, y) {
            (Ok(x), Ok(y)) => x.cmp(y),
            (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
            (Err(_), Ok(_)) => std::cmp::Ordering::Less,
            (Err(x), Err(y)) => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// A course or version id that is safe in a URL path segment.
pub fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Enrolment codes: no letters that read alike (0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .flat_map(char::to_uppercase)
        .collect()
}

fn new_code() -> String {
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter()
        .map(|x| CODE_ALPHABET[*x as usize % CODE_ALPHABET.len()] as char)
        .collect()
}

/// `ABCDEFGH` → `ABCD-EFGH`, as printed for people.
pub fn display_code(code: &str) -> String {
    if code.len() == 8 && code.is_ascii() {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

/// Who is calling the sync API: a learner profile on an enrolled device.
#[derive(Debug, Clone)]
pub struct Caller {
    pub device_id: Uuid,
    /// The canonical learner.
    pub learner_id: Uuid,
    /// The local profile id the token was issued to.
    pub profile_id: Uuid,
    /// Every id the learner is known by (profile ids on all their devices).
    pub aliases: BTreeSet<Uuid>,
}

/// The clock of one ingest: how far the device's clock is off.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub hub_now_ms: i64,
    /// The device's clock at the moment of sending (push) or writing (file).
    pub device_now_ms: i64,
    /// Added to device times to get hub times.
    pub offset_ms: i64,
}

/// What the device reported about itself with this ingest.
#[derive(Debug, Clone, Copy)]
pub struct SyncReport {
    pub pending_after: Option<u64>,
    /// A measured clock offset to remember (online pushes only).
    pub measured_offset_ms: Option<i64>,
}

/// An event that passed every check and is ready to store.
struct Prepared {
    event: Event,
    canonical: String,
    corrected_ms: i64,
    score: Option<(u32, u32, bool)>,
    statement: Option<StatementRow>,
}

/// A statement with the columns it is queried by.
#[derive(Debug, Clone)]
pub struct StatementRow {
    pub id: Uuid,
    pub content: String,
    pub verb_id: String,
    pub actor_key: String,
    pub activity_id: Option<String>,
    pub registration: Option<String>,
}

pub struct Hub {
    pub db: Arc<dyn Database>,
    pub config: Config,
    key: SigningKey,
    /// Published versions never change, so their structures are cached.
    structures: RwLock<HashMap<(String, String), Arc<CourseStructure>>>,
}

/// Published package metadata.
#[derive(Debug, Clone)]
pub struct PackageInfo {
    pub course_id: String,
    pub version: String,
    pub sha256: String,
    pub size: u64,
    pub published_ms: i64,
}

impl Hub {
    /// Open the hub over a migrated database: loads (or, on first start,
    /// creates) the hub's signing key, which lives in the database so that
    /// every instance signs receipts with the same key.
    pub async fn new(db: Arc<dyn Database>, config: Config) -> HubResult<Hub> {
        let mut tx = db.begin(Mode::Write).await?;
        let fresh = hex::encode(SigningKey::generate(&mut rand::rngs::OsRng).to_bytes());
        tx.exec(
            "INSERT INTO settings (key, value) VALUES ('hub_signing_key', $1) ON CONFLICT (key) DO NOTHING",
            params![fresh],
        )
        .await?;
        let row = tx
            .query_opt(
                "SELECT value FROM settings WHERE key = 'hub_signing_key'",
                vec![],
            )
            .await?
            .ok_or_else(|| HubError::Internal("the hub signing key is missing".into()))?;
        tx.commit().await?;
        let seed: [u8; 32] = hex::decode(row.text(0)?)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| HubError::Internal("the stored hub signing key is malformed".into()))?;
        Ok(Hub {
            db,
            config,
            key: SigningKey::from_bytes(&seed),
            structures: RwLock::new(HashMap::new()),
        })
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }

    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.verifying_key()
    }

    pub fn xapi_context(&self) -> XapiContext {
        XapiContext {
            home_page: self.config.public_url.clone(),
        }
    }

    pub async fn healthy(&self) -> HubResult<()> {
        let mut tx = self.db.begin(Mode::Read).await?;
        tx.query("SELECT 1", vec![]).await?;
        Ok(())
    }

    // ----- courses -------------------------------------------------------

    /// The structure of a published version, if it is published.
    pub async fn structure(
        &self,
        course_id: &str,
        version: &str,
    ) -> HubResult<Option<Arc<CourseStructure>>> {
        let key = (course_id.to_string(), version.to_string());
        if let Some(s) = self
            .structures
            .read()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(Some(s));
        }
        let mut tx = self.db.begin(Mode::Read).await?;
        let Some(row) = tx
            .query_opt(
                "SELECT structure FROM packages WHERE course_id = $1 AND version = $2",
                params![course_id, version],
            )
            .await?
        else {
            return Ok(None);
        };
        let s: CourseStructure = serde_json::from_str(&row.text(0)?).map_err(|e| {
            HubError::Internal(format!("stored structure of {course_id} {version}: {e}"))
        })?;
        let s = Arc::new(s);
        if let Ok(mut m) = self.structures.write() {
            m.insert(key, s.clone());
        }
        Ok(Some(s))
    }

    /// Every published version's metadata.
    pub async fn packages(&self) -> HubResult<Vec<PackageInfo>> {
        let mut tx = self.db.begin(Mode::Read).await?;
        packages_in(tx.as_mut()).await
    }

    /// The newest published version of each course.
    pub async fn latest_packages(&self) -> HubResult<BTreeMap<String, PackageInfo>> {
        Ok(latest(self.packages().await?))
    }

    pub async fn package(&self, course_id: &str, version: &str) -> HubResult<PackageInfo> {
        let mut tx = self.db.begin(Mode::Read).await?;
        let row = tx
            .query_opt(
                "SELECT course_id, version, sha256, size, published_ms FROM packages WHERE course_id = $1 AND version = $2",
                params![course_id, version],
            )
            .await?
            .ok_or_else(|| {
                HubError::NotFound(format!(
                    "course {course_id:?} has no published version {version:?}"
                ))
            })?;
        package_row(&row)
    }

    /// `len` bytes of a package from `start` (0-based).
    pub async fn package_bytes(
        &self,
        course_id: &str,
        version: &str,
        start: u64,
        len: u64,
    ) -> HubResult<Vec<u8>> {
        let mut tx = self.db.begin(Mode::Read).await?;
        let row = tx
            .query_opt(
                "SELECT substr(bytes, CAST($3 AS INTEGER), CAST($4 AS INTEGER)) FROM packages WHERE course_id = $1 AND version = $2",
                params![course_id, version, start as i64 + 1, len as i64],
            )
            .await?
            .ok_or_else(|| HubError::NotFound(format!("no package {course_id} {version}")))?;
        Ok(row.bytes(0)?)
    }

    /// Open a package file, verify it against the publisher's key and
    /// publish it: what `outpost-hub admin publish` does.
    pub async fn publish_file(
        &self,
        path: &std::path::Path,
        publisher: &ed25519_dalek::VerifyingKey,
    ) -> HubResult<(CourseStructure, PublishOutcome)> {
        let owned = path.to_path_buf();
        let key = *publisher;
        let (bytes, manifest, structure) = tokio::task::spawn_blocking(move || {
            let pkg = outpost_package::Package::open(&owned)
                .map_err(|e| HubError::BadRequest(e.to_string()))?;
            pkg.verify(&[key])
                .map_err(|e| HubError::BadRequest(e.to_string()))?;
            let bytes = std::fs::read(&owned).map_err(|e| {
                HubError::BadRequest(format!("cannot read {}: {e}", owned.display()))
            })?;
            let manifest = serde_json::to_string(pkg.manifest())
                .map_err(|e| HubError::Internal(e.to_string()))?;
            Ok::<_, HubError>((bytes, manifest, pkg.structure().clone()))
        })
        .await
        .map_err(|e| HubError::Internal(e.to_string()))??;
        let out = self
            .publish(&bytes, &manifest, &structure, &hex::encode(key.as_bytes()))
            .await?;
        Ok((structure, out))
    }

    /// Store a package whose signature the caller has verified. The same
    /// version twice is fine when the bytes are equal, refused otherwise.
    pub async fn publish(
        &self,
        bytes: &[u8],
        manifest_json: &str,
        structure: &CourseStructure,
        publisher_key: &str,
    ) -> HubResult<PublishOutcome> {
        let (course_id, version) = (&structure.id, &structure.version);
        if !valid_id(course_id) || !valid_id(version) {
            return Err(HubError::BadRequest(format!(
                "course id {course_id:?} and version {version:?} must be letters, digits, '.', '-' or '_'"
            )));
        }
        let sha = sha256_hex(bytes);
        let structure_json = serde_json::to_string(structure)
            .map_err(|e| HubError::Internal(format!("structure: {e}")))?;
        let mut tx = self.db.begin(Mode::Write).await?;
        let n = tx
            .exec(
                "INSERT INTO packages (course_id, version, sha256, size, published_ms, publisher_key, manifest, structure, bytes) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (course_id, version) DO NOTHING",
                params![
                    course_id,
                    version,
                    &sha,
                    bytes.len() as i64,
                    now_ms(),
                    publisher_key,
                    manifest_json,
                    structure_json,
                    bytes.to_vec()
                ],
            )
            .await?;
        if n == 0 {
            let row = tx
                .query_opt(
                    "SELECT sha256 FROM packages WHERE course_id = $1 AND version = $2",
                    params![course_id, version],
                )
                .await?;
            if row.map(|r| r.text(0)).transpose()?.as_deref() != Some(sha.as_str()) {
                return Err(HubError::Conflict(format!(
                    "version {version} of course {course_id} is already published with different content; \
                     a published version never changes: build the update as a new version"
                )));
            }
            return Ok(PublishOutcome {
                already: true,
                sha256: sha,
                refolded: 0,
            });
        }
        tx.commit().await?;
        let refolded = self.refold_course(course_id).await?;
        Ok(PublishOutcome {
            already: false,
            sha256: sha,
            refolded,
        })
    }

    /// Fold again every learner's progress in a course against its newest
    /// published version (after a publish), one learner per transaction so
    /// ingest is never held up for long. The number of learners.
    pub async fn refold_course(&self, course_id: &str) -> HubResult<usize> {
        let Some(info) = self.latest_packages().await?.remove(course_id) else {
            return Ok(0);
        };
        let Some(structure) = self.structure(course_id, &info.version).await? else {
            return Ok(0);
        };
        let mut tx = self.db.begin(Mode::Read).await?;
        let learners = tx
            .query(
                "SELECT DISTINCT hub_learner_id FROM events WHERE course_id = $1",
                params![course_id],
            )
            .await?
            .iter()
            .map(|r| r.uuid(0))
            .collect::<Result<Vec<_>, _>>()?;
        drop(tx);
        for learner in &learners {
            let mut tx = self.db.begin(Mode::Write).await?;
            tx.query(
                "SELECT next_feed_seq FROM learners WHERE id = $1 FOR UPDATE",
                params![*learner],
            )
            .await?;
            refold(tx.as_mut(), *learner, &structure).await?;
            tx.commit().await?;
        }
        Ok(learners.len())
    }

    // ----- admin -------------------------------------------------------

    pub async fn create_user(&self, username: &str, role: &str, password: &str) -> HubResult<()> {
        if username.trim().is_empty() || username.chars().count() > MAX_NAME_CHARS {
            return Err(HubError::BadRequest("a username must not be empty".into()));
        }
        if !matches!(role, "admin" | "trainer") {
            return Err(HubError::BadRequest(format!(
                "role must be admin or trainer, not {role:?}"
            )));
        }
        if password.chars().count() < 8 {
            return Err(HubError::BadRequest(
                "the password must have at least 8 characters".into(),
            ));
        }
        let hash = crate::auth::hash_password(password)?;
        let mut tx = self.db.begin(Mode::Write).await?;
        let n = tx
            .exec(
                "INSERT INTO users (username, role, password_hash, created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING",
                params![username, role, hash, now_ms()],
            )
            .await?;
        if n == 0 {
            return Err(HubError::Conflict(format!(
                "a user named {username:?} already exists"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Check a dashboard login; the user's role when the password matches.
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> HubResult<Option<String>> {
        let mut tx = self.db.begin(Mode::Read).await?;
        let Some(row) = tx
            .query_opt(
                "SELECT role, password_hash FROM users WHERE username = $1",
                params![username],
            )
            .await?
        else {
            return Ok(None);
        };
        let ok = crate::auth::verify_password(password, &row.text(1)?);
        Ok(ok.then(|| row.text(0)).transpose()?)
    }

    pub async fn create_cohort(&self, name: &str, trainer: Option<&str>) -> HubResult<Uuid> {
        if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(HubError::BadRequest(
                "a cohort name must not be empty".into(),
            ));
        }
        let mut tx = self.db.begin(Mode::Write).await?;
        if let Some(t) = trainer {
            if tx
                .query_opt("SELECT 1 FROM users WHERE username = $1", params![t])
                .await?
                .is_none()
            {
                return Err(HubError::NotFound(format!(
                    "no user named {t:?}: create the trainer first"
                )));
            }
        }
        let id = Uuid::now_v7();
        let n = tx
            .exec(
                "INSERT INTO cohorts (id, name, trainer, created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
                params![id, name, trainer, now_ms()],
            )
            .await?;
        if n == 0 {
            return Err(HubError::Conflict(format!(
                "a cohort named {name:?} already exists"
            )));
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn cohort_id(tx: &mut dyn Tx, name: &str) -> HubResult<String> {
        tx.query_opt("SELECT id FROM cohorts WHERE name = $1", params![name])
            .await?
            .map(|r| r.text(0))
            .transpose()?
            .ok_or_else(|| HubError::NotFound(format!("no cohort named {name:?}")))
    }

    /// A new enrolment code for `uses` learners; returns it as printed.
    pub async fn create_code(
        &self,
        cohort: &str,
        uses: u32,
        expires: Option<DateTime<Utc>>,
    ) -> HubResult<String> {
        if uses == 0 {
            return Err(HubError::BadRequest("--uses must be at least 1".into()));
        }
        let mut tx = self.db.begin(Mode::Write).await?;
        let cohort_id = Self::cohort_id(tx.as_mut(), cohort).await?;
        loop {
            let code = new_code();
            let n = tx
                .exec(
                    "INSERT INTO enrolment_codes (code, cohort_id, uses_max, uses, expires_ms, created_ms) VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT (code) DO NOTHING",
                    params![&code, &cohort_id, uses, expires.map(|t| t.timestamp_millis()), now_ms()],
                )
                .await?;
            if n == 1 {
                tx.commit().await?;
                return Ok(display_code(&code));
            }
        }
    }

    pub async fn assign(
        &self,
        cohort: &str,
        course_id: &str,
        due: Option<NaiveDate>,
    ) -> HubResult<()> {
        if !valid_id(course_id) {
            return Err(HubError::BadRequest(format!(
                "{course_id:?} is not a course id"
            )));
        }
        let mut tx = self.db.begin(Mode::Write).await?;
        let cohort_id = Self::cohort_id(tx.as_mut(), cohort).await?;
        tx.exec(
            "INSERT INTO assignments (cohort_id, course_id, due, created_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (cohort_id, course_id) DO UPDATE SET due = excluded.due",
            params![cohort_id, course_id, due.map(|d| d.to_string()), now_ms()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revoke a device: its tokens and its progress files are refused from
    /// now on. Revoking twice is not an error.
    pub async fn revoke_device(&self, device_id: Uuid) -> HubResult<bool> {
        let mut tx = self.db.begin(Mode::Write).await?;
        let n = tx
            .exec(
                "UPDATE devices SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL",
                params![device_id, now_ms()],
            )
            .await?;
        if n == 0
            && tx
                .query_opt("SELECT 1 FROM devices WHERE id = $1", params![device_id])
                .await?
                .is_none()
        {
            return Err(HubError::NotFound(format!(
                "no device {device_id} is enrolled on this hub"
            )));
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// HTTP Basic credentials for `/xapi`: (key, secret). Only the secret's
    /// hash is kept.
    pub async fn create_xapi_credential(&self, name: &str) -> HubResult<(String, String)> {
        if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(HubError::BadRequest(
                "a credential name must not be empty".into(),
            ));
        }
        let key = random_hex(12);
        let secret = random_hex(24);
        let mut tx = self.db.begin(Mode::Write).await?;
        let n = tx
            .exec(
                "INSERT INTO xapi_credentials (name, key, secret_hash, created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
                params![name, &key, sha256_hex(secret.as_bytes()), now_ms()],
            )
            .await?;
        if n == 0 {
            return Err(HubError::Conflict(format!(
                "an xAPI credential named {name:?} already exists"
            )));
        }
        tx.commit().await?;
        Ok((key, secret))
    }

    /// The credential's name when key and secret match.
    pub async fn check_xapi_credential(
        &self,
        key: &str,
        secret: &str,
    ) -> HubResult<Option<String>> {
        let mut tx = self.db.begin(Mode::Read).await?;
        let row = tx
            .query_opt(
                "SELECT name, secret_hash FROM xapi_credentials WHERE key = $1 AND revoked_ms IS NULL",
                params![key],
            )
            .await?;
        Ok(match row {
            Some(r) if r.text(1)? == sha256_hex(secret.as_bytes()) => Some(r.text(0)?),
            _ => None,
        })
    }

    // ----- enrolment -----------------------------------------------------

    pub async fn enroll(&self, req: EnrollRequest) -> HubResult<EnrollResponse> {
        self.enroll_once(req).await.map_err(|e| {
            match e {
            // Two enrolments racing for one new e-mail or device id.
            HubError::Db(d) if d.is_unique_violation() => HubError::Conflict(
                "another enrolment for this device or e-mail happened at the same moment; try again"
                    .into(),
            ),
            e => e,
        }
        })
    }

    async fn enroll_once(&self, req: EnrollRequest) -> HubResult<EnrollResponse> {
        if req.protocol != PROTOCOL_VERSION {
            return Err(HubError::UnsupportedProtocol(req.protocol));
        }
        let bad = |m: String| Err(HubError::BadRequest(m));
        for (what, v) in [
            ("device_name", &req.device_name),
            ("learner_name", &req.learner_name),
        ] {
            if v.trim().is_empty() || v.chars().count() > MAX_NAME_CHARS {
                return bad(format!("{what} must have 1 to {MAX_NAME_CHARS} characters"));
            }
        }
        if req.language.is_empty()
            || req.language.len() > 16
            || !req
                .language
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return bad(format!(
                "language {:?} is not a language code",
                req.language
            ));
        }
        if outpost_protocol::public_key_from_hex(&req.device_public_key).is_none() {
            return bad("device_public_key must be an ed25519 public key in 64 hex digits".into());
        }
        if req.device_id.is_nil() || req.learner_id.is_nil() {
            return bad("device_id and learner_id must not be the nil UUID".into());
        }
        let email = match &req.email {
            Some(e) if !e.trim().is_empty() => {
                let e = e.trim().to_lowercase();
                if !e.contains('@') || e.chars().count() > MAX_NAME_CHARS {
                    return bad(format!("{e:?} is not an e-mail address"));
                }
                Some(e)
            }
            _ => None,
        };
        let code = normalise_code(&req.code);
        let now = now_ms();
        let mut tx = self.db.begin(Mode::Write).await?;
        let invalid = || {
            HubError::InvalidCode(
                "this enrolment code is unknown, used up or expired; ask your trainer for a new one"
                    .into(),
            )
        };
        let row = tx
            .query_opt(
                "SELECT c.cohort_id, c.uses_max, c.uses, c.expires_ms, h.name FROM enrolment_codes c JOIN cohorts h ON h.id = c.cohort_id WHERE c.code = $1",
                params![&code],
            )
            .await?
            .ok_or_else(invalid)?;
        let cohort_id = row.text(0)?;
        let cohort_name = row.text(4)?;
        if row.i64(2)? >= row.i64(1)? || row.opt_i64(3)?.is_some_and(|t| t <= now) {
            return Err(invalid());
        }
        // The device: new, or the same one enrolling another profile.
        match tx
            .query_opt(
                "SELECT public_key, revoked_ms FROM devices WHERE id = $1",
                params![req.device_id],
            )
            .await?
        {
            Some(d) => {
                if d.opt_i64(1)?.is_some() {
                    return Err(HubError::Revoked(format!(
                        "device {} was revoked on this hub and cannot enrol again; reinstall to get a new device id",
                        req.device_id
                    )));
                }
                if !d.text(0)?.eq_ignore_ascii_case(&req.device_public_key) {
                    return Err(HubError::Conflict(format!(
                        "device {} is already enrolled with another key",
                        req.device_id
                    )));
                }
            }
            None => {
                tx.exec(
                    "INSERT INTO devices (id, name, public_key, enrolled_ms) VALUES ($1, $2, $3, $4)",
                    params![req.device_id, &req.device_name, req.device_public_key.to_lowercase(), now],
                )
                .await?;
            }
        }
        // The learner: known by this profile id, matched by e-mail (a second
        // device of the same person), or new.
        let known = tx
            .query_opt(
                "SELECT learner_id FROM learner_aliases WHERE alias_id = $1",
                params![req.learner_id],
            )
            .await?;
        let learner_id = match known {
            Some(r) => {
                let id = r.uuid(0)?;
                tx.exec(
                    "UPDATE learners SET cohort_id = $2 WHERE id = $1",
                    params![id, &cohort_id],
                )
                .await?;
                id
            }
            None => {
                let by_email = match &email {
                    Some(e) => tx
                        .query_opt("SELECT id FROM learners WHERE email = $1", params![e])
                        .await?
                        .map(|r| r.uuid(0))
                        .transpose()?,
                    None => None,
                };
                let id = match by_email {
                    Some(id) => {
                        tx.exec(
                            "UPDATE learners SET cohort_id = $2 WHERE id = $1",
                            params![id, &cohort_id],
                        )
                        .await?;
                        id
                    }
                    None => {
                        tx.exec(
                            "INSERT INTO learners (id, name, email, cohort_id, language, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                            params![req.learner_id, req.learner_name.trim(), email.clone(), &cohort_id, &req.language, now],
                        )
                        .await?;
                        req.learner_id
                    }
                };
                tx.exec(
                    "INSERT INTO learner_aliases (alias_id, learner_id) VALUES ($1, $2)",
                    params![req.learner_id, id],
                )
                .await?;
                id
            }
        };
        // Use the code only now that everything else is known to be fine;
        // the condition makes two racing enrolments unable to overuse it.
        if tx
            .exec(
                "UPDATE enrolment_codes SET uses = uses + 1 WHERE code = $1 AND uses < uses_max",
                params![&code],
            )
            .await?
            == 0
        {
            return Err(invalid());
        }
        let token = random_hex(32);
        tx.exec(
            "DELETE FROM device_tokens WHERE device_id = $1 AND profile_id = $2",
            params![req.device_id, req.learner_id],
        )
        .await?;
        tx.exec(
            "INSERT INTO device_tokens (token_hash, device_id, learner_id, profile_id, created_ms) VALUES ($1, $2, $3, $4, $5)",
            params![sha256_hex(token.as_bytes()), req.device_id, learner_id, req.learner_id, now],
        )
        .await?;
        let learner_name = tx
            .query_opt(
                "SELECT name FROM learners WHERE id = $1",
                params![learner_id],
            )
            .await?
            .map(|r| r.text(0))
            .transpose()?
            .unwrap_or_default();
        let assignments = assignments_in(tx.as_mut(), learner_id).await?;
        tx.commit().await?;
        tracing::info!(device = %req.device_id, learner = %learner_id, cohort = %cohort_name, "enrolled");
        Ok(EnrollResponse {
            protocol: PROTOCOL_VERSION,
            learner_id,
            learner_name,
            cohort: cohort_name,
            device_id: req.device_id,
            device_token: token,
            hub_public_key: self.public_key_hex(),
            hub_time: from_ms(now),
            assignments,
        })
    }

    /// The caller behind a device token. Revoked devices are refused here,
    /// on every request.
    pub async fn authenticate(&self, token: &str) -> HubResult<Caller> {
        let unknown = || {
            HubError::Unauthorized(
                "unknown device token: enrol this device again with a code".into(),
            )
        };
        if token.len() != 64 {
            return Err(unknown());
        }
        let mut tx = self.db.begin(Mode::Read).await?;
        let row = tx
            .query_opt(
                "SELECT t.device_id, t.learner_id, t.profile_id, d.revoked_ms FROM device_tokens t JOIN devices d ON d.id = t.device_id WHERE t.token_hash = $1",
                params![sha256_hex(token.as_bytes())],
            )
            .await?
            .ok_or_else(unknown)?;
        let device_id = row.uuid(0)?;
        if row.opt_i64(3)?.is_some() {
            return Err(HubError::Revoked(format!(
                "device {device_id} was revoked by an administrator; it can no longer sync"
            )));
        }
        let learner_id = row.uuid(1)?;
        let aliases = aliases_in(tx.as_mut(), learner_id).await?;
        Ok(Caller {
            device_id,
            learner_id,
            profile_id: row.uuid(2)?,
            aliases,
        })
    }

    // ----- ingest --------------------------------------------------------

    pub async fn push(&self, caller: &Caller, req: PushRequest) -> HubResult<PushResponse> {
        if req.protocol != PROTOCOL_VERSION {
            return Err(HubError::UnsupportedProtocol(req.protocol));
        }
        if req.events.len() > self.config.events_per_push_max {
            return Err(HubError::TooLarge(format!(
                "{} events in one push; at most {} are allowed",
                req.events.len(),
                self.config.events_per_push_max
            )));
        }
        let hub_now_ms = now_ms();
        let device_now_ms = req.device_time.timestamp_millis();
        let offset_ms = hub_now_ms - device_now_ms;
        let clock = Clock {
            hub_now_ms,
            device_now_ms,
            offset_ms,
        };
        let report = SyncReport {
            pending_after: req.pending_after,
            measured_offset_ms: Some(offset_ms),
        };
        let results = self.ingest(caller, req.events, clock, report).await?;
        Ok(PushResponse {
            protocol: PROTOCOL_VERSION,
            hub_time: from_ms(hub_now_ms),
            results,
        })
    }

    /// Check a progress file against the device's registered key and ingest
    /// it exactly as a push; the signed receipt's bytes and contents.
    pub async fn import_progress(&self, bytes: &[u8]) -> HubResult<(Receipt, Vec<u8>)> {
        let opened = outpost_protocol::read_progress_file(bytes)
            .map_err(|e| HubError::BadRequest(e.to_string()))?;
        let claimed = opened.claimed().clone();
        let device_id = claimed.device_id;
        let mut tx = self.db.begin(Mode::Read).await?;
        let row = tx
            .query_opt(
                "SELECT public_key, revoked_ms, clock_offset_ms FROM devices WHERE id = $1",
                params![device_id],
            )
            .await?
            .ok_or_else(|| {
                HubError::NotFound(format!(
                    "the file is from device {device_id}, which is not enrolled on this hub"
                ))
            })?;
        if row.opt_i64(1)?.is_some() {
            return Err(HubError::Revoked(format!(
                "the file is from device {device_id}, which was revoked; its progress is not accepted"
            )));
        }
        let key = outpost_protocol::public_key_from_hex(&row.text(0)?)
            .ok_or_else(|| HubError::Internal(format!("stored key of device {device_id}")))?;
        let last_offset = row.opt_i64(2)?.unwrap_or(0);
        let file: ProgressFile = opened
            .verify(&key)
            .map_err(|e| HubError::BadRequest(e.to_string()))?;
        if file.protocol != PROTOCOL_VERSION {
            return Err(HubError::UnsupportedProtocol(file.protocol));
        }
        let tok = tx
            .query_opt(
                "SELECT learner_id FROM device_tokens WHERE device_id = $1 AND profile_id = $2",
                params![device_id, file.learner_id],
            )
            .await?
            .ok_or_else(|| {
                HubError::Forbidden(format!(
                    "learner profile {} is not enrolled on device {device_id}",
                    file.learner_id
                ))
            })?;
        let learner_id = tok.uuid(0)?;
        let aliases = aliases_in(tx.as_mut(), learner_id).await?;
        drop(tx);
        let caller = Caller {
            device_id,
            learner_id,
            profile_id: file.learner_id,
            aliases,
        };
        // The transit time of a file is unknown, so no offset can be measured:
        // use the one measured at the device's last online push, if any.
        let hub_now_ms = now_ms();
        let clock = Clock {
            hub_now_ms,
            device_now_ms: file.created_at.timestamp_millis(),
            offset_ms: last_offset,
        };
        let report = SyncReport {
            pending_after: None,
            measured_offset_ms: None,
        };
        let results = self
            .ingest(&caller, file.events.clone(), clock, report)
            .await?;
        let receipt = Receipt {
            protocol: PROTOCOL_VERSION,
            file_id: file.file_id,
            device_id,
            learner_id: file.learner_id,
            hub_time: from_ms(hub_now_ms),
            results,
        };
        let bytes = outpost_protocol::write_receipt(&receipt, &self.key);
        Ok((receipt, bytes))
    }

    /// Check each event and store those that pass, once by id; re-fold the
    /// progress they touch. One transaction; retried on a PostgreSQL
    /// deadlock, which is safe because nothing of it was kept.
    pub async fn ingest(
        &self,
        caller: &Caller,
        events: Vec<Event>,
        clock: Clock,
        report: SyncReport,
    ) -> HubResult<Vec<EventResult>> {
        // Structures of every version the events name, and the newest
        // version of each course (progress is folded against it).
        let mut versions: HashMap<(String, String), Option<Arc<CourseStructure>>> = HashMap::new();
        for e in &events {
            let k = (e.course_id.clone(), e.course_version.clone());
            if let std::collections::hash_map::Entry::Vacant(slot) = versions.entry(k) {
                let (course, version) = slot.key();
                let s = self.structure(course, version).await?;
                slot.insert(s);
            }
        }
        let latest_pkgs = self.latest_packages().await?;
        let mut prepared: Vec<(Uuid, Result<Prepared, String>)> = Vec::with_capacity(events.len());
        for e in events {
            let s = versions
                .get(&(e.course_id.clone(), e.course_version.clone()))
                .cloned()
                .flatten();
            let known = latest_pkgs.contains_key(&e.course_id);
            let id = e.id;
            prepared.push((id, self.prepare(caller, e, s.as_deref(), known, clock)));
        }
        let mut latest: HashMap<String, Arc<CourseStructure>> = HashMap::new();
        for p in prepared.iter().filter_map(|(_, p)| p.as_ref().ok()) {
            let c = &p.event.course_id;
            if !latest.contains_key(c) {
                if let Some(info) = latest_pkgs.get(c) {
                    if let Some(s) = self.structure(c, &info.version).await? {
                        latest.insert(c.clone(), s);
                    }
                }
            }
        }
        let mut attempt = 0;
        loop {
            match self
                .store_batch(caller, &prepared, &latest, clock, report)
                .await
            {
                Err(HubError::Db(e)) if e.is_retryable() && attempt < 5 => {
                    attempt += 1;
                    tracing::debug!(attempt, "ingest transaction retried: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
                }
                other => return other,
            }
        }
    }

    fn prepare(
        &self,
        caller: &Caller,
        event: Event,
        structure: Option<&CourseStructure>,
        course_known: bool,
        clock: Clock,
    ) -> Result<Prepared, String> {
        if !caller.aliases.contains(&event.learner_id) {
            return Err(format!(
                "the event is for learner {}, who is not this device's learner",
                event.learner_id
            ));
        }
        if event.device_id != caller.device_id {
            return Err(format!(
                "the event was recorded on device {}, not on this device ({})",
                event.device_id, caller.device_id
            ));
        }
        let Some(structure) = structure else {
            return Err(if course_known {
                format!(
                    "course {:?} has no published version {:?} on this hub",
                    event.course_id, event.course_version
                )
            } else {
                format!(
                    "unknown course {:?}: it is not published on this hub",
                    event.course_id
                )
            });
        };
        event
            .validate(structure)
            .map_err(|e| format!("invalid event: {e}"))?;
        let ts = event.timestamp.timestamp_millis();
        let tolerance = FUTURE_TOLERANCE_SECONDS * 1000;
        let corrected_ms = ts.saturating_add(clock.offset_ms);
        if ts > clock.device_now_ms.saturating_add(tolerance)
            || corrected_ms > clock.hub_now_ms.saturating_add(tolerance)
        {
            return Err(format!(
                "the event's time {} is in the future (by the device's own clock, after correction by {} s); at most {FUTURE_TOLERANCE_SECONDS} s are tolerated",
                event.timestamp.to_rfc3339(),
                clock.offset_ms / 1000
            ));
        }
        let score = match &event.kind {
            EventKind::QuizSubmitted {
                questions,
                responses,
                ..
            } => {
                // Re-graded from the published answer key: a client's own
                // idea of its score is never read.
                let s = outpost_model::grade::grade_quiz(structure, questions, responses);
                Some((s.correct, s.total, s.passes(structure.passing_score)))
            }
            _ => None,
        };
        let canonical = String::from_utf8(event.canonical_json())
            .map_err(|_| "the event does not serialise as text".to_string())?;
        // The statement names the learner by their canonical id, so an LRS
        // sees one person across devices.
        let mut as_learner = event.clone();
        as_learner.learner_id = caller.learner_id;
        let statement =
            xapi::statement(&as_learner, structure, &self.xapi_context()).map(|mut s| {
                s["stored"] =
                    json!(from_ms(clock.hub_now_ms)
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                s["authority"] = crate::xapi::hub_authority(&self.config.public_url);
                crate::xapi::statement_row(event.id, &s)
            });
        Ok(Prepared {
            event,
            canonical,
            corrected_ms,
            score,
            statement,
        })
    }

    async fn store_batch(
        &self,
        caller: &Caller,
        prepared: &[(Uuid, Result<Prepared, String>)],
        latest: &HashMap<String, Arc<CourseStructure>>,
        clock: Clock,
        report: SyncReport,
    ) -> HubResult<Vec<EventResult>> {
        let mut tx = self.db.begin(Mode::Write).await?;
        // Serialises every ingest of this learner (from any device, on any
        // instance): feed numbers follow commit order and the re-fold below
        // sees every committed event.
        let row = tx
            .query_opt(
                "SELECT next_feed_seq FROM learners WHERE id = $1 FOR UPDATE",
                params![caller.learner_id],
            )
            .await?
            .ok_or_else(|| HubError::Internal(format!("learner {} vanished", caller.learner_id)))?;
        let mut next_feed = row.i64(0)?;
        let mut statuses: HashMap<usize, EventStatus> = HashMap::new();
        // Insert in id order so two batches sharing events lock rows in the
        // same order and cannot deadlock each other.
        let mut order: Vec<usize> = (0..prepared.len()).collect();
        order.sort_by_key(|&i| prepared[i].0);
        let mut touched: BTreeSet<String> = BTreeSet::new();
        for i in order {
            let p = match &prepared[i].1 {
                Ok(p) => p,
                Err(reason) => {
                    statuses.insert(
                        i,
                        EventStatus::Rejected {
                            reason: reason.clone(),
                        },
                    );
                    continue;
                }
            };
            let e = &p.event;
            let n = tx
                .exec(
                    "INSERT INTO events (id, hub_learner_id, learner_id, device_id, seq, course_id, course_version, activity_id, kind, \
                     device_time_ms, received_ms, corrected_ms, feed_seq, score_correct, score_total, passed, content) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (id) DO NOTHING",
                    params![
                        e.id,
                        caller.learner_id,
                        e.learner_id,
                        e.device_id,
                        e.seq as i64,
                        &e.course_id,
                        &e.course_version,
                        &e.activity_id,
                        e.kind.name(),
                        e.timestamp.timestamp_millis(),
                        clock.hub_now_ms,
                        p.corrected_ms,
                        next_feed,
                        p.score.map(|s| s.0),
                        p.score.map(|s| s.1),
                        p.score.map(|s| s.2),
                        &p.canonical
                    ],
                )
                .await?;
            let status = if n == 1 {
                next_feed += 1;
                touched.insert(e.course_id.clone());
                if let Some(s) = &p.statement {
                    crate::xapi::insert_statement(tx.as_mut(), s, clock.hub_now_ms, "device")
                        .await?;
                }
                crate::dashboard::answers::record(tx.as_mut(), caller.learner_id, e).await?;
                EventStatus::Accepted
            } else {
                let stored = tx
                    .query_opt("SELECT content FROM events WHERE id = $1", params![e.id])
                    .await?
                    .map(|r| r.text(0))
                    .transpose()?;
                if stored.as_deref() == Some(p.canonical.as_str()) {
                    EventStatus::Duplicate
                } else {
                    EventStatus::Conflict
                }
            };
            statuses.insert(i, status);
        }
        tx.exec(
            "UPDATE learners SET next_feed_seq = $2 WHERE id = $1",
            params![caller.learner_id, next_feed],
        )
        .await?;
        for course_id in &touched {
            if let Some(s) = latest.get(course_id) {
                refold(tx.as_mut(), caller.learner_id, s).await?;
            }
        }
        tx.exec(
            "UPDATE devices SET last_sync_ms = $2, clock_offset_ms = COALESCE($3, clock_offset_ms) WHERE id = $1",
            params![caller.device_id, clock.hub_now_ms, report.measured_offset_ms],
        )
        .await?;
        tx.exec(
            "UPDATE device_tokens SET last_sync_ms = $3, pending_after = COALESCE($4, pending_after) WHERE device_id = $1 AND profile_id = $2",
            params![
                caller.device_id,
                caller.profile_id,
                clock.hub_now_ms,
                report.pending_after.map(|p| p as i64)
            ],
        )
        .await?;
        tx.commit().await?;
        let results = prepared
            .iter()
            .enumerate()
            .map(|(i, (id, _))| EventResult {
                id: *id,
                status: statuses.remove(&i).unwrap_or(EventStatus::Rejected {
                    reason: "not processed".into(),
                }),
            })
            .collect();
        Ok(results)
    }

    // ----- pull ------------------------------------------------------------

    pub async fn pull(
        &self,
        caller: &Caller,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> HubResult<PullResponse> {
        let after: i64 = match cursor {
            None | Some("") => 0,
            Some(c) => c.parse::<i64>().ok().filter(|c| *c >= 0).ok_or_else(|| {
                HubError::BadRequest(format!("cursor {c:?} is not one this hub gave out"))
            })?,
        };
        let limit = limit.unwrap_or(limits::DEFAULT_PULL_LIMIT);
        if limit == 0 || limit > limits::MAX_PULL_LIMIT {
            return Err(HubError::BadRequest(format!(
                "limit must be between 1 and {}",
                limits::MAX_PULL_LIMIT
            )));
        }
        let mut tx = self.db.begin(Mode::Read).await?;
        // Read the head of the feed first and page only below it: an event
        // numbered below the head is committed (numbers and the head move
        // together under the learner's lock), so the cursor can jump to the
        // head without passing an event that is still to come. (On
        // PostgreSQL each statement sees what was committed before it.)
        let head = tx
            .query_opt(
                "SELECT next_feed_seq FROM learners WHERE id = $1",
                params![caller.learner_id],
            )
            .await?
            .map(|r| r.i64(0))
            .transpose()?
            .unwrap_or(1);
        let rows = tx
            .query(
                "SELECT content, feed_seq FROM events WHERE hub_learner_id = $1 AND feed_seq > $2 AND feed_seq < $3 AND device_id <> $4 ORDER BY feed_seq LIMIT $5",
                params![caller.learner_id, after, head, caller.device_id, i64::from(limit) + 1],
            )
            .await?;
        let more = rows.len() > limit as usize;
        let mut events = Vec::new();
        let mut cursor = after;
        for r in rows.iter().take(limit as usize) {
            let e: Event = serde_json::from_str(&r.text(0)?)
                .map_err(|e| HubError::Internal(format!("stored event: {e}")))?;
            events.push(e);
            cursor = r.i64(1)?;
        }
        if !more {
            // Past this device's own events too: the next pull starts at
            // the head.
            cursor = cursor.max(head - 1);
        }
        let assignments = assignments_in(tx.as_mut(), caller.learner_id).await?;
        let courses = latest(packages_in(tx.as_mut()).await?)
            .into_values()
            .map(|p| CourseUpdate {
                url: format!("/api/v1/courses/{}/{}/package", p.course_id, p.version),
                course_id: p.course_id,
                version: p.version,
                size: p.size,
                sha256: p.sha256,
                published_at: from_ms(p.published_ms),
            })
            .collect();
        let confirmed = tx
            .query(
                "SELECT course_id, completed, passed, satisfied, satisfied_ms, best_score, events FROM progress WHERE learner_id = $1 ORDER BY course_id",
                params![caller.learner_id],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(Confirmed {
                    course_id: r.text(0)?,
                    completed: r.bool(1)?,
                    passed: r.bool(2)?,
                    satisfied: r.bool(3)?,
                    satisfied_at: r.opt_i64(4)?.map(from_ms),
                    best_score: r.opt_f64(5)?,
                    events: r.i64(6)? as u32,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        Ok(PullResponse {
            protocol: PROTOCOL_VERSION,
            hub_time: Utc::now(),
            events,
            cursor: cursor.to_string(),
            more,
            assignments,
            courses,
            confirmed,
        })
    }

    /// The stored progress of a learner in a course (for tests and the
    /// dashboard): the fold's JSON.
    pub async fn progress(&self, learner_id: Uuid, course_id: &str) -> HubResult<Option<Value>> {
        let mut tx = self.db.begin(Mode::Read).await?;
        tx.query_opt(
            "SELECT progress FROM progress WHERE learner_id = $1 AND course_id = $2",
            params![learner_id, course_id],
        )
        .await?
        .map(|r| {
            serde_json::from_str(&r.text(0)?)
                .map_err(|e| HubError::Internal(format!("stored progress: {e}")))
        })
        .transpose()
    }
}

#[derive(Debug, Clone)]
pub struct PublishOutcome {
    /// The same bytes were already published.
    pub already: bool,
    pub sha256: String,
    /// Learners whose progress was folded again against the new version.
    pub refolded: usize,
}

async fn aliases_in(tx: &mut dyn Tx, learner_id: Uuid) -> HubResult<BTreeSet<Uuid>> {
    let rows = tx
        .query(
            "SELECT alias_id FROM learner_aliases WHERE learner_id = $1",
            params![learner_id],
        )
        .await?;
    let mut set: BTreeSet<Uuid> = rows.iter().map(|r| r.uuid(0)).collect::<Result<_, _>>()?;
    set.insert(learner_id);
    Ok(set)
}

async fn assignments_in(tx: &mut dyn Tx, learner_id: Uuid) -> HubResult<Vec<Assignment>> {
    let rows = tx
        .query(
            "SELECT a.course_id, a.due FROM assignments a JOIN learners l ON l.cohort_id = a.cohort_id WHERE l.id = $1 ORDER BY a.course_id",
            params![learner_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Assignment {
                course_id: r.text(0)?,
                due: r
                    .opt_text(1)?
                    .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
            })
        })
        .collect()
}

fn package_row(r: &crate::db::Row) -> HubResult<PackageInfo> {
    Ok(PackageInfo {
        course_id: r.text(0)?,
        version: r.text(1)?,
        sha256: r.text(2)?,
        size: r.i64(3)? as u64,
        published_ms: r.i64(4)?,
    })
}

async fn packages_in(tx: &mut dyn Tx) -> HubResult<Vec<PackageInfo>> {
    tx.query(
        "SELECT course_id, version, sha256, size, published_ms FROM packages ORDER BY course_id, published_ms",
        vec![],
    )
    .await?
    .iter()
    .map(package_row)
    .collect()
}

fn latest(all: Vec<PackageInfo>) -> BTreeMap<String, PackageInfo> {
    let mut out: BTreeMap<String, PackageInfo> = BTreeMap::new();
    for p in all {
        match out.get(&p.course_id) {
            Some(q) if version_cmp(&q.version, &p.version).is_ge() => {}
            _ => {
                out.insert(p.course_id.clone(), p);
            }
        }
    }
    out
}

/// Fold every stored event of a learner in a course and store the result.
async fn refold(tx: &mut dyn Tx, learner_id: Uuid, course: &CourseStructure) -> HubResult<()> {
    let rows = tx
        .query(
            "SELECT content, corrected_ms FROM events WHERE hub_learner_id = $1 AND course_id = $2",
            params![learner_id, &course.id],
        )
        .await?;
    let mut events = Vec::with_capacity(rows.len());
    let mut last_activity: Option<i64> = None;
    for r in &rows {
        let e: Event = serde_json::from_str(&r.text(0)?)
            .map_err(|e| HubError::Internal(format!("stored event: {e}")))?;
        events.push(e);
        let t = r.i64(1)?;
        last_activity = Some(last_activity.map_or(t, |l| l.max(t)));
    }
    let p = fold(course, &events);
    let best = course
        .assessment
        .as_ref()
        .and_then(|a| p.quizzes.get(&a.id))
        .and_then(|q| q.best)
        .map(|s| s.scaled());
    let json =
        serde_json::to_string(&p).map_err(|e| HubError::Internal(format!("progress: {e}")))?;
    tx.exec(
        "INSERT INTO progress (learner_id, course_id, course_version, progress, completed, passed, satisfied, satisfied_ms, fraction, best_score, seconds, events, last_activity_ms, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (learner_id, course_id) DO UPDATE SET course_version = excluded.course_version, progress = excluded.progress, \
         completed = excluded.completed, passed = excluded.passed, satisfied = excluded.satisfied, satisfied_ms = excluded.satisfied_ms, \
         fraction = excluded.fraction, best_score = excluded.best_score, seconds = excluded.seconds, events = excluded.events, \
         last_activity_ms = excluded.last_activity_ms, updated_ms = excluded.updated_ms",
        params![
            learner_id,
            &course.id,
            &course.version,
            json,
            p.completed,
            p.passed,
            p.satisfied,
            p.satisfied_at.map(|t| t.timestamp_millis()),
            p.fraction_done,
            best,
            p.seconds as i64,
            i64::from(p.events),
            last_activity,
            now_ms()
        ],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(version_cmp("1.10.0", "1.9.2"), Greater);
        assert_eq!(version_cmp("1.0.0", "1.0.0"), Equal);
        assert_eq!(version_cmp("1.0", "1.0.1"), Less);
        assert_eq!(version_cmp("2.0.0", "10.0.0"), Less);
    }

    #[test]
    fn codes_are_normalised_for_people() {
        assert_eq!(normalise_code(" abcd-efgh "), "ABCDEFGH");
        assert_eq!(display_code("ABCDEFGH"), "ABCD-EFGH");
        let c = new_code();
        assert_eq!(c.len(), 8);
        assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert!(valid_id("micic-consular") && valid_id("1.0.0"));
        assert!(!valid_id("../etc") && !valid_id("a/b") && !valid_id(""));
    }
}
