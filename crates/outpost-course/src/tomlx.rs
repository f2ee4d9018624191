//! Reading TOML (course.toml and front matter) with a position for every
//! key and value, so that each mistake is reported where it is, and all of
//! them in one run (the parser recovers after a syntax error).

use crate::diag::{Diagnostics, Pos, SourceFile};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// TOML text that sits at byte `base` of `file`.
pub(crate) struct TomlSource<'f> {
    pub file: &'f SourceFile,
    pub base: usize,
    /// How to name the place in messages: "course.toml", "front matter".
    pub what: &'static str,
    /// Lines with a syntax error: no second message about their values.
    pub bad_lines: std::cell::RefCell<Vec<u32>>,
}

impl TomlSource<'_> {
    pub fn pos(&self, span: Range<usize>) -> Pos {
        self.file.pos(self.base + span.start)
    }

    /// Parse, reporting every syntax error; returns the table it could read.
    pub fn parse<'i>(&self, text: &'i str, diags: &mut Diagnostics) -> DeTable<'i> {
        let (table, errors) = DeTable::parse_recoverable(text);
        for e in errors {
            let pos = self.pos(e.span().unwrap_or(0..0));
            self.bad_lines.borrow_mut().push(pos.line);
            let msg = e.message().trim().trim_end_matches('.').to_string();
            diags.error(
                &self.file.path,
                pos,
                format!("malformed {}: {msg}", self.what),
            );
        }
        table.into_inner()
    }
}

/// One TOML table being read: remembers which keys were asked for, so the
/// rest can be reported as unknown.
pub(crate) struct Fields<'a, 'i> {
    src: &'a TomlSource<'a>,
    table: &'a DeTable<'i>,
    /// Where to report a missing key.
    at: Pos,
    /// `[assessment]` etc., for messages; empty for the top level.
    name: String,
    known: Vec<&'static str>,
}

pub(crate) type Sp<T> = (T, Pos);

impl<'a, 'i> Fields<'a, 'i> {
    pub fn new(src: &'a TomlSource<'a>, table: &'a DeTable<'i>, at: Pos, name: &str) -> Self {
        Fields {
            src,
            table,
            at,
            name: name.to_string(),
            known: Vec::new(),
        }
    }

    fn key_name(&self, key: &str) -> String {
        if self.name.is_empty() {
            format!("`{key}`")
        } else {
            format!("`{}.{key}`", self.name)
        }
    }

    fn raw(&mut self, key: &'static str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.known.push(key);
        self.table.get(key)
    }

    fn missing(&self, key: &str, diags: &mut Diagnostics) {
        diags.error(
            &self.src.file.path,
            self.at,
            format!("{}: missing key {}", self.src.what, self.key_name(key)),
        );
    }

    fn wrong(&self, key: &str, v: &Spanned<DeValue<'_>>, want: &str, diags: &mut Diagnostics) {
        let pos = self.src.pos(v.span());
        if self.src.bad_lines.borrow().contains(&pos.line) {
            return;
        }
        diags.error(
            &self.src.file.path,
            self.src.pos(v.span()),
            format!(
                "{} must be {want}, not {}",
                self.key_name(key),
                describe(v.get_ref())
            ),
        );
    }

    pub fn error_at(&self, pos: Pos, msg: impl Into<String>, diags: &mut Diagnostics) {
        diags.error(&self.src.file.path, pos, msg);
    }

