use ex05_give_up::{Step, give_up};

#[test]
fn before_the_deadline_every_step_is_retried() {
    for step in [Step::Reserve, Step::Charge, Step::Confirm, Step::Compensate] {
        assert!(!give_up(step, false), "{step:?} before the deadline");
    }
}

#[test]
fn after_the_deadline_reserve_and_charge_give_up() {
    assert!(give_up(Step::Reserve, true));
    assert!(give_up(Step::Charge, true));
}

#[test]
fn confirm_is_past_the_pivot_and_never_given_up() {
    assert!(
        !give_up(Step::Confirm, true),
        "the customer has paid: the saga can only go forward"
    );
}

#[test]
fn compensation_is_never_given_up() {
    assert!(
        !give_up(Step::Compensate, true),
        "giving up on compensation leaves stock held and money taken"
    );
}
