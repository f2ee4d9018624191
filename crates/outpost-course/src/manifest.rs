//! `course.toml`: read every key with its position and check each value.

use crate::diag::{Diagnostics, Pos, SourceFile};
use crate::load::id_problem;
use crate::tomlx::{Fields, Sp, TomlSource};
use outpost_model::MoveOn;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub(crate) struct CourseToml {
    pub id: Option<Sp<String>>,
    pub version: Option<String>,
    pub languages: Option<Sp<Vec<Sp<String>>>>,
    pub default_language: Option<Sp<String>>,
    pub publisher: String,
    pub move_on: Option<Sp<MoveOn>>,
    pub passing_score: f64,
    pub estimated_minutes: u32,
    pub title: Option<Sp<BTreeMap<String, Sp<String>>>>,
    pub description: BTreeMap<String, String>,
    pub assessment: Option<AssessmentToml>,
}

#[derive(Debug, Clone)]
pub(crate) struct AssessmentToml {
    pub id: Option<Sp<String>>,
    pub draw: Option<Sp<u32>>,
    pub minutes: u32,
    pub title: BTreeMap<String, String>,
    pub at: Pos,
}

/// Whether `s` looks like a language code: `en`, `fr`, `pt-BR`.
pub(crate) fn is_language_code(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Semantic versioning 2.0: `MAJOR.MINOR.PATCH[-pre][+build]`.
pub(crate) fn is_semver(s: &str) -> bool {
    let (s, build) = match s.split_once('+') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let (core, pre) = match s.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let num = |p: &str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    };
    let ident =
        |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let nums: Vec<&str> = core.split('.').collect();
    nums.len() == 3
        && nums.iter().all(|p| num(p))
        && pre.is_none_or(|p| p.split('.').all(ident))
        && build.is_none_or(|b| b.split('.').all(ident))
}

pub(crate) fn read(file: &SourceFile, diags: &mut Diagnostics) -> CourseToml {
    let src = TomlSource {
        file,
        base: 0,
        what: "course.toml",
        bad_lines: Default::default(),
    };
    let table = src.parse(&file.text, diags);
    let mut f = Fields::new(&src, &table, Pos::START, "");
    let path = &file.path;

    let id = f.string("id", true, diags);
    if let Some((id, pos)) = &id {
        if let Some(p) = id_problem(id) {
            diags.error(path, *pos, format!("course id `{id}`: {p}"));
        }
    }
    let version = f.string("version", true, diags).and_then(|(v, pos)| {
        if is_semver(&v) {
            Some(v)
        } else {
            diags.error(
                path,
                pos,
                format!("version `{v}` is not a semantic version like \"1.0.0\""),
            );
            None
        }
    });

    let languages = f.strings("languages", true, diags);
    if let Some((langs, pos)) = &languages {
        if langs.is_empty() {
            diags.error(
                path,
                *pos,
                "`languages` is empty: list at least one, e.g. [\"en\"]",
            );
        }
        for (i, (l, lpos)) in langs.iter().enumerate() {
            if !is_language_code(l) {
                diags.error(
                    path,
                    *lpos,
                    format!("`{l}` is not a language code like \"en\" or \"fr\""),
                );
            }
            if langs[..i].iter().any(|(o, _)| o == l) {
                diags.error(path, *lpos, format!("language `{l}` is listed twice"));
            }
        }
    }
    let lang_listed = |l: &str| {
        languages
            .as_ref()
            .is_none_or(|(ls, _)| ls.iter().any(|(x, _)| x == l))
    };

    let default_language = f.string("default_language", true, diags);
    if let Some((d, pos)) = &default_language {
        if !lang_listed(d) {
            diags.error(
                path,
                *pos,
                format!("default_language `{d}` is not one of `languages`"),
            );
        }
    }

    let publisher = match f.string("publisher", true, diags) {
        Some((p, pos)) if p.trim().is_empty() => {
            diags.error(path, pos, "`publisher` is empty");
            String::new()
        }
        Some((p, _)) => p,
        None => String::new(),
    };

    let move_on = f.string("move_on", true, diags).and_then(|(m, pos)| {
        match MoveOn::parse(&m) {
            Some(r) => Some((r, pos)),
            None => {
                diags.error(
                    path,
                    pos,
                    format!("move_on `{m}` is not a cmi5 rule: use Completed, Passed, CompletedAndPassed, CompletedOrPassed or NotApplicable"),
                );
                None
            }
        }
    });

    let passing_score = match f.number("passing_score", true, diags) {
        Some((s, pos)) if !(0.0..=1.0).contains(&s) => {
            let hint = if (1.0..=100.0).contains(&s) {
                format!(" (for {s}% write {})", s / 100.0)
            } else {
                String::new()
            };
            diags.error(
                path,
                pos,
                format!("passing_score {s} is out of range: it is a fraction from 0 to 1{hint}"),
            );
            0.0
        }
        Some((s, _)) => s,
        None => 0.0,
    };

    let estimated_minutes = minutes(&mut f, "estimated_minutes", 1, 100_000, diags);

    let title = f.per_language("title", true, diags);
    if let Some((titles, at)) = &title {
        check_per_language("title", titles, *at, &languages, true, path, diags);
    }
    let description = match f.per_language("description", false, diags) {
        Some((d, at)) => {
            check_per_language("description", &d, at, &languages, false, path, diags);
            d.into_iter().map(|(k, (v, _))| (k, v)).collect()
        }
        None => BTreeMap::new(),
    };

    let assessment = f.table("assessment", false, diags).map(|(t, at)| {
        let mut a = Fields::new(&src, t, at, "assessment");
        let id = a.string("id", true, diags);
        if let Some((id, pos)) = &id {
            if let Some(p) = id_problem(id) {
                diags.error(path, *pos, format!("assessment id `{id}`: {p}"));
            }
        }
        let draw = a.integer("draw", true, diags).and_then(|(n, pos)| {
            if !(1..=10_000).contains(&n) {
                diags.error(path, pos, format!("draw = {n}: draw at least one question"));
                None
            } else {
                Some((n as u32, pos))
            }
        });
        let minutes = minutes(&mut a, "minutes", 1, 10_000, diags);
        let title = match a.per_language("title", true, diags) {
            Some((t, tat)) => {
                check_per_language("assessment.title", &t, tat, &languages, true, path, diags);
                t.into_iter().map(|(k, (v, _))| (k, v)).collect()
            }
            None => BTreeMap::new(),
        };
        a.finish(diags);
        AssessmentToml {
            id,
            draw,
            minutes,
            title,
            at,
        }
    });

    if let (Some((m, pos)), None) = (&move_on, &assessment) {
        if m.needs_passed() {
            diags.error(
                path,
                *pos,
                format!("move_on = \"{}\" needs a passed final assessment, but there is no [assessment] table", m.as_str()),
            );
        }
    }
    f.finish(diags);

    CourseToml {
        id,
        version,
        languages,
        default_language,
        publisher,
        move_on,
        passing_score,
        estimated_minutes,
        title,
        description,
        assessment,
    }
}

