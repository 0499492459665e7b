//! A shopper's orders: placing one from the cart, the list, one order's
//! page, and its live updates as server-sent events.
//!
//! Every call is made *for* the shopper the gateway vouched for, and
//! orders and notifications decide what that shopper may see: someone
//! else's order is a 404 from orders, so it is a 404 page here too. The
//! storefront adds no rule of its own that could disagree with theirs.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use ch04_gateway::caller::Caller;
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use serde::Deserialize;

use crate::cart::{self, Cart};
use crate::compose::Shop;
use crate::csrf::{CsrfForm, token_in_csrf_field};
use crate::pages::{Nav, PageError, price, render};
use crate::upstream::{Notification, Order, UpstreamError};

/// How often a live page's stream asks for news, and for how long.
const POLL_EVERY: Duration = Duration::from_millis(400);
const WATCH_AT_MOST: Duration = Duration::from_secs(120);
/// The event types of chapter 6 that settle an order.
const SETTLED_KINDS: [&str; 2] = ["order.confirmed", "order.cancelled"];

/// The "Place order" button.
#[derive(Debug, Deserialize)]
pub struct CheckoutForm {
    #[serde(default)]
    csrf: String,
    /// The idempotency key the cart page rendered.
    key: String,
}

token_in_csrf_field!(CheckoutForm);

