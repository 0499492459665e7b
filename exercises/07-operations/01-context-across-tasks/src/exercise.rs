//! Background work in the same trace. A handler that must answer fast
//! hands a slow call to a task of its own, and that call must still carry
//! the caller's `traceparent` and request id, or the trace breaks in two
//! and the logs of one request can no longer be found together.

use ch07_operations::trace_context;
use reqwest::header::HeaderMap;
use tokio::task::JoinHandle;

/// Asks inventory for `book_id`'s stock in a task of its own, so the
/// caller can go on; the task answers with the HTTP status it got.
pub fn check_stock_later(
    http: reqwest::Client,
    inventory_url: String,
    book_id: u64,
) -> JoinHandle<reqwest::Result<u16>> {
    tokio::spawn(async move {
        let mut headers = HeaderMap::new();
        trace_context::inject(&mut headers);
        let url = format!("{inventory_url}/v1/stock/{book_id}");
        let answer = http.get(url).headers(headers).send().await?;
        Ok(answer.status().as_u16())
    })
}
