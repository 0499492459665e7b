//! `catalog-actix-web`: the slice as a process, on chapter 1's flags.

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use ch01_autonomy::catalog::{BookStore, Config};
use ch01_autonomy::{server, telemetry};
use clap::Parser;
use frameworks_actix_web::{catch_panic, request_id_and_span, routes, timeout};

// ANCHOR: main
#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = Config::parse();
    let store = BookStore::open(&config.database_url).await?;
    let listener = server::bind(config.listen, "CATALOG_LISTEN")
        .await?
        .into_std()?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    let app = move || {
        App::new()
            .app_data(web::Data::new(store.clone()))
            .configure(routes)
            .wrap(from_fn(catch_panic))
            .wrap(from_fn(timeout))
            .wrap(from_fn(request_id_and_span))
    };
    // actix-web stops on SIGINT and SIGTERM itself, draining for this long.
    let drain = server::DRAIN_TIMEOUT.as_secs();
    HttpServer::new(app)
        .listen(listener)?
        .shutdown_timeout(drain)
        .run()
        .await?;
    Ok(())
}
// ANCHOR_END: main
