//! The dashboard in a real browser: headless Chromium (Debian's, through
//! chromedriver) against a hub serving on 127.0.0.1, seeded through the
//! sync API and the admin functions.

mod common;
mod dashboard_support;

use common::{publisher_key, Backend};
use dashboard_support::*;
use fantoccini::Locator;
use outpost_protocol::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainer_signs_in_reads_the_matrix_opens_a_learner_and_exports_csv() {
    let s = seed(Backend::Sqlite).await;
    let b = Browser::open(&s.f.server.url()).await;

    // Signed out, the cohort sends the browser to sign in, then back.
    let cohort_path = format!("/dashboard/cohorts/{}", s.dakar);
    b.goto(&cohort_path).await;
    assert!(
        b.here().await.starts_with("/dashboard/login?next="),
        "{}",
        b.here().await
    );
    b.sign_in("ada", PASSWORD).await;
    assert_eq!(b.here().await, cohort_path);
    assert_eq!(b.text("h1").await, "Dakar");

    // Rates and the matrix: a status word in every cell, not only a colour.
    let results = b.text("table.stats").await;
    assert!(results.contains("33% (1/3)"), "{results}");
    let rows =
        b.c.find_all(Locator::Css("table.matrix tbody tr"))
            .await
            .unwrap();
    let mut texts = Vec::new();
    for r in &rows {
        texts.push(r.text().await.unwrap());
    }
    assert_eq!(texts.len(), 3, "{texts:?}");
    let row = |name: &str| {
        texts
            .iter()
            .find(|t| t.starts_with(name))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(row("Amina Diallo").matches("Done").count(), 3, "{texts:?}");
    assert!(
        row("Amina Diallo").contains("75%"),
        "3 of 4 in the final assessment"
    );
    assert!(row("Bruno Sow").contains("In progress 1/2"), "{texts:?}");
    assert!(row("Chloé Ndiaye").contains("Not started"), "{texts:?}");
    let plot =
        b.c.find(Locator::Css("svg.plot[role=img] title"))
            .await
            .unwrap();
    assert!(plot
        .html(true)
        .await
        .unwrap()
        .contains("Learners who completed"));
    b.screenshot("cohort").await;

    // The learner: lessons, answers graded again, devices.
    b.click("table.matrix a[href^='/dashboard/learners/']")
        .await;
    assert_eq!(b.text("h1").await, "Amina Diallo");
    b.screenshot("learner").await;
    assert!(b
        .here()
        .await
        .ends_with(&s.amina.enrolled.learner_id.to_string()));
    let answers = b.text("#answers + .table-wrap table").await;
    assert!(
        answers.contains("Question quiz-q1? b) Option b ✓ right b) Option b"),
        "{answers}"
    );
    // bank-4's correct option is b.
    assert!(
        answers.contains("Question bank-4? a) Option a ✗ wrong b) Option b"),
        "{answers}"
    );
    let devices = b.text("#devices + .table-wrap table").await;
    assert!(
        devices.contains("Amina Diallo's laptop") && devices.contains("synced 0 days ago"),
        "{devices}"
    );

    // The matrix as CSV, with the session of this browser.
    let web = b.web().await;
    let csv = web
        .csv(&format!(
            "/dashboard/cohorts/{}?course=demo&format=csv&table=matrix",
            s.dakar
        ))
        .await;
    assert_eq!(
        csv[0],
        vec![
            "Learner",
            "Module m1 (en)",
            "Module m2 (en)",
            "Course",
            "Best score",
            "Time spent (minutes)",
            "Last activity"
        ]
    );
    assert_eq!(csv.len(), 4, "{csv:?}");
    let amina = csv.iter().find(|r| r[0] == "Amina Diallo").unwrap();
    assert_eq!(&amina[1..5], &["Done", "Done", "Done", "75%"]);
    assert_eq!(amina[5], "7", "3 lessons of 60 s and two quizzes of 120 s");
    let chloe = csv.iter().find(|r| r[0] == "Chloé Ndiaye").unwrap();
    assert_eq!(&chloe[1..4], &["Not started", "Not started", "Not started"]);

    // Item analysis names the question and the wrong option Bruno chose.
    b.goto("/dashboard/items").await;
    let items = b.text("main table").await;
    assert!(items.contains("Question quiz-q1?"), "{items}");
    assert!(items.contains("c) Option c: 1"), "{items}");
    b.screenshot("items").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_and_progress_files_are_uploaded_in_the_browser() {
    let s = seed(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let b = Browser::open(&s.f.server.url()).await;
    b.goto("/dashboard/courses").await;
    b.sign_in("ada", PASSWORD).await;
    assert_eq!(b.here().await, "/dashboard/courses");

    // A package by an unknown publisher is refused with the reason.
    let foreign = dir.path().join("foreign.opkg");
    outpost_package::write_package(
        &foreign,
        &outpost_package::sample::content("9.0.0"),
        &ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
    )
    .unwrap();
    b.fill("#package", &foreign.display().to_string()).await;
    b.click("form[action='/dashboard/courses/upload'] button")
        .await;
    assert!(b.text("main").await.contains("does not trust"));
    assert!(s.f.hub().package("demo", "9.0.0").await.is_err());

    // Version 1.1.0 drops lesson l2: the summary says so before publishing.
    let mut content = outpost_package::sample::content("1.1.0");
    content.structure.modules[0]
        .lessons
        .retain(|l| l.id != "l2");
    content.lessons.retain(|l| l.lesson_id != "l2");
    let update = dir.path().join("demo-1.1.0.opkg");
    outpost_package::write_package(&update, &content, &publisher_key()).unwrap();
    b.goto("/dashboard/courses").await;
    b.fill("#package", &update.display().to_string()).await;
    b.click("form[action='/dashboard/courses/upload'] button")
        .await;
    assert!(b.here().await.starts_with("/dashboard/courses/staged/"));
    let summary = b.text("main").await;
    assert!(summary.contains("from version 1.0.0"), "{summary}");
    assert!(summary.contains("Lessons removed (1)"), "{summary}");
    assert!(
        summary.contains("Registration of nationals (en)"),
        "{summary}"
    );
    assert!(
        s.f.hub().package("demo", "1.1.0").await.is_err(),
        "nothing published yet"
    );
    b.screenshot("staged").await;
    b.click("form[action$='/publish'] button").await;
    assert_eq!(b.here().await, "/dashboard/courses?done=published");
    assert!(b.text(".notice").await.contains("published"));
    assert_eq!(
        s.f.hub().latest_packages().await.unwrap()["demo"].version,
        "1.1.0"
    );

    // A progress file from a post without network, and its receipt.
    let mut bruno = s.bruno;
    let viewed = bruno.view("l3", true);
    let file = write_progress_file(
        &ProgressFile {
            protocol: PROTOCOL_VERSION,
            file_id: uuid::Uuid::now_v7(),
            device_id: bruno.device_id,
            learner_id: bruno.profile_id,
            created_at: chrono::Utc::now(),
            events: vec![viewed.clone()],
        },
        &bruno.key,
    );
    let path = dir.path().join("bruno.progress");
    std::fs::write(&path, &file).unwrap();
    b.goto("/dashboard/progress-files").await;
    b.fill("#progress-file", &path.display().to_string()).await;
    b.click("form[action='/dashboard/progress-files'] button")
        .await;
    assert!(b.text("#import-done").await.contains("1 events"));
    assert!(b.text("main table").await.contains("accepted (new) 1"));
    let href =
        b.c.find(Locator::Css("#receipt-link"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
    let res = b.web().await.get(&href).await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    let hub_key = public_key_from_hex(&bruno.enrolled.hub_public_key).unwrap();
    let receipt = read_receipt(&bytes).unwrap().verify(&hub_key).unwrap();
    assert_eq!(receipt.results.len(), 1);
    assert_eq!(receipt.results[0].id, viewed.id);
    assert_eq!(receipt.results[0].status, EventStatus::Accepted);
    let progress =
        s.f.hub()
            .progress(bruno.enrolled.learner_id, "demo")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(progress["lessons"]["l3"]["status"], "done");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_csrf_sign_out_lockout_and_french() {
    let s = seed(Backend::Sqlite).await;
    let base = s.f.server.url();
    let b = Browser::open(&base).await;
    b.goto("/dashboard/cohorts").await;
    b.sign_in("tom", PASSWORD).await;
    let list = b.text("main table").await;
    assert!(
        list.contains("Conakry") && !list.contains("Bamako") && !list.contains("Dakar"),
        "{list}"
    );
    let web = b.web().await;

    // Another trainer's cohort and learner, by URL: not found.
    b.goto(&format!("/dashboard/cohorts/{}", s.bamako)).await;
    assert!(b.text("h1").await.starts_with("404"));
    assert_eq!(
        web.get(&format!("/dashboard/cohorts/{}", s.bamako))
            .await
            .status(),
        404
    );
    assert_eq!(
        web.get(&format!(
            "/dashboard/cohorts/{}/members?format=csv",
            s.bamako
        ))
        .await
        .status(),
        404
    );
    assert_eq!(
        web.get(&format!(
            "/dashboard/learners/{}",
            s.dara.enrolled.learner_id
        ))
        .await
        .status(),
        404
    );
    let revoke = format!("/dashboard/devices/{}/revoke", s.dara.device_id);
    let csrf = web.csrf.clone();
    assert_eq!(web.post(&revoke, &[("csrf", &csrf)]).await.status(), 404);

    // A form whose CSRF token was removed is refused and changes nothing.
    b.goto("/dashboard/cohorts").await;
    b.c.execute(
        "document.querySelector(\"form[action='/dashboard/cohorts'] input[name=csrf]\").remove()",
        vec![],
    )
    .await
    .unwrap();
    b.fill("#cohort-name", "Sneaky").await;
    b.click("form[action='/dashboard/cohorts'] button").await;
    assert!(b.text("h1").await.starts_with("403"));
    assert!(b
        .text(".error")
        .await
        .contains("did not come from this dashboard"));
    assert_eq!(
        web.post("/dashboard/cohorts", &[("name", "Sneaky")])
            .await
            .status(),
        403
    );
    assert_eq!(
        web.post(
            "/dashboard/cohorts",
            &[("name", "Sneaky"), ("csrf", "0000")]
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        common::count(s.f.hub().db.as_ref(), "cohorts WHERE name = 'Sneaky'").await,
        0
    );
    // With the token it works, and the new cohort is Tom's.
    assert_eq!(
        web.post("/dashboard/cohorts", &[("name", "Lomé"), ("csrf", &csrf)])
            .await
            .status(),
        303
    );
    assert_eq!(
        common::count(
            s.f.hub().db.as_ref(),
            "cohorts WHERE name = 'Lomé' AND trainer = 'tom'"
        )
        .await,
        1
    );

    // Signing out ends the session: the same cookie opens nothing.
    b.goto("/dashboard/cohorts").await;
    b.click("form.logout button").await;
    assert_eq!(b.here().await, "/dashboard/login");
    b.goto("/dashboard/silent").await;
    assert_eq!(b.here().await, "/dashboard/login?next=/dashboard/silent");
    let after = web.get("/dashboard/cohorts").await;
    assert_eq!(after.status(), 303);

    // Five wrong passwords lock the account, even for the right one.
    for _ in 0..5 {
        b.sign_in("tina", "not her password").await;
        assert_eq!(b.text("#login-error").await, "Wrong username or password.");
    }
    b.sign_in("tina", PASSWORD).await;
    assert!(
        b.text("#login-error").await.contains("locked"),
        "locked out"
    );
    assert!(b.here().await.starts_with("/dashboard/login"));
    // Another user from the same address is not locked by Tina's failures.
    b.sign_in("ada", PASSWORD).await;
    assert_eq!(b.here().await, "/dashboard/silent");

    // The language switch: French everywhere, saved for the next pages.
    b.c.find(Locator::Css("#lang-switch"))
        .await
        .unwrap()
        .select_by_value("fr")
        .await
        .unwrap();
    b.click("form.lang button").await;
    assert_eq!(
        b.c.find(Locator::Css("html"))
            .await
            .unwrap()
            .attr("lang")
            .await
            .unwrap()
            .as_deref(),
        Some("fr")
    );
    assert!(b.text("header nav").await.contains("Appareils silencieux"));
    b.goto("/dashboard/cohorts").await;
    assert_eq!(b.text("h1").await, "Cohortes");

    // From the keyboard: the first Tab reaches the skip link, which moves
    // focus to the content; every form field has its label.
    b.c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let focused = b.c.active_element().await.unwrap();
    assert_eq!(focused.text().await.unwrap(), "Aller au contenu");
    assert_eq!(
        focused.attr("href").await.unwrap().as_deref(),
        Some("#main")
    );
    let outline = focused.css_value("outline-style").await.unwrap();
    assert_eq!(outline, "solid", "focus is visible");
    let unlabelled: serde_json::Value =
        b.c.execute(
            "return [...document.querySelectorAll('input:not([type=hidden]), select')]\
               .filter(e => !document.querySelector(`label[for='${e.id}']`)).length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(unlabelled, 0);
    b.close().await;
}
