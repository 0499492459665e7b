//! Contracts, from both sides.
//!
//! Provider side: each service's OpenAPI document is generated from its
//! code, and must equal the file checked in under `openapi/`. Consumer
//! side: what orders expects of catalog, inventory and payments (its own
//! DTOs, its clients) is tried against the real providers, and every field
//! orders reads must be `required` in the provider's document.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ch02_communication::catalog_client::{CatalogClient, ClientConfig, Locate, Protocol};
use ch05_soa::orders::clients::{CallError, InventoryClient, PaymentsClient, ReserveLine};
use ch05_soa::{inventory, orders, payments};
use serde_json::{Value, json};

fn documents() -> [(&'static str, utoipa::openapi::OpenApi); 5] {
    [
        ("catalog", ch05_soa::catalog::openapi()),
        ("identity", ch05_soa::identity::openapi()),
        ("inventory", inventory::http::openapi()),
        ("payments", payments::http::openapi()),
        ("orders", orders::http::openapi()),
    ]
}

fn checked_in(service: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("openapi/{service}.json"))
}

fn pretty(document: &utoipa::openapi::OpenApi) -> String {
    serde_json::to_string_pretty(document).unwrap() + "\n"
}

// ANCHOR: provider_side
/// Set `UPDATE_CONTRACTS=1` to rewrite the files after a deliberate change,
/// then review and commit the diff.
#[test]
fn every_document_matches_the_checked_in_contract() {
    for (service, document) in documents() {
        testkit::schemathesis::assert_checked_in(service, &checked_in(service), &pretty(&document));
    }
}
// ANCHOR_END: provider_side

#[test]
fn documents_are_openapi_3_1() {
    for (service, document) in documents() {
        let value = serde_json::to_value(&document).unwrap();
        assert_eq!(value["openapi"], "3.1.0", "{service}");
    }
}

#[tokio::test]
async fn each_service_serves_its_contract_and_a_docs_page() {
    let catalog = common::spawn_catalog().await;
    let identity = common::spawn_identity().await;
    let inventory = common::spawn_inventory().await;
    let payments = common::spawn_payments(0.0, Duration::ZERO).await;
    for (service, base) in [
        ("catalog", catalog.server.base_url()),
        ("identity", identity.server.base_url()),
        ("inventory", inventory.server.base_url()),
        ("payments", payments.server.base_url()),
    ] {
        let served: Value = reqwest::get(format!("{base}/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let on_disk: Value =
            serde_json::from_str(&std::fs::read_to_string(checked_in(service)).unwrap()).unwrap();
        assert_eq!(served, on_disk, "{service} serves what is checked in");
        let docs = reqwest::get(format!("{base}/docs/")).await.unwrap();
        assert_eq!(docs.status(), 200, "{service} docs");
        assert!(docs.text().await.unwrap().contains("swagger-ui"));
    }
}

/// The fields of `schema` in `service`'s checked-in document that are required.
fn required(service: &str, schema: &str) -> Vec<String> {
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(checked_in(service)).unwrap()).unwrap();
    let required = &document["components"]["schemas"][schema]["required"];
    required
        .as_array()
        .unwrap_or_else(|| panic!("{service} has no schema {schema}"))
        .iter()
        .map(|field| field.as_str().unwrap().to_owned())
        .collect()
}

// ANCHOR: consumer_side
// ANCHOR: consumer_required
/// Orders reads `order_id` and `status` from inventory and payments: the
/// providers must promise them.
#[test]
fn what_orders_reads_the_providers_promise() {
    for (service, schema) in [
        ("inventory", "Reservation"),
        ("inventory", "StatusBody"),
        ("payments", "Payment"),
    ] {
        let required = required(service, schema);
        for field in ["order_id", "status"] {
            assert!(
                required.iter().any(|r| r == field),
                "orders reads {service}'s {schema}.{field}, which the contract does not promise"
            );
        }
    }
}
// ANCHOR_END: consumer_required

// ANCHOR: consumer_inventory
#[tokio::test]
async fn orders_clients_work_against_the_real_inventory() {
    let inventory = common::spawn_inventory().await;
    let locator: Arc<dyn Locate> = Arc::new(inventory.server.base_url().to_owned());
    let client = InventoryClient::new(locator, Duration::from_secs(2)).unwrap();
    let line = [ReserveLine {
        book_id: 1,
        quantity: 1,
    }];

    assert_eq!(
        client.reserve("c-1", &line).await.unwrap().status,
        "reserved"
    );
    assert_eq!(client.confirm("c-1").await.unwrap().status, "confirmed");
    assert_eq!(client.release("c-2").await.unwrap().status, "released");
    let short = [ReserveLine {
        book_id: 23,
        quantity: 1,
    }];
    let refused = client.reserve("c-3", &short).await.unwrap_err();
    assert!(
        matches!(&refused, CallError::Refused(why) if why.contains("not enough stock")),
        "{refused:?}"
    );
}
// ANCHOR_END: consumer_inventory

#[tokio::test]
async fn orders_clients_work_against_the_real_payments() {
    let payments = common::spawn_payments(0.0, Duration::ZERO).await;
    let locator: Arc<dyn Locate> = Arc::new(payments.server.base_url().to_owned());
    let client = PaymentsClient::new(locator, Duration::from_secs(2)).unwrap();

    let charged = client.charge("c-1", 1250).await.unwrap();
    assert_eq!(
        (charged.order_id.as_str(), charged.status.as_str()),
        ("c-1", "approved")
    );
    assert_eq!(client.refund("c-1").await.unwrap().status, "refunded");
    assert_eq!(client.refund("c-2").await.unwrap().status, "voided");
}

#[tokio::test]
async fn orders_catalog_client_works_against_the_real_catalog() {
    let catalog = common::spawn_catalog().await;
    let config = ClientConfig {
        base_url: catalog.server.base_url().to_owned(),
        protocol: Protocol::Http,
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_secs(2),
    };
    let prices = CatalogClient::new(&config)
        .unwrap()
        .lookup(&[1, 999])
        .await
        .unwrap();
    assert!(prices.found[&1].price_cents > 0);
    assert_eq!(prices.missing, [999]);
}
// ANCHOR_END: consumer_side

// ANCHOR: versioning
#[tokio::test]
async fn v2_is_served_beside_the_deprecated_v1() {
    let payments = common::spawn_payments(0.0, Duration::ZERO).await;
    let http = reqwest::Client::new();
    let v1 = http
        .post(payments.server.url("/v1/payments"))
        .json(&json!({"order_id": "v-1", "amount_cents": 900}))
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), 201, "old clients keep working");
    assert!(v1.headers().contains_key("sunset"));
    assert!(
        v1.headers()["deprecation"]
            .to_str()
            .unwrap()
            .starts_with('@')
    );

    let v2 = http
        .post(payments.server.url("/v2/payments"))
        .json(&json!({"order_id": "v-2", "amount": {"cents": 900, "currency": "EUR"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(v2.status(), 201);
    assert!(!v2.headers().contains_key("sunset"));
    let body: Value = v2.json().await.unwrap();
    assert_eq!(body["amount"], json!({"cents": 900, "currency": "EUR"}));

    let document = serde_json::to_value(payments::http::openapi()).unwrap();
    assert_eq!(
        document["paths"]["/v1/payments"]["post"]["deprecated"],
        true
    );
}
// ANCHOR_END: versioning
