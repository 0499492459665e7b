//! The compose file brought up for real, under podman and podman-compose:
//! our image (built by `.ci/run` from `deploy/images/Containerfile`), with
//! RabbitMQ and etcd taken from the host (`compose.host-deps.yaml`, since
//! images cannot be pulled here). A customer's journey through the gateway
//! on 127.0.0.1:8080, every container's own healthcheck, and then `down`,
//! with nothing left running.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ch08_deployment::files;
use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use serde_json::{Value, json};

const IMAGE: &str = "localhost/bookshop-service:0.1.0";
/// The launcher's ports, which compose.yaml uses with host networking.
const PORTS: [u16; 9] = [8500, 8001, 8002, 8003, 8004, 8005, 8006, 8000, 8080];
const GATEWAY: &str = "http://127.0.0.1:8080";

/// One compose project: its files, and `down` when dropped, so a failed
/// test leaves nothing running either.
struct Project {
    name: String,
    files: Vec<PathBuf>,
    broker_names: [String; 4],
    _scratch: tempfile::TempDir,
}

impl Project {
    fn compose(&self, args: &[&str]) -> Output {
        let mut command = Command::new("podman-compose");
        command.args(["-p", &self.name]);
        for file in &self.files {
            command.arg("-f").arg(file);
        }
        command
            .args(args)
            .output()
            .expect("podman-compose (pip install podman-compose)")
    }

    fn podman(args: &[&str]) -> Output {
        Command::new("podman").args(args).output().expect("podman")
    }

    /// `podman ps -a` for this project: each container's name.
    fn containers(&self) -> Vec<String> {
        self.listed(&["ps", "-a"], "{{.Names}}")
    }

    fn volumes(&self) -> Vec<String> {
        self.listed(&["volume", "ls"], "{{.Name}}")
    }

    /// `podman <list>` filtered to this project, one `format` per line.
    fn listed(&self, list: &[&str], format: &str) -> Vec<String> {
        let label = format!("label=io.podman.compose.project={}", self.name);
        let filter = ["--filter", &label, "--format", format];
        let listed = Self::podman(&[list, &filter[..]].concat());
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        self.compose(&["down", "-v", "-t", "5"]);
    }
}

/// This test's exchanges and queues, so it shares the host's broker with
/// other tests without touching their messages.
fn isolating_override(names: &[String; 4]) -> String {
    let env = json!({
        "EVENTS_EXCHANGE": names[0],
        "DEAD_LETTER_EXCHANGE": names[1],
        "NOTIFICATIONS_QUEUE": names[2],
        "INVENTORY_QUEUE": names[3],
        "NOTIFICATIONS_QUEUE_EXPIRES_MS": "60000",
        "INVENTORY_QUEUE_EXPIRES_MS": "60000",
    });
    let services: serde_json::Map<String, Value> = ["orders", "inventory", "notifications"]
        .iter()
        .map(|service| ((*service).to_owned(), json!({"environment": env})))
        .collect();
    // JSON is YAML: compose reads this as it is.
    json!({"services": services}).to_string()
}

