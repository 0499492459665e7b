//! When to ack. An ack tells the broker "forget this message": if the work
//! then fails, or the process dies, nobody will ever do it.

use std::future::Future;

use lapin::message::Delivery;
use lapin::options::BasicAckOptions;

/// Does `work` for one delivery, and settles the delivery so that a
/// failure means "try again", never "lost". Returns whether the work
/// succeeded.
pub async fn process<F, Fut>(delivery: &Delivery, work: F) -> lapin::Result<bool>
where
    F: FnOnce(Vec<u8>) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    // TODO: the ack comes first, so a failed piece of work is lost. Ack
    // after the work succeeded; on failure, nack with `requeue: true`.
    delivery.ack(BasicAckOptions::default()).await?;
    let done = work(delivery.data.clone()).await.is_ok();
    Ok(done)
}
