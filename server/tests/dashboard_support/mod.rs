//! Shared by the dashboard tests: a seeded hub (users, cohorts, learners
//! who enrolled and synced through the real API), a signed-in HTTP client,
//! and headless Chromium driven over WebDriver.

#![allow(dead_code)]

use crate::common::{Backend, Device, Fixture};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub const PASSWORD: &str = "correct horse battery";

/// Everyone the tests need: an admin, two trainers with a cohort each, and
/// learners in the fixture's cohort "Dakar" (no trainer).
pub struct Seeded {
    pub f: Fixture,
    pub dakar: String,
    /// Tina's cohort, with one learner.
    pub bamako: String,
    /// Tom's cohort, empty.
    pub conakry: String,
    /// Finished and passed the demo course.
    pub amina: Device,
    /// Read the first lesson only; answered the module quiz wrongly.
    pub bruno: Device,
    /// Enrolled, never synced anything.
    pub chloe: Device,
    /// In Bamako; finished module m1.
    pub dara: Device,
}

pub async fn seed(backend: Backend) -> Seeded {
    let f = Fixture::new(backend).await;
    let hub = f.hub().clone();
    hub.create_user("ada", "admin", PASSWORD).await.unwrap();
    hub.create_user("tina", "trainer", PASSWORD).await.unwrap();
    hub.create_user("tom", "trainer", PASSWORD).await.unwrap();
    let bamako = hub.create_cohort("Bamako", Some("tina")).await.unwrap();
    let conakry = hub.create_cohort("Conakry", Some("tom")).await.unwrap();
    let mut tx = hub.db.begin(outpost_hub::db::Mode::Read).await.unwrap();
    let dakar = tx
        .query_opt("SELECT id FROM cohorts WHERE name = 'Dakar'", vec![])
        .await
        .unwrap()
        .unwrap()
        .text(0)
        .unwrap();
    drop(tx);
    hub.assign(
        "Bamako",
        "demo",
        chrono::NaiveDate::from_ymd_opt(2020, 1, 31),
    )
    .await
    .unwrap();

    let mut amina = f.device("Amina Diallo", Some("amina@example.org")).await;
    let events = amina.whole_course();
    amina.push(&events).await;
    let mut bruno = f.device("Bruno Sow", None).await;
    let events = vec![
        bruno.view("l1", true),
        bruno.submit("m2-quiz", &[("quiz-q1", "c"), ("quiz-q2", "a")]),
    ];
    bruno.push(&events).await;
    let chloe = f.device("Chloé Ndiaye", None).await;
    let bamako_code = hub.create_code("Bamako", 5, None).await.unwrap();
    let mut dara = Device::enroll(&f.http, &f.server.url(), &bamako_code, "Dara Keita", None).await;
    let events = vec![dara.view("l1", true), dara.view("l2", true)];
    dara.push(&events).await;
    Seeded {
        f,
        dakar,
        bamako: bamako.to_string(),
        conakry: conakry.to_string(),
        amina,
        bruno,
        chloe,
        dara,
    }
}

/// The value of `name="csrf"` in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_string())
}

/// The value a `Set-Cookie` header gives `name`.
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let first = v.split(';').next()?;
            let (k, val) = first.split_once('=')?;
            (k.trim() == name).then(|| val.trim().to_string())
        })
}

