//! The deployment files against the code. A manifest is a second copy of
//! facts the code already states (flag names, environment variables,
//! ports, health paths, service names), and copies drift. Each check here
//! reads a fact from the files and asks the code, or the other files,
//! whether it is true. Every problem is one line naming where it is.

use std::collections::{BTreeMap, BTreeSet};

use clap::{CommandFactory, Parser};
use serde_json::Value;

use crate::services::ImageService;

/// The service binary's command line: `bookshop-service <service> …`.
#[derive(Debug, Parser)]
#[command(
    name = "bookshop-service",
    about = "Runs one Bookshop service",
    version
)]
pub struct ServiceCli {
    #[command(subcommand)]
    pub service: ImageService,
}

/// Variables every service reads that are not flags: logs and traces.
const READ_BY_EVERY_SERVICE: &[&str] = &[
    "RUST_LOG",
    "LOG_FORMAT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_BSP_SCHEDULE_DELAY",
];

/// The image the services run from; other containers (RabbitMQ, etcd)
/// are not ours to check.
const OUR_IMAGE: &str = "bookshop-service";

/// What is wrong, one line each; empty when files and code agree.
pub type Problems = Vec<String>;

/// One of our containers, as a deployment file describes it.
#[derive(Debug, Default, Clone)]
pub struct Container {
    /// Where it is described: `Deployment/catalog`, `compose/catalog`.
    pub place: String,
    pub args: Vec<String>,
    /// Name → value; values from a secret or a field read `<from …>`.
    pub env: BTreeMap<String, String>,
    /// Ports the container declares, by name (compose: the one it binds).
    pub ports: BTreeMap<String, u16>,
    /// `(path, port)` of each HTTP probe or healthcheck.
    pub probes: Vec<(String, u16)>,
}

// ANCHOR: check_flags
/// Checks one container against the service's own command line: the
/// service exists, every flag and variable is one it reads, the values
/// parse, and it listens on the port the file declares and probes.
pub fn check_container(container: &Container) -> Problems {
    let place = &container.place;
    let Some(service) = container.args.first() else {
        return vec![format!("{place}: no service named in the arguments")];
    };
    let command = ServiceCli::command();
    let Some(flags) = command.find_subcommand(service) else {
        return vec![format!("{place}: there is no service {service:?}")];
    };
    let mut problems = Problems::new();
    let mut argv = vec![OUR_IMAGE.to_owned()];
    argv.extend(container.args.iter().cloned());
    // A variable the service reads stands for its flag: parse it as one.
    let referenced = referenced_variables(&container.env);
    for (name, value) in &container.env {
        let flag = flags
            .get_arguments()
            .find(|arg| arg.get_env().is_some_and(|env| env == name.as_str()));
        match flag.and_then(|arg| arg.get_long()) {
            Some(long) => argv.extend([format!("--{long}"), value.clone()]),
            None if READ_BY_EVERY_SERVICE.contains(&name.as_str()) => {}
            None if referenced.contains(name) => {} // POD_IP in ADVERTISE_URL
            None => problems.push(format!("{place}: {service} reads no variable {name}")),
        }
    }
    // ANCHOR_END: check_flags
    // ANCHOR: check_ports
    let matches = match command.clone().try_get_matches_from(&argv) {
        Ok(matches) => matches,
        Err(err) => {
            let reason = err.to_string();
            let reason = reason.lines().next().unwrap_or_default();
            problems.push(format!(
                "{place}: {service} refuses its arguments: {reason}"
            ));
            return problems;
        }
    };
    let listen = matches
        .subcommand()
        .and_then(|(_, own)| own.get_raw("listen"))
        .and_then(|mut values| values.next())
        .and_then(|value| value.to_str())
        .and_then(|value| value.rsplit(':').next())
        .and_then(|port| port.parse::<u16>().ok());
    let declared: BTreeSet<u16> = container.ports.values().copied().collect();
    match listen {
        Some(port) if declared.contains(&port) => {}
        Some(port) => problems.push(format!(
            "{place}: {service} listens on {port}, the file declares {declared:?}"
        )),
        None => problems.push(format!("{place}: {service} has no --listen")),
    }
    for (path, port) in &container.probes {
        if Some(*port) != listen {
            problems.push(format!(
                "{place}: probe {path} on port {port}, not the one {service} listens on"
            ));
        }
    }
    problems
}
// ANCHOR_END: check_ports

/// Names that other variables use as `$(NAME)` (Kubernetes expands them).
fn referenced_variables(env: &BTreeMap<String, String>) -> BTreeSet<String> {
    env.values()
        .flat_map(|value| value.split("$(").skip(1))
        .filter_map(|rest| rest.split(')').next())
        .map(str::to_owned)
        .collect()
}

