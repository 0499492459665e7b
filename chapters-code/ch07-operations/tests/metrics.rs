//! Every service serves `GET /metrics`, and its series stay bounded: a
//! thousand different ids make no new series.

mod common;

use std::collections::BTreeSet;

/// The series (name and labels) in a Prometheus text page.
async fn series(url: &str) -> BTreeSet<String> {
    let page = reqwest::get(url).await.unwrap().text().await.unwrap();
    page.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            line.rsplit_once(' ')
                .map_or(line, |(series, _value)| series)
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn every_service_serves_its_metrics() {
    let shop = common::shop(&[]).await;
    for (name, process) in shop.all() {
        // One request of its own first, so there is something to show.
        reqwest::get(process.url("/health/live")).await.unwrap();
        let response = reqwest::get(process.url("/metrics")).await.unwrap();
        assert_eq!(response.status(), 200, "{name}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{name}: {content_type}"
        );
        let page = response.text().await.unwrap();
        assert!(
            page.contains(
                r#"http_server_requests_total{method="GET",route="/health/live",status="2xx"}"#
            ),
            "{name}:\n{page}"
        );
        assert!(
            page.contains("http_server_request_duration_seconds_bucket"),
            "{name}:\n{page}"
        );
    }
    shop.clean_up().await;
}

#[tokio::test]
async fn a_thousand_ids_make_no_new_series() {
    // The gateway's rate limit would answer most of them with 429s.
    let unlimited = [
        ("GATEWAY_RATE_BURST", "100000"),
        ("GATEWAY_RATE_PER_SECOND", "100000"),
    ];
    let shop = common::shop(&unlimited).await;
    let http = reqwest::Client::new();
    let book = |id: u32| shop.gateway.url(&format!("/api/catalog/books/{id}"));
    // One found and one missing book first: every series that can exist.
    for id in [1, 1_000_000] {
        http.get(book(id)).send().await.unwrap();
    }
    // A scrape is a request too: the first one adds `/metrics`'s series.
    for process in [&shop.catalog, &shop.gateway] {
        series(&process.url("/metrics")).await;
    }
    let catalog_before = series(&shop.catalog.url("/metrics")).await;
    let gateway_before = series(&shop.gateway.url("/metrics")).await;

    for id in 2..1_002 {
        let status = http.get(book(id)).send().await.unwrap().status();
        assert!(status == 200 || status == 404, "{id}: {status}");
    }

    let catalog_after = series(&shop.catalog.url("/metrics")).await;
    let gateway_after = series(&shop.gateway.url("/metrics")).await;
    assert_eq!(
        catalog_before, catalog_after,
        "catalog: same series after 1 000 ids"
    );
    assert_eq!(
        gateway_before, gateway_after,
        "gateway: same series after 1 000 ids"
    );
    assert!(
        catalog_after
            .iter()
            .any(|s| s.contains(r#"route="/v1/books/{id}""#)),
        "labelled by template: {catalog_after:#?}"
    );
    shop.clean_up().await;
}
