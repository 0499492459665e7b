//! Asking the catalog for a price. Today the call waits as long as the
//! catalog takes: a catalog that hangs makes orders hang too.

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

/// One client for the process.
pub fn client() -> reqwest::Client {
    // TODO: give the client a connect timeout and a total timeout.
    reqwest::Client::new()
}

/// The price of book `id`, or a problem the caller can pass on:
/// a catalog that is down or slower than `BUDGET` is a 503 with
/// `Retry-After: 1`.
pub async fn price_of(client: &reqwest::Client, base_url: &str, id: i64) -> Result<i64, Problem> {
    let response = client
        .get(format!("{base_url}/v1/books/{id}"))
        .send()
        .await
        .map_err(|_| unavailable())?;
    let book: Book = response.json().await.map_err(|_| unavailable())?;
    Ok(book.price_cents)
}

fn unavailable() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the catalog is not answering",
    )
    .with_retry_after(1)
}
