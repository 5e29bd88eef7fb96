//! Chromedriver and headless Chromium: the processes (killed when the test ends, even when it
//! panics), one WebDriver session per browser window, and the test runner that saves the
//! pages of a failed test to `<target>/browser-failures/`.

use std::any::Any;
use std::future::Future;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder};
use futures_util::FutureExt as _;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use super::page::Browser;
use crate::helpers::{spawn_app, Backend, TestApp};

/// How long one wait for the page (an element, a load, a script) may last.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How long one whole flow may last.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How often a wait looks again.
pub const POLL: Duration = Duration::from_millis(50);

/// A desktop window, in CSS pixels.
pub const DESKTOP: (u32, u32) = (1280, 900);

/// A phone's window (the CSS width of most current phones).
pub const MOBILE: (u32, u32) = (390, 844);

/// A running `chromedriver` on a free loopback port. It leads its own process group, which
/// holds the Chromium processes it starts; dropping it kills the whole group.
pub struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    /// Starts `chromedriver` from `PATH` and waits (at most [`TIMEOUT`]) until it answers.
    /// Panics when it is not installed: with the `browser-tests` feature a missing browser
    /// fails the test.
    async fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start chromedriver (apt-get install chromium chromium-driver): {e}")
            });
        let mut driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + TIMEOUT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Some(status) = driver.child.try_wait().expect("chromedriver's status") {
                panic!("chromedriver exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within {TIMEOUT:?}"
            );
            tokio::time::sleep(POLL).await;
        }
        driver
    }

    /// A new headless Chromium (its own profile, so its own cookies) with a window of `size`.
    async fn session(&self, (width, height): (u32, u32)) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    "--lang=en-US",
                    format!("--window-size={width},{height}"),
                ]
            }),
        );
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities);
        let client = builder.connect(&self.url).await.unwrap_or_else(|e| {
            panic!("no Chromium session from chromedriver (is chromium installed?): {e}")
        });
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(TIMEOUT),
                Some(TIMEOUT),
                Some(Duration::ZERO),
            ))
            .await
            .expect("the session's timeouts are set");
        client
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The negative id names chromedriver's process group: itself and every Chromium.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// One flow's world: a Tessera server on SQLite, a chromedriver, and the browser windows the
/// flow opened.
pub struct Harness {
    /// The server, and a reqwest "browser" for the HTTP side (device, token endpoint, API).
    pub app: TestApp,
    flow: &'static str,
    windows: Mutex<Vec<Client>>,
    driver: Chromedriver,
}

impl Harness {
    /// A new browser (a Chromium of its own) with a desktop window, at no page yet.
    pub async fn browser(&self) -> Browser {
        let client = self.driver.session(DESKTOP).await;
        self.windows
            .lock()
            .expect("the window list")
            .push(client.clone());
        Browser::new(client, self.flow, &self.app.address)
    }
}

/// Runs `flow` against a fresh server and chromedriver. When it panics (or outlasts two
/// minutes), each open window's screenshot and HTML go to `<target>/browser-failures/`
/// first; the windows are then closed and chromedriver's processes killed in any case.
pub async fn run<F, Fut>(flow: &'static str, test: F)
where
    F: FnOnce(Arc<Harness>) -> Fut,
    Fut: Future<Output = ()>,
{
    let harness = Arc::new(Harness {
        app: spawn_app(Backend::Sqlite).await,
        flow,
        windows: Mutex::default(),
        driver: Chromedriver::start().await,
    });
    let outcome = AssertUnwindSafe(tokio::time::timeout(
        TEST_TIMEOUT,
        test(Arc::clone(&harness)),
    ))
    .catch_unwind()
    .await;
    let failure: Option<Box<dyn Any + Send>> = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(_)) => Some(Box::new(format!(
            "the {flow} flow did not finish within {TEST_TIMEOUT:?}"
        ))),
        Err(panic) => Some(panic),
    };
    let windows = std::mem::take(&mut *harness.windows.lock().expect("the window list"));
    if failure.is_some() {
        for (index, window) in windows.iter().enumerate() {
            save_failure(flow, index, window).await;
        }
    }
    for window in windows {
        let _ = window.close().await;
    }
    drop(harness);
    if let Some(panic) = failure {
        std::panic::resume_unwind(panic);
    }
}

/// Where the pages of failed flows go: `$CARGO_TARGET_DIR/browser-failures`, or
/// `target/browser-failures` in the workspace.
fn failure_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")))
        .join("browser-failures")
}

/// Saves what `window` shows (PNG, HTML and URL) as `<flow>-<index>.*`, best effort: the
/// test fails anyway.
async fn save_failure(flow: &str, index: usize, window: &Client) {
    let dir = failure_dir();
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let stem = dir.join(format!("{flow}-{index}"));
    if let Ok(png) = window.screenshot().await {
        let _ = std::fs::write(stem.with_extension("png"), png);
    }
    if let Ok(html) = window.source().await {
        let url = window
            .current_url()
            .await
            .map(|url| url.to_string())
            .unwrap_or_default();
        let _ = std::fs::write(
            stem.with_extension("html"),
            format!("<!-- {url} -->\n{html}"),
        );
    }
    eprintln!("the failed {flow} flow's page is in {}.png", stem.display());
}
