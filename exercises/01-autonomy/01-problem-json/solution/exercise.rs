//! A small reviews endpoint that answers bad values with a 422 problem
//! naming each bad field.

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::{FieldError, Problem};
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

// ANCHOR: solution
/// Rules: `stars` is 1 to 5; `text` is not blank (spaces only is blank).
pub fn validate(review: &NewReview) -> Result<(), Problem> {
    let mut errors = Vec::new();
    if !(1..=5).contains(&review.stars) {
        errors.push(FieldError::new("stars", "must be between 1 and 5"));
    }
    if review.text.trim().is_empty() {
        errors.push(FieldError::new("text", "must not be blank"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::invalid_fields(errors))
    }
}
// ANCHOR_END: solution

async fn create_review(
    JsonBody(review): JsonBody<NewReview>,
) -> Result<(StatusCode, Json<NewReview>), Problem> {
    validate(&review)?;
    Ok((StatusCode::CREATED, Json(review)))
}
