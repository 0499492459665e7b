//! The deployment files, checked without a cluster: every overlay renders
//! and passes strict schema validation, the compose file matches the
//! compose spec, and both agree with the code (the cross-check), which a
//! renamed flag or a wrong port makes fail. The health paths the probes
//! use are asked of real services.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ch08_deployment::cross_check::{self, Container};
use ch08_deployment::files;
use serde_json::Value;
use testkit::{ServiceProcess, TempDb};

const SERVICE: &str = env!("CARGO_BIN_EXE_bookshop-service");
const OVERLAYS: &[(&str, &[&str])] = &[("dev", &[]), ("prod", &["bookshop-secrets"])];

fn overlay(name: &str) -> std::path::PathBuf {
    files::deploy_dir().join("kubernetes/overlays").join(name)
}

/// Runs a validator; its output on failure.
fn validator(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("{program}: {err} (`.ci/run` installs it from PyPI)"));
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr))
    }
}

// ANCHOR: validate
#[test]
fn every_overlay_renders_and_passes_strict_validation() {
    for (name, _) in OVERLAYS {
        let rendered = Command::new("kubectl")
            .arg("kustomize")
            .arg(overlay(name))
            .output()
            .expect("kubectl");
        assert!(rendered.status.success(), "{name}: {rendered:?}");
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &rendered.stdout).unwrap();
        let path = file.path().to_str().unwrap();
        if let Err(problems) = validator(
            "kubernetes-validate",
            &["--strict", "-k", "1.33.0", "--quiet", path],
        ) {
            panic!("overlay {name}:\n{problems}");
        }
    }
}

#[test]
fn the_compose_file_matches_the_compose_spec() {
    let compose = files::deploy_dir().join("compose.yaml");
    let args = [
        "--builtin-schema",
        "vendor.compose-spec",
        compose.to_str().unwrap(),
    ];
    if let Err(problems) = validator("check-jsonschema", &args) {
        panic!("{problems}");
    }
}
// ANCHOR_END: validate

// ANCHOR: cross_check
#[test]
fn the_manifests_and_the_compose_file_agree_with_the_code() {
    for (name, external_secrets) in OVERLAYS {
        let objects = files::render(&overlay(name)).unwrap();
        let checked = cross_check::kubernetes_containers(&objects);
        assert_eq!(checked.len(), 9, "{name}: one container per service");
        let problems = cross_check::check_kubernetes(&objects, external_secrets);
        assert!(
            problems.is_empty(),
            "overlay {name}:\n{}",
            problems.join("\n")
        );
    }
    let compose = files::read(&files::deploy_dir().join("compose.yaml")).unwrap();
    assert_eq!(cross_check::compose_containers(&compose).len(), 9);
    let problems = cross_check::check_compose(&compose);
    assert!(
        problems.is_empty(),
        "compose.yaml:\n{}",
        problems.join("\n")
    );
}

// ANCHOR_END: cross_check

// ANCHOR: renamed
#[test]
fn a_renamed_flag_a_wrong_port_or_a_stray_variable_fails_the_cross_check() {
    let objects = files::render(&overlay("dev")).unwrap();
    let edited = serde_json::to_string(&objects)
        .unwrap()
        .replace("\"--relay-wake\"", "\"--relay-wakeup\"")
        .replace("\"http://registry:8080\"", "\"http://registry:8500\"")
        .replace("\"LOG_FORMAT\"", "\"LOG_FORMATS\"");
    let edited: Vec<Value> = serde_json::from_str(&edited).unwrap();
    let problems = cross_check::check_kubernetes(&edited, &[]).join("\n");
    for expected in [
        "StatefulSet/orders: orders refuses its arguments: error: unexpected argument '--relay-wakeup'",
        "calls registry:8500, but Service registry has ports {8080}",
        "Deployment/gateway: gateway reads no variable LOG_FORMATS",
    ] {
        assert!(
            problems.contains(expected),
            "missing {expected:?} in:\n{problems}"
        );
    }
}
// ANCHOR_END: renamed

#[test]
fn a_secret_file_the_secret_does_not_hold_fails_the_cross_check() {
    let objects = files::render(&overlay("dev")).unwrap();
    let edited = serde_json::to_string(&objects).unwrap().replace(
        "{\"key\":\"identity-signing-key\"",
        "{\"key\":\"identity-key\"",
    );
    let edited: Vec<Value> = serde_json::from_str(&edited).unwrap();
    let problems = cross_check::check_kubernetes(&edited, &[]).join("\n");
    let expected = "identity: Secret bookshop-secrets has no key identity-key";
    assert!(
        problems.contains(expected),
        "missing {expected:?} in:\n{problems}"
    );
}

