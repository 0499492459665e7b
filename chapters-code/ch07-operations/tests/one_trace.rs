//! One order placed through the gateway is ONE trace: every hop's span is
//! received by an OTLP collector inside this test, shares the trace id,
//! has its caller's span as parent, and has the right kind.

mod common;

use std::time::Duration;

use fake_opentelemetry_collector::{ExportedSpan, FakeCollectorServer};

/// Adds spans to `spans` as they arrive, until `found` is satisfied or
/// 20 s pass.
async fn collect_until(
    collector: &mut FakeCollectorServer,
    spans: &mut Vec<ExportedSpan>,
    found: impl Fn(&[ExportedSpan]) -> bool,
) {
    for _ in 0..100 {
        if found(spans) {
            return;
        }
        spans.extend(
            collector
                .exported_spans(1, Duration::from_millis(200))
                .await,
        );
    }
}

/// How many spans share `root`'s trace.
fn in_trace(spans: &[ExportedSpan], root: &ExportedSpan) -> usize {
    spans.iter().filter(|s| s.trace_id == root.trace_id).count()
}

struct Trace<'a>(Vec<&'a ExportedSpan>);

impl<'a> Trace<'a> {
    /// The one span of `kind` named `name` in this trace.
    fn one(&self, kind: &str, name: &str) -> &'a ExportedSpan {
        let matching: Vec<_> = self
            .0
            .iter()
            .copied()
            .filter(|s| s.kind == kind && s.name == name)
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "one {kind} span {name:?} in {:#?}",
            self.names()
        );
        matching[0]
    }

    /// The one span of `kind` about a message with routing key `key`.
    fn by_routing_key(&self, kind: &str, key: &str) -> &'a ExportedSpan {
        let matching: Vec<_> = self
            .0
            .iter()
            .copied()
            .filter(|s| {
                s.kind == kind
                    && attr(s, "messaging.rabbitmq.destination.routing_key").as_deref() == Some(key)
            })
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "one {kind} span for {key} in {:#?}",
            self.names()
        );
        matching[0]
    }

    /// The span in this trace that `child` names as its parent.
    fn parent_of(&self, child: &ExportedSpan) -> &'a ExportedSpan {
        let parent = self.0.iter().find(|s| s.span_id == child.parent_span_id);
        parent.unwrap_or_else(|| panic!("{:?} has no parent in {:#?}", child.name, self.names()))
    }

    fn names(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|s| format!("{} {}", s.kind, s.name))
            .collect()
    }
}

/// An attribute's value: the collector keeps each one as the `Debug` of
/// an OTLP `AnyValue` (`Some(AnyValue { value: Some(StringValue("…")) })`).
fn attr(span: &ExportedSpan, key: &str) -> Option<String> {
    let raw = span.attributes.get(key)?;
    let start = raw.find("Value(")? + "Value(".len();
    let end = raw[start..].find(')')? + start;
    Some(raw[start..end].trim_matches('"').to_owned())
}

fn assert_child(child: &ExportedSpan, parent: &ExportedSpan) {
    assert_eq!(
        child.parent_span_id, parent.span_id,
        "{:?} should be a child of {:?}",
        child.name, parent.name
    );
}

/// The gateway's server span for the request that got `request_id`.
fn gateway_span<'a>(spans: &'a [ExportedSpan], request_id: &str) -> Option<&'a ExportedSpan> {
    spans.iter().find(|s| {
        s.kind == SERVER
            && s.name == "POST /api/{*rest}"
            && attr(s, "request_id").as_deref() == Some(request_id)
    })
}

const SERVER: &str = "SPAN_KIND_SERVER";
const CLIENT: &str = "SPAN_KIND_CLIENT";
const PRODUCER: &str = "SPAN_KIND_PRODUCER";
const CONSUMER: &str = "SPAN_KIND_CONSUMER";

