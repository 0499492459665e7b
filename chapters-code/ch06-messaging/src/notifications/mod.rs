//! The **notifications** service: tells customers what happened to their
//! orders. It learns about orders only from events, never by calling
//! orders: if orders is down, notifications still answers, and if
//! notifications is down, orders still takes orders.

pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use ch01_autonomy::health::{self, Health};
use ch01_autonomy::problem::Problem;
use ch01_autonomy::server;
use ch03_registry::services as chapter3;
use ch04_gateway::caller::Caller;
use ch05_soa::background::BackgroundTasks;
use ch05_soa::contract;

use crate::broker::BrokerFlags;
use crate::consumer::{self, ConsumerConfig, Handler, HandlerError};
use crate::events::{Envelope, ORDER_CANCELLED, ORDER_CONFIRMED, ORDER_PLACED};
use store::{Notification, NotificationStore, OrderRef};

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "notifications",
    about = "The Bookshop notifications service",
    version
)]
pub struct Config {
    /// Address to listen on; use port 0 to let the OS pick a free port.
    #[arg(long, env = "NOTIFICATIONS_LISTEN", default_value = "127.0.0.1:8006")]
    pub listen: SocketAddr,

    /// The service's own database; created and migrated on start.
    #[arg(
        long,
        env = "NOTIFICATIONS_DATABASE_URL",
        default_value = "sqlite://data/notifications.sqlite"
    )]
    pub database_url: String,

    #[command(flatten)]
    pub broker: BrokerFlags,

    /// The service's queue (declared, with its dead-letter queue, at start).
    #[arg(
        long,
        env = "NOTIFICATIONS_QUEUE",
        default_value = "notifications.orders"
    )]
    pub queue: String,

    /// Unacked messages the broker may send ahead.
    #[arg(long, env = "NOTIFICATIONS_PREFETCH", default_value_t = 20)]
    pub prefetch: u16,

    /// Tries before a failing message goes to the dead-letter queue.
    #[arg(long, env = "NOTIFICATIONS_MAX_ATTEMPTS", default_value_t = 5)]
    pub max_attempts: u32,

    /// Delete the queue after this many milliseconds without a consumer.
    /// Only for throwaway queues (tests, demos): a real service's queue
    /// must outlive its consumer, or events are lost while it is down.
    #[arg(long, env = "NOTIFICATIONS_QUEUE_EXPIRES_MS")]
    pub queue_expires_ms: Option<u32>,
}

impl Config {
    pub fn consumer(&self) -> ConsumerConfig {
        let mut consumer =
            ConsumerConfig::from_flags(&self.broker, &self.queue).expiring(self.queue_expires_ms);
        consumer.prefetch = self.prefetch;
        consumer.max_attempts = self.max_attempts;
        consumer
    }
}

// ANCHOR: notifier
/// The production handler: one notification per order event, once.
#[derive(Debug, Clone)]
pub struct Notifier {
    pub store: NotificationStore,
}

// ANCHOR: notifier_handle
impl Handler for Notifier {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let order_id = event.data["order_id"]
            .as_i64()
            .ok_or_else(|| HandlerError::Malformed("data.order_id is missing".to_owned()))?;
        // Whose notification it is: the API shows it to that customer only.
        let customer = event.data["customer"]
            .as_str()
            .filter(|customer| !customer.is_empty())
            .ok_or_else(|| HandlerError::Malformed("data.customer is missing".to_owned()))?;
        let message = match event.kind.as_str() {
            ORDER_PLACED => format!("We have your order {order_id}."),
            ORDER_CONFIRMED => format!("Order {order_id} is confirmed and paid."),
            ORDER_CANCELLED => format!(
                "Order {order_id} was cancelled: {}.",
                event.data["reason"].as_str().unwrap_or("no reason given")
            ),
            other => {
                return Err(HandlerError::Malformed(format!(
                    "unknown event type {other}"
                )));
            }
        };
        self.store
            .record(
                event,
                &OrderRef {
                    order_id,
                    customer: customer.to_owned(),
                },
                &message,
            )
            .await
            .map(|_| ())
            .map_err(|err| HandlerError::Failed(err.to_string()))
    }
}
// ANCHOR_END: notifier_handle
// ANCHOR_END: notifier

