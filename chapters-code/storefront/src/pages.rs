//! The pages: each handler asks [`Shop`] for its data and renders one
//! template. Templates are compiled in (askama), and every value in them
//! is HTML-escaped, so a book titled `<script>` is shown, not run.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::compose::{Shop, Stock};
use crate::upstream::{Book, UpstreamError};

/// Books on the home page and per search.
const PAGE_SIZE: u32 = 20;
/// The longest search a page accepts; the catalog would refuse longer.
const MAX_QUERY: usize = 100;

pub fn routes(shop: Arc<Shop>) -> Router {
    Router::new()
        .route("/shop", get(home))
        .route("/shop/books/{id}", get(book))
        .route("/shop/static/style.css", get(style))
        .route("/shop/{*rest}", get(not_found))
        .with_state(shop)
}

/// A book in a list, its price already written out.
struct BookRow {
    id: i64,
    title: String,
    author: String,
    price: String,
}

impl From<Book> for BookRow {
    fn from(book: Book) -> Self {
        Self {
            price: price(book.price_cents),
            id: book.id,
            title: book.title,
            author: book.author,
        }
    }
}

/// `3999` → `$39.99`.
fn price(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    query: String,
    books: Vec<BookRow>,
}

#[derive(Deserialize)]
struct SearchParams {
    q: Option<String>,
}

// ANCHOR: home
/// `GET /shop?q=rust`: the books matching the search, or the first page.
async fn home(
    State(shop): State<Arc<Shop>>,
    Query(params): Query<SearchParams>,
) -> Result<Html<String>, PageError> {
    let query = params.q.unwrap_or_default().trim().to_owned();
    if query.chars().count() > MAX_QUERY {
        return Err(PageError::BadSearch);
    }
    let books = shop.catalog.search(&query, PAGE_SIZE).await?;
    let books = books.into_iter().map(BookRow::from).collect();
    render(&HomePage { query, books })
}
// ANCHOR_END: home

#[derive(Template)]
#[template(path = "book.html")]
struct BookPageView {
    query: String,
    book: BookRow,
    published_year: Option<i64>,
    stock: String,
    /// A class for the stock line: `in-stock`, `sold-out` or `unknown`.
    stock_class: &'static str,
}

/// What the page says about `stock`, and how it marks it.
fn stock_line(stock: Stock) -> (String, &'static str) {
    match stock {
        Stock::InStock(copies) => (format!("In stock: {copies} left"), "in-stock"),
        Stock::SoldOut => ("Sold out".to_owned(), "sold-out"),
        Stock::Unknown => ("Stock unknown right now.".to_owned(), "unknown"),
    }
}

/// `GET /shop/books/{id}`: the book and its stock, composed.
async fn book(
    State(shop): State<Arc<Shop>>,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    // Any id that is not a number names no book: a page, not a 400.
    let id: i64 = id.parse().map_err(|_| PageError::NotFound)?;
    let page = shop.book_page(id).await?;
    let (stock, stock_class) = stock_line(page.stock);
    render(&BookPageView {
        query: String::new(),
        published_year: page.book.published_year,
        book: BookRow::from(page.book),
        stock,
        stock_class,
    })
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/style.css"),
    )
}

async fn not_found() -> PageError {
    PageError::NotFound
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    query: String,
    heading: &'static str,
    message: &'static str,
}

/// Why a page could not be shown, as a page.
#[derive(Debug)]
pub enum PageError {
    NotFound,
    BadSearch,
    /// The catalog, without which no page has anything to show.
    Unavailable(UpstreamError),
    Render(askama::Error),
}

impl From<UpstreamError> for PageError {
    fn from(err: UpstreamError) -> Self {
        match err {
            UpstreamError::NotFound(_) => Self::NotFound,
            other => Self::Unavailable(other),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such page or book here.",
            ),
            Self::BadSearch => (
                StatusCode::BAD_REQUEST,
                "Search too long",
                "Search for at most 100 characters.",
            ),
            Self::Unavailable(err) => {
                tracing::warn!(%err, "a page without its data");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Back in a moment",
                    "The catalog is not answering right now. Please try again shortly.",
                )
            }
            Self::Render(err) => {
                tracing::error!(%err, "a template failed to render");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
            }
        };
        let page = ErrorPage {
            query: String::new(),
            heading,
            message,
        };
        match render(&page) {
            Ok(html) => (status, html).into_response(),
            Err(err) => err.into_response(),
        }
    }
}

fn render(template: &impl Template) -> Result<Html<String>, PageError> {
    template.render().map(Html).map_err(PageError::Render)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_written_in_dollars_and_cents() {
        assert_eq!(price(3999), "$39.99");
        assert_eq!(price(500), "$5.00");
        assert_eq!(price(7), "$0.07");
    }
}
