//! One thread that cuts off database work outliving its deadline. A Postgres call blocks
//! until the server answers, and a server that stopped answering without closing the
//! connection (hung, or beyond a network that drops everything) would hold the request, its
//! thread and its pooled connection forever: TCP keepalives and timeouts see nothing wrong
//! while the peer's host still acknowledges. Each checkout arms a deadline on its
//! connection's socket; when the deadline passes first, the socket is shut down, the call
//! fails as a lost connection (so `Unavailable`, a 503) and the pool replaces the connection.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use crate::socket::Socket;

/// The deadlines armed, earliest first, and the socket each one guards.
#[derive(Debug, Default)]
struct Deadlines {
    armed: BTreeMap<(Instant, u64), Socket>,
    next_id: u64,
}

/// The state shared with the watchdog thread.
#[derive(Debug, Default)]
struct Watchdog {
    deadlines: Mutex<Deadlines>,
    changed: Condvar,
}

/// A deadline on one socket, disarmed when dropped. While it is armed its socket must stay
/// open: drop it before the connection can be closed or handed to another caller.
#[must_use = "the deadline is disarmed as soon as the guard drops"]
#[derive(Debug)]
pub(crate) struct Armed {
    key: (Instant, u64),
    watchdog: Arc<Watchdog>,
}

/// Shuts `socket` down at `deadline` unless the returned guard was dropped before; `None`
/// when the watchdog thread could not be started (the work is then unbounded, as without it).
pub(crate) fn arm(socket: Socket, deadline: Instant) -> Option<Armed> {
    let watchdog = Arc::clone(shared()?);
    let key = {
        let mut deadlines = watchdog.lock();
        let key = (deadline, deadlines.next_id);
        deadlines.next_id = deadlines.next_id.wrapping_add(1);
        deadlines.armed.insert(key, socket);
        key
    };
    watchdog.changed.notify_one();
    Some(Armed { key, watchdog })
}

impl Drop for Armed {
    fn drop(&mut self) {
        // The watchdog shuts sockets down while holding this lock, so once it is released
        // here the socket is never touched again.
        self.watchdog.lock().armed.remove(&self.key);
    }
}

/// The process's watchdog, started on first use.
fn shared() -> Option<&'static Arc<Watchdog>> {
    static SHARED: OnceLock<Option<Arc<Watchdog>>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let watchdog = Arc::new(Watchdog::default());
            let running = Arc::clone(&watchdog);
            match std::thread::Builder::new()
                .name("tessera-db-watchdog".into())
                .spawn(move || running.watch())
            {
                Ok(_) => Some(watchdog),
                Err(error) => {
                    tracing::warn!(%error, "cannot start the database watchdog");
                    None
                }
            }
        })
        .as_ref()
}

impl Watchdog {
    fn lock(&self) -> MutexGuard<'_, Deadlines> {
        self.deadlines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps until the earliest deadline, shuts its socket down if it is still armed, and
    /// so on forever.
    fn watch(&self) {
        let mut deadlines = self.lock();
        loop {
            let now = Instant::now();
            let earliest = deadlines.armed.first_key_value().map(|(key, _)| *key);
            deadlines = match earliest {
                None => self
                    .changed
                    .wait(deadlines)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(key) if key.0 <= now => {
                    if let Some(socket) = deadlines.armed.remove(&key) {
                        tracing::warn!("database call past its deadline: connection cut off");
                        socket.shut_down();
                    }
                    deadlines
                }
                Some((deadline, _)) => {
                    self.changed
                        .wait_timeout(deadlines, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::Read as _;
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    use super::*;
    use crate::socket::{SocketFinder, TEST_SOCKETS};

    /// A connected client socket whose peer never writes, and the peer.
    #[expect(clippy::expect_used, reason = "a failed step fails the test")]
    fn silent_peer() -> (TcpStream, Socket, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a listener binds");
        let address = listener.local_addr().expect("an address");
        let (client, socket) =
            SocketFinder::new(Some(address.port())).opened_by(|| TcpStream::connect(address));
        let (peer, _) = listener.accept().expect("the peer accepts");
        (
            client.expect("the client connects"),
            socket.expect("the client's socket is found"),
            peer,
        )
    }

    #[test]
    fn a_read_past_its_deadline_is_cut_off_and_a_disarmed_one_is_not() {
        let _alone = TEST_SOCKETS.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut cut, socket, _peer) = silent_peer();
        let _armed = arm(socket, Instant::now() + Duration::from_millis(200));
        let mut buffer = [0u8; 1];
        // Blocks until the watchdog shuts the socket down, which reads as end of stream.
        assert_eq!(cut.read(&mut buffer).expect("the read ends"), 0);

        let (mut kept, socket, _peer) = silent_peer();
        drop(arm(socket, Instant::now() + Duration::from_millis(100)));
        kept.set_read_timeout(Some(Duration::from_millis(400)))
            .expect("a read timeout");
        let error = kept.read(&mut buffer).expect_err("nothing to read");
        assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
    }
}
