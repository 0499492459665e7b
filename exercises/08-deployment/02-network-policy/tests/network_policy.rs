//! The policy read the way a network plugin reads it, then asked about
//! callers. It covers what Bookshop's policies use (matchLabels, namespace
//! and pod selectors, ports by number or name); anything else is refused
//! with a message rather than guessed at.

use ch08_deployment::files;
use ex08_network_policy::POLICY;
use serde_json::{Value, json};

/// Payments' pod: its namespace, its labels, its named container port.
const NAMESPACE: &str = "bookshop";
const PAYMENTS_HTTP_PORT: u16 = 8080;

struct Caller<'a> {
    namespace: &'a str,
    app: &'a str,
}

fn policy() -> Value {
    let mut documents = files::documents(POLICY, "POLICY").expect("POLICY is YAML");
    assert_eq!(documents.len(), 1, "POLICY holds one object");
    let policy = documents.remove(0);
    assert_eq!(policy["kind"], "NetworkPolicy");
    assert_eq!(policy["apiVersion"], "networking.k8s.io/v1");
    policy
}

/// A label selector with `matchLabels` only: every label it names matches.
fn selects(selector: &Value, labels: &Value) -> bool {
    assert!(
        selector.get("matchExpressions").is_none(),
        "this test reads matchLabels only"
    );
    let wanted = selector["matchLabels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    wanted.iter().all(|(key, value)| &labels[key] == value)
}

fn peer_admits(peer: &Value, caller: &Caller) -> bool {
    assert!(
        peer.get("ipBlock").is_none(),
        "use pod and namespace selectors, not ipBlock"
    );
    let pod_labels = json!({"app.kubernetes.io/name": caller.app});
    let pod_matches = peer
        .get("podSelector")
        .is_none_or(|s| selects(s, &pod_labels));
    match peer.get("namespaceSelector") {
        Some(selector) => {
            let namespace_labels = json!({"kubernetes.io/metadata.name": caller.namespace});
            selects(selector, &namespace_labels) && pod_matches
        }
        None => caller.namespace == NAMESPACE && pod_matches,
    }
}

fn port_admits(entry: &Value, port: u16) -> bool {
    assert_ne!(entry["protocol"], "UDP", "payments speaks TCP");
    match &entry["port"] {
        Value::Null => true,
        Value::String(name) => name == "http" && port == PAYMENTS_HTTP_PORT,
        number => {
            let first = number.as_u64().expect("a port is a number or a name");
            let last = entry["endPort"].as_u64().unwrap_or(first);
            (first..=last).contains(&u64::from(port))
        }
    }
}

/// Would a connection from `caller` to payments on `port` get through?
fn admits(caller: &Caller, port: u16) -> bool {
    let policy = policy();
    let spec = &policy["spec"];
    let payments = json!({"app.kubernetes.io/name": "payments"});
    assert!(
        selects(&spec["podSelector"], &payments),
        "the policy selects payments' pods"
    );
    let types = spec["policyTypes"].as_array().cloned().unwrap_or_default();
    assert!(
        types.contains(&json!("Ingress")),
        "policyTypes includes Ingress"
    );
    let rules = spec["ingress"].as_array().cloned().unwrap_or_default();
    rules.iter().any(|rule| {
        let peers = rule["from"].as_array().cloned().unwrap_or_default();
        let ports = rule["ports"].as_array().cloned().unwrap_or_default();
        (peers.is_empty() || peers.iter().any(|peer| peer_admits(peer, caller)))
            && (ports.is_empty() || ports.iter().any(|entry| port_admits(entry, port)))
    })
}

const ORDERS: Caller = Caller {
    namespace: NAMESPACE,
    app: "orders",
};

#[test]
fn orders_reaches_payments_on_8080() {
    assert!(admits(&ORDERS, 8080));
}

#[test]
fn orders_reaches_no_other_port() {
    assert!(!admits(&ORDERS, 9090), "port 9090 is open to orders");
}

#[test]
fn the_gateway_and_the_catalog_are_refused() {
    for app in ["gateway", "catalog"] {
        let caller = Caller {
            namespace: NAMESPACE,
            app,
        };
        assert!(!admits(&caller, 8080), "{app} reaches payments");
    }
}

#[test]
fn a_pod_called_orders_in_another_namespace_is_refused() {
    let impostor = Caller {
        namespace: "sandbox",
        app: "orders",
    };
    assert!(
        !admits(&impostor, 8080),
        "a pod in namespace sandbox reaches payments"
    );
}

#[test]
fn the_policy_selects_payments_and_nothing_else() {
    let policy = policy();
    let catalog = json!({"app.kubernetes.io/name": "catalog"});
    assert!(!selects(&policy["spec"]["podSelector"], &catalog));
}
