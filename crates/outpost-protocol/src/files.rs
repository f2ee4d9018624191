//! The USB path: a device writes its pending events to a signed progress
//! file; the hub imports it and answers with a signed receipt.
//!
//! Both files have the same three-line layout, so a person can tell them
//! apart with `head -1` and a program refuses the wrong one clearly:
//!
//! ```text
//! OUTPOST-PROGRESS-FILE 1        (or OUTPOST-RECEIPT 1): kind and version
//! {"protocol":1,…}               the body, compact JSON on one line
//! 3f9a…                          ed25519 signature, 128 hex digits
//! ```
//!
//! The signature covers a domain-separation prefix and the body line's exact
//! bytes, so nothing is re-serialised before checking: any changed byte of
//! the body fails verification. A progress file is signed with the device's
//! key (registered at enrolment); a receipt with the hub's key (returned at
//! enrolment as `hub_public_key`).

use crate::limits::{MAX_EVENTS_PER_FILE, MAX_FILE_BYTES};
use crate::messages::EventResult;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use outpost_model::Event;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

const PROGRESS_MAGIC: &str = "OUTPOST-PROGRESS-FILE";
const RECEIPT_MAGIC: &str = "OUTPOST-RECEIPT";
/// The file layout version this code writes and the newest it reads.
pub const FILE_VERSION: u32 = 1;
const PROGRESS_DOMAIN: &[u8] = b"outpost-progress-file-v1\n";
const RECEIPT_DOMAIN: &[u8] = b"outpost-receipt-v1\n";

/// A device's pending events, carried to the hub without a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressFile {
    pub protocol: u32,
    /// Unique per export; the receipt names it.
    pub file_id: Uuid,
    pub device_id: Uuid,
    /// The profile's local learner id.
    pub learner_id: Uuid,
    /// The device's clock when the file was written.
    pub created_at: DateTime<Utc>,
    pub events: Vec<Event>,
}

