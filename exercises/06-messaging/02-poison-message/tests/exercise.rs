//! A real RabbitMQ, a queue and exchanges of this test's own.

use std::time::{Duration, Instant};

use ch06_messaging::topology::{Topology, dead_letter_queue};
use ex06_poison_message::{REASON_HEADER, judge, reject_poison};
use futures_util::StreamExt;
use lapin::BasicProperties;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicPublishOptions,
    ConfirmSelectOptions, ExchangeDeleteOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};

#[tokio::test]
async fn a_poison_message_goes_to_the_dead_letter_queue_with_its_reason() {
    let connection = testkit::amqp::connect().await.expect("a RabbitMQ broker");
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let topology = Topology {
        events: testkit::unique_name("ex06.events"),
        dead_letter: testkit::unique_name("ex06.dead-letter"),
    };
    let queue = testkit::unique_name("ex06.poison");
    topology
        .declare_queue(
            &channel,
            &queue,
            &["order.*"],
            testkit::amqp::test_queue_arguments(),
        )
        .await
        .unwrap();
    let good = br#"{"specversion":"1.0","id":"e-1","type":"order.placed","source":"/orders","subject":"1","time":"2026-11-28T12:00:00Z","datacontenttype":"application/json","data":{"order_id":1}}"#;
    for body in [&b"{ not json"[..], &good[..]] {
        channel
            .basic_publish(
                topology.events.as_str().into(),
                "order.placed".into(),
                BasicPublishOptions::default(),
                body,
                BasicProperties::default(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }

    let mut deliveries = channel
        .basic_consume(
            queue.as_str().into(),
            "ex06".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let (mut handled, mut poison_seen) = (Vec::new(), 0);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && poison_seen < 20 {
        let Ok(Some(Ok(delivery))) =
            tokio::time::timeout(Duration::from_millis(300), deliveries.next()).await
        else {
            break; // quiet: nothing left to deliver
        };
        match judge(&delivery.data) {
            Ok(event) => {
                handled.push(event.id);
                delivery.ack(BasicAckOptions::default()).await.unwrap();
            }
            Err(reason) => {
                poison_seen += 1;
                reject_poison(&channel, &topology, &queue, &delivery, &reason)
                    .await
                    .unwrap();
            }
        }
    }
    let dead = channel
        .basic_get(
            dead_letter_queue(&queue).as_str().into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap();

    // Clean up before asserting, so a failing run leaves nothing behind.
    let _ = channel
        .basic_cancel("ex06".into(), Default::default())
        .await;
    for name in [queue.clone(), dead_letter_queue(&queue)] {
        let _ = channel
            .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    for exchange in [&topology.events, &topology.dead_letter] {
        let _ = channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await;
    }

    assert_eq!(handled, ["e-1"], "the good message is handled");
    assert_eq!(
        poison_seen, 1,
        "the poison message came once, not over and over"
    );
    let dead = dead.expect("the poison message is in the dead-letter queue");
    assert_eq!(dead.delivery.data, b"{ not json");
    let headers = dead
        .delivery
        .properties
        .headers()
        .clone()
        .unwrap_or_default();
    match headers.inner().get(REASON_HEADER) {
        Some(AMQPValue::LongString(reason)) => {
            assert!(reason.to_string().contains("not an event envelope"));
        }
        other => panic!("no {REASON_HEADER} header: {other:?}"),
    }
}
