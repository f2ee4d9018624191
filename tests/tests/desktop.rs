//! The desktop app in a real window (Xvfb + tauri-driver + WebKitWebDriver),
//! driven as a learner would: by labels, button names, headings and the text
//! on screen. The answers come from the bundled course's package.

use anyhow::{ensure, Context, Result};
use outpost_e2e::course::{right_answer, squash, visible_text, wrong_answer, Course};
use outpost_e2e::{
    bundled_package, bundled_signing_key, keep_screenshot, xpath_literal, App, Harness,
};
use outpost_model::LessonKind;
use std::time::Duration;

async fn create_profile(app: &App, name: &str, language: &str) -> Result<()> {
    app.heading("Welcome to Outpost").await?;
    app.fill("Your name", name).await?;
    let typed_into = app.field("Your name").await?;
    app.choose("Language", language).await?;
    // The form is now in that language, and the name typed is still there,
    // in the very field it was typed into.
    let kept = typed_into.prop("value").await?;
    ensure!(
        kept.as_deref() == Some(name),
        "choosing {language} kept the name as {kept:?}"
    );
    app.click_button(create_label(language)).await?;
    Ok(())
}

/// The button's name in the language just chosen on the first-run form.
fn create_label(language: &str) -> &'static str {
    match language {
        "العربية" => "إنشاء الملف الشخصي",
        "Français" => "Créer le profil",
        "Español" => "Crear perfil",
        _ => "Create profile",
    }
}

async fn keep(app: &App, name: &str) -> Result<()> {
    let path = app.screenshot(name).await?;
    keep_screenshot(&path)
}

/// The box (fieldset or group) that shows the question whose stem is `stem`.
fn question_box_xpath(stem: &str) -> String {
    format!(
        "//*[self::fieldset or @role='group'][contains(@class,'question-box')]\
         [.//*[contains(@class,'stem')][contains(normalize-space(.), {})]]",
        xpath_literal(stem)
    )
}

/// Tick exactly the options `choice` in a question's box, finding each
/// option by its visible text (exactly, else the one label containing it).
async fn choose_options(
    app: &App,
    course: &Course,
    stem: &str,
    q: &outpost_package::QuestionText,
    choice: &[String],
) -> Result<()> {
    let bx = question_box_xpath(stem);
    app.wait_xpath(&format!("{bx}//label")).await?;
    let labels = app
        .client
        .find_all(fantoccini::Locator::XPath(&format!("{bx}//label")))
        .await?;
    let mut texts = Vec::new();
    for l in &labels {
        texts.push(squash(&l.text().await?));
    }
    for o in &q.options {
        let want = course.option_text(q, &o.id)?;
        let at = texts
            .iter()
            .position(|t| *t == want)
            .or_else(|| texts.iter().position(|t| t.contains(&want)))
            .with_context(|| format!("option {want:?} of {} among {texts:?}", q.question_id))?;
        let input = labels[at].find(fantoccini::Locator::Css("input")).await?;
        if input.is_selected().await? != choice.contains(&o.id) {
            app.click(&labels[at]).await?;
        }
    }
    Ok(())
}

/// Within the question box, click the named button.
async fn click_in_box(app: &App, stem: &str, button: &str) -> Result<()> {
    let b = app
        .wait_xpath(&format!(
            "{}//button[normalize-space(.)={}]",
            question_box_xpath(stem),
            xpath_literal(button)
        ))
        .await?;
    app.click(&b).await
}

async fn see_in_box(app: &App, stem: &str, text: &str) -> Result<()> {
    app.wait_xpath(&format!(
        "{}//*[contains(normalize-space(.), {})]",
        question_box_xpath(stem),
        xpath_literal(text)
    ))
    .await
    .with_context(|| format!("expected {text:?} in the box of {stem:?}"))?;
    Ok(())
}

/// Read the open lesson to its end and wait until the app says so.
async fn read_to_end(app: &App) -> Result<()> {
    app.scroll_to(1.0).await?;
    app.see("You reached the end of this lesson.").await?;
    Ok(())
}

