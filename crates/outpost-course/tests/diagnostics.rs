//! One small bad input per kind of problem: the right message at the right
//! line and column, every problem of a run reported together.

mod common;
use common::*;

/// Assert the diagnostics of the base course with `changes` applied.
fn check(changes: &[Change], expect: &str) {
    let got = diagnostics(changes);
    let expect = expect
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(got.trim_end(), expect, "\n--- got ---\n{got}");
}

#[test]
fn text_that_is_not_utf8() {
    let mut files = base();
    files.insert(
        "en/01-m/02-b.md".into(),
        b"+++\nid = \"b\"\ntitle = \"\xff\"\n+++\n".to_vec(),
    );
    let (_, d) = outpost_course::load_files(std::path::Path::new("c"), files);
    assert_eq!(
        d.to_string().trim_end(),
        "c/en/01-m/02-b.md:3:10: error: not valid UTF-8 text: save the file as UTF-8"
    );
}

#[test]
fn warnings_do_not_count_as_errors() {
    let mut files = base();
    files.insert("assets/unused.png".into(), b"png".to_vec());
    let (courses, d) = outpost_course::load_files(std::path::Path::new("c"), files);
    assert_eq!(d.warnings().count(), 1);
    assert!(!d.has_errors());
    assert_eq!(courses.len(), 1);
}

#[test]
fn the_base_course_is_clean() {
    check(&[], "");
}

#[test]
fn malformed_course_toml() {
    check(
        &[edit(
            "course.toml",
            "passing_score = 0.5",
            "passing_score = = 0.5",
        )],
        r#"
        c/course.toml:7:17: error: malformed course.toml: extra `=`, expected nothing
        c/course.toml:7:19: error: malformed course.toml: unexpected key or value, expected newline, `#`
"#,
    );
}

#[test]
fn unknown_key_in_course_toml() {
    check(
        &[edit(
            "course.toml",
            "estimated_minutes = 10",
            "estimated_minute = 10",
        )],
        r#"
        c/course.toml:1:1: error: course.toml: missing key `estimated_minutes`
        c/course.toml:8:1: error: unknown key `estimated_minute` in course.toml; did you mean `estimated_minutes`?
"#,
    );
}

#[test]
fn unknown_key_in_assessment_table() {
    check(
        &[edit(
            "course.toml",
            "draw = 1",
            r#"draw = 1
shuffle = true"#,
        )],
        r#"
        c/course.toml:17:1: error: unknown key `assessment.shuffle` in course.toml; known keys: id, draw, minutes, title
"#,
    );
}

#[test]
fn missing_key_in_course_toml() {
    check(
        &[edit(
            "course.toml",
            r#"publisher = "P"
"#,
            "",
        )],
        r#"
        c/course.toml:1:1: error: course.toml: missing key `publisher`
"#,
    );
}

#[test]
fn wrong_type_in_course_toml() {
    check(
        &[edit(
            "course.toml",
            "estimated_minutes = 10",
            r#"estimated_minutes = "ten""#,
        )],
        r#"
        c/course.toml:8:21: error: `estimated_minutes` must be a whole number, not a string
"#,
    );
}

