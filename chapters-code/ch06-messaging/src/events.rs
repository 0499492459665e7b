//! The envelope every event travels in. The field names are CloudEvents'
//! (<https://cloudevents.io>), so tools that know the format can read it,
//! and `id` is unique per event, so consumers can drop duplicates.

use serde::{Deserialize, Serialize};

/// Routing keys (and CloudEvents `type`s) of order events.
pub const ORDER_PLACED: &str = "order.placed";
pub const ORDER_CONFIRMED: &str = "order.confirmed";
pub const ORDER_CANCELLED: &str = "order.cancelled";

// ANCHOR: envelope
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub specversion: String,
    /// Unique per event: the consumers' deduplication key.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    /// What the event is about: the order id.
    pub subject: String,
    pub time: String,
    pub datacontenttype: String,
    pub data: serde_json::Value,
}
// ANCHOR_END: envelope
