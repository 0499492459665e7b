//! Which services the launcher starts, on which ports, with which flags.
//! Each chapter that adds a service adds one entry here.

use std::path::Path;

/// One service the launcher runs.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: &'static str,
    pub port: u16,
    /// The launcher flag and environment variable that change the port.
    pub port_flag: &'static str,
    pub port_env: &'static str,
    /// Arguments after `bookshop service <name>`.
    pub args: Vec<String>,
    /// Environment for the process (secrets stay out of `ps`).
    pub envs: Vec<(String, String)>,
    /// A request to try once it is up.
    pub try_it: String,
    /// What the launcher waits for before it starts the next service.
    pub ready_path: &'static str,
}

/// The port of every service.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub registry: u16,
    pub identity: u16,
    pub gateway: u16,
    pub inventory: u16,
    pub payments: u16,
    pub catalog: u16,
    pub orders: u16,
    pub notifications: u16,
    pub storefront: u16,
}

/// How many instances of the scalable services to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub catalogs: u16,
}

impl Default for Scale {
    fn default() -> Self {
        Self { catalogs: 1 }
    }
}

/// `--scale catalog=3`. Only the catalog scales here: every instance loads
/// the same seed into a database of its own, and the public API (through
/// the gateway) only reads it. A book added with `POST /v1/books` on one
/// instance is not on the others: copies of a service that takes writes
/// each hold a part, until they share a database (chapter 8).
pub fn parse_scale(text: &str) -> Result<Scale, String> {
    let (service, count) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected SERVICE=N, e.g. catalog=3"))?;
    if service != "catalog" {
        return Err(format!(
            "{service:?} cannot be scaled here: only catalog can (its public API only reads)"
        ));
    }
    match count.parse::<u16>() {
        Ok(catalogs @ 1..=9) => Ok(Scale { catalogs }),
        _ => Err(format!("{count:?}: give 1 to 9 instances")),
    }
}

// ANCHOR: scale
/// The services in start order: a service starts after those it calls.
pub fn plan(data_dir: &Path, ports: Ports, scale: Scale, registry_token: &str) -> Vec<ServiceSpec> {
    let mut specs = services(data_dir, ports, registry_token);
    let at = specs
        .iter()
        .position(|s| s.name == "identity")
        .map_or(0, |i| i + 1);
    let catalogs = (0..scale.catalogs).map(|n| catalog(n, data_dir, ports, registry_token));
    specs.splice(at..at, catalogs);
    specs
}
// ANCHOR_END: scale

// ANCHOR: scale_catalog
/// Catalog instance `n` (from 0): 100 ports above the one before, with a
/// database of its own.
fn catalog(n: u16, data_dir: &Path, ports: Ports, registry_token: &str) -> ServiceSpec {
    let port = ports.catalog.saturating_add(100 * n);
    let name = if n == 0 {
        "catalog".to_owned()
    } else {
        format!("catalog-{}", n + 1)
    };
    let database = data_dir.join(format!("{name}.sqlite"));
    ServiceSpec {
        name: "catalog",
        port,
        port_flag: "--catalog-port",
        port_env: "BOOKSHOP_CATALOG_PORT",
        args: vec![
            "--listen".to_owned(),
            format!("127.0.0.1:{port}"),
            "--database-url".to_owned(),
            format!("sqlite://{}", database.display()),
            "--registry-url".to_owned(),
            format!("http://127.0.0.1:{}", ports.registry),
        ],
        envs: vec![("REGISTRY_TOKEN".to_owned(), registry_token.to_owned())],
        try_it: format!("curl 'localhost:{port}/v1/books?limit=3'"),
        ready_path: READY,
    }
}
// ANCHOR_END: scale_catalog