/// Every probe path in every file, with the services they belong to.
fn probes() -> Vec<(String, String)> {
    let mut containers: Vec<Container> = Vec::new();
    for (name, _) in OVERLAYS {
        containers.extend(cross_check::kubernetes_containers(
            &files::render(&overlay(name)).unwrap(),
        ));
    }
    let compose = files::read(&files::deploy_dir().join("compose.yaml")).unwrap();
    containers.extend(cross_check::compose_containers(&compose));
    let mut probes: Vec<(String, String)> = containers
        .iter()
        .flat_map(|c| {
            c.probes
                .iter()
                .map(|(path, _)| (c.args[0].clone(), path.clone()))
        })
        .collect();
    probes.sort();
    probes.dedup();
    probes
}

async fn start(args: &[&str], ready: &str) -> ServiceProcess {
    ServiceProcess::builder(Path::new(SERVICE))
        .args(args.iter().copied())
        .env("REGISTRY_TOKEN", "ch08-test-token")
        .ready_path(ready)
        .timeout(Duration::from_secs(30))
        .spawn()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_path_a_probe_asks_for_is_served() {
    let registry = start(&["registry", "--listen", "127.0.0.1:0"], "/health/live").await;
    let db = TempDb::new();
    let url = db.url();
    let registered = ["--registry-url", registry.base_url()];
    let catalog = start(
        &[
            &["catalog", "--listen", "127.0.0.1:0", "--database-url", &url][..],
            &registered,
        ]
        .concat(),
        "/health/live",
    )
    .await;
    let gateway = start(
        &[&["gateway", "--listen", "127.0.0.1:0"][..], &registered].concat(),
        "/health/live",
    )
    .await;
    // ANCHOR: probes
    let probes = probes();
    // Startup, liveness, readiness (Kubernetes) and the healthchecks
    // (compose) ask for two paths of each of the nine services.
    assert_eq!(probes.len(), 18, "{probes:?}");
    for (service, path) in probes {
        // Every service serves the same health paths (chapter 1's shape);
        // the gateway's readiness is its own, so it is asked too.
        let server = if service == "gateway" {
            &gateway
        } else {
            &catalog
        };
        let status = reqwest::get(server.url(&path)).await.unwrap().status();
        assert!(
            status.is_success() || status == 503,
            "{service}'s probe asks for {path}: {status}"
        );
    }
    // ANCHOR_END: probes
    let registry_live = reqwest::get(registry.url("/health/live"))
        .await
        .unwrap()
        .status();
    assert!(registry_live.is_success());
}

/// `bookshop-probe <url>`'s exit code.
fn probe(url: &str) -> Option<i32> {
    let probe = env!("CARGO_BIN_EXE_bookshop-probe");
    Command::new(probe).arg(url).output().unwrap().status.code()
}

#[tokio::test]
async fn the_probe_says_yes_only_to_a_2xx_answer() {
    let registry = start(&["registry", "--listen", "127.0.0.1:0"], "/health/live").await;
    assert_eq!(probe(&registry.url("/health/live")), Some(0));
    assert_eq!(probe(&registry.url("/no/such/path")), Some(1), "a 404");
    let closed = format!(
        "http://127.0.0.1:{}/health/live",
        testkit::free_port().unwrap()
    );
    assert_eq!(probe(&closed), Some(1), "nobody listening");
    assert_eq!(probe("ftp://example/"), Some(1), "not http");
}

#[tokio::test]
async fn the_probe_connects_over_tcp_and_watches_until_a_failure() {
    let registry = start(&["registry", "--listen", "127.0.0.1:0"], "/health/live").await;
    let open = registry.url("").replace("http://", "tcp://");
    assert_eq!(probe(&open), Some(0));
    let closed = format!("tcp://127.0.0.1:{}", testkit::free_port().unwrap());
    assert_eq!(probe(&closed), Some(1), "nobody listening");

    let probe_binary = env!("CARGO_BIN_EXE_bookshop-probe");
    let watch = |args: &[&str]| Command::new(probe_binary).args(args).output().unwrap();
    let watched = watch(&["--watch", "1", &closed]);
    assert_eq!(
        watched.status.code(),
        Some(1),
        "a watch ends at the first failure"
    );
    let misused = watch(&["--watch", "soon", &closed]);
    assert_eq!(misused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&misused.stderr).contains("usage: bookshop-probe"));
}
