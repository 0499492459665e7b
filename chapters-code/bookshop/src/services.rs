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
}

/// The services in start order: a service starts after those it calls.
pub fn plan(data_dir: &Path, ports: Ports, registry_token: &str) -> Vec<ServiceSpec> {
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
            name: "catalog",
            port: ports.catalog,
            port_flag: "--catalog-port",
            port_env: "BOOKSHOP_CATALOG_PORT",
            args: vec![
                "--listen".to_owned(),
                listen(ports.catalog),
                "--database-url".to_owned(),
                database("catalog"),
                "--registry-url".to_owned(),
                registry_url.clone(),
            ],
            envs: token.clone(),
            try_it: format!("curl 'localhost:{}/v1/books?limit=3'", ports.catalog),
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