/// Every service but the catalog, in start order.
fn services(data_dir: &Path, ports: Ports, registry_token: &str) -> Vec<ServiceSpec> {
    let database = |name: &str| {
        format!(
            "sqlite://{}",
            data_dir.join(format!("{name}.sqlite")).display()
        )
    };
    let listen = |port: u16| format!("127.0.0.1:{port}");
    let token = vec![("REGISTRY_TOKEN".to_owned(), registry_token.to_owned())];
    let registry_url = format!("http://{}", listen(ports.registry));
    vec![
        ServiceSpec {
            name: "registry",
            port: ports.registry,
            port_flag: "--registry-port",
            port_env: "BOOKSHOP_REGISTRY_PORT",
            args: vec!["--listen".to_owned(), listen(ports.registry)],
            envs: token.clone(),
            try_it: format!("curl 'localhost:{}/v1/services/catalog'", ports.registry),
            ready_path: READY,
        },
        ServiceSpec {
            name: "identity",
            port: ports.identity,
            port_flag: "--identity-port",
            port_env: "BOOKSHOP_IDENTITY_PORT",
            args: vec![
                "--listen".to_owned(),
                listen(ports.identity),
                "--database-url".to_owned(),
                database("identity"),
                "--registry-url".to_owned(),
                registry_url.clone(),
            ],
            envs: token.clone(),
            try_it: format!(
                "curl localhost:{}/v1/token -H 'content-type: application/json' \
                 -d '{{\"username\":\"demo\",\"password\":\"bookshop-demo\"}}'",
                ports.identity
            ),
            ready_path: READY,
        },
        ServiceSpec {
            name: "inventory",
            port: ports.inventory,
            port_flag: "--inventory-port",
            port_env: "BOOKSHOP_INVENTORY_PORT",
            args: vec![
                "--listen".to_owned(),
                listen(ports.inventory),
                "--database-url".to_owned(),
                database("inventory"),
                "--registry-url".to_owned(),
                registry_url.clone(),
            ],
            envs: token.clone(),
            try_it: format!("curl localhost:{}/v1/stock/1", ports.inventory),
            ready_path: READY,
        },
        ServiceSpec {
            name: "payments",
            port: ports.payments,
            port_flag: "--payments-port",
            port_env: "BOOKSHOP_PAYMENTS_PORT",
            args: vec![
                "--listen".to_owned(),
                listen(ports.payments),
                "--database-url".to_owned(),
                database("payments"),
                "--registry-url".to_owned(),
                registry_url.clone(),
            ],
            envs: token.clone(),
            try_it: format!(
                "curl localhost:{}/v1/payments -H 'content-type: application/json' \
                 -d '{{\"order_id\":\"demo-1\",\"amount_cents\":3999}}'",
                ports.payments
            ),
            ready_path: READY,
        },
        ServiceSpec {
            name: "orders",
            port: ports.orders,
            port_flag: "--orders-port",
            port_env: "BOOKSHOP_ORDERS_PORT",
            args: vec![
                "--listen".to_owned(),
                listen(ports.orders),
                "--database-url".to_owned(),
                database("orders"),
                // No URLs: orders finds catalog, inventory and payments
                // in the registry.
                "--registry-url".to_owned(),
                registry_url.clone(),
                // Chapter 7: new events go out as soon as they commit.
                "--relay-wake".to_owned(),
                "commit".to_owned(),
            ],
            envs: token.clone(),
            // Straight to orders, on the trusted side of the gateway: the
            // header is what the gateway sends after it verified a token.
            try_it: format!(
                "curl -i localhost:{}/v1/orders -H 'x-bookshop-user: ada' \
                 -H 'content-type: application/json' \
                 -d '{{\"customer\":\"ada\",\"lines\":[{{\"book_id\":1,\"quantity\":2}}]}}'",
                ports.orders
            ),
            ready_path: READY,
        },
        ServiceSpec {
            name: "storefront",
            port: ports.storefront,
            port_flag: "--storefront-port",
            port_env: "BOOKSHOP_STOREFRONT_PORT",
            args: vec![
                "--listen".to_owned(),
                listen(ports.storefront),
                // It finds every service it calls in the registry.
                "--registry-url".to_owned(),
                registry_url.clone(),
                // Plain HTTP on loopback: a `Secure` cookie would never
                // come back. Anywhere served over HTTPS, leave it on.
                "--cookie-secure".to_owned(),
                "false".to_owned(),
            ],
            envs: token.clone(),
            try_it: format!("curl localhost:{}/shop/books/1", ports.storefront),
            ready_path: READY,
        },
        ServiceSpec {
            name: "gateway",
            port: ports.gateway,
            port_flag: "--gateway-port",
            port_env: "BOOKSHOP_GATEWAY_PORT",
            args: vec![
                "--listen".to_owned(),
                listen(ports.gateway),
                "--registry-url".to_owned(),
                registry_url.clone(),
            ],
            envs: token.clone(),
            try_it: format!(
                "curl 'localhost:{}/api/catalog/books?limit=3'",
                ports.gateway
            ),
            ready_path: READY,
        },
        ServiceSpec {
            name: "notifications",
            port: ports.notifications,
            port_flag: "--notifications-port",
            port_env: "BOOKSHOP_NOTIFICATIONS_PORT",
            args: vec![
                "--listen".to_owned(),
                listen(ports.notifications),
                "--database-url".to_owned(),
                database("notifications"),
                "--registry-url".to_owned(),
                registry_url.clone(),
            ],
            envs: token,
            try_it: format!(
                "curl 'localhost:{}/v1/notifications?order_id=1' -H 'x-bookshop-user: ada'",
                ports.notifications
            ),
            // Live is enough: without a broker it is not ready, and the
            // launcher says so instead of waiting.
            ready_path: "/health/live",
        },
    ]
}

/// The readiness check most services are waited on with.
const READY: &str = "/health/ready";

#[cfg(test)]
mod tests {
    use super::*;

    fn ports() -> Ports {
        Ports {
            registry: 8500,
            identity: 8001,
            gateway: 8080,
            inventory: 8004,
            payments: 8005,
            catalog: 8002,
            orders: 8003,
            notifications: 8006,
            storefront: 8000,
        }
    }

    #[test]
    fn three_catalogs_get_their_own_ports_and_databases() {
        let scale = parse_scale("catalog=3").unwrap();
        let plan = plan(Path::new("data"), ports(), scale, "token");
        let catalogs: Vec<_> = plan.iter().filter(|s| s.name == "catalog").collect();
        let ports: Vec<u16> = catalogs.iter().map(|s| s.port).collect();
        assert_eq!(ports, [8002, 8102, 8202]);
        let databases: Vec<&str> = catalogs.iter().map(|s| s.args[3].as_str()).collect();
        assert_eq!(
            databases,
            [
                "sqlite://data/catalog.sqlite",
                "sqlite://data/catalog-2.sqlite",
                "sqlite://data/catalog-3.sqlite"
            ]
        );
        // Started after identity and before those that call the catalog.
        let names: Vec<&str> = plan.iter().map(|s| s.name).collect();
        assert_eq!(
            names[..5],
            ["registry", "identity", "catalog", "catalog", "catalog"]
        );
    }

    #[test]
    fn only_the_catalog_scales() {
        assert_eq!(parse_scale("catalog=1"), Ok(Scale::default()));
        assert!(
            parse_scale("orders=2")
                .unwrap_err()
                .contains("only catalog")
        );
        assert!(parse_scale("catalog=0").is_err());
        assert!(parse_scale("catalog").is_err());
    }
}
