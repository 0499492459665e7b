//! The checkout saga, orchestrated by orders: reserve stock → charge the
//! payment → confirm. If reserve or charge fails for good, undo what was
//! done, newest first, and cancel the order with the reason.
//!
//! Every step is a call the provider makes idempotent by order id, and the
//! step is saved before it runs, so the orchestrator can repeat any step
//! after a crash, a timeout or a restart without doing anything twice.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ch02_communication::orders::OrderStore;
use ch02_communication::orders::model::Order;
use tokio_util::sync::CancellationToken;

use crate::background::sleep_unless_stopped;

use super::clients::{CallError, InventoryClient, PaymentsClient, ReserveLine};
use super::store::{Outcome, SagaState, SagaStore, Step, StoreError};

/// How a run of the saga ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The saga is done: the order is `confirmed` or `cancelled`.
    Finished,
    /// A provider did not answer; the sweeper tries again later.
    WillRetry(String),
    /// Another task is running this saga right now.
    Busy,
}

/// Who gives the stock back when a checkout is cancelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StockRelease {
    /// Compensation calls inventory's release (orchestration, this chapter).
    #[default]
    Call,
    /// Inventory releases when it hears `order.cancelled` (choreography,
    /// chapter 6): compensation only refunds, then cancels the order.
    #[value(name = "event")]
    OnCancelledEvent,
}

/// The orchestrator: owns the saga's state, calls the providers.
#[derive(Debug)]
pub struct Checkout {
    orders: OrderStore,
    sagas: SagaStore,
    inventory: InventoryClient,
    payments: PaymentsClient,
    /// How long reserve and charge are retried before the saga gives up.
    deadline: Duration,
    stock_release: StockRelease,
    running: Mutex<HashSet<i64>>,
}

/// What one step decided.
type StepResult = Result<(Step, Option<String>), CallError>;

impl Checkout {
    pub fn new(
        orders: OrderStore,
        sagas: SagaStore,
        inventory: InventoryClient,
        payments: PaymentsClient,
        deadline: Duration,
    ) -> Self {
        Self {
            orders,
            sagas,
            inventory,
            payments,
            deadline,
            stock_release: StockRelease::Call,
            running: Mutex::new(HashSet::new()),
        }
    }

    /// Leaves the release of stock to someone else (see [`StockRelease`]).
    pub fn with_stock_release(mut self, stock_release: StockRelease) -> Self {
        self.stock_release = stock_release;
        self
    }

    // ANCHOR: run
    /// Runs the saga of `order_id` as far as it can go now.
    pub async fn run(&self, order_id: i64) -> Result<Progress, StoreError> {
        let Some(_claim) = Claim::take(&self.running, order_id) else {
            return Ok(Progress::Busy);
        };
        let Some(order) = self.orders.get(order_id).await? else {
            return Ok(Progress::Finished);
        };
        if order.status != "pending" {
            return Ok(Progress::Finished);
        }
        let mut saga = self.sagas.load_or_begin(order_id, self.deadline).await?;
        loop {
            let result = match saga.step {
                Step::Reserve => self.reserve(&order).await,
                Step::Charge => self.charge(&order).await,
                Step::Confirm => self.confirm(&order).await,
                Step::Compensate => self.compensate(&order).await,
                Step::Done => return Ok(Progress::Finished),
            };
            let (next, reason) = match result {
                Ok(next) => next,
                Err(err) => match give_up(&saga, &err) {
                    Some(reason) => (Step::Compensate, Some(reason)),
                    None => {
                        tracing::warn!(order_id, step = ?saga.step, %err, "saga step will be retried");
                        self.sagas.attempt_failed(order_id).await?;
                        return Ok(Progress::WillRetry(err.to_string()));
                    }
                },
            };
            tracing::info!(order_id, from = ?saga.step, to = ?next, ?reason, "saga step");
            self.sagas
                .advance(order_id, next, reason.as_deref())
                .await?;
            saga.step = next;
        }
    }
    // ANCHOR_END: run

    // ANCHOR: forward
    // ANCHOR: reserve_and_charge
    async fn reserve(&self, order: &Order) -> StepResult {
        let lines: Vec<ReserveLine> = order
            .lines
            .iter()
            .map(|line| ReserveLine {
                book_id: line.book_id,
                quantity: line.quantity,
            })
            .collect();
        match self.inventory.reserve(&saga_key(order), &lines).await {
            Ok(_) => Ok((Step::Charge, None)),
            Err(CallError::Refused(why)) => Ok((Step::Compensate, Some(why))),
            Err(unavailable) => Err(unavailable),
        }
    }

