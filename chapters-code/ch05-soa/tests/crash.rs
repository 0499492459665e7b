//! Drills: orders is killed (SIGKILL, no goodbye) in the middle of a
//! checkout, then started again on the same database. The saga must
//! finish or compensate, and leave nothing reserved and nobody charged
//! twice.

mod common;

use std::time::Duration;

use ch05_soa::inventory::model::Status as ReservationStatus;
use ch05_soa::payments::store::PaymentStatus;
use common::{Running, orders_args};
use testkit::{ServiceProcess, TempDb};

const ORDERS: &str = env!("CARGO_BIN_EXE_ch05-orders");

struct Providers {
    catalog: Running,
    inventory: Running,
    payments: Running,
}

async fn providers(failure_rate: f64) -> Providers {
    Providers {
        catalog: common::spawn_catalog().await,
        inventory: common::spawn_inventory().await,
        // A slow bank: orders is killed while it waits for the charge.
        payments: common::spawn_payments(failure_rate, Duration::from_millis(1500)).await,
    }
}

async fn orders_process(db: &TempDb, providers: &Providers) -> ServiceProcess {
    ServiceProcess::builder(ORDERS)
        .args(orders_args(
            db,
            providers.catalog.server.base_url(),
            providers.inventory.server.base_url(),
            providers.payments.server.base_url(),
            &["--saga-retry-ms", "200"],
        ))
        .spawn()
        .await
        .unwrap()
}

/// Places order 1 and kills orders once the stock is reserved, while the
/// charge is in flight.
async fn kill_during_charge(db: &TempDb, providers: &Providers) {
    let mut orders = orders_process(db, providers).await;
    let post = tokio::spawn(common::place_order_owned(
        orders.base_url().to_owned(),
        vec![(6, 2)],
    ));
    let inventory = providers.inventory.server.base_url();
    for _ in 0..100 {
        if common::reservation(inventory, 1).await.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        common::stock(inventory, 6).await,
        8,
        "reserved before the kill"
    );
    orders.kill().await.unwrap();
    assert!(post.await.unwrap().is_err(), "the client lost its answer");
}

// ANCHOR: crash_drill
#[tokio::test]
async fn orders_killed_during_the_charge_finishes_the_checkout_after_restart() {
    let providers = providers(0.0).await;
    let db = TempDb::new();
    kill_during_charge(&db, &providers).await;

    let orders = orders_process(&db, &providers).await;
    let order = common::settled(orders.base_url(), 1, Duration::from_secs(15)).await;

    assert_eq!(order.order.status, "confirmed");
    let inventory = providers.inventory.server.base_url();
    let reservation = common::reservation(inventory, 1).await.unwrap();
    assert_eq!(reservation.status, ReservationStatus::Confirmed);
    assert_eq!(common::stock(inventory, 6).await, 8, "sold once");
    let payment = common::payment(providers.payments.server.base_url(), 1)
        .await
        .unwrap();
    assert_eq!(payment.status, PaymentStatus::Approved);
    assert_eq!(
        payment.amount_cents, order.order.total_cents,
        "charged once"
    );
}
// ANCHOR_END: crash_drill

#[tokio::test]
async fn orders_killed_during_a_declined_charge_compensates_after_restart() {
    let providers = providers(1.0).await;
    let db = TempDb::new();
    kill_during_charge(&db, &providers).await;

    let orders = orders_process(&db, &providers).await;
    let order = common::settled(orders.base_url(), 1, Duration::from_secs(15)).await;

    assert_eq!(order.order.status, "cancelled");
    assert_eq!(
        order.cancel_reason.as_deref(),
        Some("the payment was declined")
    );
    let inventory = providers.inventory.server.base_url();
    let reservation = common::reservation(inventory, 1).await.unwrap();
    assert_eq!(
        reservation.status,
        ReservationStatus::Released,
        "nothing left reserved"
    );
    assert_eq!(common::stock(inventory, 6).await, 10);
}
