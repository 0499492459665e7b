//! Every service the image runs: chapter 7's services with their
//! telemetry, and chapter 9's storefront. The image's binary and the
//! launcher's children both run these, so there is one list.

use ch07_operations::services::{Service, run_observed};

#[derive(Debug, clap::Subcommand)]
pub enum ImageService {
    #[command(flatten)]
    Chapter7(Service),
    /// The storefront (chapter 9): pages for people.
    Storefront(storefront::ProcessConfig),
}

impl ImageService {
    /// Runs the service with chapter 7's traces and metrics until Ctrl-C
    /// or SIGTERM.
    pub async fn run_observed(self) -> anyhow::Result<()> {
        match self {
            Self::Chapter7(service) => run_observed(service).await,
            Self::Storefront(config) => {
                let telemetry = ch07_operations::telemetry::init("storefront")?;
                let shutdown = ch01_autonomy::server::shutdown_signal();
                let outcome = storefront::run(config, shutdown).await;
                telemetry.shutdown().await;
                outcome
            }
        }
    }
}
