//! Quorum queues: the same services, told `QUEUE_TYPE=quorum`, declare
//! every queue as a quorum queue, and an order's events still reach
//! notifications, with nothing else changed.

mod common;

use std::process::Command;

/// Each queue's type, as the broker reports it (`rabbitmqctl`, on the
/// machine the broker runs on, as chapter 6's drill uses it).
fn queue_types() -> String {
    let listed = Command::new("rabbitmqctl")
        .args(["-q", "list_queues", "name", "type"])
        .output()
        .expect("rabbitmqctl, beside the local RabbitMQ");
    assert!(listed.status.success(), "{listed:?}");
    String::from_utf8_lossy(&listed.stdout).into_owned()
}

// ANCHOR: quorum
#[tokio::test]
async fn orders_flow_through_quorum_queues() {
    let shop = common::shop(&[("QUEUE_TYPE", "quorum")]).await;
    let token = shop.demo_token().await;
    let (_, order) = shop.order_book(&token, 3).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let kinds = shop.notifications(&token, &order["id"], 2).await;
    assert_eq!(kinds, ["order.confirmed", "order.placed"]);

    let types = queue_types();
    for queue in [shop.notifications_queue(), shop.inventory_queue()] {
        for queue in [queue.to_owned(), format!("{queue}.dead-letter")] {
            let line = types
                .lines()
                .find(|line| line.split_whitespace().next() == Some(&queue));
            assert_eq!(
                line.and_then(|line| line.split_whitespace().nth(1)),
                Some("quorum"),
                "{queue} in:\n{types}"
            );
        }
    }
    shop.clean_up().await;
}
// ANCHOR_END: quorum
