//! The sync area and the settings' enrolment in a real window, against a
//! real hub (the `outpost-hub` binary beside the app's): a learner enrols
//! with a code, studies, presses Sync now, and the sync area tells the
//! truth when the hub goes away and when it comes back.

use anyhow::{bail, ensure, Context, Result};
use outpost_e2e::course::Course;
use outpost_e2e::{
    app_binary, bundled_package, bundled_package_path, bundled_signing_key, keep_screenshot, App,
    Harness,
};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A hub on a data folder of its own, set up with its admin commands: the
/// bundled course published and assigned to cohort "Dakar 2026".
struct Hub {
    bin: PathBuf,
    data: tempfile::TempDir,
    port: u16,
    code: String,
    child: Option<Child>,
}

fn run(cmd: &mut Command) -> Result<Output> {
    let out = cmd.output().context("running outpost-hub")?;
    ensure!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

impl Hub {
    fn start() -> Result<Hub> {
        let bin = app_binary()?.with_file_name("outpost-hub");
        ensure!(
            bin.is_file(),
            "{} does not exist: build it with `cargo build -p outpost-hub` (cargo xtask test does)",
            bin.display()
        );
        let data = tempfile::tempdir()?;
        let key = bundled_signing_key()?;
        let pubkey = data.path().join("publisher.pub");
        outpost_package::keys::write_verifying_key(&pubkey, &key.verifying_key())?;
        let pkg = bundled_package_path()?;
        let admin = |args: &[&str]| {
            let mut c = Command::new(&bin);
            c.arg("admin")
                .args(args)
                .arg("--data-dir")
                .arg(data.path().join("hub"));
            c.env_remove("OUTPOST_HUB_DATABASE");
            c
        };
        let course = bundled_package()?.manifest().id.clone();
        run(&mut admin(&["create-cohort", "Dakar 2026"]))?;
        run(&mut admin(&[
            "publish",
            &pkg.to_string_lossy(),
            "--pubkey",
            &pubkey.to_string_lossy(),
        ]))?;
        run(&mut admin(&[
            "assign",
            "--cohort",
            "Dakar 2026",
            "--course",
            &course,
        ]))?;
        let out = run(&mut admin(&[
            "create-code",
            "--cohort",
            "Dakar 2026",
            "--uses",
            "5",
        ]))?;
        let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut hub = Hub {
            bin,
            data,
            port,
            code,
            child: None,
        };
        hub.serve()?;
        Ok(hub)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn serve(&mut self) -> Result<()> {
        let child = Command::new(&self.bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .arg("--data-dir")
            .arg(self.data.path().join("hub"))
            .env_remove("OUTPOST_HUB_DATABASE")
            .stdout(Stdio::null())
            .stderr(self.log()?)
            .spawn()?;
        self.child = Some(child);
        let t = Instant::now();
        while !self.healthy() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                bail!("the hub exited ({status}):\n{}", self.log_text());
            }
            if t.elapsed() > Duration::from_secs(30) {
                bail!("the hub did not start:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// The hub's messages (appended to across restarts), for failures.
    fn log(&self) -> Result<std::fs::File> {
        Ok(std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data.path().join("hub.log"))?)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.data.path().join("hub.log")).unwrap_or_default()
    }

    fn healthy(&self) -> bool {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let mut answer = String::new();
        s.write_all(b"GET /healthz HTTP/1.0\r\nHost: hub\r\n\r\n")
            .is_ok()
            && s.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.0 200") | answer.starts_with("HTTP/1.1 200")
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The sync area's figure for what waits, e.g. "3 records".
async fn pending(app: &App) -> Result<String> {
    let v = app
        .eval("return document.getElementById('sync-pending').textContent")
        .await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

/// Wait until the sync area's "waiting" figure is (or, with `not`, is no
/// longer) `want`.
async fn wait_pending(app: &App, want: &str, not: bool) -> Result<()> {
    let t = Instant::now();
    loop {
        let now = pending(app).await?;
        if (now == want) != not {
            return Ok(());
        }
        if t.elapsed() > outpost_e2e::PATIENCE {
            bail!(
                "the sync area says {now:?} waiting (wanted {}{want:?})",
                if not { "not " } else { "" }
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Press "Sync now" once it can be pressed (not while a sync runs).
async fn sync_now(app: &App) -> Result<()> {
    let b = app
        .wait_xpath("//button[normalize-space(.)='Sync now'][not(@disabled)]")
        .await?;
    app.click(&b).await
}

#[tokio::test]
async fn a_learner_enrols_syncs_and_is_told_the_truth_when_the_hub_goes_away() -> Result<()> {
    let course = Course::read(&bundled_package()?)?;
    let mut hub = Hub::start()?;
    let h = Harness::start("sync")?;
    h.within(async {
        let app = h.launch().await?;
        app.heading("Welcome to Outpost").await?;
        app.fill("Your name", "Amina").await?;
        app.click_button("Create profile").await?;
        app.heading("Your courses").await?;
        app.see("Not enrolled with a hub").await?;

        // Enrol from the settings: the hub's address, then the code.
        app.click_link("Settings").await?;
        app.heading("Settings").await?;
        app.fill("Hub address", &hub.url()).await?;
        let save = app
            .wait_xpath("//form[@aria-labelledby='hub-title']//button[@type='submit']")
            .await?;
        app.click(&save).await?;
        app.fill("Enrolment code", &hub.code).await?;
        app.click_button("Enrol").await?;
        app.see("Enrolled: Amina, cohort Dakar 2026.").await?;
        app.see("Everything is on the hub.").await?;
        keep_screenshot(&app.screenshot("enrolled").await?)?;

        // Study: a lesson opened and left is recorded, then waits for the hub.
        let (_, _, first) = course
            .lessons_in_order()
            .into_iter()
            .next()
            .context("the course has lessons")?;
        app.click_link("Courses").await?;
        app.heading("Your courses").await?;
        keep_screenshot(&app.screenshot("catalog").await?)?;
        app.click_link(course.title()).await?;
        app.click_link(&first).await?;
        app.heading(&first).await?;
        app.click_link("Settings").await?;
        app.heading("Settings").await?;
        // The lesson was recorded and waits.
        wait_pending(&app, "0 records", true).await?;

        // Sync now: everything goes, and the area says so.
        sync_now(&app).await?;
        wait_pending(&app, "0 records", false).await?;
        app.see("Everything is on the hub.").await?;

        // The hub goes away; the learner studies on; the area tells the truth.
        hub.kill();
        app.click_link("Courses").await?;
        app.click_link(course.title()).await?;
        app.click_link(&first).await?;
        app.heading(&first).await?;
        app.click_link("Courses").await?;
        wait_pending(&app, "0 records", true).await?;
        sync_now(&app).await?;
        app.see("cannot be reached").await?;
        ensure!(pending(&app).await? != "0 records", "kept on the laptop");
        keep_screenshot(&app.screenshot("hub-unreachable").await?)?;

        // Back: Sync now empties the queue again, and the error is gone.
        hub.serve()?;
        sync_now(&app).await?;
        wait_pending(&app, "0 records", false).await?;
        app.see("Everything is on the hub.").await?;
        app.close().await?;
        Ok(())
    })
    .await
}
