//! Course sources as an in-memory tree of files, so that everything after
//! reading the disk is a pure function (and tests need no files).

use crate::diag::{Diagnostics, Pos};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Markdown and TOML files larger than this are refused (a course file is a
/// few kilobytes; anything this big is a mistake).
pub const MAX_TEXT_BYTES: u64 = 1024 * 1024;
/// Images larger than this are refused: packages travel over slow links.
pub const MAX_ASSET_BYTES: u64 = 10 * 1024 * 1024;
/// Files read from one folder at most.
pub const MAX_FILES: usize = 20_000;

/// Files by path relative to the root, with `/` separators.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// Where the root is, as shown in diagnostics.
    pub root: PathBuf,
    pub files: BTreeMap<String, Vec<u8>>,
    pub dirs: BTreeSet<String>,
    /// Files that exist but were not read (too big, unreadable); their
    /// error is already reported.
    pub skipped: BTreeSet<String>,
}

impl Tree {
    /// A tree from `(relative path, bytes)` pairs; folders are implied.
    pub fn from_files<P: AsRef<str>, B: Into<Vec<u8>>>(
        root: impl Into<PathBuf>,
        files: impl IntoIterator<Item = (P, B)>,
    ) -> Tree {
        let mut t = Tree {
            root: root.into(),
            ..Tree::default()
        };
        for (p, b) in files {
            let p = p.as_ref().trim_matches('/').to_string();
            if p.is_empty() {
                continue;
            }
            let mut dir = p.as_str();
            while let Some((parent, _)) = dir.rsplit_once('/') {
                t.dirs.insert(parent.to_string());
                dir = parent;
            }
            t.files.insert(p, b.into());
        }
        t
    }

    /// The path to show for a relative path.
    pub fn shown(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    pub fn is_dir(&self, rel: &str) -> bool {
        rel.is_empty() || self.dirs.contains(rel)
    }

    /// Direct children of folder `dir`: (sub-folders, files), by name.
    pub fn children(&self, dir: &str) -> (Vec<String>, Vec<String>) {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let direct = |p: &&String| {
            p.strip_prefix(&prefix)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
        };
        let dirs = self.dirs.iter().filter(direct).cloned().collect();
        let mut files: Vec<String> = self
            .files
            .keys()
            .chain(self.skipped.iter())
            .filter(direct)
            .cloned()
            .collect();
        files.sort();
        (dirs, files)
    }
}

/// The last component of a relative path.
pub fn name(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, n)| n)
}

pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Resolve `target` (a relative URL path, `/`-separated) against folder
/// `dir`; `None` if it climbs above the root.
pub fn resolve(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Read a folder into a tree. Hidden entries (`.name`) are skipped and
/// symbolic links are not followed, so a course cannot pull in files from
/// elsewhere on the machine.
pub fn read_dir(root: &Path) -> (Tree, Diagnostics) {
    let mut tree = Tree {
        root: root.to_path_buf(),
        ..Tree::default()
    };
    let mut diags = Diagnostics::new();
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            diags.error(
                root,
                Pos::START,
                "not a folder: give the folder of a course or of several courses",
            );
            return (tree, diags);
        }
        Err(e) => {
            diags.error(root, Pos::START, format!("cannot read: {e}"));
            return (tree, diags);
        }
    }
    let mut stack = vec![String::new()];
    let mut count = 0usize;
    while let Some(rel) = stack.pop() {
        let path = tree.shown(&rel);
        let entries = match std::fs::read_dir(&path) {
            Ok(e) => e,
            Err(e) => {
                diags.error(&path, Pos::START, format!("cannot read folder: {e}"));
                continue;
            }
        };
        let mut names = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => names.push(e.file_name()),
                Err(e) => diags.error(&path, Pos::START, format!("cannot read folder: {e}")),
            }
        }
        names.sort();
        for os_name in names {
            let Some(n) = os_name.to_str().map(str::to_string) else {
                diags.warning(
                    &path.join(&os_name),
                    Pos::START,
                    "file name is not valid UTF-8; it is ignored",
                );
                continue;
            };
            if n.starts_with('.') {
                continue;
            }
            let child = join(&rel, &n);
            let shown = tree.shown(&child);
            let meta = match std::fs::symlink_metadata(&shown) {
                Ok(m) => m,
                Err(e) => {
                    diags.error(&shown, Pos::START, format!("cannot read: {e}"));
                    continue;
                }
            };
            if meta.file_type().is_symlink() {
                diags.warning(
                    &shown,
                    Pos::START,
                    "symbolic links are not followed; copy the file into the course instead",
                );
            } else if meta.is_dir() {
                tree.dirs.insert(child.clone());
                stack.push(child);
            } else if meta.is_file() {
                count += 1;
                if count > MAX_FILES {
                    diags.error(
                        root,
                        Pos::START,
                        format!("more than {MAX_FILES} files: is this the right folder?"),
                    );
                    return (tree, diags);
                }
                let limit = if n.ends_with(".md") || n.ends_with(".toml") {
                    MAX_TEXT_BYTES
                } else {
                    MAX_ASSET_BYTES
                };
                if meta.len() > limit {
                    tree.skipped.insert(child.clone());
                    diags.error(
                        &shown,
                        Pos::START,
                        format!(
                            "file is {} bytes; the limit for this kind of file is {limit}",
                            meta.len()
                        ),
                    );
                    continue;
                }
                match std::fs::read(&shown) {
                    Ok(b) => {
                        tree.files.insert(child, b);
                    }
                    Err(e) => {
                        tree.skipped.insert(child);
                        diags.error(&shown, Pos::START, format!("cannot read: {e}"))
                    }
                }
            }
        }
    }
    (tree, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_paths_inside_the_root() {
        assert_eq!(
            resolve("c/en/01-a", "../02-b/x.md").as_deref(),
            Some("c/en/02-b/x.md")
        );
        assert_eq!(
            resolve("c/en/01-a", "./x.md").as_deref(),
            Some("c/en/01-a/x.md")
        );
        assert_eq!(resolve("a", "../../x"), None);
    }

    #[test]
    fn children_are_direct_only() {
        let t = Tree::from_files("r", [("a/b/c.md", ""), ("a/d.md", ""), ("e.toml", "")]);
        assert_eq!(
            t.children(""),
            (vec!["a".to_string()], vec!["e.toml".to_string()])
        );
        assert_eq!(
            t.children("a"),
            (vec!["a/b".to_string()], vec!["a/d.md".to_string()])
        );
    }
}
