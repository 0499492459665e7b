//! What the relay and the consumer both need from the broker: a channel in
//! confirm mode, and a bound on every wait.

use std::future::Future;
use std::time::Duration;

use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties};

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