#[test]
fn version_not_semver() {
    check(
        &[edit("course.toml", r#""1.0.0""#, r#""1.0""#)],
        r#"
        c/course.toml:2:11: error: version `1.0` is not a semantic version like "1.0.0"
"#,
    );
}

#[test]
fn passing_score_as_percent() {
    check(
        &[edit("course.toml", "0.5", "75")],
        r#"
        c/course.toml:7:17: error: passing_score 75 is out of range: it is a fraction from 0 to 1 (for 75% write 0.75)
"#,
    );
}

#[test]
fn unknown_move_on() {
    check(
        &[edit(
            "course.toml",
            r#""CompletedAndPassed""#,
            r#""Complete""#,
        )],
        r#"
        c/course.toml:6:11: error: move_on `Complete` is not a cmi5 rule: use Completed, Passed, CompletedAndPassed, CompletedOrPassed or NotApplicable
"#,
    );
}

#[test]
fn language_folder_missing() {
    check(
        &[edit(
            "course.toml",
            r#"["en", "fr"]"#,
            r#"["en", "fr", "es"]"#,
        )],
        r#"
        c/course.toml:3:26: error: language `es` has no folder `es/` in the course
        c/course.toml:10:1: error: `title` has no `es` entry
        c/course.toml:19:1: error: `assessment.title` has no `es` entry
"#,
    );
}

#[test]
fn title_missing_a_language() {
    check(
        &[edit(
            "course.toml",
            r#"fr = "C"
"#,
            "",
        )],
        r#"
        c/course.toml:10:1: error: `title` has no `fr` entry
"#,
    );
}

#[test]
fn move_on_passed_without_assessment() {
    check(
        &[
            set(
                "course.toml",
                r#"id = "c"
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

"#,
            ),
            remove("en/assessment/bank.md"),
            remove("fr/assessment/bank.md"),
        ],
        r#"
        c/course.toml:6:11: error: move_on = "CompletedAndPassed" needs a passed final assessment, but there is no [assessment] table
"#,
    );
}

#[test]
fn bank_without_assessment_table() {
    check(
        &[set(
            "course.toml",
            r#"id = "c"
version = "1.0.0"
languages = ["en", "fr"]
default_language = "en"
publisher = "P"
move_on = "Completed"
passing_score = 0.5
estimated_minutes = 10

[title]
en = "C"
fr = "C"

"#,
        )],
        r#"
        c/en/assessment/bank.md:1:1: error: a question bank in assessment/ but course.toml has no [assessment] table
        c/fr/assessment/bank.md:1:1: error: a question bank in assessment/ but course.toml has no [assessment] table
"#,
    );
}

#[test]
fn bank_smaller_than_draw() {
    check(
        &[edit("course.toml", "draw = 1", "draw = 5")],
        r#"
        c/course.toml:16:8: error: the question bank (en/assessment/) has 1 question but draw = 5: add questions or draw fewer
"#,
    );
}

#[test]
fn missing_front_matter() {
    check(
        &[set(
            "en/01-m/01-a.md",
            r#"## Start

No front matter.
"#,
        )],
        r#"
        c/en/01-m/01-a.md:1:1: error: missing front matter: the file must start with a `+++` line, then TOML (id, title, …), then `+++`
"#,
    );
}

#[test]
fn unclosed_front_matter() {
    check(
        &[set(
            "en/01-m/01-a.md",
            r#"+++
id = "a"
title = "A"

## Start
"#,
        )],
        r#"
        c/en/01-m/01-a.md:1:1: error: front matter is not closed: add a `+++` line after it
"#,
    );
}

#[test]
fn malformed_front_matter() {
    check(
        &[edit("fr/01-m/01-a.md", "minutes = 5", "minutes = 5 5")],
        r#"
        c/fr/01-m/01-a.md:4:11: error: malformed front matter: string values must be quoted, expected literal string
"#,
    );
}

#[test]
fn unknown_key_in_front_matter() {
    check(
        &[edit("en/01-m/01-a.md", "minutes = 5", "minuts = 5")],
        r#"
        c/en/01-m/01-a.md:1:1: error: front matter: missing key `minutes`
        c/en/01-m/01-a.md:4:1: error: unknown key `minuts` in front matter; did you mean `minutes`?
"#,
    );
}

#[test]
fn wrong_type_in_front_matter() {
    check(
        &[edit(
            "en/01-m/02-b.md",
            "minutes = 5",
            r#"minutes = "five""#,
        )],
        r#"
        c/en/01-m/02-b.md:4:11: error: `minutes` must be a whole number, not a string
"#,
    );
}

#[test]
fn missing_title_in_module() {
    check(
        &[set(
            "en/01-m/module.md",
            r#"+++
id = "m1"
+++
"#,
        )],
        r#"
        c/en/01-m/module.md:1:1: error: front matter: missing key `title`
"#,
    );
}

#[test]
fn bad_id() {
    check(
        &[edit("en/01-m/02-b.md", r#"id = "b""#, r#"id = "Lesson B""#)],
        r#"
        c/en/01-m/02-b.md:2:6: error: lesson id `Lesson B`: an id starts with a lowercase letter
"#,
    );
}

#[test]
fn duplicate_lesson_id() {
    check(
        &[
            edit("en/01-m/02-b.md", r#"id = "b""#, r#"id = "a""#),
            edit("fr/01-m/02-b.md", r#"id = "b""#, r#"id = "a""#),
        ],
        r#"
        c/en/01-m/02-b.md:2:6: error: duplicate id `a`: already the id of a lesson at c/en/01-m/01-a.md:2:6
        c/fr/01-m/02-b.md:2:6: error: duplicate id `a`: already the id of a lesson at c/fr/01-m/01-a.md:2:6
"#,
    );
}

#[test]
fn duplicate_question_id_across_lesson_and_bank() {
    check(
        &[edit("en/assessment/bank.md", "id=q2", "id=q1")],
        r#"
        c/en/assessment/bank.md:4:13: error: duplicate id `q1`: already the id of a question at c/en/01-m/02-b.md:9:13
        c/en/assessment/bank.md:4:13: error: question `q1` (assessment bank) is missing in language fr: every language has the same questions
        c/fr/01-m/02-b.md:9:13: error: question `q1` differs from en: type single here, truefalse there
        c/fr/assessment/bank.md:4:13: error: question `q2` (assessment bank) is missing in language en: every language has the same questions
"#,
    );
}

#[test]
fn module_id_equal_to_lesson_id() {
    check(
        &[
            edit("en/01-m/module.md", r#""m1""#, r#""b""#),
            edit("fr/01-m/module.md", r#""m1""#, r#""b""#),
        ],
        r#"
        c/en/01-m/02-b.md:2:6: error: duplicate id `b`: already the id of a module at c/en/01-m/module.md:2:6
        c/fr/01-m/02-b.md:2:6: error: duplicate id `b`: already the id of a module at c/fr/01-m/module.md:2:6
"#,
    );
}

#[test]
fn unknown_question_type() {
    check(
        &[edit("en/01-m/02-b.md", "type=single", "type=choice")],
        r#"
        c/en/01-m/02-b.md:9:19: error: unknown question type `choice`: use single, multiple, truefalse or scenario
"#,
    );
}

#[test]
fn question_without_type() {
    check(
        &[edit("en/01-m/02-b.md", " type=single", "")],
        r#"
        c/en/01-m/02-b.md:9:1: error: question `q1` has no type: add type=single, multiple, truefalse or scenario
"#,
    );
}

#[test]
fn unknown_question_attribute() {
    check(
        &[edit("en/01-m/02-b.md", "type=single", "type=single ids=x")],
        r#"
        c/en/01-m/02-b.md:9:31: error: unknown question attribute `ids`; did you mean `id`?
"#,
    );
}

#[test]
fn no_correct_answer() {
    check(
        &[edit("en/01-m/02-b.md", "- [x] Yes", "- [ ] Yes")],
        r#"
        c/en/01-m/02-b.md:9:1: error: question `q1` has no correct answer: mark the right option with `[x]`
"#,
    );
}

#[test]
fn two_correct_answers_for_single() {
    check(
        &[edit("en/01-m/02-b.md", "- [ ] No", "- [x] No")],
        r#"
        c/en/01-m/02-b.md:9:1: error: question `q1` is single: exactly one option may be correct, 2 are marked `[x]`
"#,
    );
}

#[test]
fn answer_mark_is_not_x() {
    check(
        &[edit("en/01-m/02-b.md", "- [x] Yes", "- [y] Yes")],
        r#"
        c/en/01-m/02-b.md:9:1: error: question `q1` has no correct answer: mark the right option with `[x]`
        c/en/01-m/02-b.md:12:1: error: option a of question `q1`: `[y]` is not an answer mark; use `[x]` for a correct option and `[ ]` for a wrong one
"#,
    );
}

#[test]
fn option_without_feedback() {
    check(
        &[edit(
            "en/01-m/02-b.md",
            r#"  > Bad.
"#,
            "",
        )],
        r#"
        c/en/01-m/02-b.md:14:1: error: option b of question `q1` has no feedback: add an indented `> …` line under it
"#,
    );
}

#[test]
fn feedback_not_indented() {
    check(
        &[edit(
            "en/01-m/02-b.md",
            r#"  > Bad.
"#,
            r#"
> Bad.
"#,
        )],
        r#"
        c/en/01-m/02-b.md:14:1: error: option b of question `q1` has no feedback: add an indented `> …` line under it
        c/en/01-m/02-b.md:16:1: error: question `q1`: feedback must be indented under its option (start the `>` line with spaces)
"#,
    );
}

#[test]
fn missing_explanation() {
    check(
        &[edit(
            "en/01-m/02-b.md",
            r#"Explanation: Because.
"#,
            "",
        )],
        r#"
        c/en/01-m/02-b.md:9:1: error: question `q1` has no explanation: end it with a paragraph starting `Explanation:`
"#,
    );
}

#[test]
fn explanation_before_options() {
    check(
        &[edit(
            "en/01-m/02-b.md",
            r#"Pick one.
"#,
            r#"Explanation: Too early.
"#,
        )],
        r#"
        c/en/01-m/02-b.md:10:1: error: question `q1`: `Explanation:` goes after the options
"#,
    );
}

#[test]
fn question_without_options() {
    check(
        &[set(
            "en/01-m/02-b.md",
            r#"+++
id = "b"
title = "B"
minutes = 5
+++

## Far

:::question id=q1 type=single
Pick one.

:::
"#,
        )],
        r#"
        c/en/01-m/02-b.md:9:1: error: question `q1` has no explanation: end it with a paragraph starting `Explanation:`
        c/en/01-m/02-b.md:9:1: error: question `q1` has no options: list them as `- [x] correct` and `- [ ] wrong` items
"#,
    );
}

#[test]
fn truefalse_with_three_options() {
    check(
        &[edit(
            "en/assessment/bank.md",
            r#"  > No.
"#,
            r#"  > No.
- [ ] Maybe
  > Hm.
"#,
        )],
        r#"
        c/en/assessment/bank.md:4:1: error: question `q2` is truefalse: it has exactly two options, True and False (it has 3)
"#,
    );
}

#[test]
fn answer_key_differs_between_languages() {
    check(
        &[edit(
            "fr/01-m/02-b.md",
            r#"- [x] Yes
  > Good.
- [ ] No"#,
            r#"- [ ] Yes
  > Good.
- [x] No"#,
        )],
        r#"
        c/fr/01-m/02-b.md:9:13: error: question `q1` differs from en: correct option(s) b here, a there; the answer key is the same in every language
"#,
    );
}

#[test]
fn link_to_missing_lesson() {
    check(
        &[edit("en/01-m/01-a.md", "02-b.md#far", "03-c.md")],
        r#"
        c/en/01-m/01-a.md:11:5: error: link to a missing lesson `03-c.md`
"#,
    );
}

#[test]
fn link_to_missing_anchor() {
    check(
        &[edit("en/01-m/01-a.md", "#far", "#near")],
        r#"
        c/en/01-m/01-a.md:11:5: error: link to `02-b.md#near`: lesson `b` has no heading with anchor `#near` (it has: #far)
"#,
    );
}

#[test]
fn link_to_module_file() {
    check(
        &[edit("en/01-m/01-a.md", "02-b.md#far", "module.md")],
        r#"
        c/en/01-m/01-a.md:11:5: error: link to `module.md`: that file is not a lesson (only lessons can be linked)
"#,
    );
}

#[test]
fn javascript_link() {
    check(
        &[edit(
            "en/01-m/01-a.md",
            "02-b.md#far",
            "javascript:alert(1)",
        )],
        r#"
        c/en/01-m/01-a.md:11:5: error: link to `javascript:alert(1)`: only lessons, https:// pages and mailto: addresses can be linked
"#,
    );
}

#[test]
fn image_missing() {
    check(
        &[edit("en/01-m/01-a.md", "pic.svg", "map.svg")],
        r#"
        c/en/01-m/01-a.md:9:1: error: image `../../assets/map.svg` does not exist
"#,
    );
}

#[test]
fn image_without_alt() {
    check(
        &[edit("en/01-m/01-a.md", "![A picture]", "![]")],
        r#"
        c/en/01-m/01-a.md:9:1: error: image `../../assets/pic.svg` has no alt text: say what it shows in `![…]`
"#,
    );
}

#[test]
fn remote_image() {
    check(
        &[edit(
            "en/01-m/01-a.md",
            "../../assets/pic.svg",
            "https://example.org/x.png",
        )],
        r#"
        c/en/01-m/01-a.md:9:1: error: image `https://example.org/x.png`: remote images are not allowed; put the file in the course's assets/ folder
"#,
    );
}

#[test]
fn image_outside_assets() {
    check(
        &[
            edit("en/01-m/01-a.md", "../../assets/pic.svg", "module.md"),
            set("en/01-m/pic.png", "x"),
        ],
        r#"
        c/en/01-m/01-a.md:9:1: error: image `module.md` must be in the course's assets/ folder
        c/en/01-m/pic.png:1:1: warning: ignored: not a Markdown (.md) file
"#,
    );
}

#[test]
fn language_lacks_a_lesson() {
    check(
        &[remove("fr/01-m/02-b.md")],
        r#"
        c/en/01-m/02-b.md:2:6: error: lesson `b` (module `m1`) is missing in language fr: every language has the same lessons
        c/fr/01-m/01-a.md:11:5: error: link to a missing lesson `02-b.md#far`
"#,
    );
}

#[test]
fn language_lacks_a_module() {
    check(
        &[
            remove("fr/01-m/module.md"),
            remove("fr/01-m/01-a.md"),
            remove("fr/01-m/02-b.md"),
        ],
        r#"
        c/en/01-m/module.md:2:6: error: module `m1` is missing in language fr: every language has the same modules
"#,
    );
}

#[test]
fn language_has_lessons_in_another_order() {
    check(
        &[
            set(
                "fr/01-m/01-a.md",
                r#"+++
id = "b"
title = "A"
minutes = 5
+++

## Start

![A picture](../../assets/pic.svg)

See [b](01-a.md#far).
"#,
            ),
            edit("fr/01-m/02-b.md", r#""b""#, r#""a""#),
        ],
        r#"
        c/en/01-m/02-b.md:9:13: error: question `q1` (lesson `b`) is missing in language fr: every language has the same questions
        c/fr/01-m/01-a.md:2:6: error: lessons (module `m1`) are in a different order than in en: `b` comes here where en has `a`
        c/fr/01-m/01-a.md:11:5: error: link to `01-a.md#far`: lesson `b` has no heading with anchor `#far` (it has: #start)
        c/fr/01-m/02-b.md:9:13: error: question `q1` (lesson `a`) is missing in language en: every language has the same questions
"#,
    );
}

#[test]
fn minutes_differ_between_languages() {
    check(
        &[edit("fr/01-m/02-b.md", "minutes = 5", "minutes = 6")],
        r#"
        c/fr/01-m/02-b.md:4:11: error: lesson `b` has minutes = 6 in fr but 5 in en: the structure is the same in every language
"#,
    );
}

#[test]
fn language_lacks_a_bank_question() {
    check(
        &[set(
            "fr/assessment/bank.md",
            r#"+++
+++
"#,
        )],
        r#"
        c/en/assessment/bank.md:4:13: error: question `q2` (assessment bank) is missing in language fr: every language has the same questions
"#,
    );
}

#[test]
fn unclosed_block() {
    check(
        &[append(
            "en/01-m/01-a.md",
            r#"
:::note
Never closed.
"#,
        )],
        r#"
        c/en/01-m/01-a.md:13:1: error: `:::note` block is not closed: add a line `:::` after its content
"#,
    );
}

#[test]
fn unknown_block_kind() {
    check(
        &[append(
            "en/01-m/01-a.md",
            r#"
:::tip
A tip.
:::
"#,
        )],
        r#"
        c/en/01-m/01-a.md:13:1: error: unknown block `:::tip`: use note, warning, checklist, scenario or question
"#,
    );
}

#[test]
fn stray_block_fence() {
    check(
        &[append(
            "en/01-m/01-a.md",
            r#"
:::
"#,
        )],
        r#"
        c/en/01-m/01-a.md:13:1: error: `:::` with no block kind: a block opens with `:::note`, `:::warning`, `:::checklist`, `:::scenario` or `:::question` (is this a stray closing line?)
"#,
    );
}

#[test]
fn nested_block() {
    check(
        &[append(
            "en/01-m/01-a.md",
            r#"
- item

  :::note
  inside a list
  :::
"#,
        )],
        r#"
        c/en/01-m/01-a.md:15:3: error: a `:::note` block cannot be inside another block, a list or a quote; close the outer block first
"#,
    );
}

#[test]
fn question_in_module_intro() {
    check(
        &[set(
            "en/01-m/module.md",
            r#"+++
id = "m1"
title = "M"
+++

Intro.

:::question id=q9 type=single
Pick one.

- [x] Yes
  > Good.
- [ ] No
  > Bad.

Explanation: Because.
:::
"#,
        )],
        r#"
        c/en/01-m/module.md:8:1: error: questions belong in lessons and assessment files, not in module.md
"#,
    );
}

#[test]
fn text_in_bank_file() {
    check(
        &[append(
            "en/assessment/bank.md",
            r#"
Some text.
"#,
        )],
        r#"
        c/en/assessment/bank.md:15:1: error: only `:::question` blocks belong in an assessment file
"#,
    );
}

#[test]
fn quiz_without_questions() {
    check(
        &[
            edit(
                "en/01-m/01-a.md",
                "minutes = 5",
                r#"minutes = 5
kind = "quiz""#,
            ),
            edit(
                "fr/01-m/01-a.md",
                "minutes = 5",
                r#"minutes = 5
kind = "quiz""#,
            ),
        ],
        r#"
        c/en/01-m/01-a.md:2:6: error: quiz `a` has no questions: add `:::question` blocks
        c/fr/01-m/01-a.md:2:6: error: quiz `a` has no questions: add `:::question` blocks
"#,
    );
}

#[test]
fn module_folder_without_module_md() {
    check(
        &[set(
            "en/02-x/01-y.md",
            r#"+++
id = "y"
title = "A"
minutes = 5
+++

## Start

![A picture](../../assets/pic.svg)

See [b](02-b.md#far).
"#,
        )],
        r#"
        c/en/02-x:1:1: error: module folder has no module.md (id, title and objectives of the module)
"#,
    );
}

#[test]
fn svg_with_script() {
    check(
        &[set(
            "assets/pic.svg",
            r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
        )],
        r#"
        c/assets/pic.svg:1:1: error: SVG image cannot be used: it contains a script
"#,
    );
}

#[test]
fn raw_html_is_a_warning() {
    check(
        &[append(
            "en/01-m/01-a.md",
            r#"
<div onclick="x()">hi</div>

Text <b>bold</b>.
"#,
        )],
        r#"
        c/en/01-m/01-a.md:13:1: warning: raw HTML is not allowed; it was removed
        c/en/01-m/01-a.md:15:6: warning: raw HTML is not allowed; it was removed
        c/en/01-m/01-a.md:15:13: warning: raw HTML is not allowed; it was removed
"#,
    );
}

#[test]
fn lesson_without_heading_is_a_warning() {
    check(
        &[edit(
            "en/01-m/01-a.md",
            r#"## Start
"#,
            "",
        )],
        r#"
        c/en/01-m/01-a.md:6:1: warning: lesson has no heading: start sections with `##` so learners can find their way
"#,
    );
}

#[test]
fn heading_level_one_is_a_warning() {
    check(
        &[edit("en/01-m/01-a.md", "## Start", "# Start")],
        r#"
        c/en/01-m/01-a.md:7:1: warning: start headings at `##`: the lesson title comes from the front matter
"#,
    );
}

#[test]
fn unused_asset_is_a_warning() {
    check(
        &[set("assets/unused.png", "png")],
        r#"
        c/assets/unused.png:1:1: warning: asset is not used by any lesson; it is left out of the package
"#,
    );
}

#[test]
fn many_errors_in_one_run() {
    check(
        &[
            edit(
                "course.toml",
                "estimated_minutes = 10",
                "estimated_minute = 10",
            ),
            edit("en/01-m/01-a.md", "02-b.md#far", "03-c.md"),
            edit("en/01-m/02-b.md", "- [x] Yes", "- [ ] Yes"),
            remove("fr/assessment/bank.md"),
        ],
        r#"
        c/course.toml:1:1: error: course.toml: missing key `estimated_minutes`
        c/course.toml:8:1: error: unknown key `estimated_minute` in course.toml; did you mean `estimated_minutes`?
        c/course.toml:14:1: error: [assessment] needs a question bank: add the folder `fr/assessment/` with question files
        c/en/01-m/01-a.md:11:5: error: link to a missing lesson `03-c.md`
        c/en/01-m/02-b.md:9:1: error: question `q1` has no correct answer: mark the right option with `[x]`
        c/en/assessment/bank.md:4:13: error: question `q2` (assessment bank) is missing in language fr: every language has the same questions
"#,
    );
}

#[test]
fn markdown_nested_too_deep_is_refused_without_crashing() {
    let mut files = base();
    let deep = format!("{}\n{} deep\n", LESSON_B, ">".repeat(100_000));
    files.insert("en/01-m/02-b.md".into(), deep.into_bytes());
    let (_, d) = outpost_course::load_files(std::path::Path::new("c"), files);
    assert_eq!(
        d.to_string().trim_end(),
        "c/en/01-m/02-b.md:20:100: error: Markdown nested more than 100 levels deep (quotes, lists or emphasis inside each other)"
    );
}
