//! A small reviews endpoint. It accepts every review, even nonsense.
//! Make it answer bad values with a 422 problem that names each bad field.

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::Problem;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewReview {
    pub book_id: i64,
    pub stars: i64,
    pub text: String,
}

pub fn router() -> Router {
    Router::new().route("/v1/reviews", post(create_review))
}

/// Rules: `stars` is 1 to 5; `text` is not blank (spaces only is blank).
/// Report every bad field at once, as chapter 1's `NewBook::validate` does.
pub fn validate(review: &NewReview) -> Result<(), Problem> {
    // TODO: collect a `FieldError` for each bad field and, if there are
    // any, return `Err(Problem::invalid_fields(errors))`.
    let _ = review;
    Ok(())
}

async fn create_review(
    JsonBody(review): JsonBody<NewReview>,
) -> Result<(StatusCode, Json<NewReview>), Problem> {
    validate(&review)?;
    Ok((StatusCode::CREATED, Json(review)))
}
