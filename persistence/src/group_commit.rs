//! Group commit on SQLite: one writer thread per [`Database`](crate::Database) runs the
//! writes of concurrent requests together, each in a savepoint of one shared transaction,
//! and answers each only after that transaction committed.
//!
//! SQLite lets one connection write at a time. Writers that meet wait in SQLite's busy
//! handler, which sleeps, and each commit is a WAL append and a lock hand-over of its own.
//! The writer instead takes every job that queued while it committed the last batch (at most
//! [`MAX_BATCH`]), so N concurrent writes cost one commit, and it never waits on purpose:
//! under light load a batch holds one job and commits at once.
//!
//! Each job stays all-or-none on its own: it runs in a savepoint, so a failed job's writes are
//! rolled back without touching the jobs around it, and a job is answered `Ok` only once the
//! transaction holding it committed (a failed commit fails every job of the batch, and none of
//! their writes remain). A job that fails ends its batch (the jobs after it go into the next),
//! so no job can run after a failure that may have ended the whole transaction. Durability is
//! the connection's: WAL with `synchronous = NORMAL` ([`crate::connection`]).

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use diesel::connection::{AnsiTransactionManager, TransactionManager as _};
use diesel::Connection;
use tessera_domain::StoreError;

use crate::connection::DbConnection;
use crate::database::Connections;
use crate::error::{from_diesel, TransactionError};
use crate::telemetry;

/// The most jobs one transaction holds.
pub(crate) const MAX_BATCH: usize = 256;

/// Runs `body` in one transaction (a savepoint when the connection is in one already):
/// commits if it returns `Ok`, rolls everything back if it returns `Err` (or if the commit
/// fails), and reports any failure as a [`StoreError`].
///
/// A plain `BEGIN`, so on SQLite the write lock is taken by the first write; callers that race
/// make that write their first statement, before any read could pin an older snapshot.
pub(crate) fn in_transaction<T>(
    connection: &mut DbConnection,
    body: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    connection
        .transaction(|connection| body(connection).map_err(TransactionError::Store))
        .map_err(TransactionError::into_store)
}

/// A queued job as the writer sees it, whatever its result type.
trait Job: Send {
    /// Runs the job's writes in a savepoint; whether they failed (and were rolled back).
    fn run(&mut self, connection: &mut DbConnection) -> bool;
    /// Answers the caller once the job's transaction is over: its own result if the
    /// transaction committed, else the failure that ended it.
    fn answer(self: Box<Self>, transaction: Result<(), &StoreError>);
}

/// A job of the caller's work `F`, returning `T`.
struct Pending<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: SyncSender<Result<T, StoreError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, connection: &mut DbConnection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = in_transaction(connection, work);
        let failed = result.is_err();
        self.result = Some(result);
        failed
    }

    fn answer(self: Box<Self>, transaction: Result<(), &StoreError>) {
        let result = match (transaction, self.result) {
            (Err(error), _) => Err(copy_of(error)),
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(StoreError::Other("a queued write never ran".into())),
        };
        // The caller may have gone; then nobody needs the answer.
        let _ = self.reply.send(result);
    }
}

/// The writer thread's queue. Dropping the last handle ends the thread once the queue is
/// empty.
#[derive(Debug)]
pub(crate) struct Writer {
    jobs: Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread on connections checked out of `connections`, one per batch.
    pub(crate) fn start(connections: Connections) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("tessera-writer".into())
            .spawn(move || serve(&connections, &queue))?;
        Ok(Self { jobs })
    }

    /// Runs `work` in the next batch and blocks until that batch's transaction is over:
    /// `work`'s result once it committed, or why it did not.
    pub(crate) fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Pending {
            work: Some(work),
            result: None,
            reply,
        };
        self.jobs.send(Box::new(job)).map_err(|_| stopped())?;
        // Dropped unanswered: a job of its batch panicked.
        answer.recv().map_err(|_| abandoned())?
    }
}

/// The writer thread: batches until every [`Writer`] handle is gone.
fn serve(connections: &Connections, queue: &Receiver<Box<dyn Job>>) {
    let mut pending: VecDeque<Box<dyn Job>> = VecDeque::new();
    loop {
        if pending.is_empty() {
            match queue.recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => return,
            }
        }
        while pending.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => break,
            }
        }
        commit_batch(connections, &mut pending);
    }
}

