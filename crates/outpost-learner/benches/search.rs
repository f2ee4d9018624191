//! Search on the flagship course as built from `courses/` by the real
//! compiler, and search and recording on a synthetic course of flagship size
//! in all four languages: 12 modules of 6 lessons of about 900 words drawn
//! from a small vocabulary, so that nearly every lesson matches every query
//! (288 lesson texts; the worst case for ranking and snippets).
//! Target: a search under 20 ms.

use criterion::{criterion_group, criterion_main, Criterion};
use ed25519_dalek::SigningKey;
use outpost_learner::{Language, SearchOptions, Store};
use outpost_model::{LessonInfo, LessonKind, ModuleInfo};
use outpost_package::{sample, write_package, Heading, LessonText, ModuleText};

const WORDS: &[&str] = &[
    "consular",
    "officials",
    "migrants",
    "crisis",
    "evacuation",
    "évacuation",
    "registration",
    "nationals",
    "host",
    "country",
    "embassy",
    "documents",
    "passport",
    "shelter",
    "assistance",
    "communication",
    "hotline",
    "preparedness",
    "contingency",
    "plan",
    "coordination",
    "partners",
    "return",
    "reintegration",
    "protection",
    "vulnerable",
    "children",
    "detention",
    "border",
    "transport",
    "assembly",
    "point",
    "language",
    "information",
    "rumours",
    "social",
    "media",
    "focal",
    "point",
    "guidelines",
    "principles",
    "practices",
    "emergency",
    "response",
    "post-crisis",
    "action",
    "lessons",
    "learned",
    "database",
    "outreach",
    "community",
    "leaders",
    "employers",
    "recruitment",
    "agencies",
    "insurance",
    "funds",
    "consulate",
    "mobile",
    "team",
];

/// Deterministic pseudo-random text.
fn text(seed: u64, words: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::new();
    for i in 0..words {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if i > 0 {
            out.push_str(if i % 14 == 0 { ". " } else { " " });
        }
        out.push_str(WORDS[(x % WORDS.len() as u64) as usize]);
    }
    out
}

fn flagship_sized(dir: &std::path::Path) -> Store {
    let mut c = sample::content("1.0.0");
    let langs = ["en", "fr", "es", "ar"];
    c.manifest.languages = langs.iter().map(|s| s.to_string()).collect();
    c.structure.modules.clear();
    c.lessons.clear();
    c.modules.clear();
    for m in 0..12 {
        let mid = format!("m{m:02}");
        let lessons: Vec<LessonInfo> = (0..6)
            .map(|l| LessonInfo {
                id: format!("{mid}-l{l}"),
                kind: LessonKind::Lesson,
                minutes: 10,
                questions: vec![],
            })
            .collect();
        for lang in langs {
            c.modules.push(ModuleText {
                module_id: mid.clone(),
                lang: lang.into(),
                title: format!("Module {m} {}", text(m, 3)),
                objectives: vec![],
                intro_html: String::new(),
            });
            for (i, l) in lessons.iter().enumerate() {
                let body = text(m * 100 + i as u64 + lang.len() as u64 * 7, 900);
                c.lessons.push(LessonText {
                    lesson_id: l.id.clone(),
                    module_id: mid.clone(),
                    lang: lang.into(),
                    title: text(m * 10 + i as u64, 4),
                    html: format!("<p>{body}</p>"),
                    text: body,
                    headings: vec![Heading {
                        level: 2,
                        anchor: "a".into(),
                        text: "A".into(),
                    }],
                });
            }
        }
        c.structure.modules.push(ModuleInfo { id: mid, lessons });
    }
    c.structure.assessment = None;
    let key = SigningKey::from_bytes(&[7; 32]);
    let pkg = dir.join("big.opkg");
    write_package(&pkg, &c, &key).expect("package");
    let store = Store::open(&dir.join("data")).expect("store");
    store
        .trust_key(key.verifying_key(), "bench")
        .expect("trust");
    store.install(&pkg).expect("install");
    store
}

