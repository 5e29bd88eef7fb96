//! The way blocking work that needs only the database (Diesel through the
//! [`Provider`](tessera_domain::Provider), `Database::ping`) leaves the async executor: the
//! blocking thread pool of the runtime that calls it, inside the caller's tracing span. Work
//! that may bcrypt runs on the [`BcryptPool`](crate::bcrypt_pool::BcryptPool) instead.
//!
//! Sizing: the server runs [`workers`] actix workers, each a single-threaded runtime with its
//! own pool of [`BLOCKING_THREADS_PER_WORKER`] blocking threads, so at most
//! [`blocking_threads`] blocking tasks run at once in a process; more wait in the runtimes'
//! queues, off the executor. The connection pool holds exactly that many connections and a
//! task checks out at most one (inside the closure, so the wait itself is blocking work), so
//! no task waits for a connection that another task of this process could be using; a
//! checkout waits only while the database is slow to open or replace connections, and gives
//! up with a 503 after [`POOL_CHECKOUT_TIMEOUT`](crate::startup::POOL_CHECKOUT_TIMEOUT).

use std::num::NonZeroUsize;

use actix_web::web;

use crate::error::ServerFault;

/// Blocking threads per actix worker: the most database work one worker runs at once.
pub const BLOCKING_THREADS_PER_WORKER: usize = 8;

/// The number of actix workers: one per available CPU (1 if that cannot be known).
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Blocking threads across all workers, which is also the size of the connection pool.
pub fn blocking_threads() -> usize {
    workers() * BLOCKING_THREADS_PER_WORKER
}

/// The blocking task never finished (the pool was shut down or the task panicked).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("a blocking task was cancelled before it finished")]
pub struct Cancelled;

/// Runs `work` on the blocking pool within the current span and returns its result; a task
/// that never finishes is an internal [`ServerFault`].
pub async fn off_executor<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<ServerFault> + Send + 'static,
{
    let span = tracing::Span::current();
    match web::block(move || span.in_scope(work)).await {
        Ok(result) => result,
        Err(_) => Err(ServerFault::internal(&Cancelled).into()),
    }
}
