use ex02_idempotency_key::{Decision, FirstUse, OrderRequest, decide, fingerprint};

fn request(book_ids: &[i64]) -> OrderRequest {
    OrderRequest {
        customer: "ada".to_owned(),
        book_ids: book_ids.to_vec(),
    }
}

#[test]
fn a_new_key_is_processed() {
    assert_eq!(decide(None, &request(&[1])), Decision::Process);
}

#[test]
fn a_retry_gets_the_first_order_back() {
    let first = FirstUse {
        order_id: 7,
        fingerprint: fingerprint(&request(&[1, 2])),
    };
    assert_eq!(
        decide(Some(&first), &request(&[1, 2])),
        Decision::Replay { order_id: 7 }
    );
}

#[test]
fn the_same_key_for_another_request_is_a_conflict() {
    let first = FirstUse {
        order_id: 7,
        fingerprint: fingerprint(&request(&[1, 2])),
    };
    assert_eq!(decide(Some(&first), &request(&[3])), Decision::Conflict);
}
