//! The cart, kept by the browser in a cookie: book ids and quantities,
//! nothing else. The storefront stays stateless (any replica can serve
//! any request), and a shopper who edits the cookie gains nothing:
//! orders looks every book up and prices it itself.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use futures_util::future::join_all;
use serde::Deserialize;

use crate::compose::Shop;
use crate::csrf::{CsrfForm, token_in_csrf_field};
use crate::pages::{Nav, PageError, price, render};
use crate::session::{CART_COOKIE, read_cookie};
use crate::upstream::{NewLine, UpstreamError};

/// At most this many different books (orders accepts 50 lines).
pub const MAX_LINES: usize = 20;
/// At most this many copies of one book (orders accepts 100).
pub const MAX_QUANTITY: i64 = 10;

// ANCHOR: cart
/// Lines in the order they were added, one per book.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cart {
    lines: Vec<NewLine>,
}

impl Cart {
    /// The cart in a request's cookie. Anything unreadable in it is left
    /// out: a damaged cookie costs a line, never the page.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut cart = Self::default();
        let value = read_cookie(headers, CART_COOKIE).unwrap_or_default();
        for entry in value.split('.') {
            let parsed = entry
                .split_once('x')
                .and_then(|(id, qty)| Some((id.parse().ok()?, qty.parse().ok()?)));
            if let Some((book_id, quantity)) = parsed {
                cart.add(book_id, quantity);
            }
        }
        cart
    }
    // ANCHOR_END: cart

    /// `1x2.7x1`: book 1 twice, book 7 once. Only digits, `x` and `.`, so
    /// the value never needs quoting in a cookie.
    pub fn cookie_value(&self) -> String {
        let entries: Vec<String> = self
            .lines
            .iter()
            .map(|line| format!("{}x{}", line.book_id, line.quantity))
            .collect();
        entries.join(".")
    }

    /// Adds copies of a book, within the limits; nonsense is ignored.
    pub fn add(&mut self, book_id: i64, quantity: i64) {
        if book_id < 1 || quantity < 1 {
            return;
        }
        if let Some(line) = self.lines.iter_mut().find(|l| l.book_id == book_id) {
            line.quantity = (line.quantity + quantity).min(MAX_QUANTITY);
        } else if self.lines.len() < MAX_LINES {
            let quantity = quantity.min(MAX_QUANTITY);
            self.lines.push(NewLine { book_id, quantity });
        }
    }

    pub fn remove(&mut self, book_id: i64) {
        self.lines.retain(|line| line.book_id != book_id);
    }

    pub fn lines(&self) -> &[NewLine] {
        &self.lines
    }

    /// Copies in the cart, for the header.
    pub fn items(&self) -> i64 {
        self.lines.iter().map(|line| line.quantity).sum()
    }

    /// `Set-Cookie` for this cart (or to forget it, when empty).
    pub fn set_cookie(&self, shop: &Shop) -> (header::HeaderName, axum::http::HeaderValue) {
        let value = if self.lines.is_empty() {
            shop.cookies.expired(CART_COOKIE)
        } else {
            shop.cookies.strict(CART_COOKIE, &self.cookie_value())
        };
        (header::SET_COOKIE, value)
    }
}

/// "Add to cart" on a book page.
#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    book_id: i64,
    quantity: i64,
}

/// "Remove" on the cart page.
#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    book_id: i64,
}

token_in_csrf_field!(AddForm, RemoveForm);

/// `POST /shop/cart`: adds the book, then shows the cart.
pub async fn add(
    State(shop): State<Arc<Shop>>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<AddForm>,
) -> Response {
    let mut cart = Cart::from_headers(&headers);
    cart.add(form.book_id, form.quantity);
    ([cart.set_cookie(&shop)], Redirect::to("/shop/cart")).into_response()
}

/// `POST /shop/cart/remove`.
pub async fn remove(
    State(shop): State<Arc<Shop>>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> Response {
    let mut cart = Cart::from_headers(&headers);
    cart.remove(form.book_id);
    ([cart.set_cookie(&shop)], Redirect::to("/shop/cart")).into_response()
}

pub struct CartRow {
    book_id: i64,
    title: String,
    quantity: i64,
    price: String,
}

#[derive(Template)]
#[template(path = "cart.html")]
pub struct CartPage {
    pub nav: Nav,
    pub query: String,
    pub rows: Vec<CartRow>,
    pub total: String,
    /// The order's idempotency key: one per rendering of this page, so a
    /// form sent twice places one order.
    pub order_key: String,
    pub message: Option<String>,
}

/// The cart page for `cart`, each book looked up in the catalog at once.
pub async fn page(
    shop: &Shop,
    nav: Nav,
    cart: &Cart,
    message: Option<String>,
) -> Result<CartPage, PageError> {
    let books = join_all(cart.lines().iter().map(|l| shop.catalog.book(l.book_id))).await;
    let mut rows = Vec::new();
    let mut total = 0;
    for (line, book) in cart.lines().iter().zip(books) {
        let book = match book {
            Ok(book) => book,
            // A book the catalog no longer has: orders would refuse it.
            Err(UpstreamError::NotFound(_)) => continue,
            Err(err) => return Err(PageError::Unavailable(err)),
        };
        total += book.price_cents * line.quantity;
        rows.push(CartRow {
            book_id: line.book_id,
            title: book.title,
            quantity: line.quantity,
            price: price(book.price_cents * line.quantity),
        });
    }
    Ok(CartPage {
        nav,
        query: String::new(),
        rows,
        total: price(total),
        order_key: uuid::Uuid::new_v4().to_string(),
        message,
    })
}

/// `GET /shop/cart`.
pub async fn view(
    State(shop): State<Arc<Shop>>,
    nav: Nav,
    headers: HeaderMap,
) -> Result<impl IntoResponse, PageError> {
    let cart = Cart::from_headers(&headers);
    render(&page(&shop, nav, &cart, None).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn cart_from(cookie: &str) -> Cart {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        Cart::from_headers(&headers)
    }

    #[test]
    fn a_cart_survives_its_cookie() {
        let mut cart = Cart::default();
        cart.add(1, 2);
        cart.add(7, 1);
        cart.add(1, 1);
        assert_eq!(cart.cookie_value(), "1x3.7x1");
        assert_eq!(
            cart_from(&format!("bookshop_cart={}", cart.cookie_value())),
            cart
        );
        assert_eq!(cart.items(), 4);
    }

    #[test]
    fn a_damaged_or_greedy_cookie_is_cut_down_not_an_error() {
        let cart = cart_from("bookshop_cart=1x2.banana.3x-1.0x4.5x999.2x1x1");
        assert_eq!(
            cart.lines(),
            &[
                NewLine {
                    book_id: 1,
                    quantity: 2
                },
                NewLine {
                    book_id: 5,
                    quantity: MAX_QUANTITY
                },
            ]
        );
    }

    #[test]
    fn a_cart_holds_at_most_max_lines_books() {
        let mut cart = Cart::default();
        for id in 1..=30 {
            cart.add(id, 1);
        }
        assert_eq!(cart.lines().len(), MAX_LINES);
    }
}
