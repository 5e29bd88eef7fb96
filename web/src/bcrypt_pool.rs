//! [`BcryptPool`]: a small fixed set of threads, one per actix worker (`TESSERA_WORKERS`, by
//! default one per CPU), that runs every request's work that may bcrypt (sign-in, sign-up,
//! the password grant). Work that needs only the database never queues behind a password
//! check, and no executor or blocking thread waits on one: the answer comes back through a
//! oneshot channel. Each of these threads checks out at most one pooled connection, so the
//! default pool size covers them ([`crate::off_executor`]).

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};

use crate::error::ServerFault;
use crate::off_executor::Cancelled;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The bounded pool of password-hashing threads.
pub struct BcryptPool {
    jobs: Mutex<Sender<Job>>,
}

impl BcryptPool {
    /// Starts `threads` threads (at least one).
    pub fn start(threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("bcrypt-{index}"))
                .spawn(move || loop {
                    let job = queue
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                })?;
        }
        Ok(Self {
            jobs: Mutex::new(jobs),
        })
    }

    /// Runs `work` on the pool within the current span and returns its result; work that
    /// never finishes is an internal [`ServerFault`].
    pub async fn run<T, E>(
        &self,
        work: impl FnOnce() -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<ServerFault> + Send + 'static,
    {
        let span = tracing::Span::current();
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(span.in_scope(work));
        });
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .send(job);
        if sent.is_err() {
            return Err(ServerFault::internal(&Cancelled).into());
        }
        match answered.await {
            Ok(result) => result,
            Err(_) => Err(ServerFault::internal(&Cancelled).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn work_runs_on_a_bcrypt_thread_and_answers() {
        let pool = BcryptPool::start(2).unwrap();
        let name = pool
            .run(|| {
                Ok::<_, ServerFault>(std::thread::current().name().unwrap_or_default().to_owned())
            })
            .await
            .unwrap();
        assert!(name.starts_with("bcrypt-"), "{name}");
    }
}
