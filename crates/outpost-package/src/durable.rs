//! Files written completely or not at all, and still there after a power
//! cut: course packages, progress files and receipts on USB sticks. One
//! implementation for every writer, because each copy of it was a chance to
//! forget a step (the folder's fsync, the temporary file on failure).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file that could not be written; the file under its name is unchanged.
#[derive(Debug, thiserror::Error)]
#[error("{}: {detail}", path.display())]
pub struct WriteError {
    /// The file the problem is about (the temporary one while writing).
    pub path: PathBuf,
    pub detail: String,
}

impl WriteError {
    fn new(path: &Path, detail: impl std::fmt::Display) -> WriteError {
        WriteError {
            path: path.to_path_buf(),
            detail: detail.to_string(),
        }
    }
}

/// Write `bytes` to `path` completely or not at all: a new temporary file in
/// the same folder, fsync, read back and compared (sticks and failing drives
/// lie), `check` on the bytes read back, rename over `path`, fsync the
/// folder. On any error the temporary file is removed and `path` is as it
/// was.
pub fn write_atomically(
    path: &Path,
    bytes: &[u8],
    check: impl FnOnce(&[u8]) -> Result<(), String>,
) -> Result<(), WriteError> {
    let dir = folder_of(path);
    let (tmp, mut f) = new_temporary(path)?;
    let result = (|| {
        f.write_all(bytes).map_err(|e| WriteError::new(&tmp, e))?;
        f.sync_all().map_err(|e| WriteError::new(&tmp, e))?;
        drop(f);
        let back = std::fs::read(&tmp).map_err(|e| WriteError::new(&tmp, e))?;
        if back != bytes {
            return Err(WriteError::new(
                &tmp,
                "the file read back differs from what was written (is the drive failing?)",
            ));
        }
        check(&back).map_err(|e| WriteError::new(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| WriteError::new(path, e))?;
        sync_dir(dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Fsync a folder, so a rename into it survives a power cut. Best effort:
/// some file systems (FAT on sticks among them) cannot, and the rename has
/// already happened.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A temporary file beside `path`, created new (never one somebody else has
/// open), with a name a folder listing shows as hidden and temporary.
fn new_temporary(path: &Path) -> Result<(PathBuf, std::fs::File), WriteError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| WriteError::new(path, "not a file name"))?;
    let dir = folder_of(path);
    let mut last = None;
    for _ in 0..100 {
        let tmp = dir.join(format!(
            ".{}.tmp-{}-{}",
            name.to_string_lossy(),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(WriteError::new(&tmp, e)),
        }
    }
    Err(WriteError::new(
        path,
        format!("no free temporary name beside it ({last:?})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn a_write_replaces_the_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receipt.txt");
        std::fs::write(&path, b"old").unwrap();
        write_atomically(&path, b"new", |b| {
            assert_eq!(b, b"new", "the check sees what is on disk");
            Ok(())
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["receipt.txt"]);
    }

    #[test]
    fn a_failed_check_keeps_the_old_file_and_removes_the_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receipt.txt");
        std::fs::write(&path, b"old").unwrap();
        let err = write_atomically(&path, b"new", |_| Err("read back wrong".into())).unwrap_err();
        assert!(err.to_string().contains("read back wrong"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["receipt.txt"]);
    }

    #[test]
    fn a_missing_folder_or_a_folder_as_target_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-stick").join("receipt.txt");
        let err = write_atomically(&missing, b"x", |_| Ok(())).unwrap_err();
        assert!(err.path.starts_with(dir.path().join("no-stick")), "{err}");

        let folder = dir.path().join("a-folder");
        std::fs::create_dir(&folder).unwrap();
        let err = write_atomically(&folder, b"x", |_| Ok(())).unwrap_err();
        assert_eq!(err.path, folder, "{err}");
        assert_eq!(names(dir.path()), ["a-folder"], "no temporary file left");
        assert!(names(&folder).is_empty());
    }
}
