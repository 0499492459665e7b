//! A service running in-process, on a port the OS picked.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The future a server waits on before it shuts down gracefully.
pub type ShutdownSignal = BoxFuture<'static, ()>;

/// How long [`TestServer::stop`] waits for in-flight requests.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A server bound to `127.0.0.1:0`. Dropping it starts a graceful shutdown.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestServer {
    /// Binds `127.0.0.1:0` and runs `serve(listener, shutdown)` on it.
    ///
    /// `serve` is the service's own serving function, so tests exercise the
    /// same graceful-shutdown code as the binary.
    pub async fn start<F, Fut, E>(serve: F) -> Self
    where
        F: FnOnce(TcpListener, ShutdownSignal) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<anyhow::Error>,
    {
        let localhost = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(localhost, serve).await
    }

    /// Like [`TestServer::start`], on a given address: to restart a server
    /// on the port it had before (a restart drill).
    pub async fn start_on<F, Fut, E>(addr: SocketAddr, serve: F) -> Self
    where
        F: FnOnce(TcpListener, ShutdownSignal) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<anyhow::Error>,
    {
        let listener = TcpListener::bind(addr)
            .await
            .unwrap_or_else(|err| panic!("cannot bind {addr}: {err}"));
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let (stop, stopped) = oneshot::channel::<()>();
        // Resolves on `stop()` and also when the sender is dropped.
        let shutdown: ShutdownSignal = Box::pin(async move {
            let _ = stopped.await;
        });
        let running = serve(listener, shutdown);
        let task = tokio::spawn(async move { running.await.map_err(Into::into) });
        Self {
            addr,
            base_url: format!("http://{addr}"),
            stop: Some(stop),
            task,
        }
    }

    /// Serves a plain axum router (no graceful-shutdown code of our own).
    pub async fn router(router: axum::Router) -> Self {
        Self::start(|listener, shutdown| async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
        })
        .await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `base_url` + `path`, e.g. `server.url("/v1/books")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Signals shutdown and waits until the server has drained and stopped.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = &mut self.task;
        match tokio::time::timeout(STOP_TIMEOUT, task).await {
            Ok(joined) => joined?,
            Err(_) => anyhow::bail!("the server did not stop within {STOP_TIMEOUT:?}"),
        }
    }
}