/// Runs jobs from the front of `pending` in one transaction, up to and including the first
/// that fails, and answers them; the rest stay queued. A job that panics is dropped (its
/// caller hears nothing and gives up), the jobs run before it fail, and the connection with
/// their open transaction is closed, which rolls it back.
fn commit_batch(connections: &Connections, pending: &mut VecDeque<Box<dyn Job>>) {
    let mut connection = match connections.checkout() {
        Ok(connection) => connection,
        Err(error) => return answer_all(pending.drain(..), Err(&error)),
    };
    if let Err(error) = begin(&mut connection) {
        return answer_all(pending.drain(..), Err(&from_diesel(error)));
    }
    let mut ran = Vec::with_capacity(pending.len());
    let finished = panic::catch_unwind(AssertUnwindSafe(|| {
        while let Some(mut job) = pending.pop_front() {
            let failed = job.run(&mut connection);
            ran.push(job);
            if failed {
                break;
            }
        }
    }));
    if finished.is_err() {
        connection.spoil();
        return answer_all(ran, Err(&abandoned()));
    }
    let committed =
        <DbConnection as Connection>::TransactionManager::commit_transaction(&mut connection)
            .map_err(from_diesel);
    drop(connection);
    telemetry::writer_batch(ran.len());
    tracing::trace!(
        jobs = ran.len(),
        committed = committed.is_ok(),
        "group commit"
    );
    answer_all(ran, committed.as_ref().map(|_| ()));
}

/// Answers every job in `jobs` with the outcome of their transaction.
fn answer_all(jobs: impl IntoIterator<Item = Box<dyn Job>>, transaction: Result<(), &StoreError>) {
    for job in jobs {
        job.answer(transaction);
    }
}

/// Begins a batch's transaction; on SQLite `BEGIN IMMEDIATE`, which takes the write lock at
/// once, so no job's read can pin a snapshot that another process's commit makes stale.
fn begin(connection: &mut DbConnection) -> diesel::QueryResult<()> {
    match connection {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        DbConnection::Postgres(_) => {
            <DbConnection as Connection>::TransactionManager::begin_transaction(connection)
        }
    }
}

/// The failure that ended a batch, once for each of its jobs.
fn copy_of(error: &StoreError) -> StoreError {
    match error {
        StoreError::Conflict => StoreError::Conflict,
        StoreError::Unavailable(text) => StoreError::Unavailable(text.clone()),
        StoreError::Other(text) => StoreError::Other(text.clone()),
    }
}

/// The writer thread is gone (it cannot be, while a handle exists).
fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".into())
}

