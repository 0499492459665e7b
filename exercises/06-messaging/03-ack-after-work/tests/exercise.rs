//! A real RabbitMQ and a queue of this test's own.

use std::time::Duration;

use ex06_ack_after_work::process;
use lapin::BasicProperties;
use lapin::options::{BasicGetOptions, BasicPublishOptions, QueueDeleteOptions};

#[tokio::test]
async fn work_that_fails_once_is_done_on_the_redelivery() {
    let connection = testkit::amqp::connect().await.expect("a RabbitMQ broker");
    let channel = connection.create_channel().await.unwrap();
    let queue = testkit::unique_name("ex06.ack-after");
    channel
        .queue_declare(
            queue.as_str().into(),
            Default::default(),
            testkit::amqp::test_queue_arguments(),
        )
        .await
        .unwrap();
    channel
        .basic_publish(
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions::default(),
            b"send the confirmation e-mail",
            BasicProperties::default(),
        )
        .await
        .unwrap();

    let mut attempts = 0;
    let mut done = false;
    for _ in 0..20 {
        let message = channel
            .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false })
            .await
            .unwrap();
        let Some(message) = message else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        attempts += 1;
        let fail = attempts == 1; // the mail server is down the first time
        done = process(&message.delivery, |_body| async move {
            if fail {
                Err("the mail server is down".to_owned())
            } else {
                Ok(())
            }
        })
        .await
        .unwrap();
        if done {
            break;
        }
    }
    let _ = channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;

    assert!(done, "the failed work was lost: it never came back");
    assert_eq!(attempts, 2, "once failed, once done");
}