/// A plain HTTP client holding a dashboard session (no browser).
pub struct Web {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Post the sign-in form as a browser would; the answer.
pub async fn post_login(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    pass: &str,
) -> reqwest::Response {
    let page = http
        .get(format!("{base}/dashboard/login"))
        .send()
        .await
        .unwrap();
    let login_cookie = set_cookie(&page, "outpost_login").expect("login cookie");
    let html = page.text().await.unwrap();
    let csrf = csrf_in(&html).expect("csrf field");
    http.post(format!("{base}/dashboard/login"))
        .header("cookie", format!("outpost_login={login_cookie}"))
        .form(&[
            ("username", user),
            ("password", pass),
            ("csrf", &csrf),
            ("next", "/dashboard/cohorts"),
        ])
        .send()
        .await
        .unwrap()
}

impl Web {
    pub async fn login(base: &str, user: &str, pass: &str) -> Web {
        let http = no_redirects();
        let res = post_login(&http, base, user, pass).await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
        let session = set_cookie(&res, "outpost_session").expect("session cookie");
        let cookie = format!("outpost_session={session}");
        let page = http
            .get(format!("{base}/dashboard/cohorts"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        Web {
            csrf: csrf_in(&page).expect("csrf on the page"),
            http,
            base: base.to_string(),
            cookie,
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A `multipart/form-data` post, as a browser sends a form with a
    /// file: text fields, then one file field.
    pub async fn post_file(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> reqwest::Response {
        let boundary = "outpost-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        let (name, file_name, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A CSV export, parsed.
    pub async fn csv(&self, path: &str) -> Vec<Vec<String>> {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/csv")));
        outpost_hub::dashboard::csv::parse(&res.text().await.unwrap())
    }
}

// ----- the browser -----------------------------------------------------

struct Driver {
    url: String,
}

static DRIVER: OnceLock<Result<Driver, String>> = OnceLock::new();

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One chromedriver per test binary, on a free port; a watcher ends it
/// when the test binary exits.
fn start_driver() -> Result<Driver, String> {
    let exe = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .ok_or("chromedriver is not installed (Debian package chromium-driver); `cargo xtask deps` installs it")?;
    let port = free_port();
    let child = Command::new(exe)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {exe}: {e}"))?;
    let watcher = format!(
        "while [ -d /proc/{pid} ]; do sleep 1; done; kill {child} 2>/dev/null",
        pid = std::process::id(),
        child = child.id()
    );
    Command::new("sh")
        .args(["-c", &watcher])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the chromedriver watcher: {e}"))?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(Driver {
                url: format!("http://127.0.0.1:{port}"),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "chromedriver did not listen on port {port} within 10 s"
    ))
}

/// A fresh headless Chromium with its own profile.
pub struct Browser {
    pub c: Client,
    pub base: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn open(base: &str) -> Browser {
        let driver = match DRIVER.get_or_init(start_driver) {
            Ok(d) => d,
            Err(e) => panic!("the browser tests need chromedriver: {e}"),
        };
        let profile = tempfile::tempdir().unwrap();
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("chromium is not installed (Debian package chromium)");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-GB",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "intl.accept_languages": "en-GB,en",
                    "download.default_directory": profile.path().join("downloads").display().to_string(),
                }
            }),
        );
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a chromium session");
        Browser {
            c,
            base: base.to_string(),
            _profile: profile,
        }
    }

    pub async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// The path and query the browser shows now.
    pub async fn here(&self) -> String {
        let u = self.c.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .text()
            .await
            .unwrap()
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.c.find(Locator::Css(css)).await.unwrap();
        e.clear().await.ok();
        e.send_keys(value).await.unwrap();
    }

    /// Click a link or a submit button and wait for the next page: until
    /// the old page's root element is gone.
    pub async fn click(&self, css: &str) {
        let old = self.c.find(Locator::Css("html")).await.unwrap();
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        for _ in 0..200 {
            match old.tag_name().await {
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
                {
                    return;
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("clicking {css} led to no new page within 10 s");
    }

    /// Sign in on the sign-in page the browser is on.
    pub async fn sign_in(&self, user: &str, pass: &str) {
        self.fill("#username", user).await;
        self.fill("#password", pass).await;
        self.click("form[action='/dashboard/login'] button[type=submit]")
            .await;
    }

    /// The session cookie, to fetch downloads with a plain HTTP client.
    pub async fn web(&self) -> Web {
        let session = self
            .c
            .get_named_cookie("outpost_session")
            .await
            .expect("signed in")
            .value()
            .to_string();
        let cookie = format!("outpost_session={session}");
        let html = self.c.source().await.unwrap();
        Web {
            http: no_redirects(),
            base: self.base.clone(),
            cookie,
            csrf: csrf_in(&html).unwrap_or_default(),
        }
    }

    /// With OUTPOST_DASHBOARD_SCREENSHOTS=DIR, save a full-page PNG there
    /// (to look at the pages; nothing is compared).
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("OUTPOST_DASHBOARD_SCREENSHOTS") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        // The page's whole height, so the shot shows everything.
        let h = self
            .c
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(1000)
            .min(6000) as u32;
        self.c.set_window_size(1280, h + 100).await.ok();
        let png = self.c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn close(self) {
        let _ = self.c.close().await;
    }
}
