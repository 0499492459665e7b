//! A TCP proxy for fault drills, put between a client and a real server:
//! it can refuse every new connection (a dependency that is down) or hold
//! back what the client sends (a slow instance), switched while it runs.
//! The server behind it is never touched.
//!
//! A professional reaches for Toxiproxy (or `tc netem` in a network
//! namespace) for more kinds of fault; two kinds are all the drills need,
//! and forty lines show there is no magic in them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A proxy. Dropping it stops accepting new connections.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    faults: Arc<Faults>,
    listener: Option<TcpListener>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Faults {
    down: AtomicBool,
    delay_micros: AtomicU64,
}

impl FaultProxy {
    /// Forwards 127.0.0.1:<new port> to `target`, with no fault yet.
    pub async fn start(target: SocketAddr) -> std::io::Result<Self> {
        let mut proxy = Self::bind().await?;
        proxy.forward_to(target);
        Ok(proxy)
    }

    /// Listens on 127.0.0.1:<new port> but forwards nothing yet: clients
    /// wait in the backlog. For a server that must be told the proxy's
    /// address before it starts (and so before the proxy knows its own).
    pub async fn bind() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        Ok(Self {
            addr: listener.local_addr()?,
            faults: Arc::new(Faults::default()),
            listener: Some(listener),
            accept: None,
        })
    }

    /// Starts forwarding to `target` (once; later calls do nothing).
    pub fn forward_to(&mut self, target: SocketAddr) {
        if let Some(listener) = self.listener.take() {
            let faults = self.faults.clone();
            self.accept = Some(tokio::spawn(accept_loop(listener, target, faults)));
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, for a client that wants a URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// While down, a new connection is closed as soon as it is accepted
    /// (connections already open keep working).
    pub fn set_down(&self, down: bool) {
        self.faults.down.store(down, Ordering::SeqCst);
    }

    /// Holds every chunk the client sends for `delay` before passing it
    /// on: one HTTP request is one chunk, so each request arrives late.
    pub fn set_delay(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.faults.delay_micros.store(micros, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(accept) = &self.accept {
            accept.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, target: SocketAddr, faults: Arc<Faults>) {
    while let Ok((client, _)) = listener.accept().await {
        if faults.down.load(Ordering::SeqCst) {
            continue; // dropped: the client sees the connection close
        }
        tokio::spawn(forward(client, target, faults.clone()));
    }
}

// ANCHOR: delay
async fn forward(client: TcpStream, target: SocketAddr, faults: Arc<Faults>) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let upstream = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let read = match from_client.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            let delay = faults.delay_micros.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_micros(delay)).await;
            }
            if to_server.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
        let _ = to_server.shutdown().await;
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}
// ANCHOR_END: delay

/// What a Kubernetes Service does for a cluster's members, on loopback:
/// each new connection goes to the next member that accepts one, so a
/// client whose member died reconnects to a live one. Dropping it stops
/// accepting new connections.
#[derive(Debug)]
pub struct Balancer {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl Balancer {
    /// Balances 127.0.0.1:<new port> over `members`.
    pub async fn start(members: Vec<SocketAddr>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let accept = tokio::spawn(async move {
            let mut next = 0;
            while let Ok((client, _)) = listener.accept().await {
                next = (next + 1) % members.len().max(1);
                let order: Vec<SocketAddr> = members
                    .iter()
                    .cycle()
                    .skip(next)
                    .take(members.len())
                    .copied()
                    .collect();
                tokio::spawn(balance(client, order));
            }
        });
        Ok(Self { addr, accept })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Joins `client` to the first of `members` that accepts within 300 ms.
async fn balance(mut client: TcpStream, members: Vec<SocketAddr>) {
    for member in members {
        let connect = TcpStream::connect(member);
        let Ok(Ok(mut server)) = tokio::time::timeout(Duration::from_millis(300), connect).await
        else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        // When either side fails or closes, both are closed.
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        return;
    }
}
