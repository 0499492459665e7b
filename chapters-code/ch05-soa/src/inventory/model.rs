//! Reservations as the inventory's API shows them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use ch01_autonomy::problem::FieldError;
use ch01_autonomy::text::trim_blank;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Line {
    #[schema(minimum = 1)]
    pub book_id: i64,
    #[schema(minimum = 1, maximum = 100)]
    pub quantity: i64,
}

/// The body of `POST /v1/reservations`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewReservation {
    #[schema(max_length = 64, pattern = r"[^\t\n\f\r ]")]
    pub order_id: String,
    /// Lines for the same book are added up.
    #[schema(min_items = 1, max_items = 50)]
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Reserved,
    Confirmed,
    Released,
}

impl Status {
    pub fn parse(text: &str) -> Self {
        match text {
            "confirmed" => Status::Confirmed,
            "released" => Status::Released,
            _ => Status::Reserved,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reservation {
    pub order_id: String,
    pub status: Status,
    pub lines: Vec<Line>,
}

impl Reservation {
    pub fn new(order_id: &str, status: Status, lines: &[Line]) -> Self {
        Self {
            order_id: order_id.to_owned(),
            status,
            lines: lines.to_vec(),
        }
    }
}

impl NewReservation {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if trim_blank(&self.order_id).is_empty() || self.order_id.chars().count() > 64 {
            errors.push(FieldError::new("order_id", "1 to 64 characters"));
        }
        if self.lines.is_empty() || self.lines.len() > 50 {
            errors.push(FieldError::new("lines", "1 to 50 lines"));
        }
        for (index, line) in self.lines.iter().enumerate() {
            if line.book_id < 1 {
                errors.push(FieldError::new(
                    format!("lines[{index}].book_id"),
                    "must be positive",
                ));
            }
            if !(1..=100).contains(&line.quantity) {
                errors.push(FieldError::new(
                    format!("lines[{index}].quantity"),
                    "between 1 and 100",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// One line per book, quantities added up, in the order the books
    /// first appear: an order may name a book twice (orders allows it),
    /// and a reservation holds it once.
    pub fn merged_lines(&self) -> Vec<Line> {
        let mut merged: Vec<Line> = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            match merged.iter_mut().find(|m| m.book_id == line.book_id) {
                Some(earlier) => earlier.quantity += line.quantity,
                None => merged.push(*line),
            }
        }
        merged
    }
}
