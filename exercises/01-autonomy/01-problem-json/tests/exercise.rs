use ch01_autonomy::problem::Problem;
use serde_json::{Value, json};
use testkit::TestServer;

async fn post(review: Value) -> reqwest::Response {
    let server = TestServer::router(ex01_problem_json::router()).await;
    reqwest::Client::new()
        .post(server.url("/v1/reviews"))
        .json(&review)
        .send()
        .await
        .unwrap()
}

async fn fields_of_422(response: reqwest::Response) -> Vec<String> {
    assert_eq!(response.status(), 422);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Problem = response.json().await.unwrap();
    problem.errors.into_iter().map(|e| e.field).collect()
}

#[tokio::test]
async fn a_good_review_is_created() {
    let response = post(json!({"book_id": 1, "stars": 5, "text": "Loved it"})).await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn stars_out_of_range_are_a_422_naming_stars() {
    for stars in [0, 6, -1] {
        let response = post(json!({"book_id": 1, "stars": stars, "text": "Hmm"})).await;
        assert_eq!(fields_of_422(response).await, ["stars"]);
    }
}

#[tokio::test]
async fn blank_text_is_a_422_naming_text() {
    let response = post(json!({"book_id": 1, "stars": 3, "text": "   "})).await;
    assert_eq!(fields_of_422(response).await, ["text"]);
}

#[tokio::test]
async fn every_bad_field_is_named_at_once() {
    let response = post(json!({"book_id": 1, "stars": 9, "text": ""})).await;
    assert_eq!(fields_of_422(response).await, ["stars", "text"]);
}
