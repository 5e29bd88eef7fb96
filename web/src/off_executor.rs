//! The way blocking work that needs only the database (Diesel through the
//! [`Provider`](tessera_domain::Provider), `Database::ping`) leaves the async executor: the
//! blocking thread pool of the runtime that calls it, inside the caller's tracing span. Work
//! that may bcrypt runs on the [`BcryptPool`](crate::bcrypt_pool::BcryptPool) instead.
//!
//! Sizing: the server runs `TESSERA_WORKERS` actix workers, each a single-threaded runtime
//! with its own pool of [`BLOCKING_THREADS_PER_WORKER`] blocking threads, so at most
//! [`blocking_threads`] blocking tasks run at once in a process; more wait in the runtimes'
//! queues, off the executor. A task checks out at most one connection, inside the closure, so
//! the wait itself is blocking work.
//!
//! By default (`TESSERA_POOL_SIZE` unset) the connection pool holds one connection per
//! blocking thread, per bcrypt thread and one for the background purge
//! ([`default_pool_size`](crate::config::default_pool_size)), so no task waits for a
//! connection that another task of this process could be using: a checkout waits only while
//! the database is slow to open or replace connections, and gives up with a 503 after
//! [`POOL_CHECKOUT_TIMEOUT`](crate::startup::POOL_CHECKOUT_TIMEOUT).
//!
//! A smaller `TESSERA_POOL_SIZE` (several processes sharing one Postgres server's
//! `max_connections`) gives up that guarantee on purpose: more tasks can run than there are
//! connections, so under load a task waits for a connection another task holds — still on its
//! blocking thread, never on the executor — and answers 503 if none is returned within the
//! checkout timeout. The pool then caps this process's concurrent database work; requests that
//! need no connection (the executor's own work) are not slowed. A larger pool than the default
//! is harmless but never used in full, since no more tasks can hold a connection at once.

use actix_web::web;

use crate::error::ServerFault;

/// Blocking threads per actix worker: the most database work one worker runs at once.
pub const BLOCKING_THREADS_PER_WORKER: usize = 8;

/// Blocking threads across `workers` actix workers: the most database work of requests that
/// runs at once in a process.
pub fn blocking_threads(workers: usize) -> usize {
    workers * BLOCKING_THREADS_PER_WORKER
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
