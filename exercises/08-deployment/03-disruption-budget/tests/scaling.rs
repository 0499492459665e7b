//! What the disruption controller and the autoscaler would make of the
//! three objects, worked out from the objects themselves.

use ch08_deployment::files;
use ex08_disruption_budget::MANIFESTS;
use serde_json::Value;

fn object(kind: &str) -> Value {
    let objects = files::documents(MANIFESTS, "MANIFESTS").expect("MANIFESTS is YAML");
    let mut found: Vec<Value> = objects.into_iter().filter(|o| o["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "MANIFESTS holds one {kind}");
    found.remove(0)
}

fn count(value: &Value) -> u64 {
    value["minReplicas"].as_u64().unwrap_or(1)
}

/// An absolute count, or a percentage of `replicas` rounded up, as the
/// disruption controller reads `minAvailable` and `maxUnavailable`.
fn resolve(value: &Value, replicas: u64) -> u64 {
    match value {
        Value::String(text) => {
            let percent: u64 = text
                .strip_suffix('%')
                .and_then(|p| p.parse().ok())
                .expect("a count or a percentage such as \"50%\"");
            (replicas * percent).div_ceil(100)
        }
        number => number.as_u64().expect("a count or a percentage"),
    }
}

/// How many of `replicas` healthy gateways a drain may evict at once.
fn evictions_allowed(budget: &Value, replicas: u64) -> u64 {
    let spec = &budget["spec"];
    match (spec.get("minAvailable"), spec.get("maxUnavailable")) {
        (Some(min), None) => replicas.saturating_sub(resolve(min, replicas)),
        (None, Some(max)) => resolve(max, replicas).min(replicas),
        _ => panic!("a PodDisruptionBudget sets exactly one of minAvailable and maxUnavailable"),
    }
}

#[test]
fn a_drain_can_always_evict_a_gateway() {
    let (autoscaler, budget) = (
        object("HorizontalPodAutoscaler"),
        object("PodDisruptionBudget"),
    );
    let (least, most) = (
        count(&autoscaler["spec"]),
        autoscaler["spec"]["maxReplicas"].as_u64(),
    );
    for replicas in least..=most.unwrap_or(least) {
        let allowed = evictions_allowed(&budget, replicas);
        assert!(
            allowed >= 1,
            "with {replicas} gateways no eviction is allowed: every drain blocks"
        );
    }
}

#[test]
fn a_drain_leaves_a_gateway_serving() {
    let (autoscaler, budget) = (
        object("HorizontalPodAutoscaler"),
        object("PodDisruptionBudget"),
    );
    let least = count(&autoscaler["spec"]);
    assert!(least >= 2, "one replica means an outage on every restart");
    let allowed = evictions_allowed(&budget, least);
    assert!(
        allowed < least,
        "with {least} gateways a drain may evict them all"
    );
}

#[test]
fn the_budget_covers_the_gateways_pods() {
    let (deployment, budget) = (object("Deployment"), object("PodDisruptionBudget"));
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let wanted = budget["spec"]["selector"]["matchLabels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(!wanted.is_empty(), "the budget selects pods by label");
    assert!(
        wanted.iter().all(|(key, value)| &labels[key] == value),
        "the budget selects no gateway"
    );
}

#[test]
fn the_autoscaler_targets_the_gateway() {
    let (deployment, autoscaler) = (object("Deployment"), object("HorizontalPodAutoscaler"));
    let target = &autoscaler["spec"]["scaleTargetRef"];
    assert_eq!(target["kind"], "Deployment");
    assert_eq!(target["name"], deployment["metadata"]["name"]);
}

#[test]
fn the_autoscaler_can_work_out_a_utilisation() {
    let (deployment, autoscaler) = (object("Deployment"), object("HorizontalPodAutoscaler"));
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .cloned();
    let metrics = autoscaler["spec"]["metrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!metrics.is_empty(), "the autoscaler watches a metric");
    for metric in metrics
        .iter()
        .filter(|m| m["resource"]["target"]["type"] == "Utilization")
    {
        let resource = metric["resource"]["name"]
            .as_str()
            .expect("a resource name");
        for container in containers.iter().flatten() {
            assert!(
                !container["resources"]["requests"][resource].is_null(),
                "container {} requests no {resource}: a utilisation of what?",
                container["name"]
            );
        }
    }
}
