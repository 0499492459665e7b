//! Schemathesis (a property-based API tester, from PyPI) against each
//! service's published contract: it generates requests from the OpenAPI
//! document, sends them to the real service, and checks every answer.
//!
//! The checks (`--checks all`): no 5xx; only documented status codes,
//! content types and headers; bodies that match their schemas; requests
//! the document allows are accepted and requests it forbids are refused;
//! operations that ask who calls refuse a request without the caller.
//! Install it with
//! `pip install schemathesis==4.32.5` (`.ci/run` does).

mod common;

use std::time::Duration;

use common::Shop;
use testkit::schemathesis;

// ANCHOR: schemathesis
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_contract_holds_under_generated_requests() {
    let shop = Shop::start_with(0.3, Duration::ZERO, None, &["--saga-retry-ms", "200"]).await;
    // Orders asks who calls: schemathesis calls as the gateway would, for ada.
    let caller = format!("{}: {}", common::CALLER.0, common::CALLER.1);
    let identity = common::spawn_identity().await;
    for (service, base, headers) in [
        ("catalog", shop.catalog.server.base_url(), vec![]),
        ("identity", identity.server.base_url(), vec![]),
        ("inventory", shop.inventory.server.base_url(), vec![]),
        ("payments", shop.payments.server.base_url(), vec![]),
        ("orders", shop.orders_url(), vec![caller.as_str()]),
    ] {
        let summary = schemathesis::check(service, &format!("{base}/openapi.json"), &headers).await;
        eprintln!("schemathesis {service}: {summary}");
    }
}
// ANCHOR_END: schemathesis
