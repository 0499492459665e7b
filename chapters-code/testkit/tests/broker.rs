//! The real round trip with RabbitMQ: declare, publish with a confirm,
//! consume, ack, delete. Fails (never skips) when no broker can be found.

use futures_util::StreamExt;
use lapin::BasicProperties;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use std::time::Duration;

#[tokio::test]
async fn publishes_with_a_confirm_and_consumes_with_an_ack() {
    let connection = testkit::amqp::connect().await.expect("a RabbitMQ broker");
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();

    let queue = testkit::unique_name("testkit.smoke");
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions::default(),
            testkit::amqp::test_queue_arguments(),
        )
        .await
        .unwrap();

    let confirm = channel
        .basic_publish(
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            b"hello, broker",
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(confirm.is_ack(), "the broker confirmed the message");

    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "testkit-smoke".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let delivery = tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("a delivery within 10 s")
        .expect("the consumer is open")
        .expect("a delivery, not an error");
    assert_eq!(delivery.data, b"hello, broker");
    delivery.ack(BasicAckOptions::default()).await.unwrap();

    channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    connection.close(200, "done".into()).await.unwrap();
}
