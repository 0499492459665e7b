//! Failing well, part two: a retry budget for idempotent requests, so
//! retries add a bounded share of load instead of multiplying it. Written
//! by hand to show the arithmetic; `tower`'s retry middleware has the same
//! idea as `TpsBudget`.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::forward::{Attempt, Tried};

// ANCHOR: retry_budget
/// Retries may add at most `ratio` extra load: every request deposits
/// `ratio` of a token, every retry spends a whole one. A fleet in trouble
/// then gets 20 % more traffic, not three times as much.
#[derive(Debug)]
pub struct RetryBudget {
    ratio: f64,
    max: f64,
    balance: Mutex<f64>,
}

impl RetryBudget {
    pub fn new(ratio: f64, max: f64) -> Self {
        Self {
            ratio,
            max,
            // A little credit, so the first failures of a quiet gateway retry.
            balance: Mutex::new(max.min(10.0)),
        }
    }

    pub fn deposit(&self) {
        let mut balance = self.balance.lock().unwrap_or_else(|p| p.into_inner());
        *balance = (*balance + self.ratio).min(self.max);
    }

    pub fn try_withdraw(&self) -> bool {
        let mut balance = self.balance.lock().unwrap_or_else(|p| p.into_inner());
        if *balance >= 1.0 {
            *balance -= 1.0;
            true
        } else {
            false
        }
    }
}
// ANCHOR_END: retry_budget

// ANCHOR: layer
/// A GET or HEAD that failed on one instance goes to another one not
/// tried yet, while the budget pays; when none is left, the client gets
/// the last failure. Anything else is sent once.
pub async fn retry_idempotent(
    State(budget): State<Arc<RetryBudget>>,
    request: Request,
    next: Next,
) -> Response {
    budget.deposit();
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let mut request = Request::from_parts(parts.clone(), body);
    let mut tried = Tried::default();
    let mut last_failure: Option<Response> = None;
    loop {
        // `Next` is the rest of the stack; each attempt runs a copy of it.
        let response = next.clone().run(request).await;
        let failed_on = match response.extensions().get::<Attempt>() {
            Some(Attempt::Failed { instance_id }) => instance_id.clone(),
            Some(Attempt::NoInstanceLeft) => return last_failure.unwrap_or(response),
            Some(Attempt::Answered) | None => return response,
        };
        if !budget.try_withdraw() {
            return counted("budget_spent", response);
        }
        retrying(&failed_on);
        tried.0.push(failed_on);
        last_failure = Some(response);
        // The same request again, without a body: a GET's is never replayed.
        request = Request::from_parts(parts.clone(), Body::empty());
        request.extensions_mut().insert(tried.clone());
    }
}
// ANCHOR_END: layer

/// Logged and counted: a retry the budget allowed.
fn retrying(failed_on: &str) {
    tracing::info!(instance = %failed_on, "retrying on another instance");
    metrics::counter!("gateway_retries_total", "outcome" => "retried").increment(1);
}

/// Counted: a failed attempt that was not retried, and why.
fn counted(outcome: &'static str, response: Response) -> Response {
    metrics::counter!("gateway_retries_total", "outcome" => outcome).increment(1);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_caps_retries_at_a_share_of_requests() {
        let budget = RetryBudget::new(0.2, 100.0);
        let mut retries = 0;
        for _ in 0..1000 {
            budget.deposit();
            if budget.try_withdraw() {
                retries += 1;
            }
        }
        // 10 tokens of credit plus 0.2 for each of 1000 requests (give or
        // take one for floating-point sums).
        assert!((209..=210).contains(&retries), "{retries}");
    }
}
