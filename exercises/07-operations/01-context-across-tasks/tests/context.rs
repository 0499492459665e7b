//! A real HTTP server stands in for inventory and keeps the headers of
//! the request it got; the caller's context comes from a `traceparent`,
//! as it would in a handler.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use ch07_operations::trace_context;
use ex07_context_across_tasks::check_stock_later;
use testkit::TestServer;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

type Seen = Arc<Mutex<Option<HeaderMap>>>;

async fn inventory() -> (TestServer, Seen) {
    let seen: Seen = Arc::default();
    let keep = |State(seen): State<Seen>, headers: HeaderMap| async move {
        *seen.lock().unwrap() = Some(headers);
        "{\"available\": 3}"
    };
    let routes = Router::new()
        .route("/v1/stock/{book_id}", get(keep))
        .with_state(seen.clone());
    (TestServer::router(routes).await, seen)
}

/// The headers a handler would have received: a caller's span and a
/// request id.
fn incoming() -> HeaderMap {
    let mut headers = HeaderMap::new();
    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN}-01");
    headers.insert("traceparent", traceparent.parse().unwrap());
    headers.insert("x-request-id", "req-42".parse().unwrap());
    headers
}

#[tokio::test]
async fn the_background_call_carries_the_callers_trace_and_request_id() {
    trace_context::install_propagator();
    let (server, seen) = inventory().await;
    let caller = trace_context::extract(&incoming());
    // The handler starts the task and returns: its context is detached
    // before the task first runs.
    let task = {
        let _attached = caller.attach();
        check_stock_later(reqwest::Client::new(), server.base_url().to_owned(), 7)
    };
    assert_eq!(task.await.unwrap().unwrap(), 200);

    let headers = seen.lock().unwrap().take().expect("inventory was called");
    let traceparent = headers
        .get("traceparent")
        .expect("the call carries a traceparent")
        .to_str()
        .unwrap();
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts[1], TRACE_ID, "same trace: {traceparent}");
    assert_eq!(parts[2], CALLER_SPAN, "its parent is the caller's span");
    assert_eq!(
        headers["x-request-id"], "req-42",
        "the request id travels too"
    );
}

#[tokio::test]
async fn without_a_caller_no_trace_is_invented() {
    trace_context::install_propagator();
    let (server, seen) = inventory().await;
    let task = check_stock_later(reqwest::Client::new(), server.base_url().to_owned(), 7);
    assert_eq!(task.await.unwrap().unwrap(), 200);
    let headers = seen.lock().unwrap().take().expect("inventory was called");
    assert!(headers.get("traceparent").is_none(), "{headers:?}");
}
