//! The sync protocol between a device (`outpost-sync`) and the hub
//! (`outpost-hub`): the JSON bodies of every request and response, the
//! limits both sides agree on, and the signed files of the USB path
//! (progress files out, receipts back).
//!
//! Invariant: this crate does no I/O. It is serde types and pure functions
//! (ed25519 signing is computation), so the device and the hub share one
//! definition of the wire and cannot drift apart. `tests/frozen.rs` pins the
//! JSON shapes: changing them is a protocol change (bump
//! [`PROTOCOL_VERSION`]) and needs `docs/sync-protocol.md` updated.

pub mod files;
pub mod messages;

pub use files::{
    public_key_from_hex, public_key_to_hex, read_progress_file, read_receipt, write_progress_file,
    write_receipt, FileError, ProgressFile, Receipt, Unverified, UnverifiedProgressFile,
    UnverifiedReceipt,
};
pub use messages::*;

/// The protocol version this code speaks. Every request body carries it;
/// the hub refuses a version it does not know with `unsupported_protocol`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Limits the hub enforces and the client should stay within. Sizes in bytes.
pub mod limits {
    /// A push body as sent (gzip-compressed or not).
    pub const MAX_PUSH_COMPRESSED_BYTES: usize = 1024 * 1024;
    /// A push body after decompression. Checked while decompressing, so a
    /// small gzip bomb never grows past it in memory.
    pub const MAX_PUSH_DECOMPRESSED_BYTES: usize = 8 * 1024 * 1024;
    /// Events in one push. A client on a slow link sends far fewer.
    pub const MAX_EVENTS_PER_PUSH: usize = 1000;
    /// Any other JSON request body (enrolment, xAPI statements…).
    pub const MAX_JSON_BODY_BYTES: usize = 256 * 1024;
    /// A progress file or a receipt.
    pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
    /// Events in one progress file.
    pub const MAX_EVENTS_PER_FILE: usize = 200_000;
    /// Page size of the pull feed: default and maximum.
    pub const DEFAULT_PULL_LIMIT: u32 = 200;
    pub const MAX_PULL_LIMIT: u32 = 1000;
    /// How far past "now" an event may claim to be, after clock correction,
    /// before it is rejected as from the future.
    pub const FUTURE_TOLERANCE_SECONDS: i64 = 5 * 60;
    /// Longest device name, learner name and e-mail, in characters.
    pub const MAX_NAME_CHARS: usize = 200;
}
