//! Asking the catalog for a price, within a time budget.

use std::time::Duration;

use axum::http::StatusCode;
use ch01_autonomy::problem::Problem;
use serde::Deserialize;

/// The most a price lookup may take, connecting included.
pub const BUDGET: Duration = Duration::from_millis(300);

#[derive(Debug, Deserialize)]
struct Book {
    price_cents: i64,
}

// ANCHOR: solution
/// One client for the process, with both timeouts set.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(100))
        .timeout(BUDGET)
        .build()
        .unwrap_or_default()
}

/// The price of book `id`, or a problem the caller can pass on:
/// a catalog that is down or slower than `BUDGET` is a 503 with
/// `Retry-After: 1`.
pub async fn price_of(client: &reqwest::Client, base_url: &str, id: i64) -> Result<i64, Problem> {
    let lookup = async {
        let response = client
            .get(format!("{base_url}/v1/books/{id}"))
            .send()
            .await
            .map_err(|_| unavailable())?;
        let book: Book = response.json().await.map_err(|_| unavailable())?;
        Ok(book.price_cents)
    };
    // The client's timeout covers each request; this covers the whole job.
    tokio::time::timeout(BUDGET, lookup)
        .await
        .unwrap_or_else(|_| Err(unavailable()))
}
// ANCHOR_END: solution

fn unavailable() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the catalog is not answering",
    )
    .with_retry_after(1)
}
