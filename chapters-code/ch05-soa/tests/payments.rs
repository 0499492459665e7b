//! The simulated payments service over HTTP.

use std::time::Duration;

use ch01_autonomy::server;
use ch05_soa::payments::store::{Payment, PaymentStatus};
use ch05_soa::payments::{self, Simulation};
use serde_json::json;
use testkit::{TempDb, TestServer};

struct Payments {
    server: TestServer,
    _db: TempDb,
}

async fn spawn_payments(failure_rate: f64) -> Payments {
    let db = TempDb::new();
    let simulation = Simulation {
        failure_rate,
        latency: Duration::ZERO,
    };
    let (_store, router) = payments::app(&db.url(), simulation).await.unwrap();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Payments { server, _db: db }
}

async fn charge(payments: &Payments, order_id: &str, amount_cents: i64) -> reqwest::Response {
    reqwest::Client::new()
        .post(payments.server.url("/v1/payments"))
        .json(&json!({"order_id": order_id, "amount_cents": amount_cents}))
        .send()
        .await
        .unwrap()
}

async fn refund(payments: &Payments, order_id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(
            payments
                .server
                .url(&format!("/v1/payments/{order_id}/refund")),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_charge_is_approved_once_and_refunded_once() {
    let payments = spawn_payments(0.0).await;
    let first: Payment = charge(&payments, "o-1", 4999).await.json().await.unwrap();
    assert_eq!(first.status, PaymentStatus::Approved);
    let again: Payment = charge(&payments, "o-1", 4999).await.json().await.unwrap();
    assert_eq!(again, first, "a retried charge gets the first answer");
    assert_eq!(
        charge(&payments, "o-1", 1).await.status(),
        409,
        "same order, other amount: a conflict with the first charge"
    );

    let refunded: Payment = refund(&payments, "o-1").await.json().await.unwrap();
    assert_eq!(refunded.status, PaymentStatus::Refunded);
    let twice: Payment = refund(&payments, "o-1").await.json().await.unwrap();
    assert_eq!(twice.status, PaymentStatus::Refunded);
}

#[tokio::test]
async fn a_refund_that_overtakes_its_charge_voids_the_order() {
    let payments = spawn_payments(0.0).await;
    let voided: Payment = refund(&payments, "late").await.json().await.unwrap();
    assert_eq!(voided.status, PaymentStatus::Voided, "nothing to give back");
    let late_charge = charge(&payments, "late", 500).await;
    assert_eq!(late_charge.status(), 409, "a voided order is never charged");
    let after: Payment = refund(&payments, "late").await.json().await.unwrap();
    assert_eq!(
        after.status,
        PaymentStatus::Voided,
        "refunding again changes nothing"
    );
}

#[tokio::test]
async fn a_bank_that_always_fails_declines_and_nothing_is_refunded() {
    let payments = spawn_payments(1.0).await;
    let declined: Payment = charge(&payments, "o-2", 100).await.json().await.unwrap();
    assert_eq!(declined.status, PaymentStatus::Declined);
    let after: Payment = refund(&payments, "o-2").await.json().await.unwrap();
    assert_eq!(
        after.status,
        PaymentStatus::Declined,
        "a decline has nothing to refund"
    );
}

#[tokio::test]
async fn bad_charges_are_422_naming_the_field() {
    let payments = spawn_payments(0.0).await;
    for (order_id, amount, field) in [
        ("", 10, "order_id"),
        ("o-3", 0, "amount_cents"),
        ("o-3", -5, "amount_cents"),
    ] {
        let response = charge(&payments, order_id, amount).await;
        assert_eq!(response.status(), 422);
        let problem: ch01_autonomy::problem::Problem = response.json().await.unwrap();
        assert_eq!(problem.errors[0].field, field);
    }
    let missing = reqwest::get(payments.server.url("/v1/payments/o-3"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404, "nothing was stored");
}

#[tokio::test]
async fn an_impossible_failure_rate_is_refused_at_start() {
    let db = TempDb::new();
    let simulation = Simulation {
        failure_rate: 1.5,
        latency: Duration::ZERO,
    };
    let err = payments::app(&db.url(), simulation).await.unwrap_err();
    assert!(err.to_string().contains("--failure-rate"), "{err}");
}
