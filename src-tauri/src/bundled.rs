//! The course the app carries inside it, compiled and signed by the build
//! script (see `build.rs`), and the publisher key it was signed with. First
//! run installs the course and trusts that key.

/// The signed package bytes.
pub const PACKAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bundled.opkg"));

/// The publisher's ed25519 public key (32 raw bytes).
const PUBLISHER_KEY: &[u8; 32] = include_bytes!(concat!(env!("OUT_DIR"), "/publisher.pub"));

pub fn publisher_key() -> Result<ed25519_dalek::VerifyingKey, String> {
    ed25519_dalek::VerifyingKey::from_bytes(PUBLISHER_KEY)
        .map_err(|e| format!("the bundled publisher key is malformed: {e}"))
}

/// What the headless commands need to know about the bundled course.
pub fn cli_config() -> outpost_cli::Config {
    outpost_cli::Config {
        bundled: publisher_key()
            .ok()
            .map(|publisher_key| outpost_cli::BundledCourse {
                package: std::borrow::Cow::Borrowed(PACKAGE),
                publisher_key,
            }),
    }
}