    async fn charge(&self, order: &Order) -> StepResult {
        match self
            .payments
            .charge(&saga_key(order), order.total_cents)
            .await
        {
            Ok(payment) if payment.status == "approved" => Ok((Step::Confirm, None)),
            Ok(payment) => Ok((
                Step::Compensate,
                Some(format!("the payment was {}", payment.status)),
            )),
            Err(CallError::Refused(why)) => Ok((Step::Compensate, Some(why))),
            Err(unavailable) => Err(unavailable),
        }
    }
    // ANCHOR_END: reserve_and_charge

    // ANCHOR: confirm
    /// Past the pivot (the approved charge): the customer has paid, so from
    /// here the saga only goes forward. Confirming is retried until
    /// inventory answers.
    async fn confirm(&self, order: &Order) -> StepResult {
        self.inventory.confirm(&saga_key(order)).await?;
        self.sagas
            .finish(order.id, Outcome::Confirmed)
            .await
            .map_err(store_failure)?;
        Ok((Step::Done, None))
    }
    // ANCHOR_END: confirm
    // ANCHOR_END: forward

    // ANCHOR: compensate
    /// Undoes the forward steps, newest first. Both calls are safe to
    /// repeat and safe for steps that never happened, so compensation
    /// does not need to know how far the saga got.
    async fn compensate(&self, order: &Order) -> StepResult {
        let key = saga_key(order);
        self.payments.refund(&key).await?;
        if self.stock_release == StockRelease::Call {
            self.inventory.release(&key).await?;
        }
        self.sagas
            .finish(order.id, Outcome::Cancelled)
            .await
            .map_err(store_failure)?;
        Ok((Step::Done, None))
    }
    // ANCHOR_END: compensate

    /// Runs every unfinished saga that has not moved for `quiet`, oldest
    /// first, and stops between two sagas once `stop` is cancelled.
    pub async fn sweep(
        &self,
        quiet: Duration,
        stop: &CancellationToken,
    ) -> Result<usize, StoreError> {
        let unfinished = self.sagas.unfinished(quiet).await?;
        let mut finished = 0;
        for order_id in unfinished {
            if stop.is_cancelled() {
                break;
            }
            if self.run(order_id).await? == Progress::Finished {
                finished += 1;
            }
        }
        Ok(finished)
    }

    // ANCHOR: sweeper
    /// Finishes what a crash or an outage left half done: once at start,
    /// then every `interval`, until `stop` is cancelled. A saga in hand is
    /// finished first (or left at a step, which the next start resumes).
    pub async fn sweep_until(self: Arc<Self>, interval: Duration, stop: CancellationToken) {
        loop {
            match self.sweep(interval, &stop).await {
                Ok(0) => {}
                Ok(finished) => tracing::info!(finished, "sweeper finished sagas"),
                Err(err) => tracing::warn!(%err, "the saga sweeper cannot read the database"),
            }
            if sleep_unless_stopped(interval, &stop).await {
                return;
            }
        }
    }
    // ANCHOR_END: sweeper
}

// ANCHOR: give_up
/// After its deadline, a saga stops retrying reserve and charge and
/// compensates instead. Confirm and compensate are never given up: the
/// first comes after the customer paid, the second is the way out.
fn give_up(saga: &SagaState, err: &CallError) -> Option<String> {
    let forward = matches!(saga.step, Step::Reserve | Step::Charge);
    (forward && saga.overdue()).then(|| format!("gave up waiting: {err}"))
}
// ANCHOR_END: give_up

/// The id inventory and payments know this order by: its id, as text
/// (their contracts take any string, so one saga is one key everywhere).
pub fn saga_key(order: &Order) -> String {
    order.id.to_string()
}

/// A database error inside a step: retried like an unavailable provider.
fn store_failure(err: StoreError) -> CallError {
    CallError::Unavailable(format!("the orders database failed: {err}"))
}

/// One task per saga at a time: the request that placed the order and the
/// sweeper must not run the same saga side by side.
struct Claim<'a> {
    running: &'a Mutex<HashSet<i64>>,
    order_id: i64,
}

impl<'a> Claim<'a> {
    fn take(running: &'a Mutex<HashSet<i64>>, order_id: i64) -> Option<Self> {
        let mut set = running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Not `then_some`: it would build (and, when busy, drop) a Claim
        // while the lock is held, and the drop would take the lock again.
        if set.insert(order_id) {
            Some(Self { running, order_id })
        } else {
            None
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut set = self
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        set.remove(&self.order_id);
    }
}
