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

pub mod course;

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long to wait for something a person would wait for (an element to
/// appear, the app to start). Generous: machines here are small and shared.
/// Never a test of speed; speed is measured in `benches/`.
pub const PATIENCE: Duration = Duration::from_secs(30);

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
    fn start(display: u32) -> Result<Driver> {
        let tauri_driver = require("tauri-driver", "cargo install tauri-driver --locked")?;
        let native = require(
            "WebKitWebDriver",
            "apt-get install webkit2gtk-driver (it provides /usr/bin/WebKitWebDriver)",
        )?;
        let port = free_port_pair()?;
        let mut child = Command::new(&tauri_driver)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &(port + 1).to_string()])
            .arg("--native-driver")
            .arg(&native)
            .env("DISPLAY", format!(":{display}"))
            // Software rendering is steadier under Xvfb and uses less memory.
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
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
    _turn: MutexGuard<'static, ()>,
}

impl Harness {
    /// Everything a test needs, for the test called `name` (screenshots go
    /// to `<target>/e2e-screenshots/<name>/`).
    pub fn start(name: &str) -> Result<Harness> {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let bin = app_binary()?;
        let display = Display::start()?;
        let driver = Driver::start(display.number)?;
        let shots = output_dir()?.join(name);
        std::fs::create_dir_all(&shots)?;
        Ok(Harness {
            driver,
            display,
            bin,
            data: tempfile::tempdir()?,
            shots,
            _turn: turn,
        })
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
        };
        // The interface marks <body data-ready> once its first screen is up.
        app.wait(Locator::Css("body[data-ready]"))
            .await
            .context("the app's interface did not become ready")?;
        Ok(app)
    }
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
}

impl App {
    pub async fn close(self) -> Result<()> {
        self.client.close().await.context("closing the app session")
    }

    /// Wait for an element to be present.
    pub async fn wait(&self, locator: Locator<'_>) -> Result<Element> {
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
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Save a screenshot of the window as `<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
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
