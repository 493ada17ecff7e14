//! A real headless Chromium, driven over WebDriver.
//!
//! Each test starts its own `chromedriver` (on a free port, in its own
//! process group) and one browser session with a fresh profile, and tears
//! both down when it ends — also when it fails: [`Browser::run`] runs the
//! test body as a task, closes the session whatever happened, then
//! re-raises a failure. Waiting is always for a *condition* with a deadline
//! ([`Page::wait_for`]), never for a fixed time.
//!
//! Pages re-render their live regions while a test reads them: an element
//! found a moment ago may have been replaced by a fresh copy ("stale").
//! So every read here finds its element again and retries when it went
//! stale in between ([`Page::read`]), clicks and typing likewise, and
//! [`Page::wait_live`] waits until the page is connected *and* every live
//! region has made its first fetch — after which a region changes only
//! when something it shows does (`app.js` skips a fetch that brings back
//! what is shown).
//!
//! When chromedriver cannot start, the test is skipped with a message —
//! unless `PUSHPULL_REQUIRE_BROWSER=1` is set (CI sets it), in which case
//! it fails: a run that was promised a browser must not pass without one.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// How long a condition in the page may take to come true: generous,
/// because CI's two cores may be busy with other work; a condition that
/// holds returns at once however long the patience.
pub const PATIENCE: Duration = Duration::from_secs(45);

/// Whether a WebDriver error says the element was replaced under us.
fn is_stale(e: &fantoccini::error::CmdError) -> bool {
    e.to_string().contains("stale element")
}

