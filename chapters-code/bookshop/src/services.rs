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
    /// A request to try once it is up.
    pub try_it: String,
}

/// The port of every service.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub catalog: u16,
    pub orders: u16,
}

/// The services in start order: a service starts after those it calls.
pub fn plan(data_dir: &Path, ports: Ports) -> Vec<ServiceSpec> {
    let database = |name: &str| {
        format!(
            "sqlite://{}",
            data_dir.join(format!("{name}.sqlite")).display()
        )
    };
    let listen = |port: u16| format!("127.0.0.1:{port}");
    vec![
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
            ],
            try_it: format!("curl 'localhost:{}/v1/books?limit=3'", ports.catalog),
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
                "--catalog-url".to_owned(),
                format!("http://{}", listen(ports.catalog)),
            ],
            try_it: format!(
                "curl -i localhost:{}/v1/orders -H 'content-type: application/json' \
                 -d '{{\"customer\":\"ada\",\"lines\":[{{\"book_id\":1,\"quantity\":2}}]}}'",
                ports.orders
            ),
        },
    ]
}