// ANCHOR: checkout
/// `POST /shop/orders`: the cart becomes an order, placed for the
/// signed-in shopper; then the order's own page.
pub async fn checkout(
    State(shop): State<Arc<Shop>>,
    shopper: Option<Caller>,
    nav: Nav,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CheckoutForm>,
) -> Result<Response, PageError> {
    let shopper = shopper.ok_or(PageError::SignIn)?;
    let cart = Cart::from_headers(&headers);
    if cart.lines().is_empty() {
        return Ok(Redirect::to("/shop/cart").into_response());
    }
    match shop
        .orders
        .place(shopper.name(), cart.lines(), &form.key)
        .await
    {
        Ok(order) => {
            let emptied = Cart::default().set_cookie(&shop);
            let to = format!("/shop/orders/{}", order.id);
            Ok(([emptied], Redirect::to(&to)).into_response())
        }
        // A book that is gone, a key used for another cart: say why,
        // keep the cart, and let the shopper try again.
        Err(UpstreamError::Refused { problem, .. }) => {
            let message = Some(format!("The order was not placed: {}", problem.detail));
            let page = cart::page(&shop, nav, &cart, message).await?;
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(err) => Err(PageError::Unavailable(err)),
    }
}
// ANCHOR_END: checkout

/// An order as a page shows it.
struct OrderView {
    id: i64,
    status: String,
    status_class: &'static str,
    total: String,
    lines: Vec<LineView>,
}

struct LineView {
    title: String,
    quantity: i64,
    price: String,
}

/// The status line and its class, in words for the shopper.
fn status_line(order: &Order) -> (String, &'static str) {
    match (order.status.as_str(), &order.cancel_reason) {
        ("confirmed", _) => ("Confirmed: paid and on its way.".to_owned(), "confirmed"),
        ("cancelled", Some(reason)) => (format!("Cancelled: {reason}"), "cancelled"),
        ("cancelled", None) => ("Cancelled".to_owned(), "cancelled"),
        _ => ("Pending: checking stock and payment.".to_owned(), "pending"),
    }
}

impl From<&Order> for OrderView {
    fn from(order: &Order) -> Self {
        let (status, status_class) = status_line(order);
        Self {
            id: order.id,
            status,
            status_class,
            total: price(order.total_cents),
            lines: order
                .lines
                .iter()
                .map(|line| LineView {
                    title: line.title.clone(),
                    quantity: line.quantity,
                    price: price(line.unit_price_cents),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    nav: Nav,
    query: String,
    orders: Vec<OrderView>,
}

/// `GET /shop/orders`: the shopper's orders, newest first.
pub async fn list(
    State(shop): State<Arc<Shop>>,
    shopper: Option<Caller>,
    nav: Nav,
) -> Result<impl IntoResponse, PageError> {
    let shopper = shopper.ok_or(PageError::SignIn)?;
    let orders = shop.orders.list(shopper.name()).await?;
    render(&OrdersPage {
        nav,
        query: String::new(),
        orders: orders.iter().map(OrderView::from).collect(),
    })
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    nav: Nav,
    query: String,
    order: OrderView,
    notifications: Vec<Notification>,
}

/// `GET /shop/orders/{id}`: the order and what the shopper was told,
/// composed like a book page. Notifications are a detail: without them
/// the page still shows the order.
pub async fn page(
    State(shop): State<Arc<Shop>>,
    shopper: Option<Caller>,
    nav: Nav,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, PageError> {
    let shopper = shopper.ok_or(PageError::SignIn)?;
    let id: i64 = id.parse().map_err(|_| PageError::NotFound)?;
    let (order, notifications) = tokio::join!(
        shop.orders.get(shopper.name(), id),
        shop.notifications.for_order(shopper.name(), id)
    );
    let notifications = notifications.unwrap_or_else(|err| {
        tracing::warn!(%err, order = id, "an order page without its notifications");
        Vec::new()
    });
    render(&OrderPage {
        nav,
        query: String::new(),
        order: OrderView::from(&order?),
        notifications,
    })
}

// ANCHOR: events
/// `GET /shop/orders/{id}/events`: the order's status and notifications
/// as server-sent events, until the order is settled and the shopper has
/// been told, for two minutes at most, or until the storefront stops.
pub async fn events(
    State(shop): State<Arc<Shop>>,
    shopper: Option<Caller>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    let shopper = shopper.ok_or(PageError::SignIn)?;
    let id: i64 = id.parse().map_err(|_| PageError::NotFound)?;
    // Someone else's order ends here, as a 404, before any stream starts.
    shop.orders.get(shopper.name(), id).await?;
    let closing = shop.closing.clone();
    let watch = Watch {
        shop,
        shopper: shopper.name().to_owned(),
        id,
        status: None,
        told: HashSet::new(),
        started: Instant::now(),
        settled: false,
    };
    let updates = stream::unfold(watch, Watch::next_batch)
        .flat_map(stream::iter)
        .map(Ok)
        .take_until(closing.cancelled_owned());
    Ok(Sse::new(updates).keep_alive(KeepAlive::default()))
}
// ANCHOR_END: events

/// What one live page has been sent so far.
struct Watch {
    shop: Arc<Shop>,
    shopper: String,
    id: i64,
    status: Option<String>,
    told: HashSet<String>,
    started: Instant,
    settled: bool,
}

impl Watch {
    /// The next events to send, after polling until there are some; `None`
    /// ends the stream.
    async fn next_batch(mut self) -> Option<(Vec<Event>, Self)> {
        loop {
            if self.settled || self.started.elapsed() > WATCH_AT_MOST {
                return None;
            }
            let events = self.poll().await;
            if !events.is_empty() {
                return Some((events, self));
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    async fn poll(&mut self) -> Vec<Event> {
        let (shop, shopper) = (&self.shop, self.shopper.as_str());
        let (order, notifications) = tokio::join!(
            shop.orders.get(shopper, self.id),
            shop.notifications.for_order(shopper, self.id)
        );
        let mut events = Vec::new();
        if let Ok(order) = &order {
            let (text, class) = status_line(order);
            if self.status.as_deref() != Some(text.as_str()) {
                let data = serde_json::json!({"text": text, "class": class});
                events.push(Event::default().event("status").data(data.to_string()));
                self.status = Some(text);
            }
        }
        let notifications = notifications.unwrap_or_default();
        for note in &notifications {
            if self.told.insert(note.event_id.clone()) {
                let data = serde_json::json!({"id": note.event_id, "message": note.message});
                events.push(
                    Event::default()
                        .event("notification")
                        .data(data.to_string()),
                );
            }
        }
        let told_settled = notifications
            .iter()
            .any(|note| SETTLED_KINDS.contains(&note.kind.as_str()));
        if order.is_ok_and(|order| order.status != "pending") && told_settled {
            events.push(Event::default().event("done").data("settled"));
            self.settled = true;
        }
        events
    }
}
