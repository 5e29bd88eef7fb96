//! The one way blocking work (Diesel through the [`Provider`](tessera_domain::Provider),
//! bcrypt, `Database::ping`) leaves the async executor: actix's blocking thread pool, inside
//! the caller's tracing span.

use actix_web::web;

/// How many blocking threads each actix worker gets, and so the ceiling on concurrent
/// database and bcrypt work per worker. The connection pool is sized to match, so a request
/// waiting for a connection already holds a blocking thread and never starves the executor.
pub const BLOCKING_THREADS_PER_WORKER: usize = 16;

/// The blocking task never finished (the pool was shut down or the task panicked).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("a blocking task was cancelled before it finished")]
pub struct Cancelled;

/// Runs `work` on the blocking pool within the current span and returns its result.
pub async fn off_executor<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<Cancelled> + Send + 'static,
{
    let span = tracing::Span::current();
    match web::block(move || span.in_scope(work)).await {
        Ok(result) => result,
        Err(_) => Err(Cancelled.into()),
    }
}
