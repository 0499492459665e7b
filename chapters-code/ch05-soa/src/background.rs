//! Background work a service owns, stopped cleanly at shutdown.
//!
//! Some services do work no request asks for: orders' saga sweeper here,
//! and in chapter 6 the outbox relay and the event consumers. Each such
//! task gets a [`CancellationToken`] and promises to look at it only where
//! stopping is safe: between two sagas, after a batch's confirms, after
//! the delivery in hand is acked. At shutdown the service first drains its
//! HTTP requests, then cancels the token and waits for every task, up to
//! a deadline. Nothing is `abort()`ed in the middle of its work.

use std::future::Future;
use std::time::Duration;

use ch01_autonomy::server;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a service waits for its background tasks to stop.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

// ANCHOR: background
/// The background tasks of one service.
#[derive(Debug, Clone, Default)]
pub struct BackgroundTasks {
    stop: CancellationToken,
    tracker: TaskTracker,
}

impl BackgroundTasks {
    pub fn new() -> Self {
        Self::default()
    }

    // ANCHOR: ch06-stop
    /// Starts `work`, which gets the token that says when to stop.
    pub fn spawn<Work, F>(&self, name: &'static str, work: F)
    where
        F: FnOnce(CancellationToken) -> Work,
        Work: Future<Output = ()> + Send + 'static,
    {
        let task = work(self.stop.clone());
        self.tracker.spawn(async move {
            task.await;
            tracing::info!(task = name, "background task stopped");
        });
    }

    /// Tells every task to stop and waits until they have, at most
    /// `within`. False when some did not stop in time.
    pub async fn stop(self, within: Duration) -> bool {
        self.stop.cancel();
        self.tracker.close();
        let stopped = tokio::time::timeout(within, self.tracker.wait())
            .await
            .is_ok();
        if !stopped {
            tracing::warn!(?within, "background tasks did not stop in time");
        }
        stopped
    }

    /// Serves `router` until `shutdown`, then stops these tasks: the HTTP
    /// requests drain first, the background work after them.
    pub async fn serve_until_stopped(
        self,
        listener: tokio::net::TcpListener,
        router: axum::Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let served = server::serve(listener, router, shutdown).await;
        self.stop(DRAIN_TIME).await;
        served?;
        Ok(())
    }
    // ANCHOR_END: ch06-stop
}
// ANCHOR_END: background

/// Sleeps for `duration`, or less if `stop` is cancelled first. True when
/// it was cancelled: the caller should finish up.
pub async fn sleep_unless_stopped(duration: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => true,
        () = tokio::time::sleep(duration) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn a_task_finishes_its_step_before_it_stops() {
        let tasks = BackgroundTasks::new();
        let finished_step = Arc::new(AtomicBool::new(false));
        let flag = finished_step.clone();
        tasks.spawn("worker", move |stop| async move {
            loop {
                // One step of work that must not be cut in half.
                tokio::time::sleep(Duration::from_millis(50)).await;
                flag.store(true, Ordering::SeqCst);
                if sleep_unless_stopped(Duration::from_secs(60), &stop).await {
                    return;
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(tasks.stop(Duration::from_secs(5)).await, "stopped in time");
        assert!(
            finished_step.load(Ordering::SeqCst),
            "the step in hand was finished"
        );
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_token_is_reported() {
        let tasks = BackgroundTasks::new();
        tasks.spawn("stubborn", |_stop| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        assert!(!tasks.stop(Duration::from_millis(50)).await);
    }
}