#[tokio::test]
async fn an_order_through_the_gateway_is_one_trace() {
    let mut collector = FakeCollectorServer::start().await.unwrap();
    let endpoint = collector.endpoint();
    let shop = common::shop(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ])
    .await;
    let token = shop.demo_token().await;
    let (request_id, order) = shop.place_order(&token).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let order_id = order["id"].clone();

    // Each process sends its spans on its own schedule: wait for all 15
    // (11 over HTTP, and 2 for each of the order's two events).
    let mut spans = Vec::new();
    collect_until(&mut collector, &mut spans, |spans| {
        gateway_span(spans, &request_id).is_some_and(|root| in_trace(spans, root) >= 15)
    })
    .await;
    // ANCHOR: hops
    // The gateway's server span for this request is the root.
    let root = gateway_span(&spans, &request_id)
        .unwrap_or_else(|| panic!("no gateway span for {request_id} in {spans:#?}"));
    assert_eq!(root.parent_span_id, "", "the gateway starts the trace");
    let trace = Trace(
        spans
            .iter()
            .filter(|s| s.trace_id == root.trace_id)
            .collect(),
    );

    // gateway → orders
    let to_orders = trace.one(CLIENT, "POST orders");
    assert_child(to_orders, root);
    let orders = trace.one(SERVER, "POST /v1/orders");
    assert_child(orders, to_orders);
    assert_eq!(
        attr(orders, "request_id").as_ref(),
        Some(&request_id),
        "the request id travels"
    );
    // orders → catalog, inventory (reserve, confirm), payments: each a
    // client span of orders', each served under it.
    for (call, served) in [
        ("GET catalog", "GET /v1/books/{id}"),
        ("POST inventory", "POST /v1/reservations"),
        ("POST inventory", "POST /v1/reservations/{order_id}/confirm"),
        ("POST payments", "POST /v1/payments"),
    ] {
        let server = trace.one(SERVER, served);
        let client = trace.parent_of(server);
        assert_eq!(
            (client.kind.as_str(), client.name.as_str()),
            (CLIENT, call),
            "{served}"
        );
        assert_child(client, orders);
        let status = attr(server, "http.response.status_code").unwrap_or_default();
        assert!(status.starts_with('2'), "{served} answered {status}");
    }
    // ANCHOR_END: hops

    // Orders' log line for the request carries the trace's ids.
    let logged = shop.orders.logs().into_iter().find(|line| {
        line.contains("\"served\"") && line.contains(&format!("\"trace_id\":\"{}\"", root.trace_id))
    });
    let logged = logged
        .unwrap_or_else(|| panic!("no log line with the trace id: {:#?}", shop.orders.logs()));
    assert!(
        logged.contains(&format!("\"span_id\":\"{}\"", orders.span_id)),
        "{logged}"
    );

    // ANCHOR: messages
    // orders → outbox → relay → RabbitMQ → notifications, still one trace.
    let exchange = shop.events_exchange();
    for key in ["order.placed", "order.confirmed"] {
        let sent = trace.by_routing_key(PRODUCER, key);
        assert_eq!(sent.name, format!("{exchange} publish"));
        assert_child(sent, orders); // the transaction that wrote the event
        assert_eq!(attr(sent, "messaging.system").as_deref(), Some("rabbitmq"));
        assert_eq!(
            attr(sent, "messaging.destination.name").as_deref(),
            Some(exchange)
        );
        assert!(attr(sent, "messaging.message.id").is_some_and(|id| !id.is_empty()));
        let handled = trace.by_routing_key(CONSUMER, key);
        assert_eq!(
            handled.name,
            format!("{} process", shop.notifications_queue())
        );
        assert_child(handled, sent);
    }
    // ANCHOR_END: messages

    let kinds = shop.notifications(&token, &order_id, 2).await;
    assert_eq!(kinds, ["order.confirmed", "order.placed"]);
    // The book shows this trace as the test saw it, with the test's
    // unique exchange and queue under their everyday names.
    let (exchange, queue) = (shop.events_exchange(), shop.notifications_queue());
    let rename = |name: &str| {
        name.replace(exchange, "bookshop.events")
            .replace(queue, "notifications.orders")
    };
    let rendered = waterfall(&trace, root, &rename);
    check_or_update_the_book(&rendered);
    shop.clean_up().await;
}

/// Where the book keeps the waterfall this test draws.
const BOOK_COPY: &str = "../../book/ch07-operations/one-order-trace.txt";

// ANCHOR: waterfall
/// The trace as a tree: each span under its parent, children in the order
/// they started, with its kind, and when it started and how long it took
/// (milliseconds from the root's start).
fn waterfall(trace: &Trace<'_>, root: &ExportedSpan, rename: &dyn Fn(&str) -> String) -> String {
    let mut out = format!(
        "{:<50} {:<8} {:>7} {:>7}\n",
        "span", "kind", "at ms", "took ms"
    );
    let mut stack = vec![(root, 0)];
    while let Some((span, depth)) = stack.pop() {
        let at = span
            .start_time_unix_nano
            .saturating_sub(root.start_time_unix_nano);
        let took = span
            .end_time_unix_nano
            .saturating_sub(span.start_time_unix_nano);
        let (at, took) = (at as f64 / 1e6, took as f64 / 1e6);
        let kind = span.kind.trim_start_matches("SPAN_KIND_");
        let name = format!("{}{}", "  ".repeat(depth), rename(&span.name));
        out.push_str(&format!("{name:<50} {kind:<8} {at:>7.1} {took:>7.1}\n"));
        let mut children: Vec<_> = trace
            .0
            .iter()
            .filter(|s| s.parent_span_id == span.span_id)
            .collect();
        // Latest first onto the stack, so the earliest is drawn next.
        children.sort_by_key(|s| std::cmp::Reverse(s.start_time_unix_nano));
        stack.extend(children.into_iter().map(|child| (*child, depth + 1)));
    }
    out
}
// ANCHOR_END: waterfall

