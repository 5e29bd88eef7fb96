//! A TCP proxy between a server under test and its Postgres, whose [`Fault`] can be switched
//! while connections are open, to see what the server answers while its database misbehaves
//! and that it recovers by itself afterwards.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does to the connections through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing: bytes pass both ways.
    Pass,
    /// Like a server that shut down: open connections are closed, and new ones are closed as
    /// soon as they are accepted.
    Refuse,
    /// Like a server that hangs, or a network that drops everything: connections are
    /// accepted, and nothing is forwarded either way on new or open ones until the fault
    /// ends (then what was held back goes through).
    Blackhole,
    /// Open and new connections are reset (RST, as after a crash of the peer's host).
    Reset,
}

/// A running proxy; it stops when dropped.
pub struct FaultProxy {
    address: SocketAddr,
    fault: watch::Sender<Fault>,
    injected: Arc<AtomicUsize>,
    accepting: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy listens");
        let address = listener.local_addr().expect("the proxy's address");
        let (fault, watching) = watch::channel(Fault::Pass);
        let injected = Arc::new(AtomicUsize::new(0));
        let counting = Arc::clone(&injected);
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let connection = Connection {
                    upstream,
                    fault: watching.clone(),
                    injected: Arc::clone(&counting),
                    hit: AtomicBool::new(false),
                };
                tokio::spawn(connection.serve(client));
            }
        });
        Self {
            address,
            fault,
            injected,
            accepting,
        }
    }

    /// The `host:port` to connect to instead of the upstream.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Switches every connection, open and new, to `fault`.
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    /// How many connections a fault has acted on so far (held back, closed or reset).
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// How a connection through the proxy ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// One side closed it, or a fault closes it gracefully.
    Close,
    /// A fault resets it.
    Reset,
}

/// One accepted connection and what it needs to be served.
struct Connection {
    upstream: SocketAddr,
    fault: watch::Receiver<Fault>,
    /// The proxy's count of connections hit.
    injected: Arc<AtomicUsize>,
    /// Whether this connection is in that count yet.
    hit: AtomicBool,
}

impl Connection {
    /// Connects upstream once the fault allows it, then forwards both ways until either side
    /// closes or a fault ends the connection.
    async fn serve(self, mut client: TcpStream) {
        let ending = match self.wait_for_forwarding(&mut self.fault.clone()).await {
            Err(ending) => ending,
            Ok(()) => match TcpStream::connect(self.upstream).await {
                Err(_) => Ending::Close,
                Ok(mut server) => {
                    let (mut client_read, mut client_write) = client.split();
                    let (mut server_read, mut server_write) = server.split();
                    let ending = tokio::select! {
                        ending = self.pump(&mut client_read, &mut server_write) => ending,
                        ending = self.pump(&mut server_read, &mut client_write) => ending,
                    };
                    if ending == Ending::Reset {
                        reset(&server);
                    }
                    ending
                }
            },
        };
        if ending == Ending::Reset {
            reset(&client);
        }
    }

    /// Copies `from` to `to` while the fault allows it, holding bytes back during a
    /// blackhole; returns when a side closes or a fault ends the connection.
    async fn pump(&self, from: &mut ReadHalf<'_>, to: &mut WriteHalf<'_>) -> Ending {
        let mut fault = self.fault.clone();
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            if let Err(ending) = self.wait_for_forwarding(&mut fault).await {
                return ending;
            }
            let read = tokio::select! {
                read = from.read(&mut buffer) => read,
                changed = fault.changed() => match changed {
                    Ok(()) => continue,
                    Err(_) => return Ending::Close,
                },
            };
            let count = match read {
                Ok(0) | Err(_) => return Ending::Close,
                Ok(count) => count,
            };
            if let Err(ending) = self.wait_for_forwarding(&mut fault).await {
                return ending;
            }
            if to.write_all(&buffer[..count]).await.is_err() {
                return Ending::Close;
            }
        }
    }

    /// Returns once bytes may pass, or how the connection must end; waits out a blackhole.
    async fn wait_for_forwarding(&self, fault: &mut watch::Receiver<Fault>) -> Result<(), Ending> {
        loop {
            let current = *fault.borrow_and_update();
            if current != Fault::Pass {
                self.count_hit();
            }
            match current {
                Fault::Pass => return Ok(()),
                Fault::Refuse => return Err(Ending::Close),
                Fault::Reset => return Err(Ending::Reset),
                Fault::Blackhole => {
                    if fault.changed().await.is_err() {
                        return Err(Ending::Close);
                    }
                }
            }
        }
    }

    /// Adds this connection to the proxy's count, once.
    fn count_hit(&self) {
        if !self.hit.swap(true, Ordering::Relaxed) {
            self.injected.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Makes dropping `stream` send RST instead of FIN.
fn reset(stream: &TcpStream) {
    stream.set_zero_linger().expect("SO_LINGER is set");
}
