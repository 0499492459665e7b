//! etcd for tests: find a cluster and connect with `etcd-client`.

use tokio::sync::OnceCell;

use crate::resolve::{none_found, tcp_answers};

const LOCAL_ADDR: &str = "127.0.0.1:2379";
const LOCAL_ENDPOINT: &str = "http://127.0.0.1:2379";
const IMAGE: &str = "quay.io/coreos/etcd";
const TAG: &str = "v3.5.17";

static CONTAINER: OnceCell<testcontainers::ContainerAsync<testcontainers::GenericImage>> =
    OnceCell::const_new();

/// etcd endpoints: `ETCD_ENDPOINTS` (comma-separated), else 127.0.0.1:2379,
/// else an etcd container (Docker), else an error naming all three.
pub async fn etcd_endpoints() -> anyhow::Result<Vec<String>> {
    if let Ok(endpoints) = std::env::var("ETCD_ENDPOINTS") {
        return Ok(endpoints.split(',').map(|e| e.trim().to_owned()).collect());
    }
    if tcp_answers(LOCAL_ADDR).await {
        return Ok(vec![LOCAL_ENDPOINT.to_owned()]);
    }
    match start_container().await {
        Ok(endpoint) => Ok(vec![endpoint]),
        Err(err) => anyhow::bail!(none_found(
            "etcd",
            "ETCD_ENDPOINTS",
            LOCAL_ADDR,
            LOCAL_ENDPOINT,
            &format!("{err:#}")
        )),
    }
}

async fn start_container() -> anyhow::Result<String> {
    use testcontainers::core::{IntoContainerPort, WaitFor};
    use testcontainers::runners::AsyncRunner;
    use testcontainers::{GenericImage, ImageExt};
    let container = CONTAINER
        .get_or_try_init(|| async {
            GenericImage::new(IMAGE, TAG)
                .with_exposed_port(2379.tcp())
                .with_wait_for(WaitFor::message_on_stderr("ready to serve client requests"))
                .with_cmd([
                    "etcd",
                    "--listen-client-urls=http://0.0.0.0:2379",
                    "--advertise-client-urls=http://127.0.0.1:2379",
                ])
                .start()
                .await
        })
        .await?;
    let port = container.get_host_port_ipv4(2379).await?;
    Ok(format!("http://127.0.0.1:{port}"))
}

/// An etcd client connected to the cluster [`etcd_endpoints`] finds.
pub async fn connect() -> anyhow::Result<etcd_client::Client> {
    let endpoints = etcd_endpoints().await?;
    let client = etcd_client::Client::connect(&endpoints, None).await?;
    Ok(client)
}