/// `host:port` of each URL in `value`, for hosts that are names (not IP
/// addresses, not `$(…)`): `http://registry:8080` gives `registry:8080`.
pub fn named_hosts(value: &str) -> Vec<(String, u16)> {
    value
        .split("://")
        .skip(1)
        .filter_map(|rest| {
            let authority = rest.split('/').next()?;
            let host_port = authority.rsplit('@').next()?;
            let (host, port) = host_port.rsplit_once(':')?;
            let is_name = host.chars().any(|c| c.is_ascii_alphabetic())
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            Some((host.to_owned(), port.parse().ok()?)).filter(|_| is_name)
        })
        .collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn name_of(object: &Value) -> String {
    text(&object["metadata"]["name"])
}

/// Our containers in rendered Kubernetes objects.
pub fn kubernetes_containers(objects: &[Value]) -> Vec<Container> {
    let mut found = Vec::new();
    for object in objects {
        let kind = text(&object["kind"]);
        if kind != "Deployment" && kind != "StatefulSet" {
            continue;
        }
        let containers = object["spec"]["template"]["spec"]["containers"].as_array();
        for spec in containers.into_iter().flatten() {
            if !text(&spec["image"]).contains(OUR_IMAGE) {
                continue;
            }
            let ports: BTreeMap<String, u16> = spec["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some((
                        text(&p["name"]),
                        u16::try_from(p["containerPort"].as_u64()?).ok()?,
                    ))
                })
                .collect();
            let port_of = |port: &Value| match port {
                Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                Value::String(name) => ports.get(name).copied(),
                _ => None,
            };
            let probes = ["startupProbe", "livenessProbe", "readinessProbe"]
                .iter()
                .filter_map(|probe| {
                    let get = &spec[*probe]["httpGet"];
                    Some((text(&get["path"]), port_of(&get["port"]).unwrap_or(0)))
                        .filter(|_| !get.is_null())
                })
                .collect();
            let env = spec["env"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|var| {
                    let value = match &var["valueFrom"] {
                        Value::Null => text(&var["value"]),
                        from => format!("<from {from}>"),
                    };
                    (text(&var["name"]), value)
                })
                .collect();
            found.push(Container {
                place: format!("{kind}/{}", name_of(object)),
                args: spec["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(text)
                    .collect(),
                env,
                ports,
                probes,
            });
        }
    }
    found
}

