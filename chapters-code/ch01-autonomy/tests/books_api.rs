//! The catalog's API, endpoint by endpoint, against a real server.

mod common;

use ch01_autonomy::catalog::http::BookList;
use ch01_autonomy::catalog::model::Book;
use common::{SEEDED_BOOKS, expect_problem, spawn_catalog};
use serde_json::json;

async fn list(catalog: &common::Catalog, query: &str) -> BookList {
    let response = reqwest::get(catalog.server.url(&format!("/v1/books{query}")))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn lists_the_seeded_books_one_page_at_a_time() {
    let catalog = spawn_catalog().await;
    let page = list(&catalog, "").await;
    assert_eq!(page.total, SEEDED_BOOKS);
    assert_eq!(page.books.len(), 20, "the default page size");
    assert_eq!((page.limit, page.offset), (20, 0));
}

#[tokio::test]
async fn pages_are_in_a_stable_order() {
    let catalog = spawn_catalog().await;
    let all = list(&catalog, "?limit=100").await;
    let second = list(&catalog, "?limit=5&offset=5").await;
    assert_eq!(second.books, all.books[5..10]);
    let past_the_end = list(&catalog, "?offset=1000").await;
    assert!(past_the_end.books.is_empty());
    assert_eq!(past_the_end.total, SEEDED_BOOKS);
}

#[tokio::test]
async fn a_huge_limit_is_capped() {
    let catalog = spawn_catalog().await;
    let page = list(&catalog, "?limit=100000").await;
    assert_eq!(page.limit, 100);
}

#[tokio::test]
async fn a_zero_limit_is_rejected() {
    let catalog = spawn_catalog().await;
    let response = reqwest::get(catalog.server.url("/v1/books?limit=0"))
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem.errors[0].field, "limit");
}

#[tokio::test]
async fn filters_by_author() {
    let catalog = spawn_catalog().await;
    let page = list(&catalog, "?author=sam%20newman").await;
    let titles: Vec<_> = page.books.iter().map(|b| b.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Building Microservices", "Monolith to Microservices"]
    );
    assert_eq!(page.total, 2);
}

#[tokio::test]
async fn searches_titles_and_authors() {
    let catalog = spawn_catalog().await;
    let page = list(&catalog, "?q=RUST").await;
    assert_eq!(page.total, 5);
    assert!(
        page.books
            .iter()
            .all(|b| b.title.to_lowercase().contains("rust"))
    );
    let by_author = list(&catalog, "?q=fowler").await;
    assert_eq!(by_author.total, 2);
}

#[tokio::test]
async fn search_wildcards_are_literal() {
    let catalog = spawn_catalog().await;
    let page = list(&catalog, "?q=%25").await; // a literal "%"
    assert_eq!(page.total, 0);
}

#[tokio::test]
async fn gets_one_book_by_id() {
    let catalog = spawn_catalog().await;
    let response = reqwest::get(catalog.server.url("/v1/books/1"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let book: Book = response.json().await.unwrap();
    assert_eq!(book.title, "The Rust Programming Language");
    assert_eq!(book.price_cents, 3999);
}

#[tokio::test]
async fn an_unknown_or_malformed_id_is_not_found() {
    let catalog = spawn_catalog().await;
    for id in ["9999", "abc", "-1", "1.5"] {
        let response = reqwest::get(catalog.server.url(&format!("/v1/books/{id}")))
            .await
            .unwrap();
        expect_problem(response, 404).await;
    }
}

#[tokio::test]
async fn creates_a_book_and_its_author() {
    let catalog = spawn_catalog().await;
    let client = reqwest::Client::new();
    let response = client
        .post(catalog.server.url("/v1/books"))
        .json(&json!({
            "title": "  Rust in Action ",
            "author": "Tim McNamara",
            "published_year": 2021,
            "price_cents": 4999
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Book = response.json().await.unwrap();
    assert_eq!(location, format!("/v1/books/{}", created.id));
    assert_eq!(created.title, "Rust in Action", "text is trimmed");

    let fetched: Book = reqwest::get(catalog.server.url(&location))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, created);
    let by_author = list(&catalog, "?author=McNamara").await;
    assert_eq!(by_author.books, [created]);
}

#[tokio::test]
async fn health_endpoints_answer() {
    let catalog = spawn_catalog().await;
    for path in ["/health/live", "/health/ready"] {
        let response = reqwest::get(catalog.server.url(path)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let catalog = spawn_catalog().await;
    let client = reqwest::Client::new();
    let fresh = client
        .get(catalog.server.url("/v1/books/1"))
        .send()
        .await
        .unwrap();
    assert!(fresh.headers().contains_key("x-request-id"));
    let kept = client
        .get(catalog.server.url("/v1/books/1"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-me-42");
}
