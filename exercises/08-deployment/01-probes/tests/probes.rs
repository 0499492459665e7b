//! The manifest read as chapter 8's cross-check reads a rendered overlay,
//! and checked against the catalog's own command line.

use ch08_deployment::cross_check::{self, Container};
use ch08_deployment::files;
use ex08_probes::DEPLOYMENT;

fn catalog() -> Container {
    let objects = files::documents(DEPLOYMENT, "DEPLOYMENT").unwrap();
    let mut containers = cross_check::kubernetes_containers(&objects);
    assert_eq!(containers.len(), 1, "one catalog container");
    containers.remove(0)
}

#[test]
fn the_cross_check_finds_nothing_wrong() {
    let problems = cross_check::check_container(&catalog());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn liveness_asks_if_the_process_answers_and_readiness_if_it_can_work() {
    let objects = files::documents(DEPLOYMENT, "DEPLOYMENT").unwrap();
    let container = &objects[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"],
        "/health/live"
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"],
        "/health/ready"
    );
}