/// The book's copy must have the same spans (timings aside: they differ
/// from run to run). `UPDATE_BOOK=1` writes this run's over it.
fn check_or_update_the_book(rendered: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BOOK_COPY);
    if std::env::var("UPDATE_BOOK").is_ok_and(|v| v == "1") {
        std::fs::write(&path, rendered).unwrap();
        return;
    }
    // Each line without its two timings; sorted, since spans that start
    // at nearly the same moment may swap places.
    let shape = |text: &str| {
        let mut lines: Vec<String> = text
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let indent = line.len() - line.trim_start().len();
                format!(
                    "{indent} {}",
                    fields[..fields.len().saturating_sub(2)].join(" ")
                )
            })
            .collect();
        lines.sort();
        lines
    };
    let book = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        shape(&book),
        shape(rendered),
        "the book's trace ({BOOK_COPY}) no longer matches: rerun with UPDATE_BOOK=1"
    );
}

/// The other paths: orders asks the catalog over gRPC, the order is
/// cancelled (book 23 is sold out), and inventory takes `order.cancelled`.
#[tokio::test]
async fn a_cancelled_order_priced_over_grpc_is_one_trace() {
    let mut collector = FakeCollectorServer::start().await.unwrap();
    let endpoint = collector.endpoint();
    let shop = common::shop(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("ORDERS_CATALOG_PROTOCOL", "grpc"),
    ])
    .await;
    let token = shop.demo_token().await;
    let (request_id, order) = shop.order_book(&token, 23).await;
    assert_eq!(order["status"], "cancelled", "{order}");

    let (inventory_queue, notifications_queue) =
        (shop.inventory_queue(), shop.notifications_queue());
    let handled_by = |spans: &[ExportedSpan], queue: &str| {
        spans.iter().any(|s| {
            s.kind == CONSUMER
                && s.name == format!("{queue} process")
                && attr(s, "messaging.rabbitmq.destination.routing_key").as_deref()
                    == Some("order.cancelled")
        })
    };
    let mut spans = Vec::new();
    collect_until(&mut collector, &mut spans, |spans| {
        let has = |kind: &str, name: &str| spans.iter().any(|s| s.kind == kind && s.name == name);
        gateway_span(spans, &request_id).is_some()
            && has(SERVER, "POST /v1/orders")
            && has(CLIENT, "GetPrices catalog")
            && spans
                .iter()
                .any(|s| s.kind == SERVER && s.name.contains("Catalog"))
            && handled_by(spans, inventory_queue)
            && handled_by(spans, notifications_queue)
    })
    .await;
    let root = gateway_span(&spans, &request_id)
        .unwrap_or_else(|| panic!("no gateway span for {request_id} in {spans:#?}"));
    let trace = Trace(
        spans
            .iter()
            .filter(|s| s.trace_id == root.trace_id)
            .collect(),
    );
    let orders = trace.one(SERVER, "POST /v1/orders");

    // orders → catalog over gRPC: tonic's call carries traceparent too.
    let ask = trace.one(CLIENT, "GetPrices catalog");
    assert_child(ask, orders);
    let answered = trace
        .0
        .iter()
        .find(|s| s.kind == SERVER && s.parent_span_id == ask.span_id)
        .unwrap_or_else(|| panic!("no server span under the gRPC call: {:#?}", trace.names()));
    assert!(
        answered.name.starts_with("POST /") && answered.name.contains("Catalog"),
        "the catalog's gRPC route: {}",
        answered.name
    );

    // One order.cancelled, published once, handled by both subscribers.
    let sent = trace.by_routing_key(PRODUCER, "order.cancelled");
    for queue in [inventory_queue, notifications_queue] {
        let handled = trace
            .0
            .iter()
            .find(|s| {
                s.kind == CONSUMER
                    && s.name == format!("{queue} process")
                    && s.parent_span_id == sent.span_id
            })
            .unwrap_or_else(|| panic!("{queue} did not process it: {:#?}", trace.names()));
        assert_eq!(handled.trace_id, root.trace_id);
    }
}