/// Our containers in a compose file (host networking: the port a service
/// binds is the one it declares).
pub fn compose_containers(compose: &Value) -> Vec<Container> {
    let services = compose["services"].as_object().into_iter().flatten();
    services
        .filter(|(_, spec)| text(&spec["image"]).contains(OUR_IMAGE))
        .map(|(name, spec)| {
            let args: Vec<String> = spec["command"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            let listen = args
                .iter()
                .skip_while(|arg| *arg != "--listen")
                .nth(1)
                .and_then(|address| address.rsplit(':').next()?.parse().ok());
            let probes = spec["healthcheck"]["test"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .filter_map(|word| {
                    let rest = word.strip_prefix("http://")?;
                    let (authority, path) = rest.split_at(rest.find('/')?);
                    Some((path.to_owned(), authority.rsplit(':').next()?.parse().ok()?))
                })
                .collect();
            Container {
                place: format!("compose/{name}"),
                env: spec["environment"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(key, value)| (key.clone(), text(value)))
                    .collect(),
                ports: listen
                    .map(|port| ("listen".to_owned(), port))
                    .into_iter()
                    .collect(),
                args,
                probes,
            }
        })
        .collect()
}

// ANCHOR: check_kubernetes
/// Every check on one rendered overlay. `external_secrets` are Secrets the
/// overlay expects the cluster to have (created out of band).
pub fn check_kubernetes(objects: &[Value], external_secrets: &[&str]) -> Problems {
    let containers = kubernetes_containers(objects);
    let mut problems: Problems = containers.iter().flat_map(check_container).collect();
    if containers.is_empty() {
        problems.push("no container runs the bookshop-service image".to_owned());
    }
    problems.extend(check_names(objects, &containers));
    problems.extend(check_secrets(objects, external_secrets));
    problems.extend(check_trust_boundary(objects));
    problems
}
// ANCHOR_END: check_kubernetes

/// Every `name:port` a container calls is a Service with that port.
fn check_names(objects: &[Value], containers: &[Container]) -> Problems {
    let services: BTreeMap<String, BTreeSet<u16>> = objects
        .iter()
        .filter(|o| o["kind"] == "Service")
        .map(|o| {
            let ports = o["spec"]["ports"].as_array().into_iter().flatten();
            let ports = ports
                .filter_map(|p| u16::try_from(p["port"].as_u64()?).ok())
                .collect();
            (name_of(o), ports)
        })
        .collect();
    let mut problems = Problems::new();
    for container in containers {
        let values = container.args.iter().chain(container.env.values());
        for (host, port) in values.flat_map(|value| named_hosts(value)) {
            match services.get(&host) {
                Some(ports) if ports.contains(&port) => {}
                Some(ports) => problems.push(format!(
                    "{}: calls {host}:{port}, but Service {host} has ports {ports:?}",
                    container.place
                )),
                None => problems.push(format!(
                    "{}: calls {host}, and there is no Service {host}",
                    container.place
                )),
            }
        }
    }
    problems
}

/// Every secret a pod reads exists and has the key, unless it is external.
fn check_secrets(objects: &[Value], external: &[&str]) -> Problems {
    let secrets: BTreeMap<String, BTreeSet<String>> = objects
        .iter()
        .filter(|o| o["kind"] == "Secret")
        .map(|o| {
            let keys = ["data", "stringData"]
                .iter()
                .flat_map(|field| o[*field].as_object().into_iter().flatten())
                .map(|(key, _)| key.clone())
                .collect();
            (name_of(o), keys)
        })
        .collect();
    let mut problems = Problems::new();
    for object in objects {
        for (secret, key) in secret_references(&object["spec"]["template"]["spec"]) {
            match secrets.get(&secret) {
                Some(keys) if keys.contains(&key) => {}
                Some(_) => problems.push(format!(
                    "{}: Secret {secret} has no key {key}",
                    name_of(object)
                )),
                None if external.contains(&secret.as_str()) => {}
                None => problems.push(format!("{}: there is no Secret {secret}", name_of(object))),
            }
        }
    }
    problems
}

/// Every (Secret, key) a pod reads: through an environment variable or as
/// a file in a secret volume.
fn secret_references(pod: &Value) -> Vec<(String, String)> {
    let from_env = pod["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["env"].as_array().into_iter().flatten())
        .map(|var| &var["valueFrom"]["secretKeyRef"])
        .filter(|reference| !reference.is_null())
        .map(|reference| (text(&reference["name"]), text(&reference["key"])));
    let from_volumes = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|volume| &volume["secret"])
        .filter(|secret| !secret.is_null())
        .flat_map(|secret| {
            let name = text(&secret["secretName"]);
            let items = secret["items"].as_array().into_iter().flatten();
            items.map(move |item| (name.clone(), text(&item["key"])))
        });
    from_env.chain(from_volumes).collect()
}

// ANCHOR: trust_boundary
/// The network enforces the trust boundary: ingress is denied by default,
/// only the gateway takes traffic from anyone, and each service the
/// gateway routes to lets the gateway in.
fn check_trust_boundary(objects: &[Value]) -> Problems {
    let policies: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "NetworkPolicy")
        .collect();
    let selects = |policy: &Value| {
        text(&policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
    };
    let rules = |policy: &Value| {
        policy["spec"]["ingress"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let mut problems = Problems::new();
    let denies_all = policies.iter().any(|p| {
        p["spec"]["podSelector"]
            .as_object()
            .is_some_and(|s| s.is_empty())
            && rules(p).is_empty()
    });
    if !denies_all {
        problems.push("no NetworkPolicy denies ingress by default".to_owned());
    }
    for policy in &policies {
        let open = rules(policy).iter().any(|rule| rule["from"].is_null());
        if open && selects(policy) != "gateway" {
            problems.push(format!("NetworkPolicy {} lets anyone in", name_of(policy)));
        }
    }
    // ANCHOR_END: trust_boundary
    // ANCHOR: gateway_reaches
    let from_gateway = |service: &str| {
        policies.iter().any(|p| {
            selects(p) == service
                && rules(p).iter().any(|rule| {
                    rule["from"].as_array().into_iter().flatten().any(|peer| {
                        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "gateway"
                    })
                })
        })
    };
    let routes = ch04_gateway::gateway::routes::RouteTable::parse(
        ch04_gateway::gateway::routes::DEFAULT_ROUTES,
    );
    for service in routes.map(|table| table.services()).unwrap_or_default() {
        if !from_gateway(&service) {
            problems.push(format!(
                "the gateway routes to {service}, and no NetworkPolicy lets it in"
            ));
        }
    }
    problems
}
// ANCHOR_END: gateway_reaches

/// Every check on a compose file.
pub fn check_compose(compose: &Value) -> Problems {
    let containers = compose_containers(compose);
    let mut problems: Problems = containers.iter().flat_map(check_container).collect();
    if containers.is_empty() {
        problems.push("no service runs the bookshop-service image".to_owned());
    }
    let names: BTreeSet<&String> = compose["services"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(n, _)| n)
        .collect();
    for (name, spec) in compose["services"].as_object().into_iter().flatten() {
        for (dependency, _) in spec["depends_on"].as_object().into_iter().flatten() {
            if !names.contains(dependency) {
                problems.push(format!(
                    "compose/{name}: depends on {dependency}, which is not a service"
                ));
            }
        }
    }
    problems
}