/// Answer a knowledge check wrong, then right, checking what the learner is
/// told each time.
async fn knowledge_check(app: &App, course: &Course, question: &str) -> Result<()> {
    let (key, q) = course.question(question)?;
    let stem = visible_text(&q.stem_html);
    let wrong = wrong_answer(key);
    choose_options(app, course, &stem, q, &wrong).await?;
    click_in_box(app, &stem, "Check answer").await?;
    see_in_box(app, &stem, "Not quite.").await?;
    // The feedback of a wrong option chosen is shown under it.
    let wrong_option = wrong
        .iter()
        .find(|o| !key.correct_ids().contains(&o.as_str()))
        .context("a wrong answer has a wrong option")?;
    see_in_box(app, &stem, &course.feedback_text(q, wrong_option)?).await?;
    choose_options(app, course, &stem, q, &right_answer(key)).await?;
    click_in_box(app, &stem, "Check answer").await?;
    see_in_box(app, &stem, "Correct.").await?;
    see_in_box(app, &stem, &visible_text(&q.explanation_html)).await?;
    Ok(())
}

/// In an open attempt: answer every question shown (right or wrong), then
/// submit. Module quizzes check each answer as it is given.
async fn answer_attempt(app: &App, course: &Course, right: bool, check_each: bool) -> Result<u32> {
    app.button("Submit answers").await?;
    let boxes = app
        .client
        .find_all(fantoccini::Locator::XPath(
            "//form//fieldset[contains(@class,'question-box')]",
        ))
        .await?;
    ensure!(!boxes.is_empty(), "the attempt shows no question");
    let mut stems = Vec::new();
    for b in &boxes {
        stems.push(b.text().await?);
    }
    for shown in &stems {
        let (key, q) = course.question_shown_in(shown)?;
        let stem = visible_text(&q.stem_html);
        let answer = if right {
            right_answer(key)
        } else {
            wrong_answer(key)
        };
        choose_options(app, course, &stem, q, &answer).await?;
        if check_each {
            click_in_box(app, &stem, "Check answer").await?;
            see_in_box(app, &stem, if right { "Correct." } else { "Not quite." }).await?;
        }
    }
    app.click_button("Submit answers").await?;
    Ok(stems.len() as u32)
}

