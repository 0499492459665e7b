//! Bad input gets a clear problem+json answer, and nothing is stored.

mod common;

use ch01_autonomy::catalog::http::BookList;
use common::{SEEDED_BOOKS, expect_problem, spawn_catalog, spawn_catalog_with};
use serde_json::json;

fn post_raw(
    catalog: &common::Catalog,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    let request = reqwest::Client::new()
        .post(catalog.server.url("/v1/books"))
        .body(body);
    match content_type {
        Some(content_type) => request.header("content-type", content_type),
        None => request,
    }
}

async fn total_books(catalog: &common::Catalog) -> i64 {
    let page: BookList = reqwest::get(catalog.server.url("/v1/books"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page.total
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let catalog = spawn_catalog().await;
    let response = reqwest::get(catalog.server.url("/v2/nothing-here"))
        .await
        .unwrap();
    let problem = expect_problem(response, 404).await;
    assert!(problem.detail.contains("/v2/nothing-here"));
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let catalog = spawn_catalog().await;
    let response = reqwest::Client::new()
        .delete(catalog.server.url("/v1/books/1"))
        .send()
        .await
        .unwrap();
    expect_problem(response, 405).await;
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let catalog = spawn_catalog().await;
    let response = post_raw(&catalog, Some("application/json"), "{\"title\": ")
        .send()
        .await
        .unwrap();
    expect_problem(response, 400).await;
    assert_eq!(total_books(&catalog).await, SEEDED_BOOKS);
}

#[tokio::test]
async fn invalid_values_are_a_422_naming_each_field() {
    let catalog = spawn_catalog().await;
    let cases = [
        (
            json!({"title": "", "author": "A", "price_cents": 100}),
            vec!["title"],
        ),
        (
            json!({"title": "T", "author": "A", "price_cents": -1}),
            vec!["price_cents"],
        ),
        (
            json!({"title": "T", "author": "  ", "price_cents": 0}),
            vec!["author", "price_cents"],
        ),
        (
            json!({"title": "T", "author": "A", "price_cents": 100, "published_year": 99999}),
            vec!["published_year"],
        ),
        (
            json!({"title": "T", "author": "A", "price_cents": "ten"}),
            vec!["price_cents"],
        ),
        (
            json!({"title": "T", "author": "A", "price_cents": 12.5}),
            vec!["price_cents"],
        ),
        (
            json!({"title": "T", "author": "A", "price_cents": 1e30}),
            vec!["price_cents"],
        ),
        (
            json!({"title": "x".repeat(301), "author": "A", "price_cents": 100}),
            vec!["title"],
        ),
        (json!({"author": "A", "price_cents": 100}), vec!["body"]),
        (json!(42), vec!["body"]),
    ];
    for (body, fields) in cases {
        let response = post_raw(&catalog, Some("application/json"), body.to_string())
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 422).await;
        let named: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, fields, "for {body}");
    }
    assert_eq!(
        total_books(&catalog).await,
        SEEDED_BOOKS,
        "nothing was stored"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let catalog = spawn_catalog_with(|app| app.with_body_limit(1024)).await;
    let big_title = "x".repeat(2048);
    let body = json!({"title": big_title, "author": "A", "price_cents": 1}).to_string();
    let response = post_raw(&catalog, Some("application/json"), body)
        .send()
        .await
        .unwrap();
    expect_problem(response, 413).await;
    assert_eq!(total_books(&catalog).await, SEEDED_BOOKS);
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_is_a_415_problem() {
    let catalog = spawn_catalog().await;
    let body = json!({"title": "T", "author": "A", "price_cents": 1}).to_string();
    for content_type in [Some("text/plain"), Some("application/xml"), None] {
        let response = post_raw(&catalog, content_type, body.clone())
            .send()
            .await
            .unwrap();
        expect_problem(response, 415).await;
    }
    assert_eq!(total_books(&catalog).await, SEEDED_BOOKS);
}

#[tokio::test]
async fn a_json_content_type_with_parameters_is_accepted() {
    let catalog = spawn_catalog().await;
    let body = json!({"title": "T", "author": "A", "price_cents": 1}).to_string();
    let response = post_raw(&catalog, Some("application/json; charset=utf-8"), body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn a_malformed_query_is_a_400_problem() {
    let catalog = spawn_catalog().await;
    for query in ["limit=abc", "offset=-1", "limit=99999999999"] {
        let response = reqwest::get(catalog.server.url(&format!("/v1/books?{query}")))
            .await
            .unwrap();
        expect_problem(response, 400).await;
    }
}

#[tokio::test]
async fn strange_input_never_causes_a_server_error() {
    let catalog = spawn_catalog().await;
    let client = reqwest::Client::new();
    let bodies: [&[u8]; 6] = [
        b"",
        b"null",
        b"{}",
        b"\xff\xfe\x00",
        b"{\"title\":\"\\ud800\"}",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    ];
    for body in bodies {
        let response = client
            .post(catalog.server.url("/v1/books"))
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{body:?} gave {status}");
    }
    assert_eq!(total_books(&catalog).await, SEEDED_BOOKS);
}