fn minutes(
    f: &mut Fields<'_, '_>,
    key: &'static str,
    min: i64,
    max: i64,
    diags: &mut Diagnostics,
) -> u32 {
    match f.integer(key, true, diags) {
        Some((n, pos)) if n < min || n > max => {
            f.error_at(
                pos,
                format!("`{key}` = {n} is out of range ({min} to {max})"),
                diags,
            );
            0
        }
        Some((n, _)) => n as u32,
        None => 0,
    }
}

fn check_per_language(
    key: &str,
    values: &BTreeMap<String, Sp<String>>,
    at: Pos,
    languages: &Option<Sp<Vec<Sp<String>>>>,
    every: bool,
    path: &std::path::Path,
    diags: &mut Diagnostics,
) {
    let Some((langs, _)) = languages else { return };
    for (l, (v, pos)) in values {
        if !langs.iter().any(|(x, _)| x == l) {
            diags.error(
                path,
                *pos,
                format!("`{key}.{l}`: `{l}` is not one of `languages`"),
            );
        } else if v.trim().is_empty() {
            diags.error(path, *pos, format!("`{key}.{l}` is empty"));
        }
    }
    if every {
        for (l, _) in langs {
            if !values.contains_key(l) {
                diags.error(path, at, format!("`{key}` has no `{l}` entry"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_languages() {
        for v in ["1.0.0", "0.1.2", "2.0.0-rc.1", "1.0.0+build.5"] {
            assert!(is_semver(v), "{v}");
        }
        for v in ["1.0", "01.0.0", "1.0.0-", "v1.0.0", "1.0.0.0", ""] {
            assert!(!is_semver(v), "{v}");
        }
        for l in ["en", "fr", "ar", "pt-BR", "fil"] {
            assert!(is_language_code(l), "{l}");
        }
        for l in ["EN", "e", "english", "en_GB", ""] {
            assert!(!is_language_code(l), "{l}");
        }
    }
}
