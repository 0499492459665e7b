//! A JSON body extractor whose every rejection is a [`Problem`].
//!
//! axum's own `Json` extractor already tells the cases apart; we write our
//! own so the client gets a problem document that names the failing field
//! (thanks to `serde_path_to_error`) instead of a plain-text message.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::problem::{FieldError, Problem};

/// Like `axum::Json<T>`, but rejections are problems.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonBody<T>(pub T);

// ANCHOR: extractor
impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(&req) {
            return Err(unsupported_media_type());
        }
        // Reading the body enforces the body limit (axum's `DefaultBodyLimit`).
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_problem)?;
        parse(&bytes).map(JsonBody)
    }
}
// ANCHOR_END: extractor

/// The same checks as [`JsonBody`], for a body some other framework read:
/// 415 without a JSON media type, then what [`parse`] says.
pub fn from_body<T: DeserializeOwned>(
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<T, Problem> {
    if !content_type.is_some_and(is_json_media_type) {
        return Err(unsupported_media_type());
    }
    parse(bytes)
}

fn unsupported_media_type() -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "expected a request body with `Content-Type: application/json`",
    )
}

// ANCHOR: parse
/// 400 when the JSON is malformed, 422 when it is JSON of the wrong shape.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|err| Problem::bad_request(format!("the body is not valid JSON: {err}")))?;
    whole_numbers_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|err| {
        let field = match err.path().to_string() {
            path if path == "." => "body".to_owned(),
            path => path,
        };
        Problem::invalid_fields(vec![FieldError::new(field, err.into_inner().to_string())])
    })
}
// ANCHOR_END: parse

/// `i64::MIN` is a power of two, so it is exact as an `f64`; the range of
/// `i64` is `[I64_MIN_AS_F64, -I64_MIN_AS_F64)`.
#[allow(clippy::cast_precision_loss)] // exact: -2^63
const I64_MIN_AS_F64: f64 = i64::MIN as f64;

/// JSON has one kind of number: `2.0` and `2` are the same integer (and
/// JSON Schema's `integer` accepts both). serde would refuse `2.0` for an
/// `i64`, so whole numbers become integers before the body is read.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
                && (I64_MIN_AS_F64..-I64_MIN_AS_F64).contains(&float)
            {
                #[allow(clippy::cast_possible_truncation)] // whole, and in range
                let whole = float as i64;
                *number = whole.into();
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(fields) => {
            fields.values_mut().for_each(whole_numbers_as_integers);
        }
        _ => {}
    }
}

fn has_json_content_type(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(is_json_media_type)
}

/// `application/json`, or any `application/…+json`, parameters aside.
pub fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_problem(rejection: BytesRejection) -> Problem {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::new(
            status,
            "the request body is larger than this service accepts",
        )
    } else {
        Problem::new(status, rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: u32,
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        let problem = parse::<Sample>(b"{\"name\":").unwrap_err();
        assert_eq!(problem.status, 400);
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_is_an_integer() {
        let sample = parse::<Sample>(br#"{"name":"x","count":3.0}"#).unwrap();
        assert_eq!(sample.count, 3);
        let problem = parse::<Sample>(br#"{"name":"x","count":3.5}"#).unwrap_err();
        assert_eq!(problem.status, 422);
    }

    #[test]
    fn wrong_type_names_the_field() {
        let problem = parse::<Sample>(br#"{"name":"x","count":"many"}"#).unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "count");
    }
}