#[tokio::test]
async fn a_learner_studies_the_course_to_its_certificate_and_is_resumed_after_a_restart(
) -> Result<()> {
    let course = Course::read(&bundled_package()?)?;
    let h = Harness::start("journey")?;
    h.within(async {
        let app = h.launch().await?;

        app.heading("Welcome to Outpost").await?;
        keep(&app, "welcome").await?;
        create_profile(&app, "Amina Diallo", "English").await?;
        app.heading("Your courses").await?;
        // The sync area is honest from the first screen on.
        app.see("no hub set").await?;
        keep(&app, "catalog").await?;

        app.click_link(course.title()).await?;
        app.heading("To complete this course").await?;
        keep(&app, "outline").await?;

        let lessons = course.lessons_in_order();
        let (first_id, _, first_title) = lessons.first().context("the course has lessons")?;
        app.click_link(first_title).await?;
        app.heading(first_title).await?;
        // The lesson says which module it belongs to.
        app.see(course.module_title(&course.lesson(first_id)?.module_id))
            .await?;

        let mut checks_done = false;
        let mut quizzes_done = 0;
        for (i, (id, kind, title)) in lessons.iter().enumerate() {
            app.heading(title)
                .await
                .with_context(|| format!("lesson {id}"))?;
            match kind {
                LessonKind::Lesson => {
                    let info = course
                        .structure
                        .lesson(id)
                        .context("lesson in structure")?
                        .1;
                    if !checks_done {
                        if let Some(q) = info.questions.first() {
                            knowledge_check(&app, &course, q).await?;
                            keep(&app, "lesson-knowledge-check").await?;
                            checks_done = true;
                        }
                    }
                    if i == 0 {
                        keep(&app, "lesson").await?;
                    }
                    read_to_end(&app).await?;
                }
                LessonKind::Quiz => {
                    app.click_button("Start the quiz").await?;
                    let n = answer_attempt(&app, &course, true, true).await?;
                    app.see(&format!("Your score: {n} of {n} (100%)")).await?;
                    if quizzes_done == 0 {
                        keep(&app, "module-quiz-result").await?;
                    }
                    quizzes_done += 1;
                }
            }
            if let Some((_, _, next_title)) = lessons.get(i + 1) {
                app.click_link(&format!("Next: {next_title}")).await?;
            }
        }
        ensure!(checks_done, "the course has a knowledge check to try");

        // Every module is done: the outline says so; now the final assessment.
        app.click_link("Course outline").await?;
        app.heading("To complete this course").await?;
        if course.structure.assessment.is_some() {
            app.click_link("Take the final assessment").await?;
            app.click_button("Start the assessment").await?;
            // A first attempt with every answer wrong fails…
            answer_attempt(&app, &course, false, false).await?;
            app.see("Not passed").await?;
            app.heading("Review of your answers").await?;
            keep(&app, "assessment-failed").await?;
            // …and the retry, with fresh questions, passes.
            app.click_button("Try again").await?;
            let n = answer_attempt(&app, &course, true, false).await?;
            app.see(&format!("Your score: {n} of {n} (100%) — Passed"))
                .await?;
            keep(&app, "assessment-passed").await?;
        }

        app.click_link("My progress").await?;
        app.see("You have completed this course.").await?;
        keep(&app, "progress").await?;
        app.click_link("View certificate").await?;
        app.heading("Certificate of completion").await?;
        app.see("Amina Diallo").await?;
        app.see("Pending confirmation").await?;
        app.see(&course.manifest.version).await?;
        keep(&app, "certificate").await?;

        // Leave a long lesson half read, then restart the app.
        let long = lessons
            .iter()
            .filter(|(_, k, _)| *k == LessonKind::Lesson)
            .max_by_key(|(id, ..)| course.lesson(id).map(|l| l.text.len()).unwrap_or(0))
            .context("a lesson")?;
        app.click_link("Courses").await?;
        app.click_link(course.title()).await?;
        app.click_link(&long.2).await?;
        app.heading(&long.2).await?;
        // The resume position is only tested if the lesson scrolls: the
        // longest one must.
        ensure!(app.scrolls().await?, "{} does not scroll", long.2);
        app.scroll_to(0.5).await?;
        // Let the scroll settle before leaving (the position is read on leaving).
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.click_link("Courses").await?;
        app.heading("Your courses").await?;
        app.close().await?;

        let app = h.launch().await?;
        // No PIN: the last learner is back, and offered to carry on.
        app.heading("Continue where you left off").await?;
        app.see("Learner: Amina Diallo").await?;
        app.click_link(&format!("Continue: {}", long.2)).await?;
        app.heading(&long.2).await?;
        let mut f = 0.0;
        for _ in 0..50 {
            f = app.scroll_fraction().await?;
            if f > 0.3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure!(
            (0.3..=0.7).contains(&f),
            "resumed at {f:.2} of the lesson, left at 0.5"
        );
        app.close().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn arabic_turns_the_whole_layout_right_to_left() -> Result<()> {
    let course = Course::read(&bundled_package()?)?;
    let h = Harness::start("arabic")?;
    h.within(async {
        let app = h.launch().await?;
        create_profile(&app, "Karim", "English").await?;
        app.heading("Your courses").await?;
        let nav = app.region("Navigation").await?;
        let main = app.client.find(fantoccini::Locator::Css("main")).await?;
        let (nav_x, _) = app.horizontal_extent(&nav).await?;
        let (main_x, _) = app.horizontal_extent(&main).await?;
        ensure!(nav_x < main_x, "in English the navigation is on the left");

        app.click_link("Settings").await?;
        app.choose("Language of the interface and courses", "العربية")
            .await?;
        app.click_button("Save").await?;
        app.heading("الإعدادات").await?;
        let dir = app.eval("return document.documentElement.dir").await?;
        let lang = app.eval("return document.documentElement.lang").await?;
        ensure!(dir == "rtl" && lang == "ar", "dir={dir} lang={lang}");

        app.click_link("الدورات").await?;
        app.heading("دوراتك").await?;
        let nav = app.region("التنقل").await?;
        let main = app.client.find(fantoccini::Locator::Css("main")).await?;
        let (nav_x, nav_w) = app.horizontal_extent(&nav).await?;
        let (main_x, main_w) = app.horizontal_extent(&main).await?;
        let width = app
            .eval("return document.documentElement.clientWidth")
            .await?;
        ensure!(
            nav_x > main_x,
            "in Arabic the navigation is on the right (nav at {nav_x}, main at {main_x})"
        );
        let width = width.as_f64().unwrap_or(0.0);
        ensure!(
            nav_x + nav_w > 0.9 * width,
            "the navigation sits at the right edge ({nav_x} + {nav_w} of {width})"
        );
        ensure!(main_w > 0.0, "main is laid out");
        keep(&app, "catalog-ar").await?;

        // The course has no Arabic text: it is shown in its own language, and
        // the learner is told so, in Arabic.
        app.click_link(course.title()).await?;
        if !course.manifest.languages.iter().any(|l| l == "ar") {
            // The languages are named in Arabic, not as their endonyms.
            app.see("وهو معروض باللغة الإنجليزية").await?;
        }
        app.heading("لإكمال هذه الدورة").await?;
        keep(&app, "outline-ar").await?;
        app.close().await?;
        Ok(())
    })
    .await
}

/// A word from the middle of a long lesson, rare enough to find that lesson.
fn search_term(course: &Course) -> Result<(String, String)> {
    let mut best: Option<(usize, String, String)> = None;
    for (id, kind, title) in course.lessons_in_order() {
        if kind != LessonKind::Lesson {
            continue;
        }
        let text = &course.lesson(&id)?.text;
        let words: Vec<&str> = text.split_whitespace().collect();
        let half = &words[words.len() / 2..];
        for w in half {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            if w.chars().count() < 9 || !w.chars().all(char::is_alphabetic) {
                continue;
            }
            let lower = w.to_lowercase();
            let lessons_with = course
                .lessons_in_order()
                .iter()
                .filter(|(i, ..)| {
                    course
                        .lesson(i)
                        .map(|l| l.text.to_lowercase().contains(&lower))
                        .unwrap_or(false)
                })
                .count();
            if lessons_with == 1 && best.as_ref().is_none_or(|b| text.len() > b.0) {
                best = Some((text.len(), w.to_string(), title.clone()));
                break;
            }
        }
    }
    best.map(|(_, w, t)| (w, t))
        .context("no word that only one lesson has")
}

#[tokio::test]
async fn the_handbook_search_opens_the_lesson_at_the_match() -> Result<()> {
    let course = Course::read(&bundled_package()?)?;
    let (term, lesson_title) = search_term(&course)?;
    let h = Harness::start("search")?;
    h.within(async {
        let app = h.launch().await?;
        create_profile(&app, "Lucía", "Español").await?;
        // Spanish is not in every course; the interface is, so switch to
        // English to read the course as the answer key does.
        app.click_link("Configuración").await?;
        app.choose("Idioma de la interfaz y de los cursos", "English")
            .await?;
        app.click_button("Guardar").await?;
        app.heading("Settings").await?;

        app.click_link("Search the handbook").await?;
        app.fill("Search all courses", &term).await?;
        app.click_button("Search").await?;
        app.see("for “").await?;
        let hit = app.link(&lesson_title).await?;
        // The snippet highlights the word.
        let marked = app
            .wait_xpath("//ul[contains(@class,'results')]//mark")
            .await?
            .text()
            .await?;
        ensure!(
            squash(&marked)
                .to_lowercase()
                .contains(&term.to_lowercase().chars().take(4).collect::<String>()),
            "highlighted {marked:?} for {term:?}"
        );
        keep(&app, "search").await?;
        app.click(&hit).await?;
        app.heading(&lesson_title).await?;
        let found = app
            .wait_xpath("//article//mark[contains(@class,'found')]")
            .await?;
        ensure!(
            squash(&found.text().await?).to_lowercase() == term.to_lowercase(),
            "the match is marked in the lesson"
        );
        // …and scrolled into view.
        let mut visible = false;
        for _ in 0..30 {
            let v = app
                .eval(
                    "const m = document.querySelector('article mark.found').getBoundingClientRect();\
                     return m.top >= 0 && m.bottom <= window.innerHeight;",
                )
                .await?;
            if v.as_bool() == Some(true) {
                visible = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure!(visible, "the match is on screen");
        keep(&app, "search-match").await?;
        app.close().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_shared_laptop_keeps_each_learner_behind_their_pin() -> Result<()> {
    let h = Harness::start("profiles")?;
    h.within(async {
        let app = h.launch().await?;
        app.heading("Welcome to Outpost").await?;
        app.fill("Your name", "Fatou").await?;
        app.fill("PIN (optional)", "4321").await?;
        app.click_button("Create profile").await?;
        app.heading("Your courses").await?;

        app.click_link("Switch profile").await?;
        app.heading("Who is learning?").await?;
        app.click_link("Add a profile").await?;
        app.fill("Your name", "Omar").await?;
        app.click_button("Create profile").await?;
        app.see("Learner: Omar").await?;

        app.click_link("Switch profile").await?;
        app.click_button("Open Fatou").await?;
        app.fill("PIN for Fatou", "0000").await?;
        app.click_button("Open").await?;
        app.see("wrong PIN").await?;
        app.fill("PIN for Fatou", "4321").await?;
        app.click_button("Open").await?;
        app.see("Learner: Fatou").await?;
        app.close().await?;

        // A profile with a PIN is not opened by itself after a restart.
        let app = h.launch().await?;
        app.heading("Who is learning?").await?;
        app.close().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_bad_course_file_gets_a_clear_refusal_and_the_real_one_a_summary() -> Result<()> {
    let h = Harness::start("import")?;
    h.within(async {
        let junk = h.data_dir().join("not-a-course.opkg");
        std::fs::write(&junk, b"this is not a course package")?;
        let app = h.launch().await?;
        create_profile(&app, "Ana", "English").await?;
        app.click_link("Import a course").await?;
        // The native file dialog is wired (WebDriver cannot drive it, so the
        // test types the path into the field beside it).
        app.button("Choose a file…").await?;
        let dialog = app
            .eval("return typeof (window.__TAURI__.dialog || {}).open")
            .await?;
        ensure!(
            dialog == "function",
            "the dialog plugin is missing: {dialog}"
        );
        app.fill("Package file", &junk.display().to_string())
            .await?;
        app.click_button("Check the package").await?;
        app.see("not an Outpost course package").await?;
        // The screen is still there to try again.
        app.heading("Import a course").await?;

        let bundled = bundled_package()?;
        let course = Course::read(&bundled)?;
        app.fill("Package file", &bundled.path().display().to_string())
            .await?;
        app.click_button("Check the package").await?;
        app.see(&format!(
            "{} version {} is already installed.",
            course.title(),
            course.manifest.version
        ))
        .await?;

        // An update: the next version, with the first lesson retitled, signed
        // by the same publisher. What changes is shown before anything does.
        let mut content = bundled.read_content()?;
        let next = format!("{}-update", course.manifest.version);
        let next = match course.manifest.version.rsplit_once('.') {
            Some((head, patch)) => patch
                .parse::<u32>()
                .map(|p| format!("{head}.{}", p + 1))
                .unwrap_or(next),
            None => next,
        };
        content.manifest.version = next.clone();
        content.structure.version = next.clone();
        let (first_id, _, _) = course.lessons_in_order().remove(0);
        for l in content
            .lessons
            .iter_mut()
            .filter(|l| l.lesson_id == first_id)
        {
            l.title = format!("{} (revised)", l.title);
        }
        let update = h
            .data_dir()
            .join(format!("{}-{next}.opkg", course.manifest.id));
        outpost_package::write_package(&update, &content, &bundled_signing_key()?)?;
        app.fill("Package file", &update.display().to_string())
            .await?;
        app.click_button("Check the package").await?;
        app.see(&format!(
            "Update of {} from version {} to {next}",
            course.title(),
            course.manifest.version
        ))
        .await?;
        let changed = app
            .wait_xpath("//table//tr[th[normalize-space(.)='Changed']]/td")
            .await?
            .text()
            .await?;
        ensure!(changed.contains(&first_id), "changed: {changed}");
        app.see("Your progress on lessons that remain is kept.")
            .await?;
        keep(&app, "import").await?;
        app.click_button("Install").await?;
        app.see(&format!("{} version {next} is installed.", course.title()))
            .await?;
        app.close().await?;
        Ok(())
    })
    .await
}

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// Press keys on whatever has the focus.
async fn press(app: &App, keys: &str) -> Result<()> {
    app.client.active_element().await?.send_keys(keys).await?;
    Ok(())
}

async fn focused_text(app: &App) -> Result<String> {
    Ok(squash(&app.client.active_element().await?.text().await?))
}

#[tokio::test]
async fn the_keyboard_alone_reaches_a_lesson_and_focus_is_always_visible() -> Result<()> {
    let course = Course::read(&bundled_package()?)?;
    let h = Harness::start("keyboard")?;
    h.within(async {
        let app = h.launch().await?;
        app.heading("Welcome to Outpost").await?;
        // Each screen puts the focus on its heading; the next Tab is the form's
        // first field, then language, PIN and the button.
        press(&app, TAB).await?;
        let name = app.field("Your name").await?;
        ensure!(
            app.client.active_element().await?.element_id() == name.element_id(),
            "Tab from the heading reaches the name field"
        );
        press(&app, "Nadia").await?;
        press(&app, TAB).await?; // language
        press(&app, TAB).await?; // PIN
        press(&app, TAB).await?; // Create profile
        ensure!(
            focused_text(&app).await? == "Create profile",
            "the form's button is reached by Tab"
        );
        press(&app, ENTER).await?;
        app.heading("Your courses").await?;

        // Tab through the page until the course link has the focus; the focus
        // ring shows on every stop.
        let mut found = false;
        for _ in 0..40 {
            press(&app, TAB).await?;
            let outline = app
                .eval("return getComputedStyle(document.activeElement).outlineStyle")
                .await?;
            ensure!(
                outline != "none",
                "no visible focus on {:?}",
                focused_text(&app).await?
            );
            if focused_text(&app).await? == course.title() {
                found = true;
                break;
            }
        }
        ensure!(found, "the course is reachable with Tab");
        press(&app, ENTER).await?;
        app.heading("To complete this course").await?;
        app.close().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_french_learner_reads_french_where_the_course_has_it_and_is_told_where_not() -> Result<()>
{
    // The demo course has English and French; the flagship only English.
    let h = Harness::start("french")?;
    h.within(async {
        let demo_dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/courses/demo-course");
        let built = outpost_course::build(&demo_dir, h.data_dir(), &bundled_signing_key()?)?;
        let demo = outpost_package::Package::open(&built.packages[0].path)?;
        let demo_fr = demo.manifest().title_in("fr").0.to_string();
        let first = &demo.structure().modules[0].lessons[0].id;
        let lesson_fr = demo
            .lesson("fr", first)?
            .context("the demo course has French text")?
            .title;
        let flagship = Course::read(&bundled_package()?)?;

        let app = h.launch().await?;
        create_profile(&app, "Awa", "Français").await?;
        app.heading("Vos cours").await?;
        app.click_link("Importer un cours").await?;
        app.fill(
            "Fichier du paquet",
            &built.packages[0].path.display().to_string(),
        )
        .await?;
        app.click_button("Vérifier le paquet").await?;
        app.click_button("Installer").await?;
        app.see("est installé").await?;

        app.click_link("Cours").await?;
        app.click_link(&demo_fr).await?;
        app.heading("Pour terminer ce cours").await?;
        app.click_link(&lesson_fr).await?;
        app.heading(&lesson_fr).await?;
        let notes = app
            .client
            .find_all(fantoccini::Locator::Css(".note-fallback"))
            .await?;
        ensure!(notes.is_empty(), "French text needs no fallback note");
        keep(&app, "lesson-fr").await?;

        app.click_link("Cours").await?;
        app.click_link(flagship.title()).await?;
        app.see("Ce contenu n’existe pas en français ; il est affiché en anglais.")
            .await?;
        app.close().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_data_folder_that_is_not_outposts_gets_a_message_not_a_blank_window() -> Result<()> {
    let h = Harness::start("bad-data")?;
    h.within(async {
        // Someone pointed the app at a folder whose database is something else.
        std::fs::write(
            h.data_dir().join("outpost.db"),
            b"SQLite format 3\0 this is not really a database at all, just bytes",
        )?;
        let app = h.launch().await?;
        app.heading("Something went wrong").await?;
        let panel = app
            .wait_xpath("//*[@role='alert'][contains(@class,'error-panel')]")
            .await?
            .text()
            .await?;
        ensure!(
            panel.contains("outpost.db"),
            "the message names the file: {panel}"
        );
        app.button("Try again").await?;
        keep(&app, "error").await?;
        app.close().await?;
        Ok(())
    })
    .await
}
