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

pub fn plan(data_dir: &Path, catalog_port: u16) -> Vec<ServiceSpec> {
    let database = |name: &str| {
        format!(
            "sqlite://{}",
            data_dir.join(format!("{name}.sqlite")).display()
        )
    };
    vec![ServiceSpec {
        name: "catalog",
        port: catalog_port,
        port_flag: "--catalog-port",
        port_env: "BOOKSHOP_CATALOG_PORT",
        args: vec![
            "--listen".to_owned(),
            format!("127.0.0.1:{catalog_port}"),
            "--database-url".to_owned(),
            database("catalog"),
        ],
        try_it: format!("curl 'localhost:{catalog_port}/v1/books?limit=3'"),
    }]
}
