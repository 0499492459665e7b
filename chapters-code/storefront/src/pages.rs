//! The pages: each handler asks [`Shop`] for its data and renders one
//! template. Templates are compiled in (askama), and every value in them
//! is HTML-escaped, so a book titled `<script>` is shown, not run.

use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use ch04_gateway::caller::Caller;
use serde::Deserialize;

use crate::cart::{self, Cart};
use crate::compose::{Shop, Stock};
use crate::csrf::CsrfToken;
use crate::upstream::{Book, UpstreamError};
use crate::{account, orders};

/// Books on the home page and per search.
const PAGE_SIZE: u32 = 20;
/// The longest search a page accepts; the catalog would refuse longer.
const MAX_QUERY: usize = 100;

// ANCHOR: routes
pub fn routes(shop: Arc<Shop>) -> Router {
    Router::new()
        .route("/shop", get(home))
        .route("/shop/books/{id}", get(book))
        .route(
            "/shop/sign-in",
            get(account::sign_in_page).post(account::sign_in),
        )
        .route(
            "/shop/sign-up",
            get(account::sign_up_page).post(account::sign_up),
        )
        .route("/shop/sign-out", post(account::sign_out))
        .route("/shop/cart", get(cart::view).post(cart::add))
        .route("/shop/cart/remove", post(cart::remove))
        .route("/shop/orders", get(orders::list).post(orders::checkout))
        .route("/shop/orders/{id}", get(orders::page))
        .route("/shop/orders/{id}/events", get(orders::events))
        .route("/shop/static/style.css", get(style))
        .route("/shop/static/live.js", get(script))
        .route("/shop/{*rest}", get(not_found))
        .with_state(shop)
}
// ANCHOR_END: routes

/// What every page's header shows: who is signed in, the cart, and the
/// CSRF token for the sign-out form.
#[derive(Debug, Clone)]
pub struct Nav {
    pub shopper: Option<String>,
    pub csrf: Arc<str>,
    pub cart_items: i64,
}

impl<S: Send + Sync> FromRequestParts<S> for Nav {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let shopper = <Caller as OptionalFromRequestParts<S>>::from_request_parts(parts, state)
            .await?
            .map(|caller| caller.name().to_owned());
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map_or_else(|| Arc::from(""), |token| token.0.clone());
        Ok(Self {
            shopper,
            csrf,
            cart_items: Cart::from_headers(&parts.headers).items(),
        })
    }
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
pub fn price(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
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
    nav: Nav,
    Query(params): Query<SearchParams>,
) -> Result<Html<String>, PageError> {
    let query = params.q.unwrap_or_default().trim().to_owned();
    if query.chars().count() > MAX_QUERY {
        return Err(PageError::BadSearch);
    }
    let books = shop.catalog.search(&query, PAGE_SIZE).await?;
    let books = books.into_iter().map(BookRow::from).collect();
    render(&HomePage { nav, query, books })
}
// ANCHOR_END: home

#[derive(Template)]
#[template(path = "book.html")]
struct BookPageView {
    nav: Nav,
    query: String,
    book: BookRow,
    published_year: Option<i64>,
    stock: String,
    /// A class for the stock line: `in-stock`, `sold-out` or `unknown`.
    stock_class: &'static str,
    /// Whether the page offers "Add to cart": not for a sold-out book.
    can_order: bool,
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
    nav: Nav,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    // Any id that is not a number names no book: a page, not a 400.
    let id: i64 = id.parse().map_err(|_| PageError::NotFound)?;
    let page = shop.book_page(id).await?;
    let (stock, stock_class) = stock_line(page.stock);
    render(&BookPageView {
        nav,
        query: String::new(),
        can_order: page.stock != Stock::SoldOut,
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

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/live.js"),
    )
}

async fn not_found() -> PageError {
    PageError::NotFound
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Nav,
    query: String,
    heading: &'static str,
    message: &'static str,
}

/// Why a page could not be shown, as a page.
#[derive(Debug)]
pub enum PageError {
    NotFound,
    BadSearch,
    /// A form that did not come from one of our pages (CSRF).
    Forbidden,
    /// A form whose fields could not be read.
    BadForm(String),
    /// The page is a shopper's own: sign in first.
    SignIn,
    /// A service without which this page has nothing to show.
    Unavailable(UpstreamError),
    Render(askama::Error),
    Internal(String),
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
                "There is no such page, book or order here.",
            ),
            Self::BadSearch => (
                StatusCode::BAD_REQUEST,
                "Search too long",
                "Search for at most 100 characters.",
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "Please try again",
                "That form came from another site or an old page. Reload the page and send it again.",
            ),
            Self::BadForm(why) => {
                tracing::info!(%why, "a form that cannot be read");
                (
                    StatusCode::BAD_REQUEST,
                    "Please check the form",
                    "Some of what the form sent could not be read.",
                )
            }
            Self::SignIn => return Redirect::to("/shop/sign-in").into_response(),
            Self::Unavailable(err) => {
                tracing::warn!(%err, "a page without its data");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Back in a moment",
                    "Part of the shop is not answering right now. Please try again shortly.",
                )
            }
            Self::Render(err) => {
                tracing::error!(%err, "a template failed to render");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
            }
            Self::Internal(err) => {
                tracing::error!(%err, "a page failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
            }
        };
        let page = ErrorPage {
            nav: Nav {
                shopper: None,
                csrf: Arc::from(""),
                cart_items: 0,
            },
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

pub fn render(template: &impl Template) -> Result<Html<String>, PageError> {
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
