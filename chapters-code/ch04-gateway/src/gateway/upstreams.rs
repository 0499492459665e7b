//! Choosing the instance a request goes to: the route's service as
//! discovery knows it, minus the instances already tried for this request
//! and those whose breakers refuse, then the idler of two.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ch03_registry::discovery::balance::{InFlight, PowerOfTwoChoices};
use ch03_registry::discovery::cache::Discovery;
use ch03_registry::discovery::{Instance, Registry};

use super::breaker::{BreakerState, Breakers};

/// The instances of every service the gateway routes to.
#[derive(Debug)]
pub struct Upstreams {
    services: HashMap<String, Arc<Discovery>>,
    breakers: Breakers,
    balancer: PowerOfTwoChoices,
}

impl Upstreams {
    /// Starts discovery for each of `services`.
    pub fn start<R: Registry>(
        registry: &Arc<R>,
        services: Vec<String>,
        breakers: Breakers,
    ) -> Self {
        let services = services
            .into_iter()
            .map(|name| {
                let discovery = Arc::new(Discovery::start(registry.clone(), &name));
                (name, discovery)
            })
            .collect();
        Self {
            services,
            breakers,
            balancer: PowerOfTwoChoices::default(),
        }
    }

    /// Discovery of one service.
    pub fn discovery(&self, service: &str) -> Option<Arc<Discovery>> {
        self.services.get(service).cloned()
    }

    // ANCHOR: pick
    /// The idler of two instances of `service` that were not `tried` yet
    /// and whose breakers let a request through.
    pub fn pick(&self, service: &str, tried: &[String]) -> Option<(Instance, InFlight)> {
        let now = Instant::now();
        let mut candidates: Vec<Instance> = self
            .services
            .get(service)?
            .instances()
            .into_iter()
            .filter(|i| !tried.contains(&i.instance_id))
            .filter(|i| self.breakers.available(&i.instance_id, now))
            .collect();
        // Losing the race to be a half-open probe is no reason to give up:
        // try the others.
        while let Some((instance, in_flight)) = self.balancer.pick(&candidates) {
            if self.breakers.try_acquire(&instance.instance_id, now) {
                return Some((instance, in_flight));
            }
            candidates.retain(|i| i.instance_id != instance.instance_id);
        }
        None
    }
    // ANCHOR_END: pick

    /// The registry named, at least once, the instances of every service
    /// the gateway routes to (an empty list counts: it is an answer).
    pub fn registry_has_answered(&self) -> bool {
        self.services.values().all(|d| d.has_answered())
    }

    /// How a request to `instance_id` went, for its breaker.
    pub fn report(&self, instance_id: &str, failed: bool) {
        let now = Instant::now();
        if failed {
            self.breakers.failure(instance_id, now);
        } else {
            self.breakers.success(instance_id);
        }
        // 1 while the breaker keeps requests away from the instance.
        let open = !self.breakers.available(instance_id, now);
        metrics::gauge!("gateway_breaker_open", "instance_id" => instance_id.to_owned())
            .set(f64::from(u8::from(open)));
    }

    /// Every breaker's state, for `GET /gateway/breakers`.
    pub fn breakers(&self) -> HashMap<String, BreakerState> {
        self.breakers.snapshot()
    }
}
