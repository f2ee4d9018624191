//! Checks on the interface's files that need no window: every language has
//! every string, every string the code asks for exists, and nothing is
//! loaded from the network.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The keys and values of each `const xx = { … };` table in i18n.js.
fn tables() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = read("ui/js/i18n.js");
    let mut out = BTreeMap::new();
    for lang in ["en", "fr", "es", "ar"] {
        let start = src
            .find(&format!("const {lang} = {{"))
            .unwrap_or_else(|| panic!("no table for {lang}"));
        let end = start + src[start..].find("\n};").expect("table ends");
        let mut table = BTreeMap::new();
        for line in src[start..end].lines().skip(1) {
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let (key, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("{lang}: cannot read {line:?}"));
            let value = value.trim().trim_end_matches(',').trim_matches('"');
            assert!(
                table
                    .insert(key.trim().to_string(), value.to_string())
                    .is_none(),
                "{lang}: {key} twice"
            );
        }
        out.insert(lang.to_string(), table);
    }
    out
}

#[test]
fn every_language_has_every_string_with_the_same_placeholders() {
    let tables = tables();
    let en = &tables["en"];
    let placeholders = |s: &str| -> BTreeSet<String> {
        s.split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(k, _)| k.to_string()))
            .collect()
    };
    for (lang, table) in &tables {
        let missing: Vec<_> = en.keys().filter(|k| !table.contains_key(*k)).collect();
        let extra: Vec<_> = table.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        assert!(extra.is_empty(), "{lang} has unknown {extra:?}");
        for (k, v) in table {
            assert!(!v.trim().is_empty(), "{lang}.{k} is empty");
            assert_eq!(
                placeholders(v),
                placeholders(&en[k]),
                "{lang}.{k} has other placeholders than English"
            );
            if lang != "en" && k != "appName" && v == &en[k] && !v.contains('{') {
                // Short words may be the same ("Version", "Quiz", "Modules").
                assert!(v.len() <= 12, "{lang}.{k} is still in English: {v:?}");
            }
        }
    }
}

#[test]
fn every_string_the_interface_asks_for_exists() {
    let en = &tables()["en"];
    let mut asked = BTreeSet::new();
    // Every module, so that a new one (or i18n.js's own formatters) is not
    // left out of the check.
    let mut modules: Vec<PathBuf> = std::fs::read_dir(root().join("ui/js"))
        .expect("ui/js")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .collect();
    modules.sort();
    assert!(modules.len() >= 4, "found only {modules:?}");
    for file in &modules {
        let src =
            std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        // Calls of `t("key"…)`: a `t` that is a word of its own.
        for (at, _) in src.match_indices("t(\"") {
            let before = src[..at].chars().next_back().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' || before == '.' {
                continue;
            }
            if let Some((key, _)) = src[at + 3..].split_once('"') {
                asked.insert(key.to_string());
            }
        }
    }
    let html = read("ui/index.html");
    for part in html.split("data-i18n=\"").skip(1) {
        if let Some((key, _)) = part.split_once('"') {
            asked.insert(key.to_string());
        }
    }
    let missing: Vec<_> = asked.iter().filter(|k| !en.contains_key(*k)).collect();
    assert!(missing.is_empty(), "no English text for {missing:?}");
}

#[test]
fn the_interface_loads_nothing_from_the_network() {
    for entry in std::fs::read_dir(root().join("ui/js"))
        .expect("ui/js")
        .flatten()
        .map(|e| e.path())
        .chain([root().join("ui/index.html"), root().join("ui/css/app.css")])
    {
        let src = std::fs::read_to_string(&entry).expect("readable");
        for bad in [
            "src=\"http",
            "href=\"http",
            "url(http",
            "@import",
            "fetch(",
            "XMLHttpRequest",
        ] {
            assert!(!src.contains(bad), "{} contains {bad:?}", entry.display());
        }
    }
    let conf: serde_json::Value =
        serde_json::from_str(&read("tauri.conf.json")).expect("tauri.conf.json is JSON");
    let csp = conf["app"]["security"]["csp"]
        .as_str()
        .expect("a content security policy is set");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    // The only http:// source is Tauri's IPC endpoint: allowing it must
    // not let any other one through.
    for source in csp.split([' ', ';']).filter(|s| s.starts_with("http://")) {
        assert_eq!(
            source, "http://ipc.localhost",
            "the CSP allows {source}: {csp}"
        );
    }
    for part in csp.split(';') {
        assert!(
            !part.contains("https:") && !part.contains("'unsafe-eval'") && !part.contains('*'),
            "the CSP allows too much: {part}"
        );
    }
}
