//! A service binary running as a child process: the real thing, for tests
//! that kill, stop or restart it.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Builder for a [`ServiceProcess`].
#[derive(Debug)]
pub struct ProcessBuilder {
    program: PathBuf,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    ready_path: String,
    timeout: Duration,
}

/// A running service binary. Dropping it kills the process.
#[derive(Debug)]
pub struct ServiceProcess {
    child: Child,
    addr: SocketAddr,
    base_url: String,
    logs: Arc<Mutex<Vec<String>>>,
    /// The tasks copying stdout and stderr into `logs`.
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl ProcessBuilder {
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, A>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// The path polled until it answers 2xx (default `/health/ready`).
    pub fn ready_path(mut self, path: impl Into<String>) -> Self {
        self.ready_path = path.into();
        self
    }

    /// How long to wait for the address and readiness (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts the process with `LOG_FORMAT=json`, learns its address from
    /// the `listening` log line, and waits until it is ready.
    pub async fn spawn(self) -> anyhow::Result<ServiceProcess> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .env("LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", self.program.display()))?;

        let logs = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, mut addr_rx) = mpsc::unbounded_channel();
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(tokio::spawn(collect_lines(
                stdout,
                logs.clone(),
                addr_tx.clone(),
            )));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(tokio::spawn(collect_lines(stderr, logs.clone(), addr_tx)));
        }

        let deadline = Instant::now() + self.timeout;
        let addr = tokio::select! {
                addr = addr_rx.recv() => match addr {
                    Some(addr) => addr,
                    None => {
                        let status = child.wait().await?;
                        bail!("{} exited ({status}) before listening; output:\n{}",
                            self.program.display(), joined(&logs));
                    }
                },
                () = tokio::time::sleep_until(deadline) => {
                    bail!("{} did not log a `listening` address within {:?}; output:\n{}",
                        self.program.display(), self.timeout, joined(&logs));
                }
        };

        let process = ServiceProcess {
            child,
            addr,
            base_url: format!("http://{addr}"),
            logs,
            readers,
        };
        process.wait_ready(&self.ready_path, deadline).await?;
        Ok(process)
    }
}

impl ServiceProcess {
    /// Starts describing a process to run; finish with [`ProcessBuilder::spawn`].
    pub fn builder(program: impl Into<PathBuf>) -> ProcessBuilder {
        ProcessBuilder {
            program: program.into(),
            args: Vec::new(),
            envs: Vec::new(),
            ready_path: "/health/ready".to_owned(),
            timeout: Duration::from_secs(30),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Everything the process printed so far, one entry per line.
    pub fn logs(&self) -> Vec<String> {
        self.logs
            .lock()
            .map(|logs| logs.clone())
            .unwrap_or_default()
    }

    /// `kill -9`: no cleanup, no goodbye. Returns once the process is gone.
    pub async fn kill(&mut self) -> anyhow::Result<ExitStatus> {
        self.child.start_kill()?;
        let status = self.child.wait().await?;
        self.drain_logs().await;
        Ok(status)
    }

    /// Waits (briefly) until every line the exited process wrote is in `logs`.
    async fn drain_logs(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
    }

    /// `kill -TERM` and wait up to `timeout` for the process to exit by itself.
    pub async fn terminate(&mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        let pid = self.child.id().context("the process has already exited")?;
        let pid = i32::try_from(pid).context("pid out of range")?;
        kill(Pid::from_raw(pid), Signal::SIGTERM)?;
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                self.drain_logs().await;
                Ok(status)
            }
            Err(_) => bail!("the process did not exit within {timeout:?} of SIGTERM"),
        }
    }

    async fn wait_ready(&self, path: &str, deadline: Instant) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = self.url(path);
        loop {
            match client.get(&url).send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                _ if Instant::now() >= deadline => {
                    bail!(
                        "{url} did not answer 2xx in time; output:\n{}",
                        joined(&self.logs)
                    )
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

/// Stores every line, and reports the address of a `listening` log event.
async fn collect_lines(
    stream: impl AsyncRead + Unpin,
    logs: Arc<Mutex<Vec<String>>>,
    addr_tx: mpsc::UnboundedSender<SocketAddr>,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(addr) = listening_addr(&line) {
            let _ = addr_tx.send(addr);
        }
        if let Ok(mut logs) = logs.lock() {
            logs.push(line);
        }
    }
}

/// `{"message":"listening","addr":"127.0.0.1:41234",...}` → the address.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    if event.get("message")?.as_str()? != "listening" {
        return None;
    }
    event.get("addr")?.as_str()?.parse().ok()
}

fn joined(logs: &Arc<Mutex<Vec<String>>>) -> String {
    logs.lock().map(|logs| logs.join("\n")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::listening_addr;

    #[test]
    fn finds_the_address_in_a_json_log_line() {
        let line =
            r#"{"timestamp":"t","level":"INFO","message":"listening","addr":"127.0.0.1:4100"}"#;
        assert_eq!(
            listening_addr(line),
            Some("127.0.0.1:4100".parse().unwrap())
        );
        assert_eq!(listening_addr("plain text"), None);
    }
}