#[derive(Debug, Clone)]
struct AppState {
    store: NotificationStore,
    connected: Arc<AtomicBool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// The order, as orders numbers it.
    order_id: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
}

// ANCHOR: list
/// `GET /v1/notifications?order_id=`: the caller's notifications about
/// that order. The caller comes from the gateway (chapter 4's [`Caller`]);
/// whose order it is, notifications learned from the order's events.
#[utoipa::path(
    get,
    path = "/v1/notifications",
    params(Caller, ListParams),
    responses(
        (status = 200, description = "Oldest first; none for an order that is not the caller's", body = NotificationList),
        (status = 400, description = "No `order_id`, or not a number", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<NotificationList>, Problem> {
    let Query(ListParams { order_id }) = params.map_err(|rejection| {
        Problem::bad_request(format!(
            "give the order as a number: GET /v1/notifications?order_id=<id> ({})",
            rejection.body_text()
        ))
    })?;
    let notifications = state
        .store
        .for_customer_order(caller.name(), order_id)
        .await?;
    Ok(Json(NotificationList { notifications }))
}
// ANCHOR_END: list

/// Ready when the database answers and the consumer is connected.
async fn ready(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    let check = async {
        state.store.ping().await.map_err(|err| err.to_string())?;
        if state.connected.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err("not connected to the broker".to_owned())
        }
    };
    health::ready_if(check, "the notifications database or the broker").await
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The notifications service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    contract::document(api(), "notifications")
}

pub fn router(store: NotificationStore, connected: Arc<AtomicBool>) -> Router {
    let state = AppState { store, connected };
    let health = Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(state.clone());
    let routes = contract::publish(api().with_state(state), "notifications").merge(health);
    server::with_common_layers(routes, 16 * 1024)
}

/// Runs the service: the HTTP API and the consumer beside it.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = server::bind(config.listen, "NOTIFICATIONS_LISTEN").await?;
    serve(listener, config, shutdown).await
}

/// [`run`] on a listener bound elsewhere (a test's, say).
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = NotificationStore::open(&config.database_url)
        .await
        .with_context(|| format!("cannot open {}", config.database_url))?;
    let connected = Arc::new(AtomicBool::new(false));
    let notifier = Arc::new(Notifier {
        store: store.clone(),
    });
    let tasks = BackgroundTasks::new();
    let (consumer, consuming) = (config.consumer(), connected.clone());
    tasks.spawn("order events consumer", |stop| {
        consumer::run(notifier, consumer, consuming, stop)
    });
    // Drain the HTTP requests first, then settle the delivery in hand,
    // close the channel, and exit.
    tasks
        .serve_until_stopped(listener, router(store, connected), shutdown)
        .await
}

/// Notifications in the running system: registered, so the gateway finds it.
pub type RegisteredConfig = chapter3::Registered<Config>;

pub async fn run_registered(
    config: RegisteredConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = server::bind(config.service.listen, "NOTIFICATIONS_LISTEN").await?;
    serve_registered(listener, config, shutdown).await
}

/// [`run_registered`] on a listener bound elsewhere (a test's, say).
pub async fn serve_registered(
    listener: tokio::net::TcpListener,
    config: RegisteredConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let service = config.service;
    chapter3::serve_registered(
        listener,
        &config.registry,
        "notifications",
        shutdown,
        |l, s| serve(l, service, s),
    )
    .await
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_lines_are_well_formed() {
        super::Config::command().debug_assert();
        super::RegisteredConfig::command().debug_assert();
    }
}
