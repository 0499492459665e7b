//! The whole of Bookshop as real processes (`ch07-service <name>`), each
//! on 127.0.0.1:0 with a database, exchange and queues of this test's own
//! (testkit's `bookshop` module, run with this chapter's binary).

#![allow(dead_code)] // each test file uses part of it

use std::path::Path;

use testkit::ServiceProcess;
pub use testkit::bookshop::{Env, Shop};

pub const SERVICE: &str = env!("CARGO_BIN_EXE_ch07-service");

/// Every service, started in dependency order.
pub async fn shop(extra: &[(&str, &str)]) -> Shop {
    Shop::start(Path::new(SERVICE), extra).await
}

/// Starts `ch07-service <service>` on 127.0.0.1:0 and waits until ready.
pub async fn start(service: &str, args: Vec<String>, env: &Env) -> ServiceProcess {
    testkit::bookshop::start(Path::new(SERVICE), service, args, env).await
}

/// [`start`], waiting only until the process is live (not ready).
pub async fn start_live(service: &str, args: Vec<String>, env: &Env) -> ServiceProcess {
    testkit::bookshop::start_live(Path::new(SERVICE), service, args, env).await
}
