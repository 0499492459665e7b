//! The checkout saga against real providers: the happy path, each way it
//! can fail, and the sums that must hold whatever happened.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ch05_soa::inventory::model::Status as ReservationStatus;
use ch05_soa::payments::store::PaymentStatus;
use common::Shop;

// ANCHOR: happy_path
#[tokio::test]
async fn a_checkout_reserves_charges_and_confirms() {
    let shop = Shop::start(0.0).await;
    let order = shop.place(&[(1, 2), (4, 1)]).await;

    assert_eq!(order.order.status, "confirmed");
    assert_eq!(order.cancel_reason, None);
    assert_eq!(shop.stock(1).await, 8, "two copies sold");
    assert_eq!(shop.stock(4).await, 9);
    let reservation = shop.reservation(order.order.id).await.unwrap();
    assert_eq!(reservation.status, ReservationStatus::Confirmed);
    let payment = shop.payment(order.order.id).await.unwrap();
    assert_eq!(payment.status, PaymentStatus::Approved);
    assert_eq!(payment.amount_cents, order.order.total_cents);
}
// ANCHOR_END: happy_path

#[tokio::test]
async fn short_stock_cancels_and_charges_nothing() {
    let shop = Shop::start(0.0).await;
    // Book 23 is sold out.
    let order = shop.place(&[(1, 1), (23, 1)]).await;

    assert_eq!(order.order.status, "cancelled");
    let reason = order.cancel_reason.unwrap();
    assert!(reason.contains("not enough stock for book 23"), "{reason}");
    assert_eq!(shop.stock(1).await, 10, "nothing reserved");
    let payment = shop.payment(order.order.id).await.unwrap();
    assert_eq!(payment.status, PaymentStatus::Voided, "never charged");
}

// ANCHOR: declined
#[tokio::test]
async fn a_declined_payment_releases_the_stock() {
    let shop = Shop::start(1.0).await;
    let order = shop.place(&[(2, 3)]).await;

    assert_eq!(order.order.status, "cancelled");
    assert_eq!(
        order.cancel_reason.as_deref(),
        Some("the payment was declined")
    );
    assert_eq!(shop.stock(2).await, 10, "the reservation was released");
    let reservation = shop.reservation(order.order.id).await.unwrap();
    assert_eq!(reservation.status, ReservationStatus::Released);
    let payment = shop.payment(order.order.id).await.unwrap();
    assert_eq!(payment.status, PaymentStatus::Declined);
}
// ANCHOR_END: declined

// ANCHOR: gave_up
#[tokio::test]
async fn a_bank_slower_than_the_budget_is_given_up_on_and_compensated() {
    // Every charge takes 1 s; orders waits 200 ms per call and gives up
    // retrying after 1 s in all.
    let shop = Shop::start_with(
        0.0,
        Duration::from_millis(1000),
        None,
        &[
            "--step-timeout-ms",
            "200",
            "--saga-deadline-secs",
            "1",
            "--saga-retry-ms",
            "100",
        ],
    )
    .await;

    let order = shop.place(&[(3, 1)]).await;
    assert_eq!(order.order.status, "pending", "no answer from payments yet");
    assert_eq!(shop.stock(3).await, 9, "held while checkout waits");

    let order = common::settled(shop.orders_url(), order.order.id, Duration::from_secs(10)).await;
    assert_eq!(order.order.status, "cancelled");
    let reason = order.cancel_reason.unwrap_or_default();
    assert!(reason.starts_with("gave up waiting"), "{reason}");
    assert_eq!(shop.stock(3).await, 10, "released after the deadline");

    // Each charge orders gave up on was dropped by payments when the
    // connection closed, so the refund found nothing and voided the order:
    // a charge arriving now, from anywhere, takes no money.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let payment = shop.payment(order.order.id).await.unwrap();
    assert_eq!(payment.status, PaymentStatus::Voided);
}
// ANCHOR_END: gave_up

