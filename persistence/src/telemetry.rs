//! What storage measures, through the `metrics` facade (the web layer installs the recorder;
//! without one these cost next to nothing): the pool's connections, how long checkouts
//! wait, and the size of the SQLite writer's batches.

use std::time::Duration;

/// `tessera_db_pool_connections{state}`: the pool's open connections, `idle` or `in_use`,
/// as [`Database::record_pool_state`](crate::Database::record_pool_state) last saw them.
pub const POOL_CONNECTIONS: &str = "tessera_db_pool_connections";

/// `tessera_db_pool_wait_seconds`: how long each checkout took, from asking the pool to
/// holding a working connection (waiting for a free one, opening one, the Postgres ping),
/// failed checkouts included.
pub const POOL_WAIT_SECONDS: &str = "tessera_db_pool_wait_seconds";

/// `tessera_db_writer_batch_size`: the jobs of each transaction the SQLite writer committed
/// (or tried to), 1 to 256.
pub const WRITER_BATCH_SIZE: &str = "tessera_db_writer_batch_size";

/// Histogram buckets for [`POOL_WAIT_SECONDS`]: 0.1 ms to the 3-second checkout timeout and
/// beyond.
pub const POOL_WAIT_BUCKETS: [f64; 11] = [
    0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 3.0, 10.0,
];

/// Histogram buckets for [`WRITER_BATCH_SIZE`]: powers of two up to the largest batch.
pub const WRITER_BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Records the pool's connections: `idle` of `open` in all.
pub(crate) fn pool_state(open: u32, idle: u32) {
    metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use")
        .set(f64::from(open.saturating_sub(idle)));
}

/// Records one checkout that took `waited`.
pub(crate) fn checkout_waited(waited: Duration) {
    metrics::histogram!(POOL_WAIT_SECONDS).record(waited.as_secs_f64());
}

/// Records one batch of `jobs` jobs committed by the writer.
pub(crate) fn writer_batch(jobs: usize) {
    // A batch holds at most 256 jobs, so the conversion is exact.
    metrics::histogram!(WRITER_BATCH_SIZE).record(jobs as f64);
}

/// Describes these series to the installed recorder (their `# HELP` lines).
pub fn describe() {
    metrics::describe_gauge!(
        POOL_CONNECTIONS,
        "Open database connections of the pool, idle or in use."
    );
    metrics::describe_histogram!(
        POOL_WAIT_SECONDS,
        metrics::Unit::Seconds,
        "Time to check a working connection out of the pool, failed checkouts included."
    );
    metrics::describe_histogram!(
        WRITER_BATCH_SIZE,
        "Jobs per transaction of the SQLite group-commit writer."
    );
}
