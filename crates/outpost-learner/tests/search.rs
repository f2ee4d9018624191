//! Search across courses and languages.

mod common;

use common::*;
use outpost_learner::SearchOptions;

#[test]
fn search_is_ranked_accent_and_case_blind_and_highlights() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = store_with_course(dir.path());
    let all = SearchOptions::default();
    // "evacuation" finds l1's "évacuation" and l3's "evacuation", in both languages.
    let hits = store.search("EVACUATION", &all).unwrap();
    let mut found: Vec<(String, String)> = hits
        .iter()
        .map(|h| (h.lesson_id.clone(), h.lang.clone()))
        .collect();
    found.sort();
    assert!(found.contains(&("l1".into(), "en".into())), "{found:?}");
    assert!(found.contains(&("l3".into(), "fr".into())), "{found:?}");
    assert!(hits.windows(2).all(|w| w[0].rank <= w[1].rank), "ranked");
    let l1 = hits
        .iter()
        .find(|h| h.lesson_id == "l1" && h.lang == "en")
        .unwrap();
    assert!(
        l1.snippet_html.contains("<mark>évacuation</mark>"),
        "{}",
        l1.snippet_html
    );
    assert_eq!(l1.module_title, "Module m1 (en)");
    assert_eq!(l1.course_title, "Demo course (en)");
    assert_eq!(l1.lesson_title, "Why migrants are hit harder (en)");

    // A title match ranks first: "Registration" is l2's title.
    let hits = store.search("registration", &all).unwrap();
    assert_eq!(hits[0].lesson_id, "l2");

    // Prefix on the last word, as the learner types.
    assert!(store
        .search("consular regi", &all)
        .unwrap()
        .iter()
        .any(|h| h.lesson_id == "l2"));
    // Filters.
    let fr = SearchOptions {
        lang: Some("fr".into()),
        ..Default::default()
    };
    assert!(store
        .search("evacuation", &fr)
        .unwrap()
        .iter()
        .all(|h| h.lang == "fr"));
    let none = SearchOptions {
        course: Some("other".into()),
        ..Default::default()
    };
    assert!(store.search("evacuation", &none).unwrap().is_empty());
}

#[test]
fn query_syntax_in_user_input_is_just_text() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = store_with_course(dir.path());
    let all = SearchOptions::default();
    for q in [
        "\"",
        "evacuation\"",
        "NOT",
        "a OR",
        "title:evacuation",
        "(",
        "*",
        "-x",
        "NEAR(a b)",
        "évac*\"'",
        "<script>",
    ] {
        assert!(store.search(q, &all).is_ok(), "{q}");
    }
    assert!(store.search("", &all).unwrap().is_empty());
    // "title:evacuation" searches both words, not a column.
    assert!(store.search("title:evacuation", &all).unwrap().is_empty());
    assert!(!store.search("evacuation)", &all).unwrap().is_empty());
}
