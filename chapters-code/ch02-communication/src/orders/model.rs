//! Orders as the API shows them, and the rules a new order must follow.

use serde::{Deserialize, Serialize};

use ch01_autonomy::problem::FieldError;
use ch01_autonomy::text::trim_blank;

// ANCHOR: new_order
/// The body of `POST /v1/orders`. No prices: the client says *what* it
/// wants; what it costs is the catalog's business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewOrder {
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"[^\t\n\f\r ]")
    )]
    pub customer: String,
    /// Lines for the same book are added up.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
    pub lines: Vec<NewLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewLine {
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub book_id: i64,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub quantity: i64,
}
// ANCHOR_END: new_order

/// An order as stored and returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: i64,
    pub customer: String,
    pub status: String,
    pub lines: Vec<OrderLine>,
    pub total_cents: i64,
    pub created_at: String,
}

/// One line, with the title and price the catalog gave when it was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    pub book_id: i64,
    pub title: String,
    pub unit_price_cents: i64,
    pub quantity: i64,
}

pub const MAX_CUSTOMER_CHARS: usize = 100;
pub const MAX_LINES: usize = 50;
pub const MAX_QUANTITY: i64 = 100;

// ANCHOR: validate
impl NewOrder {
    /// Checks everything that can be checked without asking anyone else,
    /// and reports every bad field at once.
    pub fn validate(self) -> Result<NewOrder, Vec<FieldError>> {
        let mut errors = Vec::new();
        let customer = trim_blank(&self.customer).to_owned();
        if customer.is_empty() {
            errors.push(FieldError::new("customer", "must not be empty"));
        } else if self.customer.chars().count() > MAX_CUSTOMER_CHARS {
            errors.push(FieldError::new(
                "customer",
                format!("must be at most {MAX_CUSTOMER_CHARS} characters"),
            ));
        }
        if self.lines.is_empty() {
            errors.push(FieldError::new("lines", "an order needs at least one line"));
        } else if self.lines.len() > MAX_LINES {
            errors.push(FieldError::new(
                "lines",
                format!("at most {MAX_LINES} lines"),
            ));
        }
        // ANCHOR_END: validate
        // ANCHOR: validate_lines
        for (index, line) in self.lines.iter().enumerate() {
            if line.book_id < 1 {
                errors.push(FieldError::new(
                    format!("lines[{index}].book_id"),
                    "must be a positive book id",
                ));
            }
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                errors.push(FieldError::new(
                    format!("lines[{index}].quantity"),
                    format!("must be between 1 and {MAX_QUANTITY}"),
                ));
            }
        }
        if errors.is_empty() {
            let lines = merged(self.lines);
            Ok(NewOrder { customer, lines })
        } else {
            Err(errors)
        }
    }

    /// The book ids, each once (after [`NewOrder::validate`]).
    pub fn book_ids(&self) -> Vec<i64> {
        self.lines.iter().map(|line| line.book_id).collect()
    }
}
// ANCHOR_END: validate_lines

/// Lines for the same book added up, in the order the books first appear:
/// two lines for one book are one purchase, and a schema cannot forbid
/// them (JSON Schema has no "unique by field"), so they are accepted.
fn merged(lines: Vec<NewLine>) -> Vec<NewLine> {
    let mut merged: Vec<NewLine> = Vec::with_capacity(lines.len());
    for line in lines {
        match merged.iter_mut().find(|m| m.book_id == line.book_id) {
            Some(earlier) => earlier.quantity += line.quantity,
            None => merged.push(line),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(lines: &[(i64, i64)]) -> NewOrder {
        NewOrder {
            customer: "ada".to_owned(),
            lines: lines
                .iter()
                .map(|&(book_id, quantity)| NewLine { book_id, quantity })
                .collect(),
        }
    }

    #[test]
    fn a_good_order_passes() {
        assert!(order(&[(1, 1), (2, 100)]).validate().is_ok());
    }

    #[test]
    fn bad_lines_are_named_by_index() {
        let errors = order(&[(1, 0), (2, 2), (-3, 1)]).validate().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["lines[0].quantity", "lines[2].book_id"]);
    }

    #[test]
    fn lines_for_the_same_book_are_added_up() {
        let valid = order(&[(1, 2), (2, 1), (1, 100)]).validate().unwrap();
        let lines: Vec<_> = valid
            .lines
            .iter()
            .map(|l| (l.book_id, l.quantity))
            .collect();
        assert_eq!(lines, [(1, 102), (2, 1)]);
    }
}
