//! What the test binary logs, kept in memory for tests of what the server writes to its log.
//!
//! [`captured_log`] installs, once per test binary, the global `tracing` subscriber (and the
//! `log` bridge, as `tessera serve` does) writing plain text into a shared buffer: Tessera's
//! crates at TRACE, everything else at DEBUG. From then on every server of every test in the
//! binary logs there, so a test asserts only about values it made itself.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

/// The levels captured.
const FILTER: &str = "debug,tessera_web=trace,tessera_domain=trace,tessera_persistence=trace,\
     reqwest=off,cookie_store=off,hyper_util=off,hyper=off";

/// The shared buffer every event is written to.
#[derive(Clone, Default)]
pub struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    /// Everything logged since the capture was installed.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    fn bytes(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.bytes().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The capture, installed as the global subscriber on first use (panics if the binary
/// already has another one: the capture would see nothing).
pub fn captured_log() -> &'static CapturedLog {
    static CAPTURE: OnceLock<CapturedLog> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let log = CapturedLog::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(FILTER))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
            .try_init()
            .expect("no other global subscriber is installed in this test binary");
        log
    })
}
