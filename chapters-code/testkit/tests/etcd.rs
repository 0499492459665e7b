//! The real round trip with etcd: a key attached to a lease, read back,
//! then gone with the lease. Fails (never skips) when no etcd is found.

use etcd_client::PutOptions;

#[tokio::test]
async fn puts_and_gets_a_key_with_a_lease() {
    let mut client = testkit::etcd::connect().await.expect("an etcd cluster");
    let key = testkit::unique_name("/testkit/smoke");

    let lease = client.lease_grant(10, None).await.unwrap();
    client
        .put(
            key.as_str(),
            "hello, etcd",
            Some(PutOptions::new().with_lease(lease.id())),
        )
        .await
        .unwrap();

    let found = client.get(key.as_str(), None).await.unwrap();
    let kv = found.kvs().first().expect("the key we just put");
    assert_eq!(kv.value_str().unwrap(), "hello, etcd");
    assert_eq!(kv.lease(), lease.id());

    client.lease_revoke(lease.id()).await.unwrap();
    let gone = client.get(key.as_str(), None).await.unwrap();
    assert!(gone.kvs().is_empty(), "revoking the lease deletes the key");
}
