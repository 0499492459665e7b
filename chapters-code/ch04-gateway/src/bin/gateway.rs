//! The gateway as a process of its own.

use ch01_autonomy::{server, telemetry};
use ch04_gateway::gateway;
use clap::Parser;

// Every request allocates a few dozen small, short-lived objects across
// two threads; under load, glibc's malloc and free took about 15 % of the
// gateway's samples (chapter 4, "Measure it"). mimalloc's per-thread free
// lists make them cheaper.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = gateway::Config::parse();
    gateway::run(config, server::shutdown_signal()).await
}
