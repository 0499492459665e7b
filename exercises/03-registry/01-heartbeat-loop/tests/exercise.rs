use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ch01_autonomy::server;
use ch03_registry::discovery::http::HttpRegistry;
use ch03_registry::discovery::{Registration, Registry};
use ch03_registry::registry::App;
use ex03_heartbeat_loop::keep_registered;
use testkit::TestServer;

const TOKEN: &str = "exercise";

async fn registry() -> (TestServer, App, Arc<HttpRegistry>) {
    let app = App::new(TOKEN);
    let router = app.router();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    let client = Arc::new(HttpRegistry::new(server.base_url(), TOKEN).unwrap());
    (server, app, client)
}

fn registration() -> Registration {
    Registration {
        service: "catalog".to_owned(),
        instance_id: "catalog-1".to_owned(),
        address: "http://127.0.0.1:8002".to_owned(),
        metadata: BTreeMap::new(),
        ttl: Duration::from_secs(2),
    }
}

#[tokio::test]
async fn a_heartbeating_instance_stays_registered() {
    let (_server, _app, client) = registry().await;
    let task = tokio::spawn(keep_registered(client.clone(), registration()));
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let listed = client.instances("catalog").await.unwrap().instances.len();
        assert_eq!(listed, 1, "the instance dropped out of the registry");
    }
    task.abort();
}

#[tokio::test]
async fn a_silent_instance_expires_within_its_ttl() {
    let (_server, _app, client) = registry().await;
    let task = tokio::spawn(keep_registered(client.clone(), registration()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        client.instances("catalog").await.unwrap().instances.len(),
        1
    );
    task.abort(); // the process "dies": no more heartbeats, no goodbye
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert!(
        client
            .instances("catalog")
            .await
            .unwrap()
            .instances
            .is_empty()
    );
}
