//! Prometheus metrics at `GET /metrics`, on a listener of their own (`TESSERA_METRICS_BIND`),
//! never on the public one: they say how busy the server is and how often it is attacked,
//! which is nobody else's business.
//!
//! Every layer counts through the `metrics` facade; [`recorder`] installs, once per process,
//! the recorder that keeps the values, and the endpoint renders them in the Prometheus text
//! format. The series (every label with a small fixed set of values):
//!
//! | series | type | labels | from |
//! | --- | --- | --- | --- |
//! | `tessera_http_requests_total` | counter | `route`, `method`, `status` | [`crate::access_log`] |
//! | `tessera_http_request_duration_seconds` | histogram | `route`, `method` | [`crate::access_log`] |
//! | `tessera_tokens_issued_total` | counter | `grant` | [`tessera_domain::telemetry`] |
//! | `tessera_replays_detected_total` | counter | `kind` (`authorization_code`, `refresh_token`) | [`tessera_domain::telemetry`] |
//! | `tessera_throttled_attempts_total` | counter | `kind` (`user`, `addr`, `client`, `device`, `register`) | [`tessera_domain::telemetry`] |
//! | `tessera_throttle_lockouts_total` | counter | `kind` | [`tessera_domain::telemetry`] |
//! | `tessera_db_pool_connections` | gauge | `state` (`idle`, `in_use`) | [`tessera_persistence::telemetry`] |
//! | `tessera_db_pool_wait_seconds` | histogram | - | [`tessera_persistence::telemetry`] |
//! | `tessera_db_writer_batch_size` | histogram | - (SQLite only) | [`tessera_persistence::telemetry`] |
//!
//! A series appears once it has a value. The recorder is global to the process: several
//! servers in one process (as in tests) share their counters.

use std::net::TcpListener;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header::{self, ContentType};
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context as _;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tessera_persistence::{telemetry as storage, Database};

use crate::access_log::REQUEST_DURATION_SECONDS;

/// The path of the metrics, on the metrics listener only.
pub const PATH: &str = "/metrics";

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How often the recorder folds recorded histogram samples into their buckets between
/// scrapes, so that an unscraped server's samples do not pile up.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Histogram buckets of the request latency, in seconds: 1 ms to 10 s.
pub const REQUEST_DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process's recorder, installed on first call (later calls return the same one), with
/// the buckets of every histogram, the series described, and a thread that runs its upkeep
/// every [`UPKEEP_INTERVAL`]. Fails if another `metrics` recorder was installed.
pub fn recorder() -> anyhow::Result<PrometheusHandle> {
    static INSTALLED: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(REQUEST_DURATION_SECONDS.to_owned()),
            &REQUEST_DURATION_BUCKETS,
        )
        .and_then(|builder| {
            builder.set_buckets_for_metric(
                Matcher::Full(storage::POOL_WAIT_SECONDS.to_owned()),
                &storage::POOL_WAIT_BUCKETS,
            )
        })
        .and_then(|builder| {
            builder.set_buckets_for_metric(
                Matcher::Full(storage::WRITER_BATCH_SIZE.to_owned()),
                &storage::WRITER_BATCH_BUCKETS,
            )
        })
        .context("the metrics histogram buckets")?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|error| anyhow::anyhow!("cannot install the metrics recorder: {error}"))?;
    describe();
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        })
        .context("cannot start the metrics upkeep thread")?;
    *installed = Some(handle.clone());
    Ok(handle)
}

/// Describes every series (their `# HELP` lines).
fn describe() {
    metrics::describe_counter!(
        crate::access_log::REQUESTS_TOTAL,
        "HTTP requests answered, by route pattern, method and status."
    );
    metrics::describe_histogram!(
        REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time until the response head was ready, by route pattern and method."
    );
    tessera_domain::telemetry::describe();
    storage::describe();
}

/// What the endpoint reads: the recorder, and the database whose pool it reports.
struct Scrape {
    handle: PrometheusHandle,
    database: Database,
}

/// `GET /metrics`: the pool's state, then everything recorded, in the text format.
async fn get(scrape: web::Data<Scrape>) -> HttpResponse {
    scrape.database.record_pool_state();
    scrape.handle.run_upkeep();
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(scrape.handle.render())
}

/// The metrics server on `listener`: one worker, `GET /metrics` and 404 for anything else,
/// no signal handling of its own (it stops with the application).
pub fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    database: Database,
) -> anyhow::Result<Server> {
    let scrape = web::Data::new(Scrape { handle, database });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(scrape.clone())
            .route(PATH, web::get().to(get))
            .default_service(web::to(|| async {
                HttpResponse::NotFound()
                    .content_type(ContentType::plaintext())
                    .body("not found\n")
            }))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .context("TESSERA_METRICS_BIND: cannot serve")?
    .run();
    Ok(server)
}
