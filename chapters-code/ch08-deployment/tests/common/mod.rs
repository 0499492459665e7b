//! The whole of Bookshop as real processes (`bookshop-service <name>`,
//! the image's program), each on 127.0.0.1:0 with a database, exchange
//! and queues of this test's own.

#![allow(dead_code)] // each test file uses part of it

use std::path::Path;

pub use testkit::bookshop::Shop;

pub const SERVICE: &str = env!("CARGO_BIN_EXE_bookshop-service");

/// Every service, started in dependency order.
pub async fn shop(extra: &[(&str, &str)]) -> Shop {
    Shop::start(Path::new(SERVICE), extra).await
}