pub fn browser_required() -> bool {
    std::env::var("PUSHPULL_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

fn chromedriver_path() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .or_else(|| option_env!("CHROMEDRIVER").map(Into::into))
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/chromedriver".into())
}

/// A chromedriver process and everything it started (the browser runs in
/// the same process group), stopped together on drop.
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromium it launched.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

pub struct Browser {
    pub client: Client,
    driver: Driver,
}

/// Why the browser could not start, said once in one place.
fn unavailable(why: String) -> Option<Browser> {
    if browser_required() {
        panic!("PUSHPULL_REQUIRE_BROWSER=1 but the browser could not start: {why}");
    }
    platform::testing::skipped(&format!(
        "a browser test could not start Chromium ({why}); set PUSHPULL_REQUIRE_BROWSER=1 to make this a failure"
    ));
    None
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session, or explains
    /// why not (see the module comment for skip versus fail).
    pub async fn start() -> Option<Browser> {
        let path = chromedriver_path();
        let port = platform::testing::free_port();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let profile = std::env::temp_dir().join(format!(
            "pushpull-chromium-{}-{port}-{stamp}",
            std::process::id()
        ));
        let log = profile.join("chromedriver.log");
        if let Err(e) = std::fs::create_dir_all(&profile) {
            return unavailable(format!("cannot create a profile directory: {e}"));
        }
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(&path)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
        };
        let child = match child {
            Ok(child) => child,
            Err(e) => return unavailable(format!("{} would not start: {e}", path.display())),
        };
        let mut driver = Driver {
            child,
            profile: profile.clone(),
        };

        // Ready when /status says so.
        let status_url = format!("http://127.0.0.1:{port}/status");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(exit)) = driver.child.try_wait() {
                return unavailable(format!("chromedriver exited at once ({exit})"));
            }
            let ready = match http.get(&status_url).send().await {
                Ok(r) => r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .is_some_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                break;
            }
            if Instant::now() > deadline {
                return unavailable("chromedriver did not become ready within 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let mut options = serde_json::json!({
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                // Without these, this machine's closed network refuses the
                // browser's own background connections, noisily.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        if let Some(binary) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .find(|b| std::path::Path::new(b).exists())
        {
            options["binary"] = serde_json::json!(binary);
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), serde_json::json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match client {
            Ok(client) => Some(Browser { client, driver }),
            Err(e) => {
                let tail = std::fs::read_to_string(&log)
                    .map(|t| {
                        t.lines()
                            .rev()
                            .take(15)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                drop(driver);
                unavailable(format!("no browser session: {e}\n{tail}"))
            }
        }
    }

    /// Runs a test body with this browser, then closes the session and
    /// stops chromedriver — whether the body passed or failed.
    pub async fn run<F, Fut>(self, body: F)
    where
        F: FnOnce(Page) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let Browser { client, driver } = self;
        let outcome = tokio::spawn(body(Page {
            client: client.clone(),
        }))
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
        drop(driver);
        if let Err(e) = outcome {
            match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("the browser test did not finish: {e}"),
            }
        }
    }
}

/// The session as a test body sees it, with the few verbs the tests need.
#[derive(Clone)]
pub struct Page {
    pub client: Client,
}

impl Page {
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("navigating to {url}: {e}"));
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no element {css} on {}: {e}", self.path_now().await),
        }
    }

    async fn path_now(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Reads something from the first element matching `css`, if there is
    /// one. An element that a live region replaced between finding and
    /// reading it is found again (the read races a re-render, it does not
    /// fail because of one).
    pub async fn read<T, F, Fut>(&self, css: &str, mut read: F) -> Option<T>
    where
        F: FnMut(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        for _ in 0..50 {
            let element = self.client.find(Locator::Css(css)).await.ok()?;
            match read(element).await {
                Ok(value) => return Some(value),
                Err(e) if is_stale(&e) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(_) => return None,
            }
        }
        None
    }

    /// The text of the first element matching `css`, if there is one.
    pub async fn text(&self, css: &str) -> Option<String> {
        self.read(css, |e| async move { e.text().await }).await
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.read(css, |e| async move { e.attr(name).await })
            .await
            .flatten()
    }

    /// The texts of every element matching `css`, read in one go in the
    /// page (so no element can go stale between them).
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let value = self
            .client
            .execute(
                "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText.trim());",
                vec![serde_json::json!(css)],
            )
            .await
            .unwrap_or_else(|e| panic!("reading {css}: {e}"));
        serde_json::from_value(value).unwrap_or_default()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    /// Clicks the first element matching `css`. A live region may swap in
    /// a fresh copy of the element between finding and clicking it (the
    /// old one is then "stale"); the click is retried on the new one.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.find(css).await.click().await {
                Ok(_) => return,
                Err(e) if is_stale(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("clicking {css}: {e}"),
            }
        }
    }

    /// Replaces what is in a field with `text`, typed as a person would
    /// (again from the start if the field was replaced meanwhile).
    pub async fn fill(&self, css: &str, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let field = self.find(css).await;
            let typed = match field.clear().await {
                Ok(()) => field.send_keys(text).await,
                Err(e) => Err(e),
            };
            match typed {
                Ok(()) => return,
                Err(e) if is_stale(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("typing into {css}: {e}"),
            }
        }
    }

    pub async fn execute(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("running {script}: {e}"))
    }

    /// Polls `check` until it returns `Some`, or fails the test after
    /// [`PATIENCE`], saying what it was waiting for and where.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(value) = check().await {
                return value;
            }
            if Instant::now() > deadline {
                let url = self.path_now().await;
                self.screenshot(&format!(
                    "failed-{}",
                    what.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                ))
                .await;
                panic!("timed out after {PATIENCE:?} on {url} waiting for: {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the text of `css` satisfies `ok`, and returns it.
    pub async fn wait_for_text(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_for(what, || async { self.text(css).await.filter(|t| ok(t)) })
            .await
    }

    /// Waits until the page's live updates are connected (its event
    /// streams are open), so nothing that happens next is missed — and
    /// until every live region has made the fetch that connecting starts,
    /// so what the test reads next is not replaced by it.
    pub async fn wait_live(&self) {
        self.wait_for("the page's live updates to connect", || async {
            let settled = self
                .execute(
                    "return document.body.dataset.liveState === 'open' && \
                     [...document.querySelectorAll('[data-live][data-src]')].every(r => \
                       (r.dataset.fetched || r.dataset.liveError) && !r.hasAttribute('aria-busy'));",
                )
                .await;
            (settled == serde_json::Value::Bool(true)).then_some(())
        })
        .await;
    }

    /// Saves a PNG of the whole page to `target/screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = screenshot_dir();
        if std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        // WebDriver shoots the viewport: make it as tall as the page.
        let (width, original) = self.client.get_window_size().await.unwrap_or((1280, 900));
        let height = self
            .execute(
                "return Math.min(document.documentElement.scrollHeight + window.outerHeight - window.innerHeight, 6000);",
            )
            .await
            .as_u64()
            .unwrap_or(900)
            .max(600);
        let _ = self
            .client
            .set_window_size(width as u32, height as u32)
            .await;
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
        let _ = self
            .client
            .set_window_size(width as u32, original as u32)
            .await;
    }
}

/// `target/screenshots`, next to cargo's own temporary directory.
pub fn screenshot_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map(|t| t.join("screenshots"))
        .unwrap_or_else(|| tmp.join("screenshots"))
}
