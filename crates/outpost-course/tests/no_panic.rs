//! No input makes the loader, the compiler or the outline panic: random
//! text in every kind of file, and random edits of the demo course.

mod common;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Pieces that mean something to one of the parsers, so random text often
/// reaches deep into them.
const TOKENS: &[&str] = &[
    "+++",
    "\n",
    "\n\n",
    ":::",
    ":::question id=q1 type=single",
    ":::note",
    ":::scenario T",
    ":::question",
    "type=",
    "id=",
    "title=\"",
    "\"",
    "- [x] ",
    "- [ ] ",
    "- [y] ",
    "  > ",
    "> ",
    "Explanation:",
    "## ",
    "# ",
    "![",
    "](",
    ")",
    "[",
    "]",
    "../",
    "../../assets/pic.svg",
    "02-b.md#far",
    "#",
    "<script>",
    "<b>",
    "</b>",
    "<!--",
    "-->",
    "|",
    "| --- |",
    "```",
    "~~",
    "=",
    "[table]",
    "[assessment]",
    "id = \"x\"",
    "minutes = 5",
    "kind = \"quiz\"",
    "é",
    "\u{0}",
    "\u{feff}",
    "\r\n",
    "\t",
    "  ",
    "javascript:",
    "https://",
    "mailto:",
    "\\",
    "{",
    "}",
    "0.5",
    "-1",
    "99999999999999999999",
    "ـ",
    "🙂",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(TOKENS).prop_map(str::to_string),
            1 => any::<String>(),
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

fn run(files: BTreeMap<String, Vec<u8>>) {
    let (courses, diags) = outpost_course::load_files(Path::new("c"), files);
    for c in &courses {
        let content = outpost_course::compile(c);
        let _ = serde_json::to_string(&content.structure);
        let _ = outpost_course::outline(c);
    }
    let _ = diags.to_string();
}

fn demo_files() -> BTreeMap<String, Vec<u8>> {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/courses/demo-course");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, f64, String),
    Delete(usize, f64, usize),
    Bytes(usize, f64, Vec<u8>),
    Drop(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), 0.0..1.0f64, text()).prop_map(|(f, at, t)| Edit::Insert(f, at, t)),
        2 => (any::<usize>(), 0.0..1.0f64, 0..200usize).prop_map(|(f, at, n)| Edit::Delete(f, at, n)),
        1 => (any::<usize>(), 0.0..1.0f64, prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(f, at, b)| Edit::Bytes(f, at, b)),
        1 => any::<usize>().prop_map(Edit::Drop),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_files_never_panic(
        toml in text(),
        module in text(),
        lesson in text(),
        bank in text(),
    ) {
        let mut files = common::base();
        files.insert("course.toml".into(), format!("{}{toml}", common::COURSE_TOML).into_bytes());
        files.insert("en/01-m/module.md".into(), module.into_bytes());
        files.insert("en/01-m/01-a.md".into(), format!("+++\nid = \"a\"\ntitle = \"A\"\nminutes = 5\n+++\n{lesson}").into_bytes());
        files.insert("fr/01-m/01-a.md".into(), lesson.into_bytes());
        files.insert("en/assessment/bank.md".into(), format!("+++\n+++\n{bank}").into_bytes());
        run(files);
    }

    #[test]
    fn random_edits_of_the_demo_course_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        let mut files = demo_files();
        for e in edits {
            let keys: Vec<String> = files.keys().cloned().collect();
            if keys.is_empty() {
                break;
            }
            let pick = |i: usize| keys[i % keys.len()].clone();
            let at = |b: &Vec<u8>, f: f64| ((b.len() as f64) * f) as usize;
            match e {
                Edit::Insert(i, f, t) => {
                    let b = files.get_mut(&pick(i)).unwrap();
                    let p = at(b, f).min(b.len());
                    b.splice(p..p, t.into_bytes());
                }
                Edit::Delete(i, f, n) => {
                    let b = files.get_mut(&pick(i)).unwrap();
                    let p = at(b, f).min(b.len());
                    let end = (p + n).min(b.len());
                    b.drain(p..end);
                }
                Edit::Bytes(i, f, bytes) => {
                    let b = files.get_mut(&pick(i)).unwrap();
                    let p = at(b, f).min(b.len());
                    b.splice(p..p, bytes);
                }
                Edit::Drop(i) => {
                    files.remove(&pick(i));
                }
            }
        }
        run(files);
    }
}