    pub fn string(
        &mut self,
        key: &'static str,
        required: bool,
        d: &mut Diagnostics,
    ) -> Option<Sp<String>> {
        match self.raw(key) {
            None => {
                if required {
                    self.missing(key, d);
                }
                None
            }
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Some((s.to_string(), self.src.pos(v.span()))),
                _ => {
                    self.wrong(key, v, "a string", d);
                    None
                }
            },
        }
    }

    pub fn integer(
        &mut self,
        key: &'static str,
        required: bool,
        d: &mut Diagnostics,
    ) -> Option<Sp<i64>> {
        match self.raw(key) {
            None => {
                if required {
                    self.missing(key, d);
                }
                None
            }
            Some(v) => match v.get_ref() {
                DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) => Some((n, self.src.pos(v.span()))),
                    Err(_) => {
                        self.wrong(key, v, "a whole number", d);
                        None
                    }
                },
                _ => {
                    self.wrong(key, v, "a whole number", d);
                    None
                }
            },
        }
    }

    /// A number, integer or float.
    pub fn number(
        &mut self,
        key: &'static str,
        required: bool,
        d: &mut Diagnostics,
    ) -> Option<Sp<f64>> {
        match self.raw(key) {
            None => {
                if required {
                    self.missing(key, d);
                }
                None
            }
            Some(v) => {
                let n = match v.get_ref() {
                    DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                        .ok()
                        .map(|n| n as f64),
                    DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
                    _ => None,
                };
                match n.filter(|n| n.is_finite()) {
                    Some(n) => Some((n, self.src.pos(v.span()))),
                    None => {
                        self.wrong(key, v, "a number", d);
                        None
                    }
                }
            }
        }
    }

    pub fn strings(
        &mut self,
        key: &'static str,
        required: bool,
        d: &mut Diagnostics,
    ) -> Option<Sp<Vec<Sp<String>>>> {
        let v = match self.raw(key) {
            None => {
                if required {
                    self.missing(key, d);
                }
                return None;
            }
            Some(v) => v,
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong(key, v, "a list of strings", d);
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), self.src.pos(item.span()))),
                other => d.error(
                    &self.src.file.path,
                    self.src.pos(item.span()),
                    format!(
                        "{} must be a list of strings; this item is {}",
                        self.key_name(key),
                        describe(other)
                    ),
                ),
            }
        }
        Some((out, self.src.pos(v.span())))
    }

    /// A sub-table, e.g. `[title]` or `[assessment]`.
    pub fn table(
        &mut self,
        key: &'static str,
        required: bool,
        d: &mut Diagnostics,
    ) -> Option<(&'a DeTable<'i>, Pos)> {
        match self.raw(key) {
            None => {
                if required {
                    self.missing(key, d);
                }
                None
            }
            Some(v) => match v.get_ref() {
                DeValue::Table(t) => Some((t, self.src.pos(v.span()))),
                _ => {
                    self.wrong(key, v, "a table", d);
                    None
                }
            },
        }
    }

    /// A table of strings by language code, e.g. `[title]`.
    pub fn per_language(
        &mut self,
        key: &'static str,
        required: bool,
        d: &mut Diagnostics,
    ) -> Option<Sp<BTreeMap<String, Sp<String>>>> {
        let (t, at) = self.table(key, required, d)?;
        let mut out = BTreeMap::new();
        for (k, v) in t.iter() {
            match v.get_ref() {
                DeValue::String(s) => {
                    out.insert(
                        k.get_ref().to_string(),
                        (s.to_string(), self.src.pos(v.span())),
                    );
                }
                other => d.error(
                    &self.src.file.path,
                    self.src.pos(v.span()),
                    format!(
                        "{} must be a string, not {}",
                        self.key_name(&format!("{key}.{}", k.get_ref())),
                        describe(other)
                    ),
                ),
            }
        }
        Some((out, at))
    }

    /// Report every key that was not asked for.
    pub fn finish(self, d: &mut Diagnostics) {
        for (k, _) in self.table.iter() {
            let key: &str = k.get_ref();
            if self.known.contains(&key) {
                continue;
            }
            let hint = match closest(key, &self.known) {
                Some(s) => format!("; did you mean `{s}`?"),
                None => format!("; known keys: {}", self.known.join(", ")),
            };
            d.error(
                &self.src.file.path,
                self.src.pos(k.span()),
                format!(
                    "unknown key {} in {}{hint}",
                    self.key_name(key),
                    self.src.what
                ),
            );
        }
    }
}

pub(crate) fn describe(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "a whole number",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "true/false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// The known name within one or two edits of `s` (by its length), if any.
pub(crate) fn closest<'k>(s: &str, known: &[&'k str]) -> Option<&'k str> {
    // Short names get less slack: `z` is not a typo of `id`.
    let slack = (s.chars().count() / 3).clamp(1, 2);
    known
        .iter()
        .map(|k| (edit_distance(s, k), *k))
        .filter(|(d, _)| *d <= slack)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
