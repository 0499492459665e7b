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
    killed: bool,
}

impl BrokerNode {
    /// Starts a node on free ports and waits until it accepts AMQP.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with_cookie(None).await
    }

    /// [`BrokerNode::start`], with the Erlang cookie nodes of one cluster
    /// share (they refuse to talk to a node with another).
    async fn start_with_cookie(cookie: Option<&str>) -> anyhow::Result<Self> {
        let bin = rabbitmq_bin()?;
        let dir = tempfile::tempdir()?;
        let port = crate::free_port()?;
        std::fs::create_dir_all(dir.path().join("home"))?;
        if let Some(cookie) = cookie {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join("home").join(".erlang.cookie");
            std::fs::write(&path, cookie)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400))?;
        }
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
            killed: false,
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

    /// The node's Erlang name, `drill-…@localhost`.
    pub fn name(&self) -> &str {
        &self.node
    }

    /// Kills the node's Erlang VM with SIGKILL: no goodbye to the cluster,
    /// as when its machine loses power.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        let pid = self
            .ctl_output(&["eval", "list_to_integer(os:getpid())."])
            .await?;
        let pid: i32 = pid.trim().parse().context("the node's OS pid")?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL)?;
        self.killed = true;
        Ok(())
    }

    /// `rabbitmqctl -n <this node> <args>`, its standard output.
    pub async fn ctl_output(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = self
            .command("rabbitmqctl")
            .args(["-q", "-n", &self.node])
            .args(args)
            .stdout(Stdio::piped())
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
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
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
        self.ctl_output(args).await.map(drop)
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
        if self.killed {
            return;
        }
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

/// RabbitMQ nodes of a test's own, clustered: they share an Erlang cookie,
/// and every node after the first joins the first. Quorum queues declared
/// on it get a member on each node.
#[derive(Debug)]
pub struct BrokerCluster {
    nodes: Vec<BrokerNode>,
}

impl BrokerCluster {
    // ANCHOR: cluster
    /// Starts `size` nodes and joins them into one cluster.
    pub async fn start(size: usize) -> anyhow::Result<Self> {
        let cookie = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let mut nodes = Vec::new();
        for _ in 0..size {
            nodes.push(BrokerNode::start_with_cookie(Some(&cookie)).await?);
        }
        let seed = nodes[0].name().to_owned();
        for node in &nodes[1..] {
            node.ctl(&["stop_app"]).await?;
            node.ctl(&["join_cluster", &seed]).await?;
            node.start_app().await?;
        }
        Ok(Self { nodes })
    }
    // ANCHOR_END: cluster

    /// Node `index`.
    pub fn node(&self, index: usize) -> &BrokerNode {
        &self.nodes[index]
    }

    /// Every node's AMQP address (what a Service in front of them would
    /// balance over).
    pub fn addrs(&self) -> Vec<std::net::SocketAddr> {
        let loopback = std::net::Ipv4Addr::LOCALHOST;
        self.nodes
            .iter()
            .map(|node| (loopback, node.port).into())
            .collect()
    }

    /// The index of the node that leads quorum queue `queue`, asked of a
    /// node still running.
    pub async fn queue_leader(&self, queue: &str) -> anyhow::Result<usize> {
        for node in self.nodes.iter().filter(|n| !n.killed) {
            let Ok(listed) = node.ctl_output(&["list_queues", "name", "leader"]).await else {
                continue;
            };
            let leader = listed.lines().find_map(|line| {
                let mut fields = line.split_whitespace();
                (fields.next() == Some(queue))
                    .then(|| fields.next())
                    .flatten()
            });
            if let Some(leader) = leader {
                return self
                    .nodes
                    .iter()
                    .position(|n| n.name() == leader)
                    .with_context(|| format!("{queue} is led by {leader}, not one of ours"));
            }
        }
        bail!("no running node knows queue {queue}")
    }

    /// Kills node `index` (see [`BrokerNode::kill`]).
    pub async fn kill(&mut self, index: usize) -> anyhow::Result<()> {
        self.nodes[index].kill().await
    }
}
