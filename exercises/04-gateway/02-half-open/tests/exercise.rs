use std::time::{Duration, Instant};

use ex04_half_open::{Breaker, State};

fn opened(start: Instant) -> Breaker {
    let mut breaker = Breaker::new(2, Duration::from_secs(5));
    breaker.failure(start);
    breaker.failure(start);
    assert!(matches!(breaker.state, State::Open { .. }));
    breaker
}

#[test]
fn an_open_breaker_refuses_until_the_cooldown_ends() {
    let start = Instant::now();
    let mut breaker = opened(start);
    assert!(!breaker.try_acquire(start + Duration::from_secs(4)));
}

#[test]
fn after_the_cooldown_exactly_one_probe_goes_through() {
    let start = Instant::now();
    let mut breaker = opened(start);
    let later = start + Duration::from_secs(5);
    assert!(breaker.try_acquire(later), "the probe");
    assert_eq!(breaker.state, State::HalfOpen);
    assert!(
        !breaker.try_acquire(later),
        "no second request while the probe runs"
    );
}

#[test]
fn a_good_probe_closes_and_a_bad_one_reopens() {
    let start = Instant::now();
    let later = start + Duration::from_secs(5);

    let mut recovered = opened(start);
    assert!(recovered.try_acquire(later));
    recovered.success();
    assert!(recovered.try_acquire(later));

    let mut still_broken = opened(start);
    assert!(still_broken.try_acquire(later));
    still_broken.failure(later);
    assert!(!still_broken.try_acquire(later + Duration::from_secs(1)));
}
