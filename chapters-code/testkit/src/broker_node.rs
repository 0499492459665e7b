//! A RabbitMQ node of a test's own, for drills that stop and start the
//! broker. Other tests keep using the shared broker [`crate::amqp`] finds;
//! this node has its own ports, data and logs in a temp directory, so
//! restarting it disturbs nobody.
//!
//! It needs a RabbitMQ installation on this machine (`rabbitmq-server`
//! and `rabbitmqctl`); the node runs as the current user, and is stopped
//! when the [`BrokerNode`] is dropped.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::Command;

/// Where RabbitMQ's scripts live when the environment does not say
/// (`RABBITMQ_BIN`): Debian's package (its `/usr/sbin` scripts would switch
/// to the `rabbitmq` user), Homebrew, then `PATH`.
const CANDIDATE_DIRS: [&str; 4] = [
    "/usr/lib/rabbitmq/bin",
    "/opt/homebrew/sbin",
    "/usr/local/sbin",
    "/usr/sbin",
];

const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A running RabbitMQ node, stopped on drop.
#[derive(Debug)]
pub struct BrokerNode {
    bin: PathBuf,
    dir: tempfile::TempDir,
    node: String,
    port: u16,
}

impl BrokerNode {
    /// Starts a node on free ports and waits until it accepts AMQP.
    pub async fn start() -> anyhow::Result<Self> {
        let bin = rabbitmq_bin()?;
        let dir = tempfile::tempdir()?;
        let port = crate::free_port()?;
        std::fs::create_dir_all(dir.path().join("home"))?;
        std::fs::write(
            dir.path().join("rabbitmq.conf"),
            format!("listeners.tcp.local = 127.0.0.1:{port}\n"),
        )?;
        std::fs::write(dir.path().join("enabled_plugins"), "[].\n")?;
        std::fs::write(dir.path().join("rabbitmq-env.conf"), "")?;
        let node = format!(
            "drill-{}@localhost",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let broker = Self {
            bin,
            dir,
            node,
            port,
        };
        let status = broker
            .command("rabbitmq-server")
            .arg("-detached")
            .env("RABBITMQ_NODE_PORT", broker.port.to_string())
            .env("RABBITMQ_DIST_PORT", crate::free_port()?.to_string())
            .status()
            .await
            .context("cannot run rabbitmq-server")?;
        if !status.success() {
            bail!("rabbitmq-server -detached failed: {status}");
        }
        broker.await_startup().await?;
        Ok(broker)
    }

    /// The AMQP URI of this node.
    pub fn uri(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Stops RabbitMQ on the node (`rabbitmqctl stop_app`): every
    /// connection drops and new ones are refused. Queues and messages
    /// marked durable and persistent stay on disk.
    pub async fn stop_app(&self) -> anyhow::Result<()> {
        self.ctl(&["stop_app"]).await
    }

    /// Starts RabbitMQ again and waits until it is ready.
    pub async fn start_app(&self) -> anyhow::Result<()> {
        self.ctl(&["start_app"]).await?;
        self.ctl(&["await_startup"]).await
    }

    async fn await_startup(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            // Fails at once while the node is not up at all; blocks while
            // it boots.
            if self.ctl(&["await_startup"]).await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "the RabbitMQ node {} did not start within {START_TIMEOUT:?}; its log: {}",
                    self.node,
                    self.dir.path().join("log").display()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn ctl(&self, args: &[&str]) -> anyhow::Result<()> {
        let output = self
            .command("rabbitmqctl")
            .args(["-n", &self.node])
            .args(args)
            .output()
            .await
            .context("cannot run rabbitmqctl")?;
        if !output.status.success() {
            bail!(
                "rabbitmqctl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }

    /// One of RabbitMQ's scripts, with an environment that points every
    /// file the node uses into its own directory.
    fn command(&self, script: &str) -> Command {
        let mut command = Command::new(self.bin.join(script));
        command
            .envs(node_env(self.dir.path(), &self.node))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }
}

impl Drop for BrokerNode {
    fn drop(&mut self) {
        let stopped = std::process::Command::new(self.bin.join("rabbitmqctl"))
            .args(["-n", &self.node, "stop"])
            .envs(node_env(self.dir.path(), &self.node))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !matches!(stopped, Ok(status) if status.success()) {
            eprintln!(
                "could not stop the RabbitMQ node {}; stop it with: HOME={} rabbitmqctl -n {} stop",
                self.node,
                self.dir.path().join("home").display(),
                self.node
            );
        }
    }
}

fn node_env(dir: &Path, node: &str) -> Vec<(&'static str, OsString)> {
    vec![
        ("HOME", dir.join("home").into()),
        ("RABBITMQ_NODENAME", node.into()),
        (
            "RABBITMQ_CONF_ENV_FILE",
            dir.join("rabbitmq-env.conf").into(),
        ),
        ("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf").into()),
        (
            "RABBITMQ_ADVANCED_CONFIG_FILE",
            dir.join("advanced.config").into(),
        ),
        (
            "RABBITMQ_ENABLED_PLUGINS_FILE",
            dir.join("enabled_plugins").into(),
        ),
        ("RABBITMQ_MNESIA_BASE", dir.join("mnesia").into()),
        ("RABBITMQ_LOG_BASE", dir.join("log").into()),
        ("RABBITMQ_PID_FILE", dir.join("node.pid").into()),
    ]
}

fn rabbitmq_bin() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("RABBITMQ_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let path_dirs = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    CANDIDATE_DIRS
        .iter()
        .map(PathBuf::from)
        .chain(path_dirs)
        .find(|dir| dir.join("rabbitmq-server").is_file() && dir.join("rabbitmqctl").is_file())
        .context(
            "this drill starts a RabbitMQ node of its own and needs RabbitMQ installed \
             (rabbitmq-server and rabbitmqctl; `bash .ci/run` installs it on Debian). \
             Set RABBITMQ_BIN to the directory that holds them if they are elsewhere",
        )
}
