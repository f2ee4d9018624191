// Shared by the integration tests: a tiny valid course in memory, and a
// way to change some of its files. (Each test uses only some helpers.)
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

pub const COURSE_TOML: &str = r#"id = "c"
version = "1.0.0"
languages = ["en", "fr"]
default_language = "en"
publisher = "P"
move_on = "CompletedAndPassed"
passing_score = 0.5
estimated_minutes = 10

[title]
en = "C"
fr = "C"

[assessment]
id = "final"
draw = 1
minutes = 5

[assessment.title]
en = "Final"
fr = "Finale"
"#;

pub const MODULE: &str = "+++\nid = \"m1\"\ntitle = \"M\"\n+++\n\nIntro.\n";

pub const LESSON_A: &str = r#"+++
id = "a"
title = "A"
minutes = 5
+++

## Start

![A picture](../../assets/pic.svg)

See [b](02-b.md#far).
"#;

pub const LESSON_B: &str = r#"+++
id = "b"
title = "B"
minutes = 5
+++

## Far

:::question id=q1 type=single
Pick one.

- [x] Yes
  > Good.
- [ ] No
  > Bad.

Explanation: Because.
:::
"#;

pub const BANK: &str = r#"+++
+++

:::question id=q2 type=truefalse
True?

- [x] True
  > Yes.
- [ ] False
  > No.

Explanation: It is.
:::
"#;

pub const SVG: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>"#;

pub fn base() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert("course.toml".to_string(), COURSE_TOML.as_bytes().to_vec());
    files.insert("assets/pic.svg".to_string(), SVG.as_bytes().to_vec());
    for lang in ["en", "fr"] {
        for (name, text) in [
            ("01-m/module.md", MODULE),
            ("01-m/01-a.md", LESSON_A),
            ("01-m/02-b.md", LESSON_B),
            ("assessment/bank.md", BANK),
        ] {
            files.insert(format!("{lang}/{name}"), text.as_bytes().to_vec());
        }
    }
    files
}

/// The diagnostics of the base course with `changes` applied, one per line.
pub fn diagnostics(changes: &[Change]) -> String {
    let (_, d) = outpost_course::load_files(Path::new("c"), apply(changes));
    d.to_string()
}

/// A change to the base course.
pub enum Change {
    /// Replace the first `from` in the file with `to` (`from` must be there).
    Edit(&'static str, &'static str, &'static str),
    Set(&'static str, &'static str),
    Append(&'static str, &'static str),
    Remove(&'static str),
}

pub fn edit(path: &'static str, from: &'static str, to: &'static str) -> Change {
    Change::Edit(path, from, to)
}
pub fn set(path: &'static str, text: &'static str) -> Change {
    Change::Set(path, text)
}
pub fn append(path: &'static str, text: &'static str) -> Change {
    Change::Append(path, text)
}
pub fn remove(path: &'static str) -> Change {
    Change::Remove(path)
}

pub fn apply(changes: &[Change]) -> BTreeMap<String, Vec<u8>> {
    let mut files = base();
    for c in changes {
        match c {
            Change::Edit(p, from, to) => {
                let text = String::from_utf8(files[*p].clone()).unwrap();
                assert!(text.contains(from), "{p} has no {from:?}");
                files.insert(p.to_string(), text.replacen(from, to, 1).into_bytes());
            }
            Change::Set(p, t) => {
                files.insert(p.to_string(), t.as_bytes().to_vec());
            }
            Change::Append(p, t) => {
                let mut text = files[*p].clone();
                text.extend_from_slice(t.as_bytes());
                files.insert(p.to_string(), text);
            }
            Change::Remove(p) => {
                files.remove(*p);
            }
        }
    }
    files
}
