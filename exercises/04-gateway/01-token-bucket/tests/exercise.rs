use std::time::{Duration, Instant};

use ex04_token_bucket::TokenBucket;

#[test]
fn a_full_bucket_allows_a_burst_then_refuses() {
    let now = Instant::now();
    let mut bucket = TokenBucket::new(5, 1.0, now);
    for _ in 0..5 {
        assert!(bucket.try_take(now).is_ok());
    }
    assert!(bucket.try_take(now).is_err(), "the sixth request waits");
}

#[test]
fn it_refills_at_its_rate_and_says_how_long_to_wait() {
    let start = Instant::now();
    let mut bucket = TokenBucket::new(1, 4.0, start);
    assert!(bucket.try_take(start).is_ok());
    assert_eq!(bucket.try_take(start), Err(Duration::from_millis(250)));
    assert!(bucket.try_take(start + Duration::from_millis(250)).is_ok());
}

#[test]
fn it_never_holds_more_than_its_capacity() {
    let start = Instant::now();
    let mut bucket = TokenBucket::new(2, 1.0, start);
    let much_later = start + Duration::from_secs(3600);
    assert!(bucket.try_take(much_later).is_ok());
    assert!(bucket.try_take(much_later).is_ok());
    assert!(
        bucket.try_take(much_later).is_err(),
        "an hour of quiet is still only 2 tokens"
    );
}
