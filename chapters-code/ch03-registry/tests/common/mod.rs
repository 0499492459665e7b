//! Registries for tests: ours on 127.0.0.1:0, and etcd as testkit finds it.

#![allow(dead_code)] // each test file uses a different part

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use ch01_autonomy::server;
use ch03_registry::discovery::Registration;
use ch03_registry::discovery::etcd::EtcdRegistry;
use ch03_registry::discovery::http::HttpRegistry;
use ch03_registry::registry::App;
use testkit::TestServer;

pub const TOKEN: &str = "test-registry-token";

/// Our registry, in-process. Keep `app` alive: it owns the expiry task.
pub struct OurRegistry {
    pub server: TestServer,
    pub app: App,
    pub client: HttpRegistry,
}

pub async fn our_registry() -> OurRegistry {
    our_registry_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// On a given address: to restart a registry where it was.
pub async fn our_registry_on(addr: SocketAddr) -> OurRegistry {
    let app = App::new(TOKEN);
    let router = app.router();
    let server = TestServer::start_on(addr, |listener, shutdown| {
        server::serve(listener, router, app.on_shutdown(shutdown))
    })
    .await;
    let client = HttpRegistry::new(server.base_url(), TOKEN).unwrap();
    OurRegistry {
        server,
        app,
        client,
    }
}

pub async fn etcd_registry() -> EtcdRegistry {
    let endpoints = testkit::etcd::etcd_endpoints()
        .await
        .expect("an etcd for this test");
    EtcdRegistry::connect(&endpoints)
        .await
        .expect("connect to etcd")
}

/// A registration for a service no other test uses.
pub fn registration(service: &str, instance_id: &str, ttl: Duration) -> Registration {
    Registration {
        service: service.to_owned(),
        instance_id: instance_id.to_owned(),
        address: format!("http://127.0.0.1:{}", 20_000 + instance_id.len()),
        metadata: BTreeMap::from([("version".to_owned(), "1".to_owned())]),
        ttl,
    }
}

/// `catalog-<random>`: a service name that is a valid name and unique.
pub fn unique_service() -> String {
    testkit::unique_name("svc").replace('.', "-")
}
