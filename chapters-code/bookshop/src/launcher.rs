//! Starting, watching and stopping the service processes.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::services::ServiceSpec;

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The services' log filter unless `RUST_LOG` says otherwise.
/// (Chapter 7's line per request is `ch07_operations::observe`'s.)
const QUIET_LOGS: &str = "info,sqlx=warn,tower_http=warn,ch07_operations::observe=warn";

struct Running {
    spec: ServiceSpec,
    child: Child,
}

pub async fn run(data_dir: &Path, plan: Vec<ServiceSpec>) -> anyhow::Result<()> {
    for spec in &plan {
        ensure_port_free(spec)?;
    }
    warn_if_no_broker().await;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;

    // One at a time, each ready before the next starts: a service starts
    // after the services it calls.
    let mut running = Vec::new();
    for spec in plan {
        let child = start(&spec)?;
        running.push(Running { spec, child });
        let last = running.len() - 1;
        if let Err(err) = wait_ready(&mut running[last]).await {
            stop_all(&mut running).await;
            return Err(err);
        }
    }
    print_banner(&running);

    let outcome = tokio::select! {
        () = ch01_autonomy::server::shutdown_signal() => {
            println!("bookshop: stopping every service");
            Ok(())
        }
        (name, status) = first_exit(&mut running) => {
            Err(anyhow::anyhow!("{name} exited unexpectedly ({status}); stopping the others"))
        }
    };
    stop_all(&mut running).await;
    outcome
}

/// Fails early, naming the port and how to change it, if it is taken.
fn ensure_port_free(spec: &ServiceSpec) -> anyhow::Result<()> {
    match std::net::TcpListener::bind(("127.0.0.1", spec.port)) {
        Ok(_listener) => Ok(()),
        Err(err) => bail!(
            "port {port} ({name}) is not available: {err}.\n\
             Stop whatever uses it, or pick another port with {flag} <PORT> or {env}=<PORT>.",
            port = spec.port,
            name = spec.name,
            flag = spec.port_flag,
            env = spec.port_env,
        ),
    }
}

fn start(spec: &ServiceSpec) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("cannot find the bookshop executable")?;
    let mut child = Command::new(exe)
        .arg("service")
        .arg(spec.name)
        .args(&spec.args)
        .envs(spec.envs.iter().map(|(k, v)| (k, v)))
        // Heartbeats and health checks would drown the interesting lines:
        // one log line per request only when asked for (RUST_LOG=info).
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| QUIET_LOGS.to_owned()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Own process group: Ctrl-C reaches the launcher only, which then
        // stops the services in order instead of all at once.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", spec.name))?;
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(forward(spec.name, stdout));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(forward(spec.name, stderr));
    }
    Ok(child)
}

/// Copies a service's output to ours, each line prefixed with its name.
async fn forward(name: &'static str, stream: impl AsyncRead + Unpin) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        eprintln!("[{name:>13}] {line}");
    }
}

/// Waits until the service answers its readiness path. A child that exits
/// first fails at once, with its port named: most often another program
/// took the port between our check and the child's bind.
async fn wait_ready(service: &mut Running) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let deadline = Instant::now() + READY_TIMEOUT;
    let url = format!(
        "http://127.0.0.1:{}{}",
        service.spec.port, service.spec.ready_path
    );
    loop {
        if let Some(status) = service.child.try_wait()? {
            bail!(
                "{} exited before it was ready ({status}); is port {} taken?",
                service.spec.name,
                service.spec.port
            );
        }
        match client.get(&url).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            _ if Instant::now() >= deadline => {
                bail!(
                    "{} did not become ready within {READY_TIMEOUT:?}",
                    service.spec.name
                )
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn print_banner(running: &[Running]) {
    println!();
    // A newcomer's first look at Bookshop is a page, through the gateway.
    let port_of = |name: &str| {
        running
            .iter()
            .find(|s| s.spec.name == name)
            .map(|s| s.spec.port)
    };
    if let (Some(_), Some(gateway)) = (port_of("storefront"), port_of("gateway")) {
        println!("Open the shop: http://127.0.0.1:{gateway}/shop");
        println!();
    }
    println!("Bookshop is running:");
    for service in running {
        println!(
            "  {:<13} http://127.0.0.1:{:<5}  try: {}",
            service.spec.name, service.spec.port, service.spec.try_it
        );
    }
    println!("Press Ctrl-C to stop every service.");
    println!();
}

/// Resolves when any service exits, with its name and exit status.
async fn first_exit(running: &mut [Running]) -> (&'static str, String) {
    loop {
        for service in running.iter_mut() {
            if let Ok(Some(status)) = service.child.try_wait() {
                return (service.spec.name, status.to_string());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// SIGTERM to each service (newest first), then SIGKILL if it lingers.
async fn stop_all(running: &mut [Running]) {
    for service in running.iter_mut().rev() {
        let name = service.spec.name;
        let Some(pid) = service.child.id().and_then(|pid| i32::try_from(pid).ok()) else {
            continue; // already exited
        };
        if let Err(err) = kill(Pid::from_raw(pid), Signal::SIGTERM) {
            eprintln!("bookshop: cannot signal {name}: {err}");
        }
        match tokio::time::timeout(STOP_TIMEOUT, service.child.wait()).await {
            Ok(Ok(status)) => println!("bookshop: {name} stopped ({status})"),
            Ok(Err(err)) => eprintln!("bookshop: waiting for {name} failed: {err}"),
            Err(_) => {
                eprintln!("bookshop: {name} ignored SIGTERM for {STOP_TIMEOUT:?}; killing it");
                let _ = service.child.kill().await;
            }
        }
    }
}

/// Orders, inventory and notifications run without RabbitMQ, but the
/// reader should know why no notification arrives and why a cancelled
/// order's stock stays reserved.
async fn warn_if_no_broker() {
    let uri = std::env::var("AMQP_ADDR").unwrap_or_default();
    let after_at = uri.rsplit_once('@').map_or(uri.as_str(), |(_, rest)| rest);
    let host_port = after_at.split('/').next().unwrap_or_default();
    let broker = if host_port.is_empty() {
        "127.0.0.1:5672"
    } else {
        host_port
    };
    let answers = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(broker),
    )
    .await
    .is_ok_and(|connected| connected.is_ok());
    if !answers {
        println!(
            "bookshop: RabbitMQ is not answering on {broker} (set AMQP_ADDR to use another). \
             Orders still takes orders: their events wait in the outbox until the broker \
             comes; then notifications catches up, and inventory gives back the stock of \
             cancelled orders."
        );
    }
}
