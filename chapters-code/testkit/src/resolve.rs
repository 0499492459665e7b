//! The lookup order shared by the broker and etcd: environment variable,
//! then localhost, then a container, then a clear failure.

use std::time::Duration;

use tokio::net::TcpStream;

/// True when something accepts TCP connections on `addr` within 500 ms.
#[allow(dead_code)] // unused when both the `amqp` and `etcd` features are off
pub(crate) async fn tcp_answers(addr: &str) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// The message of a test that found no way to reach `what`.
#[allow(dead_code)]
pub(crate) fn none_found(
    what: &str,
    env: &str,
    local: &str,
    example: &str,
    container_error: &str,
) -> String {
    format!(
        "no {what} for this test. Give it one of three ways:\n  \
         1. set {env} (e.g. {env}={example})\n  \
         2. run {what} on {local} (see the book's Setup section, or run `bash .ci/run`)\n  \
         3. start Docker, so testcontainers can run {what} for the test\n\
         (the container attempt said: {container_error})"
    )
}
