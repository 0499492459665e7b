//! API composition: what one page needs, asked of several services at
//! once, each part with its own rule for when it is missing.
//!
//! The book is the page: without it there is nothing to show, so a
//! catalog failure fails the page. The stock is a detail: it gets a
//! budget, and past the budget (or on any error) the page says the stock
//! is unknown. A shopper can still read about the book, and the slow
//! service is not asked to do more while it struggles.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::session::CookieSettings;
use crate::upstream::{Book, Catalog, Identity, Inventory, Notifications, Orders, UpstreamError};

/// Everything the storefront calls, its budgets and its settings.
#[derive(Debug, Clone)]
pub struct Shop {
    pub catalog: Catalog,
    pub inventory: Inventory,
    pub identity: Identity,
    pub orders: Orders,
    pub notifications: Notifications,
    /// How long a page waits for stock before it goes without.
    pub stock_budget: Duration,
    pub cookies: CookieSettings,
    /// Cancelled when the storefront shuts down: live streams end then.
    pub closing: CancellationToken,
}

/// What a page says about stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stock {
    InStock(i64),
    SoldOut,
    /// Inventory did not answer within the budget, or answered an error.
    Unknown,
}

/// A book page's data.
#[derive(Debug, Clone)]
pub struct BookPage {
    pub book: Book,
    pub stock: Stock,
}

impl Shop {
    // ANCHOR: book_page
    /// The book and its stock, asked in parallel: the page takes as long
    /// as the slower of the two, never their sum, and never more than the
    /// stock budget for the stock.
    pub async fn book_page(&self, id: i64) -> Result<BookPage, UpstreamError> {
        let (book, stock) = tokio::join!(self.catalog.book(id), self.stock_within_budget(id));
        Ok(BookPage { book: book?, stock })
    }

    async fn stock_within_budget(&self, id: i64) -> Stock {
        let outcome = tokio::time::timeout(self.stock_budget, self.inventory.stock(id)).await;
        let reason = match outcome {
            Ok(Ok(quantity)) if quantity > 0 => return Stock::InStock(quantity),
            Ok(Ok(_)) => return Stock::SoldOut,
            Ok(Err(err)) => {
                tracing::warn!(%err, book = id, "no stock for the page");
                "error"
            }
            Err(_elapsed) => {
                tracing::warn!(book = id, budget = ?self.stock_budget, "stock over budget");
                "budget"
            }
        };
        metrics::counter!("storefront_degraded_total", "part" => "stock", "reason" => reason)
            .increment(1);
        Stock::Unknown
    }
    // ANCHOR_END: book_page
}
