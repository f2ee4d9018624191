//! The end-to-end harness: the real `outpost` binary in a real window.
//!
//! [`Harness::start`] brings up a private virtual display (Xvfb on a
//! display number it picks itself) and `tauri-driver` on a free port (it starts
//! WebKitWebDriver on the next port); [`Harness::launch`] opens one app
//! session with the harness's own data directory, so a test can close the app
//! and launch it again on the same data ("restart"). Everything is stopped
//! when the harness is dropped, with SIGTERM: tauri-driver then stops
//! WebKitWebDriver, and Xvfb removes its lock file.
//!
//! Tests find elements the way a person does — by a button's or link's
//! visible name, a field's label, a heading, a landmark's name — through
//! [`App`]'s helpers.
//!
//! What is missing (Xvfb, tauri-driver, WebKitWebDriver, the app binary) is
//! reported with what to install, not a cryptic failure.
//!
//! A test runs its steps inside [`Harness::within`]: a WebDriver command that
//! never returns (a frozen app, a stuck driver) then fails the test after
//! [`TEST_LIMIT`] with the step it was on, the end of the driver's log
//! (which has the app's own messages) and where every process of the session
//! was stuck, instead of holding the whole run until CI gives up.

pub mod course;

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::future::Future;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long to wait for something a person would wait for (an element to
/// appear, the app to start). Generous: machines here are small and shared.
/// Never a test of speed; speed is measured in `benches/`.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The most one end-to-end test may take, start to end, unless
/// `OUTPOST_E2E_TEST_LIMIT` (seconds) says otherwise. The longest test (the
/// whole course to its certificate) takes about a minute here; a test that
/// goes past four is stuck, not slow. Kept short so that even a run where
/// every window test gets stuck ends well inside CI's 90 minutes.
pub const TEST_LIMIT: Duration = Duration::from_secs(240);

fn test_limit() -> Duration {
    std::env::var("OUTPOST_E2E_TEST_LIMIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(TEST_LIMIT)
}

/// One window at a time per test binary: two WebKit instances on two cores
/// make each other slow, and nothing is gained by overlapping them.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

fn require(name: &str, how: &str) -> Result<PathBuf> {
    find_on_path(name).ok_or_else(|| {
        anyhow!("end-to-end tests need `{name}`, which is not on PATH: {how} (`cargo xtask deps` installs everything)")
    })
}

/// The app binary under test: `OUTPOST_APP_BIN` (set by `cargo xtask test`),
/// else `outpost` in this test's own profile directory, else the debug one
/// (`cargo bench` builds the benchmark in release but not the app).
pub fn app_binary() -> Result<PathBuf> {
    let bin = match std::env::var_os("OUTPOST_APP_BIN") {
        Some(p) => PathBuf::from(p),
        None => {
            let exe = std::env::current_exe().context("where is this test binary?")?;
            // target/<profile>/deps/<test> → target/<profile>/outpost
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .ok_or_else(|| anyhow!("cannot place the app binary beside {}", exe.display()))?;
            let here = profile_dir.join("outpost");
            let debug = profile_dir
                .parent()
                .map(|t| t.join("debug").join("outpost"));
            match debug {
                Some(d) if !here.is_file() && d.is_file() => d,
                _ => here,
            }
        }
    };
    if !bin.is_file() {
        bail!(
            "the app binary {} does not exist: build it first with `cargo build -p outpost-app` \
             (cargo xtask test does), or point OUTPOST_APP_BIN at it",
            bin.display()
        );
    }
    Ok(bin)
}

/// The target directory the app binary was built in (`<target>/<profile>/outpost`).
fn target_dir() -> Result<PathBuf> {
    let bin = app_binary()?;
    bin.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("no target directory above {}", bin.display()))
}

/// Where the tests leave their screenshots: `<target>/e2e-screenshots/`.
pub fn output_dir() -> Result<PathBuf> {
    Ok(target_dir()?.join("e2e-screenshots"))
}

/// The bundled course package the app was built with (the build script
/// leaves a copy in `<target>/bundled/`), for tests that need its answer key.
pub fn bundled_package() -> Result<outpost_package::Package> {
    let pkg = bundled_package_path()?;
    outpost_package::Package::open(&pkg).with_context(|| format!("opening {}", pkg.display()))
}

/// Where the bundled course package is: `<target>/bundled/<id>-<version>.opkg`.
pub fn bundled_package_path() -> Result<PathBuf> {
    let dir = target_dir()?.join("bundled");
    std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "opkg"))
        .max()
        .ok_or_else(|| anyhow!("no bundled .opkg in {}", dir.display()))
}

