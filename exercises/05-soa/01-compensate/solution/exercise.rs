//! The compensation step of the checkout saga. The forward steps reserved
//! stock in inventory and charged a payment; when the saga fails it must
//! undo both, and it must be safe to run again after a crash, and safe for
//! steps that never happened.

use ch05_soa::orders::clients::{CallError, InventoryClient, PaymentsClient};

/// Undoes the checkout of `order_id`: give the money back, then the stock.
pub async fn compensate(
    inventory: &InventoryClient,
    payments: &PaymentsClient,
    order_id: &str,
) -> Result<(), CallError> {
    // Newest step first. Both providers make these calls idempotent, and
    // accept them for orders they never saw, so no "how far did we get?".
    payments.refund(order_id).await?;
    inventory.release(order_id).await?;
    Ok(())
}
