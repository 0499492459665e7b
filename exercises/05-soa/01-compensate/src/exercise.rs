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
    // TODO: refund the payment, then release the reservation; pass any
    // error on to the caller (the saga retries later).
    let _ = (inventory, payments, order_id);
    todo!("write the compensation step")
}
