//! Test helpers shared by every chapter of *Microservices in Rust, Step by Step*.
//!
//! # Layout
//!
//! - [`server`]: run a service **in-process** on `127.0.0.1:0` and get its
//!   base URL and a handle that shuts it down gracefully.
//! - [`process`]: run a service **binary** as a child process, wait until
//!   `/health/ready` answers, then kill it (`SIGKILL`) or stop it (`SIGTERM`).
//! - [`browser`]: an HTTP client that keeps cookies like a browser, for
//!   tests of server-rendered pages and their forms.
//! - [`db`]: a fresh SQLite database in a temp directory per test.
//! - [`figures`]: what a bench hands to `cargo xtask performance`.
//! - [`load`]: a closed-loop load generator with exact percentiles, for benches.
//! - [`measure`]: wrk's report and a process's memory, read for benches.
//! - [`proxy`]: a TCP proxy that refuses or delays on demand, for drills.
//! - [`schemathesis`]: run schemathesis with every check against a
//!   service's OpenAPI document.
//! - [`amqp`] (feature `amqp`): find a RabbitMQ broker, unique names per test.
//! - [`bookshop`] (feature `amqp`): the whole of Bookshop as processes,
//!   for the chapters that run every service.
//! - [`broker_node`] (feature `amqp`): a RabbitMQ node of a test's own,
//!   for drills that restart the broker.
//! - [`etcd`] (feature `etcd`): find an etcd cluster.
//!
//! Brokers and etcd are found in the same order everywhere: the environment
//! variable (`AMQP_ADDR`, `ETCD_ENDPOINTS`), then the default port on
//! localhost, then a container started with testcontainers when Docker runs.
//! When none works, the test fails with a message naming all three ways;
//! it never passes silently.

#[cfg(feature = "amqp")]
pub mod amqp;
#[cfg(feature = "amqp")]
pub mod bookshop;
#[cfg(feature = "amqp")]
pub mod broker_node;
pub mod browser;
pub mod db;
#[cfg(feature = "etcd")]
pub mod etcd;
#[cfg(feature = "etcd")]
pub mod etcd_cluster;
pub mod figures;
pub mod load;
pub mod measure;
pub mod process;
pub mod proxy;
pub mod schemathesis;
pub mod server;

mod resolve;

pub use db::TempDb;
pub use process::ServiceProcess;
pub use server::TestServer;

/// A name no other test uses: `prefix` plus a random suffix.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}.{}", uuid::Uuid::new_v4().simple())
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for a program that
/// must be told its port (it may be taken again before the program binds
/// it: prefer `127.0.0.1:0` wherever the program can report its address).
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
