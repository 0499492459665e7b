use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ex04_reject_alg_none::{HeaderError, check_header};

fn token(header: serde_json::Value) -> String {
    format!(
        "{}.eyJzdWIiOiJhZG1pbiJ9.",
        URL_SAFE_NO_PAD.encode(header.to_string())
    )
}

#[test]
fn an_eddsa_token_with_a_kid_passes() {
    let t = token(serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"}));
    assert_eq!(check_header(&t), Ok("k1".to_owned()));
}

#[test]
fn alg_none_is_refused() {
    let t = token(serde_json::json!({"alg": "none", "kid": "k1"}));
    assert_eq!(
        check_header(&t),
        Err(HeaderError::WrongAlgorithm("none".to_owned()))
    );
}

#[test]
fn a_symmetric_algorithm_is_refused() {
    let t = token(serde_json::json!({"alg": "HS256", "kid": "k1"}));
    assert_eq!(
        check_header(&t),
        Err(HeaderError::WrongAlgorithm("HS256".to_owned()))
    );
}

#[test]
fn a_missing_kid_or_garbage_is_refused() {
    assert_eq!(
        check_header(&token(serde_json::json!({"alg": "EdDSA"}))),
        Err(HeaderError::NoKeyId)
    );
    assert_eq!(check_header("%%%.x.y"), Err(HeaderError::Malformed));
}
