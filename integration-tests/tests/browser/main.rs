//! Tessera's pages in a real browser: headless Chromium, driven over WebDriver by
//! `fantoccini` through a `chromedriver` each test starts, against a server on SQLite (the
//! pages do not depend on the backend; the HTTP tests cover Postgres).
//!
//! Every flow is done as a user does it: typing in fields found by their label, clicking
//! buttons found by their accessible name, and with the keyboard only for signing in and
//! out. Each test saves the pages it shows to `docs/screenshots/<flow>-<step>.png`, and a
//! failing test its open pages to `<target>/browser-failures/`.
//!
//! Built only with the `browser-tests` feature, which then needs `chromium` and
//! `chromedriver` on `PATH` (a missing one fails the tests):
//! `cargo test -p tessera-integration-tests --features tessera-integration-tests/browser-tests --test browser`.
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test on any surprise"
)]

#[path = "../helpers/mod.rs"]
#[expect(
    dead_code,
    unused_imports,
    unused_macros,
    reason = "the browser tests use a few of the HTTP tests' helpers"
)]
mod helpers;

mod client_site;
mod driver;
mod flows;
mod page;

mod account;
mod clients;
mod consent;
mod device;
mod sign_in;
mod sign_up;