/// The hub's answer to a progress file: per event, as for a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub protocol: u32,
    /// The progress file this answers.
    pub file_id: Uuid,
    pub device_id: Uuid,
    /// The learner as the file named them.
    pub learner_id: Uuid,
    /// The hub's clock when it imported the file.
    pub hub_time: DateTime<Utc>,
    /// One per event of the file, in the file's order.
    pub results: Vec<EventResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is {size} bytes, more than the {max} a {what} may have")]
    TooLarge {
        what: &'static str,
        size: usize,
        max: usize,
    },
    #[error("this is not an Outpost {expected} (it does not start with {magic:?})")]
    NotOurs {
        expected: &'static str,
        magic: &'static str,
    },
    #[error("this is an Outpost {found}, not a {expected}")]
    WrongKind {
        expected: &'static str,
        found: &'static str,
    },
    #[error("this {what} has format version {found}; this version of Outpost reads up to {supported}: update it")]
    NewerVersion {
        what: &'static str,
        found: u32,
        supported: u32,
    },
    #[error("the {what} is damaged: {detail}")]
    Malformed { what: &'static str, detail: String },
    #[error("the {what}'s signature does not match: it was changed after it was written, or it was not written by the key it claims")]
    BadSignature { what: &'static str },
    #[error("the {what} holds {count} events, more than the {max} allowed")]
    TooManyEvents {
        what: &'static str,
        count: usize,
        max: usize,
    },
}

struct Kind {
    magic: &'static str,
    domain: &'static [u8],
    what: &'static str,
}

const PROGRESS: Kind = Kind {
    magic: PROGRESS_MAGIC,
    domain: PROGRESS_DOMAIN,
    what: "progress file",
};
const RECEIPT: Kind = Kind {
    magic: RECEIPT_MAGIC,
    domain: RECEIPT_DOMAIN,
    what: "receipt",
};

fn message(kind: &Kind, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(kind.domain.len() + body.len());
    m.extend_from_slice(kind.domain);
    m.extend_from_slice(body);
    m
}

fn write<T: Serialize>(kind: &Kind, body: &T, key: &SigningKey) -> Vec<u8> {
    // Events and these structs always serialise (no maps with non-string
    // keys, no non-finite floats that validation lets through).
    let body = serde_json::to_vec(body).unwrap_or_default();
    let signature = key.sign(&message(kind, &body));
    let mut out = format!("{} {FILE_VERSION}\n", kind.magic).into_bytes();
    out.extend_from_slice(&body);
    out.push(b'\n');
    out.extend_from_slice(hex::encode(signature.to_bytes()).as_bytes());
    out.push(b'\n');
    out
}

/// A file whose layout and body parsed, but whose signature is not checked.
#[derive(Debug, Clone)]
pub struct Unverified<T> {
    body: T,
    body_bytes: Vec<u8>,
    signature: Signature,
    what: &'static str,
    domain: &'static [u8],
}

impl<T> Unverified<T> {
    /// What the file claims, before verification: use it only to find the
    /// key to verify with.
    pub fn claimed(&self) -> &T {
        &self.body
    }

    /// Check the signature with `key`; on success the body can be trusted.
    pub fn verify(self, key: &VerifyingKey) -> Result<T, FileError> {
        let m = [self.domain, self.body_bytes.as_slice()].concat();
        key.verify(&m, &self.signature)
            .map_err(|_| FileError::BadSignature { what: self.what })?;
        Ok(self.body)
    }
}

pub type UnverifiedProgressFile = Unverified<ProgressFile>;
pub type UnverifiedReceipt = Unverified<Receipt>;

fn read<T: DeserializeOwned>(kind: &Kind, bytes: &[u8]) -> Result<Unverified<T>, FileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge {
            what: kind.what,
            size: bytes.len(),
            max: MAX_FILE_BYTES,
        });
    }
    let malformed = |detail: String| FileError::Malformed {
        what: kind.what,
        detail,
    };
    let mut lines = bytes.splitn(3, |b| *b == b'\n');
    let header = lines.next().unwrap_or_default();
    let header = std::str::from_utf8(header).unwrap_or("");
    let (magic, version) = header.split_once(' ').unwrap_or((header, ""));
    if magic != kind.magic {
        for other in [&PROGRESS, &RECEIPT] {
            if magic == other.magic {
                return Err(FileError::WrongKind {
                    expected: kind.what,
                    found: other.what,
                });
            }
        }
        return Err(FileError::NotOurs {
            expected: kind.what,
            magic: kind.magic,
        });
    }
    let version: u32 = version
        .trim()
        .parse()
        .map_err(|_| malformed(format!("bad version {version:?} in the first line")))?;
    if version > FILE_VERSION {
        return Err(FileError::NewerVersion {
            what: kind.what,
            found: version,
            supported: FILE_VERSION,
        });
    }
    let body_bytes = lines
        .next()
        .ok_or_else(|| malformed("it ends after the first line".into()))?;
    let rest = lines
        .next()
        .ok_or_else(|| malformed("the signature line is missing".into()))?;
    let sig_hex = std::str::from_utf8(rest)
        .map_err(|_| malformed("the signature line is not text".into()))?
        .trim_end_matches(['\n', '\r']);
    let sig: [u8; 64] = hex::decode(sig_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed("the signature line is not 128 hex digits".into()))?;
    let body: T = serde_json::from_slice(body_bytes).map_err(|e| malformed(e.to_string()))?;
    Ok(Unverified {
        body,
        body_bytes: body_bytes.to_vec(),
        signature: Signature::from_bytes(&sig),
        what: kind.what,
        domain: kind.domain,
    })
}

/// The bytes of a progress file, signed with the device's key.
pub fn write_progress_file(file: &ProgressFile, device_key: &SigningKey) -> Vec<u8> {
    write(&PROGRESS, file, device_key)
}

/// Parse a progress file. Check it with [`Unverified::verify`] against the
/// key registered for `claimed().device_id` before using it.
pub fn read_progress_file(bytes: &[u8]) -> Result<UnverifiedProgressFile, FileError> {
    let file: UnverifiedProgressFile = read(&PROGRESS, bytes)?;
    let count = file.body.events.len();
    if count > MAX_EVENTS_PER_FILE {
        return Err(FileError::TooManyEvents {
            what: PROGRESS.what,
            count,
            max: MAX_EVENTS_PER_FILE,
        });
    }
    Ok(file)
}

/// The bytes of a receipt, signed with the hub's key.
pub fn write_receipt(receipt: &Receipt, hub_key: &SigningKey) -> Vec<u8> {
    write(&RECEIPT, receipt, hub_key)
}

/// Parse a receipt. Check it with [`Unverified::verify`] against the hub's
/// public key (from enrolment) before marking anything confirmed.
pub fn read_receipt(bytes: &[u8]) -> Result<UnverifiedReceipt, FileError> {
    read(&RECEIPT, bytes)
}

/// An ed25519 public key from 64 hex digits.
pub fn public_key_from_hex(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

pub fn public_key_to_hex(key: &VerifyingKey) -> String {
    hex::encode(key.as_bytes())
}
