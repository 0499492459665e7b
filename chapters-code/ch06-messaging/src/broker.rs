//! What the relay and the consumer both need from the broker: a channel in
//! confirm mode, and a bound on every wait.

use std::future::Future;
use std::time::Duration;

use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties};

use crate::topology::{QueueType, Topology};

/// Where the broker is and which exchanges to use: the same flags for
/// every service of this chapter.
#[derive(Debug, Clone, clap::Args)]
pub struct BrokerFlags {
    /// The RabbitMQ broker. Every service here works without it for a
    /// while: orders keeps events in its outbox, consumers reconnect.
    #[arg(
        long,
        env = "AMQP_ADDR",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f",
        hide_env_values = true
    )]
    pub amqp_addr: String,

    /// The topic exchange events are published to.
    #[arg(long, env = "EVENTS_EXCHANGE", default_value = "bookshop.events")]
    pub events_exchange: String,

    /// The exchange rejected messages go to.
    #[arg(
        long,
        env = "DEAD_LETTER_EXCHANGE",
        default_value = "bookshop.dead-letter"
    )]
    pub dead_letter_exchange: String,

    /// The type of the queues a consumer declares: `quorum` on a cluster
    /// (chapter 8). A queue keeps the type it was first declared with.
    #[arg(long, env = "QUEUE_TYPE", value_enum, default_value = "classic")]
    pub queue_type: QueueType,
}

impl BrokerFlags {
    pub fn topology(&self) -> Topology {
        Topology {
            events: self.events_exchange.clone(),
            dead_letter: self.dead_letter_exchange.clone(),
        }
    }
}

/// The longest either side waits for the broker to connect or confirm: a
/// broker that is restarting can accept a TCP connection and then say
/// nothing, and a confirm can be lost with its connection.
pub const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("the broker: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("no answer from the broker within {0:?} ({1})")]
    Timeout(Duration, &'static str),
}

/// `future`, or [`BrokerError::Timeout`] after [`BROKER_TIMEOUT`].
pub async fn within<T>(
    what: &'static str,
    future: impl Future<Output = lapin::Result<T>>,
) -> Result<T, BrokerError> {
    match tokio::time::timeout(BROKER_TIMEOUT, future).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(BrokerError::Timeout(BROKER_TIMEOUT, what)),
    }
}

/// A connection and a channel on it in publisher-confirm mode. Keep the
/// connection: dropping it closes the channel.
pub async fn confirmed_channel(amqp_addr: &str) -> Result<(Connection, Channel), BrokerError> {
    let connection = within(
        "connect",
        Connection::connect(amqp_addr, ConnectionProperties::default()),
    )
    .await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok((connection, channel))
}

/// Closes the channel, then the connection, each bounded in time: a
/// broker that does not answer must not hold the shutdown up.
pub async fn close(connection: &Connection, channel: &Channel) {
    if let Err(err) = within(
        "close the channel",
        channel.close(200, "shutting down".into()),
    )
    .await
    {
        tracing::debug!(%err, "the channel was closed already");
    }
    if let Err(err) = within(
        "close the connection",
        connection.close(200, "shutting down".into()),
    )
    .await
    {
        tracing::debug!(%err, "the connection was closed already");
    }
}
