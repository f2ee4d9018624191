//! Compiling a course the size of the flagship (12 modules of 6 lessons of
//! about 900 words, a 60-question bank, two languages), and building the
//! demo course into a signed package. What authors wait for on `validate`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::BTreeMap;
use std::path::Path;

const WORDS: &[&str] = &[
    "consular",
    "officials",
    "migrants",
    "crisis",
    "evacuation",
    "registration",
    "nationals",
    "host",
    "country",
    "embassy",
    "documents",
    "passport",
    "shelter",
    "assistance",
    "warden",
    "preparedness",
    "contingency",
    "the",
    "and",
    "of",
    "to",
    "in",
    "a",
    "for",
    "with",
];

fn paragraph(seed: usize, words: usize) -> String {
    (0..words)
        .map(|i| WORDS[(seed * 31 + i * 7) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

fn question(id: &str) -> String {
    format!(
        ":::question id={id} type=single\nWhich one?\n\n- [x] This\n  > Yes.\n- [ ] That\n  > No.\n- [ ] Neither\n  > No.\n\nExplanation: Because it is.\n:::\n"
    )
}

fn flagship_sized() -> BTreeMap<String, Vec<u8>> {
    let mut f = BTreeMap::new();
    f.insert(
        "course.toml".to_string(),
        "id = \"big\"\nversion = \"1.0.0\"\nlanguages = [\"en\", \"fr\"]\ndefault_language = \"en\"\npublisher = \"P\"\nmove_on = \"CompletedAndPassed\"\npassing_score = 0.75\nestimated_minutes = 300\n\n[title]\nen = \"Big\"\nfr = \"Grand\"\n\n[assessment]\nid = \"final\"\ndraw = 20\nminutes = 30\n\n[assessment.title]\nen = \"Final\"\nfr = \"Finale\"\n".into(),
    );
    f.insert(
        "assets/pic.svg".to_string(),
        br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>"#.to_vec(),
    );
    for lang in ["en", "fr"] {
        for m in 1..=12 {
            let dir = format!("{lang}/{m:02}-module");
            f.insert(
                format!("{dir}/module.md"),
                format!("+++\nid = \"m{m}\"\ntitle = \"Module {m}\"\nobjectives = [\"Learn {m}.\"]\n+++\n\n{}\n", paragraph(m, 40)).into(),
            );
            for l in 1..=6 {
                let mut body = format!(
                    "+++\nid = \"m{m}-l{l}\"\ntitle = \"Lesson {l}\"\nminutes = 8\n+++\n\n"
                );
                for s in 0..5 {
                    body.push_str(&format!(
                        "## Section {s}\n\n{}\n\n- {}\n- {}\n\n",
                        paragraph(m * l + s, 160),
                        paragraph(s, 8),
                        paragraph(l, 8)
                    ));
                }
                body.push_str(":::note\nA note.\n:::\n\n![A picture](../../assets/pic.svg)\n\n");
                if l > 1 {
                    body.push_str(&format!(
                        "See [the previous lesson](0{}-lesson.md#section-1).\n\n",
                        l - 1
                    ));
                }
                body.push_str(&question(&format!("m{m}-l{l}-check")));
                f.insert(format!("{dir}/0{l}-lesson.md"), body.into());
            }
        }
        let mut bank = String::from("+++\n+++\n\n");
        for q in 1..=60 {
            bank.push_str(&question(&format!("bank-{q}")));
            bank.push('\n');
        }
        f.insert(format!("{lang}/assessment/bank.md"), bank.into());
    }
    f
}

fn benches(c: &mut Criterion) {
    let files = flagship_sized();
    let (courses, d) = outpost_course::load_files(Path::new("big"), files.clone());
    assert!(d.is_empty(), "{d}");
    assert_eq!(courses[0].content().lessons.len(), 144);
    c.bench_function(
        "course/load+compile flagship-sized (144 lesson pages)",
        |b| {
            b.iter(|| {
                let (courses, _) = outpost_course::load_files(Path::new("big"), files.clone());
                outpost_course::compile(&courses[0])
            })
        },
    );
    let demo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/courses/demo-course");
    let out = tempfile::tempdir().expect("temp dir");
    let key = outpost_course::development_key();
    c.bench_function(
        "course/build demo-course (read, compile, write, sign)",
        |b| b.iter(|| outpost_course::build(&demo, out.path(), &key).expect("build")),
    );
}

criterion_group! {
    name = compile;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(compile);
