//! A real browser for the end-to-end tests of the node's pages: Debian's `chromium`, headless,
//! driven over WebDriver through `chromium-driver` (`chromedriver` on a free port of
//! 127.0.0.1), with screenshots written as test artifacts and axe-core run inside a page.
//!
//! Owns: finding the browser and its driver (a missing one fails the test with a message
//! saying `.ci/run` installs it: nothing is skipped), starting and stopping the driver process,
//! one WebDriver session per [`Browser`], where screenshots go
//! (`target/test-artifacts/`), and where axe-core is read from. Does not own what a test checks
//! in a page, nor the nodes serving it ([`crate::cluster`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

use crate::cluster::wait_for;

/// The browser binary Debian's `chromium` package installs.
const CHROMIUM: &str = "/usr/bin/chromium";
/// The driver binary Debian's `chromium-driver` package installs.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long the driver may take to listen.
const DRIVER_DEADLINE: Duration = Duration::from_secs(30);
/// Environment variable naming axe-core's `axe.min.js`; else [`default_axe_path`] is read.
pub const AXE_PATH_VARIABLE: &str = "LOTLINE_AXE_JS";
/// A phone's viewport: the consumer page is read on one.
const WINDOW_SIZE: &str = "--window-size=412,915";

/// One headless Chromium session and the driver process behind it.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    /// The `chromedriver` process; killed on drop.
    driver: Child,
    /// The browser profile, removed on drop.
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Browser").field("driver", &self.driver.id()).finish()
    }
}

impl Browser {
    /// Starts `chromedriver` on a free port and opens a headless Chromium session.
    pub async fn start() -> anyhow::Result<Self> {
        for (binary, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            if !Path::new(binary).exists() {
                bail!(
                    "{binary} is missing: the browser tests need Debian's `{package}` package \
                     (.ci/run installs it: apt-get install -y chromium chromium-driver)"
                );
            }
        }
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            listener.local_addr()?.port()
        };
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {CHROMEDRIVER}"))?;
        let profile = tempfile::tempdir()?;
        let mut browser_guard = DriverGuard(Some(driver));
        let address = format!("127.0.0.1:{port}");
        wait_for("chromedriver to listen", DRIVER_DEADLINE, || {
            let address = address.clone();
            async move { tokio::net::TcpStream::connect(&address).await.ok().map(|_| ()) }
        })
        .await?;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    // The tests run as root in a container, where the sandbox cannot start.
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    WINDOW_SIZE,
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://{address}"))
            .await
            .context("cannot open a chromium session through chromedriver")?;
        let driver = browser_guard.0.take().context("the driver process is held")?;
        Ok(Browser { client, driver, _profile: profile })
    }

    /// Writes a PNG of the window to `target/test-artifacts/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let directory = artifacts_directory();
        std::fs::create_dir_all(&directory)?;
        let path = directory.join(format!("{name}.png"));
        let png = self.client.screenshot().await?;
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Runs axe-core in the current page and returns its violations of impact `serious` or
    /// `critical` (each as axe reports it). Fails when axe-core is not installed, saying how
    /// `.ci/run` installs it.
    pub async fn serious_accessibility_violations(&self) -> anyhow::Result<Vec<Value>> {
        let path = std::env::var_os(AXE_PATH_VARIABLE).map_or_else(default_axe_path, PathBuf::from);
        let source = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "axe-core is missing at {} (.ci/run installs it with npm into target/test-tools; \
                 or set {AXE_PATH_VARIABLE})",
                path.display()
            )
        })?;
        // WebDriver scripts run outside the page's Content-Security-Policy, so axe is injected
        // without loosening the page's own policy.
        self.client.execute(&format!("{source}\nreturn true;"), Vec::new()).await?;
        let report = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document).then(result => done(result.violations), error => done({error: String(error)}));",
                Vec::new(),
            )
            .await?;
        if let Some(error) = report.get("error") {
            bail!("axe-core failed in the page: {error}");
        }
        let violations = report.as_array().cloned().unwrap_or_default();
        Ok(violations
            .into_iter()
            .filter(|violation| {
                matches!(
                    violation.get("impact").and_then(Value::as_str),
                    Some("serious" | "critical")
                )
            })
            .collect())
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Kills the driver should the session fail to open.
struct DriverGuard(Option<Child>);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(mut driver) = self.0.take() {
            let _ = driver.kill();
            let _ = driver.wait();
        }
    }
}

/// The workspace's target directory (`CARGO_TARGET_DIR` when set).
fn target_directory() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target"),
        PathBuf::from,
    )
}

/// Where screenshots go: `target/test-artifacts/`.
pub fn artifacts_directory() -> PathBuf {
    target_directory().join("test-artifacts")
}

/// Where `.ci/run` installs axe-core: `target/test-tools/node_modules/axe-core/axe.min.js`.
pub fn default_axe_path() -> PathBuf {
    target_directory().join("test-tools/node_modules/axe-core/axe.min.js")
}