fn flagship(dir: &std::path::Path) -> Store {
    let key = outpost_course::development_key();
    let courses = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../courses");
    let built = outpost_course::build(&courses, &dir.join("out"), &key)
        .expect("the flagship course under courses/ builds");
    let store = Store::open(&dir.join("data")).expect("store");
    store
        .trust_key(key.verifying_key(), "development")
        .expect("trust");
    for p in &built.packages {
        store.install(&p.path).expect("install");
    }
    store
}

fn bench(c: &mut Criterion) {
    let real = tempfile::tempdir().expect("tempdir");
    let store = flagship(real.path());
    let all = SearchOptions::default();
    assert!(!store.search("evacuation", &all).expect("search").is_empty());
    c.bench_function("learner/search/flagship: evacuation", |b| {
        b.iter(|| store.search("evacuation", &all).expect("search"))
    });
    c.bench_function("learner/search/flagship: consular registration hotl", |b| {
        b.iter(|| {
            store
                .search("consular registration hotl", &all)
                .expect("search")
        })
    });
    drop(store);

    let dir = tempfile::tempdir().expect("tempdir");
    let store = flagship_sized(dir.path());
    assert!(!store.search("evacuation", &all).expect("search").is_empty());
    c.bench_function("learner/search/synthetic: one word, all languages", |b| {
        b.iter(|| store.search("evacuation", &all).expect("search"))
    });
    c.bench_function("learner/search/synthetic: three words with prefix", |b| {
        b.iter(|| {
            store
                .search("consular registration hotl", &all)
                .expect("search")
        })
    });
    let en = SearchOptions {
        lang: Some("en".into()),
        ..Default::default()
    };
    c.bench_function("learner/search/synthetic: two words, one language", |b| {
        b.iter(|| store.search("crisis shelter", &en).expect("search"))
    });

    // Recording and the catalog on one learner's history: reading events
    // (every 20th reaches the end of its lesson) over all 72 lessons. Each
    // size gets profiles of its own, and the catalog is measured before the
    // recording benches add to the history; recording benches add one event
    // per iteration, hence the "+".
    for n in [500, 5000] {
        let history = |name: &str| {
            let p = store
                .create_profile(&format!("{name} {n}"), Language::En, None)
                .expect("profile");
            for i in 0..n {
                let l = format!("m{:02}-l{}", i % 12, (i / 12) % 6);
                let end = i % 20 == 19;
                store
                    .view_lesson(p.id, "demo", &l, 30, if end { 1.0 } else { 0.5 }, end)
                    .expect("view");
            }
            p
        };
        let catalog = history("Catalog");
        c.bench_function(&format!("learner/catalog ({n} events)"), |b| {
            b.iter(|| store.catalog(catalog.id).expect("catalog"))
        });
        let outline = history("Outline");
        c.bench_function(&format!("learner/outline ({n} events)"), |b| {
            b.iter(|| store.outline(outline.id, "demo").expect("outline"))
        });
        // Reaching the end looks for completions the event causes.
        let ending = history("Ending");
        c.bench_function(
            &format!("learner/view_lesson, reached end ({n}+ events logged)"),
            |b| {
                b.iter(|| {
                    store
                        .view_lesson(ending.id, "demo", "m03-l2", 30, 1.0, true)
                        .expect("view")
                })
            },
        );
        let reading = history("Reading");
        c.bench_function(
            &format!("learner/view_lesson, reading ({n}+ events logged)"),
            |b| {
                b.iter(|| {
                    store
                        .view_lesson(reading.id, "demo", "m03-l2", 30, 0.5, false)
                        .expect("view")
                })
            },
        );
    }
    // What the sync loop asks after every recorded event; by now the store
    // holds the four histories of each size and what the benches added.
    assert!(store.status().expect("status").pending > 22_000);
    c.bench_function("learner/status (22000+ events)", |b| {
        b.iter(|| store.status().expect("status"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
