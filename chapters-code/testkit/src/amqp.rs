//! RabbitMQ for tests: find a broker, connect with lapin, and name things
//! so that parallel tests never see each other's messages.

use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties};
use tokio::sync::OnceCell;

use crate::resolve::{none_found, tcp_answers};

const LOCAL_ADDR: &str = "127.0.0.1:5672";
const LOCAL_URI: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Queues declared by tests expire this long after they were last used,
/// so a test that panics before cleaning up leaves nothing behind for long.
pub const TEST_QUEUE_EXPIRY_MS: u32 = 60_000;

/// Keeps a container alive for the whole test binary, if we had to start one.
static CONTAINER: OnceCell<
    testcontainers::ContainerAsync<testcontainers_modules::rabbitmq::RabbitMq>,
> = OnceCell::const_new();

/// The AMQP URI of a broker: `AMQP_ADDR`, else a broker on 127.0.0.1:5672,
/// else a RabbitMQ container (Docker), else an error naming all three.
pub async fn amqp_addr() -> anyhow::Result<String> {
    if let Ok(addr) = std::env::var("AMQP_ADDR") {
        return Ok(addr);
    }
    if tcp_answers(LOCAL_ADDR).await {
        return Ok(LOCAL_URI.to_owned());
    }
    match start_container().await {
        Ok(uri) => Ok(uri),
        Err(err) => anyhow::bail!(none_found(
            "RabbitMQ",
            "AMQP_ADDR",
            LOCAL_ADDR,
            LOCAL_URI,
            &format!("{err:#}")
        )),
    }
}

async fn start_container() -> anyhow::Result<String> {
    use testcontainers::runners::AsyncRunner;
    let container = CONTAINER
        .get_or_try_init(|| async {
            testcontainers_modules::rabbitmq::RabbitMq::default()
                .start()
                .await
        })
        .await?;
    let port = container.get_host_port_ipv4(5672).await?;
    Ok(format!("amqp://guest:guest@127.0.0.1:{port}/%2f"))
}

/// A lapin connection to the broker [`amqp_addr`] finds.
pub async fn connect() -> anyhow::Result<Connection> {
    let addr = amqp_addr().await?;
    let connection = Connection::connect(&addr, ConnectionProperties::default()).await?;
    Ok(connection)
}

/// Arguments for a test queue: it expires when a test forgets to delete it.
pub fn test_queue_arguments() -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-expires".into(),
        AMQPValue::LongUInt(TEST_QUEUE_EXPIRY_MS),
    );
    arguments
}
