//! A poison message: one the consumer can never handle (not JSON, a field
//! missing). Put back on the queue, it comes straight back, for ever, and
//! every other message waits behind it or beside it. It belongs in the
//! dead-letter queue, with the reason, so a human can look at it.

use ch06_messaging::events::Envelope;
use ch06_messaging::topology::Topology;
use lapin::Channel;
use lapin::message::Delivery;

/// Header saying why a message was dead-lettered.
pub const REASON_HEADER: &str = "x-reason";

/// The event in a message, or why there is none.
pub fn judge(body: &[u8]) -> Result<Envelope, String> {
    serde_json::from_slice(body).map_err(|err| format!("not an event envelope: {err}"))
}

/// Settles a delivery that can never be handled. The channel is in
/// confirm mode.
pub async fn reject_poison(
    channel: &Channel,
    topology: &Topology,
    queue: &str,
    delivery: &Delivery,
    reason: &str,
) -> lapin::Result<()> {
    // TODO: this puts the message back on the queue, where it comes back
    // at once, for ever. Publish it to the dead-letter exchange instead
    // (routing key: the queue's name), with the reason in a header, wait
    // for the confirm, and only then ack the delivery.
    let _ = (channel, topology, queue, reason);
    let requeue = lapin::options::BasicNackOptions {
        requeue: true,
        ..Default::default()
    };
    delivery.nack(requeue).await?;
    Ok(())
}
