//! Schemathesis (a property-based API tester, from PyPI) against each
//! service's published contract: it generates requests from the OpenAPI
//! document, sends them to the real service, and checks every answer.
//!
//! The checks: no 5xx, only documented status codes, content types and
//! headers, and bodies that match their schemas. Install it with
//! `pip install schemathesis==4.32.5` (`.ci/run` does).

mod common;

use std::time::Duration;

use common::Shop;
use tokio::process::Command;

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";

/// Runs `st` against one document, sending `headers` with every request;
/// returns its summary line.
async fn schemathesis(service: &str, document_url: &str, headers: &[&str]) -> String {
    let program = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "st".to_owned());
    let output = Command::new(&program)
        .args(["run", document_url, "--checks", CHECKS])
        .args(headers.iter().flat_map(|header| ["--header", header]))
        .args(["--max-examples", "25", "--seed", "5", "--no-color"])
        .output()
        .await
        .unwrap_or_else(|err| {
            panic!(
                "cannot run `{program}` ({err}): install schemathesis with \
                 `pip install schemathesis==4.32.5`, or set SCHEMATHESIS to its path"
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems in {service}:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = stdout
        .lines()
        .map(str::trim)
        .find(|line| line.contains(" generated, "))
        .unwrap_or("(no summary line)")
        .to_owned();
    assert!(summary.contains("passed"), "{service}: {summary}");
    summary
}

// ANCHOR: schemathesis
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_contract_holds_under_generated_requests() {
    let shop = Shop::start_with(0.3, Duration::ZERO, None, &["--saga-retry-ms", "200"]).await;
    // Orders asks who calls: schemathesis calls as the gateway would, for ada.
    let caller = format!("{}: {}", common::CALLER.0, common::CALLER.1);
    for (service, base, headers) in [
        ("inventory", shop.inventory.server.base_url(), vec![]),
        ("payments", shop.payments.server.base_url(), vec![]),
        ("orders", shop.orders_url(), vec![caller.as_str()]),
    ] {
        let summary = schemathesis(service, &format!("{base}/openapi.json"), &headers).await;
        eprintln!("schemathesis {service}: {summary}");
    }
}
// ANCHOR_END: schemathesis
