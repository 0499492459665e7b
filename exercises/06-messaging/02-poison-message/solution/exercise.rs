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

// ANCHOR: solution
/// Settles a delivery that can never be handled. The channel is in
/// confirm mode.
pub async fn reject_poison(
    channel: &Channel,
    topology: &Topology,
    queue: &str,
    delivery: &Delivery,
    reason: &str,
) -> lapin::Result<()> {
    use lapin::options::{BasicAckOptions, BasicPublishOptions};
    use lapin::types::AMQPValue;

    let mut headers = delivery.properties.headers().clone().unwrap_or_default();
    headers.insert(REASON_HEADER.into(), AMQPValue::LongString(reason.into()));
    let properties = delivery.properties.clone().with_headers(headers);
    let confirm = channel
        .basic_publish(
            topology.dead_letter.as_str().into(),
            queue.into(),
            BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            &delivery.data,
            properties,
        )
        .await?
        .await?;
    // Ack only once the broker has the copy: a crash before this line
    // means a redelivery, never a lost message.
    if confirm.is_ack() {
        delivery.ack(BasicAckOptions::default()).await?;
    }
    Ok(())
}
// ANCHOR_END: solution
