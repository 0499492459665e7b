//! An etcd cluster of a test's own, on loopback ports, for drills that
//! kill members: each member is an `etcd` process (Debian's `etcd-server`)
//! with its own data directory, and the cluster dies with the value.
//! Other tests keep using the shared etcd that [`crate::etcd`] finds.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running cluster; every member is killed on drop.
#[derive(Debug)]
pub struct EtcdCluster {
    members: Vec<Member>,
    dir: tempfile::TempDir,
}

#[derive(Debug)]
struct Member {
    client_url: String,
    process: Option<Child>,
}

impl EtcdCluster {
    /// Starts `size` members on free ports and waits until the cluster
    /// has a leader.
    pub async fn start(size: usize) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let ports: Vec<(u16, u16)> = (0..size)
            .map(|_| Ok((crate::free_port()?, crate::free_port()?)))
            .collect::<anyhow::Result<_>>()?;
        let peers: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}"))
            .collect();
        let token = format!("drill-{}", uuid::Uuid::new_v4().simple());
        let mut members = Vec::new();
        for (i, (client, peer)) in ports.iter().enumerate() {
            let client_url = format!("http://127.0.0.1:{client}");
            let peer_url = format!("http://127.0.0.1:{peer}");
            let log = std::fs::File::create(dir.path().join(format!("m{i}.log")))?;
            let process = Command::new("etcd")
                .args(["--name", &format!("m{i}")])
                .arg("--data-dir")
                .arg(dir.path().join(format!("m{i}")))
                .args(["--listen-client-urls", &client_url])
                .args(["--advertise-client-urls", &client_url])
                .args(["--listen-peer-urls", &peer_url])
                .args(["--initial-advertise-peer-urls", &peer_url])
                .args(["--initial-cluster", &peers.join(",")])
                .args(["--initial-cluster-state", "new"])
                .args(["--initial-cluster-token", &token])
                .stdout(Stdio::null())
                .stderr(log)
                .kill_on_drop(true)
                .spawn()
                .context("cannot run etcd (Debian: apt-get install etcd-server)")?;
            members.push(Member {
                client_url,
                process: Some(process),
            });
        }
        let cluster = Self { members, dir };
        cluster.wait_for_leader(None, START_TIMEOUT).await?;
        Ok(cluster)
    }

    /// Every member's client URL, as a service's `ETCD_ENDPOINTS` lists them.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_url.clone()).collect()
    }

    // ANCHOR: leader
    /// The member that leads now, asked of the members still running.
    pub async fn leader(&self) -> anyhow::Result<usize> {
        for (index, member) in self.members.iter().enumerate() {
            if member.process.is_none() {
                continue;
            }
            let Ok(mut client) = connect(&member.client_url).await else {
                continue;
            };
            let Ok(status) = client.status().await else {
                continue;
            };
            let own_id = status.header().map(|h| h.member_id());
            if status.leader() != 0 && Some(status.leader()) == own_id {
                return Ok(index);
            }
        }
        bail!("no running member says it leads")
    }
    // ANCHOR_END: leader

    /// Waits until a member other than `old` leads; returns it and how long
    /// the wait took.
    pub async fn wait_for_leader(
        &self,
        old: Option<usize>,
        limit: Duration,
    ) -> anyhow::Result<(usize, Duration)> {
        let started = Instant::now();
        loop {
            if let Ok(leader) = self.leader().await
                && Some(leader) != old
            {
                return Ok((leader, started.elapsed()));
            }
            if started.elapsed() > limit {
                bail!(
                    "no new etcd leader within {limit:?}; logs in {}",
                    self.dir.path().display()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills member `index` with SIGKILL: no goodbye to its peers.
    pub async fn kill(&mut self, index: usize) -> anyhow::Result<()> {
        let member = self.members.get_mut(index).context("no such member")?;
        if let Some(mut process) = member.process.take() {
            process.kill().await?;
        }
        Ok(())
    }
}

async fn connect(url: &str) -> anyhow::Result<etcd_client::Client> {
    let options = etcd_client::ConnectOptions::new()
        .with_connect_timeout(Duration::from_millis(300))
        .with_timeout(Duration::from_millis(500));
    Ok(etcd_client::Client::connect([url], Some(options)).await?)
}
