//! When to ack. An ack tells the broker "forget this message": if the work
//! then fails, or the process dies, nobody will ever do it.

use std::future::Future;

use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};

/// Does `work` for one delivery, and settles the delivery so that a
/// failure means "try again", never "lost". Returns whether the work
/// succeeded.
pub async fn process<F, Fut>(delivery: &Delivery, work: F) -> lapin::Result<bool>
where
    F: FnOnce(Vec<u8>) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    match work(delivery.data.clone()).await {
        Ok(()) => {
            delivery.ack(BasicAckOptions::default()).await?;
            Ok(true)
        }
        Err(_) => {
            // Back to the queue: it will be delivered again.
            let requeue = BasicNackOptions {
                requeue: true,
                ..Default::default()
            };
            delivery.nack(requeue).await?;
            Ok(false)
        }
    }
}