fn start_project() -> Project {
    assert!(
        Project::podman(&["image", "exists", IMAGE])
            .status
            .success(),
        "no image {IMAGE}: build it as `.ci/run` does (deploy/images/local-bases.sh, then \
         podman build --format docker -f deploy/images/Containerfile -t {IMAGE} .)"
    );
    for port in PORTS {
        assert!(
            TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is taken: compose.yaml uses the launcher's ports; stop what holds it"
        );
    }
    let names = [
        "test.events",
        "test.dead-letter",
        "test.notifications",
        "test.inventory",
    ]
    .map(testkit::unique_name);
    let scratch = tempfile::tempdir().unwrap();
    let isolate = scratch.path().join("compose.test.yaml");
    std::fs::write(&isolate, isolating_override(&names)).unwrap();
    let deploy = files::deploy_dir();
    let project = Project {
        name: format!("bookshop-test-{}", std::process::id()),
        files: vec![
            deploy.join("compose.yaml"),
            deploy.join("compose.host-deps.yaml"),
            isolate,
        ],
        broker_names: names,
        _scratch: scratch,
    };
    let up = project.compose(&["up", "-d"]);
    assert!(
        up.status.success(),
        "up failed: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    project
}

// ANCHOR: image
#[test]
fn the_image_runs_one_unprivileged_program_and_has_no_shell() {
    let inspected = Project::podman(&[
        "image",
        "inspect",
        "--format",
        "{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Healthcheck.Test}}",
        IMAGE,
    ]);
    assert!(
        inspected.status.success(),
        "no image {IMAGE}: {inspected:?}"
    );
    let config = String::from_utf8_lossy(&inspected.stdout).trim().to_owned();
    let [user, entrypoint, healthcheck] = config.splitn(3, '|').collect::<Vec<_>>()[..] else {
        panic!("{config}");
    };
    assert_eq!(user, "65532:65532");
    assert_eq!(entrypoint, r#"["/usr/local/bin/bookshop-service"]"#);
    assert!(healthcheck.contains("bookshop-probe"), "{healthcheck}");

    let shell = Project::podman(&["run", "--rm", "--entrypoint", "/bin/sh", IMAGE, "-c", "id"]);
    assert!(!shell.status.success(), "the image has a shell");
    let size = Project::podman(&["image", "inspect", "--format", "{{.Size}}", IMAGE]);
    let bytes: u64 = String::from_utf8_lossy(&size.stdout)
        .trim()
        .parse()
        .unwrap();
    println!("{IMAGE}: {:.1} MB", bytes as f64 / 1e6);
}
// ANCHOR_END: image

/// Retries `attempt` until it gives `Some`, for up to `limit`.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The demo user's token, once the gateway can reach identity.
async fn demo_token(http: &reqwest::Client) -> String {
    eventually(
        Duration::from_secs(60),
        "a token through the gateway",
        || async {
            let answer = http
                .post(format!("{GATEWAY}/api/identity/token"))
                .json(&json!({"username": "demo", "password": "bookshop-demo"}))
                .send()
                .await
                .ok()?;
            let body: Value = answer.json().await.ok()?;
            Some(body["access_token"].as_str()?.to_owned())
        },
    )
    .await
}

/// One order through the gateway, once orders finds what it calls.
async fn place_order(http: &reqwest::Client, token: &str) -> Value {
    eventually(
        Duration::from_secs(60),
        "an order through the gateway",
        || async {
            let answer = http
                .post(format!("{GATEWAY}/api/orders"))
                .bearer_auth(token)
                .json(&json!({"customer": "demo", "lines": [{"book_id": 3, "quantity": 1}]}))
                .send()
                .await
                .ok()?;
            (answer.status() == 201).then_some(())?;
            answer.json().await.ok()
        },
    )
    .await
}

// ANCHOR: journey
#[tokio::test]
async fn compose_up_runs_a_customers_journey_and_down_leaves_nothing() {
    let project = start_project();
    let http = reqwest::Client::new();
    let token = demo_token(&http).await;
    let order = place_order(&http, &token).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let kinds = testkit::bookshop::notification_kinds(GATEWAY, &token, &order["id"], 2).await;
    assert_eq!(kinds, ["order.confirmed", "order.placed"]);
    // ANCHOR_END: journey
    let page = http.get(format!("{GATEWAY}/shop/books/1")).send().await;
    let page = page.unwrap().text().await.unwrap();
    assert!(page.contains("The Rust Programming Language"), "{page}");

    // ANCHOR: healthchecks
    // Every container's own healthcheck, run inside it (podman runs them
    // on a systemd timer, and this machine has no systemd).
    let containers = project.containers();
    assert_eq!(
        containers.len(),
        11,
        "9 services and 2 stand-ins: {containers:?}"
    );
    for container in &containers {
        let check = Project::podman(&["healthcheck", "run", container]);
        assert!(check.status.success(), "{container}: {check:?}");
        let inspected = Project::podman(&[
            "inspect",
            "--format",
            "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}",
            container,
        ]);
        let user_and_root = String::from_utf8_lossy(&inspected.stdout).trim().to_owned();
        if !container.contains("rabbitmq") && !container.contains("etcd") {
            assert_eq!(user_and_root, "65532:65532 true", "{container}");
        }
    }

    // ANCHOR_END: healthchecks
    // ANCHOR: down
    let down = project.compose(&["down", "-v", "-t", "5"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert_eq!(
        project.containers(),
        Vec::<String>::new(),
        "containers left"
    );
    assert_eq!(project.volumes(), Vec::<String>::new(), "volumes left");
    for port in PORTS {
        assert!(
            TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "{port} still taken"
        );
    }
    // ANCHOR_END: down
    delete_broker_objects(&project.broker_names).await;
}

/// The test's exchanges and queues, from the host's broker.
async fn delete_broker_objects(names: &[String; 4]) {
    let connection = testkit::amqp::connect().await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    for queue in [&names[2], &names[3]] {
        for name in [queue.clone(), format!("{queue}.dead-letter")] {
            let options = QueueDeleteOptions::default();
            let _ = channel.queue_delete(name.as_str().into(), options).await;
        }
    }
    for exchange in [&names[0], &names[1]] {
        let options = ExchangeDeleteOptions::default();
        let _ = channel
            .exchange_delete(exchange.as_str().into(), options)
            .await;
    }
}
