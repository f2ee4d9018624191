//! Publisher keys on disk.
//!
//! A signing (secret) key file is two lines: `outpost-signing-key-v1` and
//! the 32-byte seed in hex; it is created readable by its owner only. A
//! verifying (public) key file is the 32-byte key in hex on one line.

use crate::PackageError;
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::path::Path;

const SECRET_HEADER: &str = "outpost-signing-key-v1";

pub fn generate() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

fn key_err(path: &Path, detail: impl Into<String>) -> PackageError {
    PackageError::Key {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

pub fn write_signing_key(path: &Path, key: &SigningKey) -> Result<(), PackageError> {
    let text = format!("{SECRET_HEADER}\n{}\n", hex::encode(key.to_bytes()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut f = opts.open(path).map_err(|e| key_err(path, e.to_string()))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| key_err(path, e.to_string()))
}

pub fn read_signing_key(path: &Path) -> Result<SigningKey, PackageError> {
    let text = std::fs::read_to_string(path).map_err(|e| key_err(path, e.to_string()))?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(SECRET_HEADER) {
        return Err(key_err(
            path,
            format!("not a signing key (expected a first line {SECRET_HEADER:?}; make one with `outpost-course keygen`)"),
        ));
    }
    let seed = lines
        .next()
        .and_then(|l| hex::decode(l.trim()).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| key_err(path, "the second line must be 64 hex digits"))?;
    Ok(SigningKey::from_bytes(&seed))
}

pub fn write_verifying_key(path: &Path, key: &VerifyingKey) -> Result<(), PackageError> {
    std::fs::write(path, format!("{}\n", hex::encode(key.as_bytes())))
        .map_err(|e| key_err(path, e.to_string()))
}

pub fn verifying_key_from_hex(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, PackageError> {
    let text = std::fs::read_to_string(path).map_err(|e| key_err(path, e.to_string()))?;
    verifying_key_from_hex(&text)
        .ok_or_else(|| key_err(path, "not a public key (expected 64 hex digits)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_refuse_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let k = generate();
        let sk = dir.path().join("k");
        let pk = dir.path().join("k.pub");
        write_signing_key(&sk, &k).unwrap();
        write_verifying_key(&pk, &k.verifying_key()).unwrap();
        assert_eq!(read_signing_key(&sk).unwrap().to_bytes(), k.to_bytes());
        assert_eq!(read_verifying_key(&pk).unwrap(), k.verifying_key());
        assert!(
            write_signing_key(&sk, &k).is_err(),
            "never overwrites a key"
        );
        let err = read_signing_key(&pk).unwrap_err().to_string();
        assert!(err.contains("not a signing key"), "{err}");
        let err = read_verifying_key(&sk).unwrap_err().to_string();
        assert!(err.contains("not a public key"), "{err}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&sk).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "secret key readable by others");
        }
    }
}
