//! The socket under a Postgres connection, so that the [`crate::watchdog`] can cut off a call
//! that hangs on it. libpq opens the socket and Diesel does not expose it, so on Linux the
//! process's open sockets are listed before and after connecting (one connection to a port
//! at a time): the connection's socket is the one that appeared, connected to the database's
//! port. Elsewhere, or when that is ambiguous (something else connected to the same port
//! meanwhile), the connection has no known socket and its calls are bounded only by the
//! database and the operating system.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The socket of one open connection (a file descriptor this process holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Socket(#[cfg_attr(not(target_os = "linux"), expect(dead_code))] i32);

/// Finds the sockets of one pool's new connections.
#[derive(Debug)]
pub(crate) struct SocketFinder {
    /// The port the connections' sockets are connected to, when the URL tells it; without
    /// it any one new socket counts.
    peer_port: Option<u16>,
    /// Held while a connection is being opened, so that no two connections to the port
    /// appear together (shared by every finder for the port).
    connecting: Arc<Mutex<()>>,
}

impl SocketFinder {
    /// A finder for connections to `peer_port` (any port when `None`).
    pub(crate) fn new(peer_port: Option<u16>) -> Self {
        static BY_PORT: Mutex<BTreeMap<Option<u16>, Arc<Mutex<()>>>> = Mutex::new(BTreeMap::new());
        let connecting = Arc::clone(
            BY_PORT
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(peer_port)
                .or_default(),
        );
        Self {
            peer_port,
            connecting,
        }
    }

    /// Runs `connect` and says which socket it left open, if that can be told.
    pub(crate) fn opened_by<T>(&self, connect: impl FnOnce() -> T) -> (T, Option<Socket>) {
        let _one_at_a_time = self
            .connecting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let before = open_sockets();
        let connected = connect();
        let after = open_sockets();
        let socket = before.zip(after).and_then(|(before, after)| {
            let mut new = after.into_iter().filter(|(inode, socket)| {
                !before.iter().any(|(known, _)| known == inode)
                    && self
                        .peer_port
                        .is_none_or(|port| socket.peer_port() == Some(port))
            });
            match (new.next(), new.next()) {
                (Some((_, socket)), None) => Some(socket),
                _ => None,
            }
        });
        (connected, socket)
    }
}

impl Socket {
    /// The port of the peer it is connected to, if it is a connected IP socket.
    fn peer_port(self) -> Option<u16> {
        #[cfg(target_os = "linux")]
        {
            let peer: nix::sys::socket::SockaddrStorage =
                nix::sys::socket::getpeername(self.0).ok()?;
            peer.as_sockaddr_in()
                .map(|address| address.port())
                .or_else(|| peer.as_sockaddr_in6().map(|address| address.port()))
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// Whether the peer has neither spoken nor hung up since the connection was last used:
    /// nothing is waiting to be read. A Postgres server that ends a connection sends a notice
    /// and closes it, and a reset shows as an error, so an idle connection whose socket is
    /// not quiet is lost. Looking costs one system call and no round trip. Unknown, and so
    /// `false`, where sockets cannot be looked at.
    pub(crate) fn is_quiet(self) -> bool {
        #[cfg(target_os = "linux")]
        {
            use nix::sys::socket::MsgFlags;
            let mut byte = [0_u8; 1];
            let peeked = nix::sys::socket::recv(
                self.0,
                &mut byte,
                MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT,
            );
            matches!(peeked, Err(nix::errno::Errno::EAGAIN))
        }
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// Shuts the socket down both ways: a call blocked on it returns at once with an error,
    /// and the connection is then broken. The descriptor stays open (its owner closes it).
    pub(crate) fn shut_down(self) {
        #[cfg(target_os = "linux")]
        if let Err(error) = nix::sys::socket::shutdown(self.0, nix::sys::socket::Shutdown::Both) {
            tracing::warn!(%error, "cannot shut a database socket down");
        }
    }
}

/// The sockets this process holds, by inode, from `/proc/self/fd`.
#[cfg(target_os = "linux")]
fn open_sockets() -> Option<Vec<(u64, Socket)>> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    Some(
        entries
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let descriptor = entry.file_name().to_str()?.parse().ok()?;
                let target = std::fs::read_link(entry.path()).ok()?;
                let inode = target
                    .to_str()?
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()?;
                Some((inode, Socket(descriptor)))
            })
            .collect(),
    )
}

/// Sockets cannot be listed here.
#[cfg(not(target_os = "linux"))]
fn open_sockets() -> Option<Vec<(u64, Socket)>> {
    None
}

/// Held by the unit tests that open sockets, so that they do not run into one another.
#[cfg(all(test, target_os = "linux"))]
pub(crate) static TEST_SOCKETS: Mutex<()> = Mutex::new(());

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_one_new_socket_to_the_port_is_found_and_none_when_ambiguous() {
        let _alone = TEST_SOCKETS.lock().unwrap_or_else(PoisonError::into_inner);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener binds");
        let address = listener.local_addr().expect("an address");
        let other = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener binds");
        let finder = SocketFinder::new(Some(address.port()));

        let (_, nothing) = finder.opened_by(|| ());
        assert_eq!(nothing, None);
        let (client, socket) = finder.opened_by(|| {
            let to_other = std::net::TcpStream::connect(other.local_addr().expect("an address"));
            (std::net::TcpStream::connect(address), to_other)
        });
        let client = client.0.expect("the client connects");
        assert_eq!(socket.and_then(Socket::peer_port), Some(address.port()));
        drop(client);
        let (_, two) = finder.opened_by(|| {
            (
                std::net::TcpStream::connect(address),
                std::net::TcpStream::connect(address),
            )
        });
        assert_eq!(two, None, "two new sockets to the port are ambiguous");
    }
}
