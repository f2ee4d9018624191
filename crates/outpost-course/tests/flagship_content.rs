use std::path::Path;
#[test]
fn dump() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../courses/micic-consular");
    let (courses, d) = outpost_course::load(&dir);
    eprintln!("{d}");
    let c = outpost_course::compile(&courses[0]);
    for l in &c.lessons {
        if l.lesson_id == "m08-hotlines-rumours" {
            eprintln!("HTML:\n{}\nTEXT:\n{}\n", l.html, l.text);
        }
    }
    for q in &c.questions {
        if q.question_id == "q08-stadium-rumour" {
            eprintln!("{q:#?}");
        }
    }
    panic!("dump");
}