/// A write whose batch was abandoned.
fn abandoned() -> StoreError {
    StoreError::Other("a write was abandoned: a write of its batch panicked".into())
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    #![expect(clippy::unwrap_used, reason = "a failed step fails the test")]

    use diesel::connection::SimpleConnection as _;
    use diesel::prelude::*;

    use super::*;
    use crate::schema::{settings, tokens};
    use crate::test_db::TestDb;

    /// A queued job of `work`, and where its answer arrives.
    fn job<T, F>(work: F) -> (Box<dyn Job>, Receiver<Result<T, StoreError>>)
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        let pending = Pending {
            work: Some(work),
            result: None,
            reply,
        };
        (Box::new(pending), answer)
    }

    /// The answer a job's caller heard.
    fn answer<T>(heard: &Receiver<Result<T, StoreError>>) -> Result<T, StoreError> {
        heard.recv().unwrap()
    }

    /// Stores the setting `name`.
    fn put(name: &'static str) -> impl FnOnce(&mut DbConnection) -> Result<usize, StoreError> {
        move |connection| {
            diesel::insert_into(settings::table)
                .values((settings::name.eq(name), settings::value.eq("v")))
                .execute(connection)
                .map_err(from_diesel)
        }
    }

    /// Whether the setting `name` is stored, as another connection sees it.
    fn stored(db: &TestDb, name: &str) -> bool {
        let mut connection = db.database().connection().unwrap();
        settings::table
            .find(name)
            .select(settings::name)
            .first::<String>(&mut *connection)
            .optional()
            .unwrap()
            .is_some()
    }

    #[test]
    fn a_batch_commits_its_jobs_together_and_answers_each_with_its_own_result() {
        let db = TestDb::sqlite();
        let (first, first_answer) = job(put("first"));
        let (second, second_answer) = job(put("second"));
        let mut queue = VecDeque::from([first, second]);
        commit_batch(db.database().connections(), &mut queue);
        assert!(queue.is_empty());
        assert_eq!(answer(&first_answer).unwrap(), 1);
        assert_eq!(answer(&second_answer).unwrap(), 1);
        assert!(stored(&db, "first") && stored(&db, "second"));
    }

    #[test]
    fn a_failed_job_is_rolled_back_alone_and_ends_its_batch() {
        let db = TestDb::sqlite();
        let (before, before_answer) = job(put("before"));
        let (failing, failing_answer) = job(|connection: &mut DbConnection| {
            put("failing")(connection)?;
            Err::<usize, _>(StoreError::Other("refused after writing".into()))
        });
        let (after, after_answer) = job(put("after"));
        let mut queue = VecDeque::from([before, failing, after]);

        commit_batch(db.database().connections(), &mut queue);
        assert_eq!(answer(&before_answer).unwrap(), 1);
        assert!(matches!(answer(&failing_answer), Err(StoreError::Other(_))));
        assert!(stored(&db, "before"));
        assert!(!stored(&db, "failing"), "the failed job's write was kept");
        assert_eq!(
            queue.len(),
            1,
            "the job after the failure waits for the next batch"
        );
        assert!(after_answer.try_recv().is_err(), "answered before it ran");

        commit_batch(db.database().connections(), &mut queue);
        assert_eq!(answer(&after_answer).unwrap(), 1);
        assert!(stored(&db, "after"));
    }

    #[test]
    fn a_failed_commit_fails_every_job_of_the_batch_and_keeps_none_of_their_writes() {
        let db = TestDb::sqlite();
        let (kept_back, kept_back_answer) = job(put("kept_back"));
        // A token of no authorization, with foreign keys checked only at COMMIT: the job
        // itself succeeds, and the commit of the whole batch fails.
        let (orphan, orphan_answer) = job(|connection: &mut DbConnection| {
            connection
                .batch_execute("PRAGMA defer_foreign_keys = ON")
                .map_err(from_diesel)?;
            diesel::insert_into(tokens::table)
                .values((
                    tokens::digest.eq("00"),
                    tokens::kind.eq("access"),
                    tokens::authorization_id.eq("no such authorization"),
                    tokens::client_id.eq("c"),
                    tokens::scope.eq(""),
                    tokens::issued_at.eq(0_i64),
                    tokens::expires_at.eq(1_i64),
                ))
                .execute(connection)
                .map_err(from_diesel)
        });
        let mut queue = VecDeque::from([kept_back, orphan]);
        commit_batch(db.database().connections(), &mut queue);
        assert!(answer(&kept_back_answer).is_err());
        assert!(answer(&orphan_answer).is_err());
        assert!(
            !stored(&db, "kept_back"),
            "a job of a failed commit was kept"
        );
    }

    #[test]
    fn a_write_that_panics_fails_and_writes_go_on() {
        let db = TestDb::sqlite();
        let result = db
            .database()
            .write(|_| -> Result<(), StoreError> { panic!("a bug in a write") });
        assert!(matches!(result, Err(StoreError::Other(_))), "{result:?}");
        db.database().write(put("after")).unwrap();
        assert!(stored(&db, "after"));
    }

    #[test]
    fn concurrent_writes_all_commit() {
        let db = TestDb::sqlite();
        let names: Vec<String> = (0..64).map(|n| format!("setting-{n}")).collect();
        std::thread::scope(|scope| {
            for name in &names {
                let database = db.database().clone();
                scope.spawn(move || {
                    let name = name.clone();
                    database
                        .write(move |connection| {
                            diesel::insert_into(settings::table)
                                .values((settings::name.eq(name), settings::value.eq("v")))
                                .execute(connection)
                                .map_err(from_diesel)
                        })
                        .unwrap()
                });
            }
        });
        assert!(names.iter().all(|name| stored(&db, name)));
    }
}