/// The key the bundled course was signed with: `OUTPOST_PUBLISHER_KEY` if
/// the build used one, else the development key the build script made in
/// `<target>/bundled/`. Tests sign course updates with it.
pub fn bundled_signing_key() -> Result<ed25519_dalek::SigningKey> {
    let path = match std::env::var_os("OUTPOST_PUBLISHER_KEY") {
        Some(p) => PathBuf::from(p),
        None => target_dir()?.join("bundled").join("publisher.key"),
    };
    outpost_package::keys::read_signing_key(&path).with_context(|| {
        format!(
            "the key that signed the bundled course ({})",
            path.display()
        )
    })
}

/// Xvfb on a display number nobody uses.
struct Display {
    child: Child,
    number: u32,
}

impl Display {
    /// Xvfb chooses the display itself (`-displayfd 1` writes the number it
    /// took to stdout): it skips displays in use and clears lock files left
    /// by servers that died, which a scan of `/tmp/.X*-lock` from here
    /// cannot tell apart from live ones.
    fn start() -> Result<Display> {
        let xvfb = require("Xvfb", "apt-get install xvfb")?;
        let log = tempfile::NamedTempFile::new().context("a file for Xvfb's messages")?;
        let mut child = Command::new(&xvfb)
            .args(["-displayfd", "1"])
            .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.reopen().context("Xvfb's message file")?)
            .spawn()
            .with_context(|| format!("starting {}", xvfb.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let said = || {
            let text = std::fs::read_to_string(log.path()).unwrap_or_default();
            let text = text.trim();
            if text.is_empty() {
                String::from("(Xvfb printed nothing)")
            } else {
                format!("Xvfb said:\n{text}")
            }
        };
        let number = match rx.recv_timeout(PATIENCE) {
            Ok(Ok(line)) => line
                .trim()
                .parse::<u32>()
                .map_err(|_| String::from("Xvfb did not start a display")),
            Ok(Err(e)) => Err(format!("reading Xvfb's display number: {e}")),
            Err(_) => Err(format!("Xvfb did not start a display within {PATIENCE:?}")),
        };
        match number {
            Ok(number) => Ok(Display { child, number }),
            Err(why) => {
                // SIGTERM here too: an Xvfb that took a display but did not
                // say so has a lock file to remove.
                stop(&mut child);
                bail!("{why}. {}", said())
            }
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: Xvfb then removes its lock file and socket.
        stop(&mut self.child);
    }
}

/// Ask a child to stop (SIGTERM), and kill it if it has not within ten
/// seconds.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A port that is free together with the next one (tauri-driver's and
/// WebKitWebDriver's).
fn free_port_pair() -> Result<u16> {
    for _ in 0..50 {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no two free consecutive ports on 127.0.0.1")
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) -> Result<()> {
    let t = Instant::now();
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            bail!("{what} exited ({status}) before listening on port {port}");
        }
        if t.elapsed() > PATIENCE {
            bail!("{what} did not listen on port {port} within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// tauri-driver, which starts WebKitWebDriver on `port + 1`.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// `log` receives what tauri-driver, WebKitWebDriver and the app print.
    fn start(display: u32, log: &Path) -> Result<Driver> {
        let tauri_driver = require("tauri-driver", "cargo install tauri-driver --locked")?;
        let native = require(
            "WebKitWebDriver",
            "apt-get install webkit2gtk-driver (it provides /usr/bin/WebKitWebDriver)",
        )?;
        let port = free_port_pair()?;
        let log = std::fs::File::create(log)
            .with_context(|| format!("creating the driver's log {}", log.display()))?;
        let mut child = Command::new(&tauri_driver)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &(port + 1).to_string()])
            .arg("--native-driver")
            .arg(&native)
            .env("DISPLAY", format!(":{display}"))
            // Software rendering is steadier under Xvfb and uses less memory.
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("the driver's log")?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", tauri_driver.display()))?;
        // tauri-driver accepts connections before WebKitWebDriver listens.
        let ready = wait_for_port(port, "tauri-driver", &mut child)
            .and_then(|_| wait_for_port(port + 1, "WebKitWebDriver", &mut child));
        let driver = Driver { child, port };
        ready?;
        Ok(driver)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: tauri-driver then stops WebKitWebDriver.
        stop(&mut self.child);
    }
}

/// A virtual display, a driver, the app binary and one data directory.
pub struct Harness {
    // Field order is drop order: the driver before the display it draws on.
    driver: Driver,
    display: Display,
    bin: PathBuf,
    data: tempfile::TempDir,
    shots: PathBuf,
    /// What the test is doing now, kept by [`App`]'s helpers, for the
    /// message when a test is stuck.
    step: Step,
    _turn: MutexGuard<'static, ()>,
}

/// The step a test is on, shared by the harness and its app sessions.
#[derive(Clone, Default)]
struct Step(Arc<Mutex<String>>);

impl Step {
    fn set(&self, what: impl Into<String>) {
        if let Ok(mut s) = self.0.lock() {
            *s = what.into();
        }
    }

    fn get(&self) -> String {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Harness {
    /// Everything a test needs, for the test called `name` (screenshots go
    /// to `<target>/e2e-screenshots/<name>/`).
    pub fn start(name: &str) -> Result<Harness> {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let bin = app_binary()?;
        let shots = output_dir()?.join(name);
        std::fs::create_dir_all(&shots)?;
        let _ = std::fs::remove_file(shots.join(FAILURE_REPORT));
        let display = Display::start()?;
        let driver = Driver::start(display.number, &shots.join(DRIVER_LOG))?;
        Ok(Harness {
            driver,
            display,
            bin,
            data: tempfile::tempdir()?,
            shots,
            step: Step::default(),
            _turn: turn,
        })
    }

    /// Run a test's steps, failing after [`TEST_LIMIT`] if they have not
    /// finished. A failure says which step it was on and ends with the
    /// driver's log; a test past its limit also says where each process of
    /// the session was stuck (from gdb, when it is installed).
    pub async fn within<T>(&self, steps: impl Future<Output = Result<T>>) -> Result<T> {
        let t = Instant::now();
        let limit = test_limit();
        match tokio::time::timeout(limit, steps).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                let why = format!(
                    "failed after {:.0?} while {}; the driver's log ends:\n{}",
                    t.elapsed(),
                    self.step.get(),
                    self.log_tail(20)
                );
                self.leave_report(&format!("{e:#}\n{why}"));
                Err(e.context(why))
            }
            Err(_) => {
                let stuck = stuck_processes(self.driver.child.id());
                let why = format!(
                    "stuck for {limit:?} while {}.\nWhere the session's processes were:\n{stuck}The driver's log ends:\n{}",
                    self.step.get(),
                    self.log_tail(20)
                );
                self.leave_report(&why);
                bail!(why)
            }
        }
    }

    /// Leave a failure's report as `failure.txt` beside the screenshots;
    /// `cargo xtask test` prints these at the end of a failed run, where CI
    /// logs that keep only their end still show them.
    fn leave_report(&self, text: &str) {
        let _ = std::fs::write(self.shots.join(FAILURE_REPORT), text);
    }

    /// The last `lines` lines of the driver's log (which has the app's).
    fn log_tail(&self, lines: usize) -> String {
        let path = self.shots.join(DRIVER_LOG);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        let tail = all[all.len().saturating_sub(lines)..].join("\n");
        if tail.trim().is_empty() {
            format!("(nothing in {})", path.display())
        } else {
            format!("{tail}\n(all of it: {})", path.display())
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    pub fn display_number(&self) -> u32 {
        self.display.number
    }

    /// Start the app on this harness's data directory and wait until its
    /// interface has rendered.
    pub async fn launch(&self) -> Result<App> {
        self.step.set("opening an app session");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({
                "application": self.bin,
                "args": ["--data-dir", self.data.path()],
            }),
        );
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.enforce_http(true);
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.driver.port))
            .await
            .context("opening an app session through tauri-driver")?;
        let app = App {
            client,
            shots: self.shots.clone(),
            step: self.step.clone(),
        };
        // The interface marks <body data-ready> once its first screen is up.
        app.wait(Locator::Css("body[data-ready]"))
            .await
            .context("the app's interface did not become ready")?;
        Ok(app)
    }
}

/// The name of the driver's log in a test's screenshot folder.
const DRIVER_LOG: &str = "driver.log";

/// The name of a failed test's report in its screenshot folder.
pub const FAILURE_REPORT: &str = "failure.txt";

/// Every process under `root` (tauri-driver): WebKitWebDriver, the app and
/// WebKit's own processes, each with its state and, when gdb is installed,
/// the top of its main thread's stack: enough to tell a frozen app from a
/// stuck driver.
fn stuck_processes(root: u32) -> String {
    let mut out = String::new();
    let mut todo = vec![root];
    let mut seen = 0;
    // A minute of gdb at most, however many processes there are.
    let gdb_until = Instant::now() + Duration::from_secs(60);
    while let Some(pid) = todo.pop() {
        seen += 1;
        if seen > 20 {
            break;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // "pid (name) state ppid ...": the name may hold spaces and parentheses.
        let (name, state) = match (stat.find('('), stat.rfind(')')) {
            (Some(a), Some(b)) if a < b => (
                stat[a + 1..b].to_string(),
                stat[b + 1..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("?")
                    .to_string(),
            ),
            _ => (String::from("?"), String::from("gone")),
        };
        out.push_str(&format!("- {name} (pid {pid}, state {state})\n"));
        if Instant::now() < gdb_until {
            out.push_str(&main_thread_stack(pid));
        }
        todo.extend(children_of(pid));
    }
    out
}

fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            stat.rfind(')')
                .and_then(|b| stat[b + 1..].split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(pid)
        })
        .collect()
}

/// The top frames of a process's main thread, from gdb (empty without it).
fn main_thread_stack(pid: u32) -> String {
    let Some(gdb) = find_on_path("gdb") else {
        return String::new();
    };
    // gdb itself must not become the next thing that hangs.
    let out = Command::new("timeout")
        .arg("60")
        .arg(gdb)
        .args(["-p", &pid.to_string(), "-batch", "-nx"])
        .args([
            "-ex",
            "set pagination off",
            "-ex",
            "thread 1",
            "-ex",
            "bt 12",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let Ok(out) = out else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut frames: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    // `thread 1` prints the top frame once more before `bt`.
    frames.dedup();
    frames
        .iter()
        .take(10)
        .map(|l| format!("    {}\n", l.chars().take(160).collect::<String>()))
        .collect()
}

/// Quote a string for XPath 1.0 (which has no escapes).
pub fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// One running app window.
pub struct App {
    pub client: Client,
    shots: PathBuf,
    step: Step,
}

impl App {
    pub async fn close(self) -> Result<()> {
        self.step.set("closing the app session");
        self.client.close().await.context("closing the app session")
    }

    /// Wait for an element to be present.
    pub async fn wait(&self, locator: Locator<'_>) -> Result<Element> {
        self.step.set(format!("waiting for {locator:?}"));
        self.client
            .wait()
            .at_most(PATIENCE)
            .every(Duration::from_millis(100))
            .for_element(locator)
            .await
            .map_err(|e| anyhow!("waited {PATIENCE:?} for {locator:?}: {e}"))
    }

    /// Wait for a visible element matching an XPath.
    pub async fn wait_xpath(&self, xpath: &str) -> Result<Element> {
        self.step.set(format!("waiting for {xpath}"));
        let t = Instant::now();
        loop {
            if let Ok(found) = self.client.find_all(Locator::XPath(xpath)).await {
                for el in found {
                    if el.is_displayed().await.unwrap_or(false) {
                        return Ok(el);
                    }
                }
            }
            if t.elapsed() > PATIENCE {
                let _ = self.screenshot("timeout").await;
                bail!("no visible element for {xpath} after {PATIENCE:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A button (or element with role=button) by its accessible name.
    pub async fn button(&self, name: &str) -> Result<Element> {
        let n = xpath_literal(name);
        self.wait_xpath(&format!(
            "//*[self::button or @role='button' or self::input[@type='submit']]\
             [normalize-space(.)={n} or @aria-label={n} or @value={n}]"
        ))
        .await
    }

    pub async fn click_button(&self, name: &str) -> Result<()> {
        let b = self.button(name).await?;
        self.click(&b).await
    }

    /// Click an element as a person would: if it is off screen or under the
    /// sticky top bar, bring it to the middle of the window first (and
    /// otherwise leave the scroll position alone), then click.
    pub async fn click(&self, el: &Element) -> Result<()> {
        let found_by = self.step.get();
        self.step.set(match found_by.strip_prefix("waiting for ") {
            Some(what) => format!("clicking what was found by {what}"),
            None => String::from("clicking an element"),
        });
        let arg = serde_json::to_value(el)?;
        self.client
            .execute(
                "const el = arguments[0], r = el.getBoundingClientRect();\
                 const bar = document.querySelector('.topbar');\
                 const top = bar ? bar.getBoundingClientRect().bottom : 0;\
                 if (r.top < top || r.bottom > window.innerHeight) \
                   el.scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});",
                vec![arg],
            )
            .await?;
        el.click()
            .await
            .map_err(|e| anyhow!("clicking {:?}: {e:?}", el.element_id()))
    }

    /// A link by its visible text (exact, whitespace-normalised).
    pub async fn link(&self, text: &str) -> Result<Element> {
        let t = xpath_literal(text);
        self.wait_xpath(&format!("//a[normalize-space(.)={t} or @aria-label={t}]"))
            .await
    }

    /// Follow the link named `text`, as [`App::click_button`] presses a button.
    pub async fn click_link(&self, text: &str) -> Result<()> {
        let l = self.link(text).await?;
        self.click(&l).await
    }

    /// A link whose text contains `text`.
    pub async fn link_containing(&self, text: &str) -> Result<Element> {
        let t = xpath_literal(text);
        self.wait_xpath(&format!("//a[contains(normalize-space(.), {t})]"))
            .await
    }

    /// A form control by its label's text (the label's own text, not counting
    /// hints inside it).
    pub async fn field(&self, label: &str) -> Result<Element> {
        let l = xpath_literal(label);
        let label_el = self
            .wait_xpath(&format!(
                "//label[normalize-space(.)={l} or normalize-space(text())={l} \
                 or normalize-space(./span[1])={l}]"
            ))
            .await?;
        match label_el.attr("for").await? {
            Some(id) => Ok(self.client.find(Locator::Id(&id)).await?),
            None => Ok(label_el
                .find(Locator::Css("input, select, textarea"))
                .await?),
        }
    }

    /// Type into the field labelled `label`, replacing what was there.
    pub async fn fill(&self, label: &str, text: &str) -> Result<()> {
        let f = self.field(label).await?;
        self.step
            .set(format!("typing into the field labelled {label:?}"));
        f.clear().await?;
        f.send_keys(text).await?;
        Ok(())
    }

    /// Choose `option` (its visible text) in the select labelled `label`.
    pub async fn choose(&self, label: &str, option: &str) -> Result<()> {
        self.field(label).await?.select_by_label(option).await?;
        Ok(())
    }

    /// A heading containing `text`.
    pub async fn heading(&self, text: &str) -> Result<Element> {
        let t = xpath_literal(text);
        self.wait_xpath(&format!(
            "//*[self::h1 or self::h2 or self::h3 or @role='heading']\
             [contains(normalize-space(.), {t})]"
        ))
        .await
    }

    /// Wait until `text` is visible somewhere in the window.
    pub async fn see(&self, text: &str) -> Result<Element> {
        let t = xpath_literal(text);
        self.wait_xpath(&format!(
            "//body//*[not(self::script)][text()[contains(normalize-space(.), {t})]]"
        ))
        .await
        .with_context(|| format!("expected to see {text:?}"))
    }

    /// A landmark or named region (by `aria-label`, or `aria-labelledby`
    /// pointing at an element with that text).
    pub async fn region(&self, name: &str) -> Result<Element> {
        let n = xpath_literal(name);
        self.wait_xpath(&format!(
            "//*[@aria-label={n} or @aria-labelledby=//*[normalize-space(.)={n}]/@id]"
        ))
        .await
    }

    /// Scroll the window to a fraction (0..=1) of its scrollable height, as
    /// a reader would with the scroll bar.
    pub async fn scroll_to(&self, fraction: f64) -> Result<()> {
        self.client
            .execute(
                "const max = document.documentElement.scrollHeight - window.innerHeight;\
                 window.scrollTo({top: Math.max(0, max) * arguments[0], behavior: 'instant'});",
                vec![serde_json::json!(fraction)],
            )
            .await?;
        Ok(())
    }

    /// How far down the window is scrolled, 0..=1 (1 when nothing scrolls).
    pub async fn scroll_fraction(&self) -> Result<f64> {
        let v = self
            .eval(
                "const max = document.documentElement.scrollHeight - window.innerHeight;\
                 return max <= 0 ? 1 : window.scrollY / max;",
            )
            .await?;
        v.as_f64().ok_or_else(|| anyhow!("scroll fraction {v}"))
    }

    /// Whether the window's content can scroll at all.
    pub async fn scrolls(&self) -> Result<bool> {
        let v = self
            .eval("return document.documentElement.scrollHeight - window.innerHeight > 20;")
            .await?;
        Ok(v.as_bool().unwrap_or(false))
    }

    /// The element's left edge and width on screen.
    pub async fn horizontal_extent(&self, el: &Element) -> Result<(f64, f64)> {
        let (x, _, w, _) = el.rectangle().await?;
        Ok((x, w))
    }

    /// Run a script in the page and return its result.
    pub async fn eval(&self, script: &str) -> Result<serde_json::Value> {
        self.step.set(format!("running the script {script:?}"));
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Save a screenshot of the window as `<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        self.step.set(format!("taking the screenshot {name:?}"));
        let png = self.client.screenshot().await?;
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }
}

/// Where screenshots worth keeping go when `OUTPOST_UPDATE_SCREENSHOTS` is
/// set: the repository's `docs/screenshots/`.
pub fn keep_screenshot(path: &Path) -> Result<()> {
    if std::env::var_os("OUTPOST_UPDATE_SCREENSHOTS").is_none() {
        return Ok(());
    }
    let docs = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join("screenshots");
    std::fs::create_dir_all(&docs)?;
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("a screenshot has a file name"))?;
    std::fs::copy(path, docs.join(name))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xpath_literals_survive_quotes() {
        assert_eq!(xpath_literal("plain"), "'plain'");
        assert_eq!(xpath_literal("l'aide"), "\"l'aide\"");
        assert_eq!(
            xpath_literal("it's \"x\""),
            "concat('it', \"'\", 's \"x\"')"
        );
    }
}
