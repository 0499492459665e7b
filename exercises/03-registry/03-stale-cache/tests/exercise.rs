use ch03_registry::discovery::{Instance, RegistryError, Snapshot};
use ex03_stale_cache::update;

fn instance(id: &str) -> Instance {
    Instance {
        instance_id: id.to_owned(),
        address: format!("http://{id}:80"),
        metadata: Default::default(),
    }
}

#[test]
fn a_fresh_answer_replaces_the_cache() {
    let mut cache = vec![instance("old")];
    update(
        &mut cache,
        Ok(Snapshot {
            index: 7,
            instances: vec![instance("new")],
        }),
    );
    assert_eq!(cache, [instance("new")]);
}

#[test]
fn an_empty_answer_empties_the_cache() {
    let mut cache = vec![instance("gone")];
    update(
        &mut cache,
        Ok(Snapshot {
            index: 8,
            instances: Vec::new(),
        }),
    );
    assert!(cache.is_empty(), "the registry said: no instances");
}

#[test]
fn an_unreachable_registry_keeps_the_last_known_instances() {
    let mut cache = vec![instance("a"), instance("b")];
    update(
        &mut cache,
        Err(RegistryError::Unreachable("connection refused".to_owned())),
    );
    assert_eq!(cache.len(), 2, "stale beats empty");
}