#[tokio::test]
async fn a_retried_post_finds_the_finished_checkout() {
    let shop = Shop::start(0.0).await;
    let send = || {
        reqwest::Client::new()
            .post(format!("{}/v1/orders", shop.orders_url()))
            .header("Idempotency-Key", "checkout-retry-1")
            .header(common::CALLER.0, common::CALLER.1)
            .json(&common::order_body(&[(5, 1)]))
            .send()
    };
    let first: serde_json::Value = send().await.unwrap().json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(first, again);
    assert_eq!(shop.stock(5).await, 9, "bought once");
}

// ANCHOR: consistency
/// 200 orders for random books while payments declines 30 % of charges:
/// every order ends confirmed or cancelled, and inventory, payments and
/// orders agree on what was sold and paid for.
#[tokio::test]
async fn two_hundred_checkouts_with_a_flaky_bank_leave_everything_consistent() {
    let shop = Arc::new(Shop::start(0.3).await);
    let mut rng = fastrand::Rng::with_seed(5);
    let carts: Vec<Vec<(i64, i64)>> = (0..200)
        .map(|_| {
            let first = rng.i64(1..=22);
            let mut cart = vec![(first, rng.i64(1..=2))];
            if rng.bool() {
                let second = first % 22 + 1;
                cart.push((second, 1));
            }
            cart
        })
        .collect();

    let mut orders = Vec::new();
    for batch in carts.chunks(8) {
        let placed = futures_util::future::join_all(batch.iter().map(|cart| {
            let shop = shop.clone();
            async move {
                // Usually finished at once; `pending` if the sweeper had
                // the saga at that moment, and then finished soon after.
                let placed = shop.place(cart).await;
                common::settled(shop.orders_url(), placed.order.id, Duration::from_secs(10)).await
            }
        }))
        .await;
        orders.extend(placed);
    }

    // ANCHOR: consistency_each_order
    let mut sold: HashMap<i64, i64> = HashMap::new();
    let (mut confirmed_cents, mut approved_cents) = (0, 0);
    let mut reasons: HashMap<&str, usize> = HashMap::new();
    for order in &orders {
        let id = order.order.id;
        let payment = shop.payment(id).await;
        let reservation = shop.reservation(id).await;
        match order.order.status.as_str() {
            "confirmed" => {
                for line in &order.order.lines {
                    *sold.entry(line.book_id).or_default() += line.quantity;
                }
                confirmed_cents += order.order.total_cents;
                assert_eq!(reservation.unwrap().status, ReservationStatus::Confirmed);
                assert_eq!(payment.unwrap().status, PaymentStatus::Approved);
            }
            "cancelled" => {
                let reason = order.cancel_reason.as_deref().unwrap();
                let kind = if reason.contains("stock") {
                    "stock"
                } else {
                    "payment"
                };
                *reasons.entry(kind).or_default() += 1;
                let held = reservation.map(|r| r.status);
                assert!(held.is_none() || held == Some(ReservationStatus::Released));
                let paid = payment.map(|p| p.status);
                assert_ne!(paid, Some(PaymentStatus::Approved), "cancelled but charged");
            }
            other => panic!("order {id} ended {other}"),
        }
    }
    // ANCHOR_END: consistency_each_order
    // ANCHOR: consistency_sums
    for book_id in 1..=22 {
        let left = shop.stock(book_id).await;
        let sold = sold.get(&book_id).copied().unwrap_or(0);
        assert_eq!(10 - left, sold, "book {book_id}: stock and orders disagree");
    }
    for order in &orders {
        if let Some(payment) = shop.payment(order.order.id).await
            && payment.status == PaymentStatus::Approved
        {
            approved_cents += payment.amount_cents;
        }
    }
    assert_eq!(
        approved_cents, confirmed_cents,
        "money taken = orders confirmed"
    );
    // ANCHOR_END: consistency_sums
    assert!(
        reasons.get("stock").copied().unwrap_or(0) > 0,
        "{reasons:?}"
    );
    assert!(
        reasons.get("payment").copied().unwrap_or(0) > 0,
        "{reasons:?}"
    );
}
// ANCHOR_END: consistency
