use std::collections::HashSet;

use ch03_registry::discovery::Instance;
use ex03_power_of_two::pick;

fn instances(ids: &[&str]) -> Vec<Instance> {
    ids.iter()
        .map(|id| Instance {
            instance_id: (*id).to_owned(),
            address: format!("http://{id}:80"),
            metadata: Default::default(),
        })
        .collect()
}

fn load(instance: &Instance) -> usize {
    if instance.instance_id == "busy" {
        50
    } else {
        0
    }
}

#[test]
fn never_picks_the_busiest_of_three() {
    let all = instances(&["busy", "idle-a", "idle-b"]);
    for _ in 0..1000 {
        assert_ne!(pick(&all, load).unwrap().instance_id, "busy");
    }
}

#[test]
fn spreads_over_the_idle_ones() {
    let all = instances(&["busy", "idle-a", "idle-b"]);
    let picked: HashSet<_> = (0..1000)
        .map(|_| pick(&all, load).unwrap().instance_id.clone())
        .collect();
    assert_eq!(
        picked,
        HashSet::from(["idle-a".to_owned(), "idle-b".to_owned()])
    );
}

#[test]
fn handles_zero_and_one_instance() {
    assert!(pick(&[], load).is_none());
    let one = instances(&["busy"]);
    assert_eq!(
        pick(&one, load).unwrap().instance_id,
        "busy",
        "the only one, even if busy"
    );
}
