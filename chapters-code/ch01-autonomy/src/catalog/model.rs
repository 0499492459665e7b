//! The catalog's data as the API shows it, and the rules a new book must follow.

use serde::{Deserialize, Serialize};

use crate::problem::FieldError;
use crate::text::trim_blank;

// ANCHOR: book
/// A book in the catalog. Prices are integer cents: no floating-point money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Book {
    pub id: i64,
    pub title: String,
    pub author: String,
    pub published_year: Option<i64>,
    pub price_cents: i64,
}

/// The body of `POST /v1/books`, before validation.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewBook {
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 300, pattern = r"[^\t\n\f\r ]")
    )]
    pub title: String,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 200, pattern = r"[^\t\n\f\r ]")
    )]
    pub author: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1450, maximum = 2100))]
    pub published_year: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10_000_000))]
    pub price_cents: i64,
}
// ANCHOR_END: book

pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_AUTHOR_CHARS: usize = 200;
/// 100 000.00 in cents: anything above is a typo, not a book.
pub const MAX_PRICE_CENTS: i64 = 10_000_000;
pub const YEARS: std::ops::RangeInclusive<i64> = 1450..=2100;

// ANCHOR: validate
impl NewBook {
    /// Checks every field and reports all the bad ones at once, so a client
    /// fixes its request in one round trip. Returns the book with trimmed text.
    pub fn validate(self) -> Result<NewBook, Vec<FieldError>> {
        let mut errors = Vec::new();
        check_text("title", &self.title, MAX_TITLE_CHARS, &mut errors);
        check_text("author", &self.author, MAX_AUTHOR_CHARS, &mut errors);
        let title = trim_blank(&self.title).to_owned();
        let author = trim_blank(&self.author).to_owned();
        if self.price_cents <= 0 {
            errors.push(FieldError::new(
                "price_cents",
                "must be a positive number of cents",
            ));
        } else if self.price_cents > MAX_PRICE_CENTS {
            errors.push(FieldError::new(
                "price_cents",
                format!("must be at most {MAX_PRICE_CENTS}"),
            ));
        }
        if let Some(year) = self.published_year.filter(|year| !YEARS.contains(year)) {
            errors.push(FieldError::new(
                "published_year",
                format!("{year} is outside {}..={}", YEARS.start(), YEARS.end()),
            ));
        }
        if errors.is_empty() {
            Ok(NewBook {
                title,
                author,
                ..self
            })
        } else {
            Err(errors)
        }
    }
}
// ANCHOR_END: validate

/// `raw` must have a character that is not whitespace, and at most
/// `max_chars` characters, counted before trimming, as the document says.
fn check_text(field: &str, raw: &str, max_chars: usize, errors: &mut Vec<FieldError>) {
    if trim_blank(raw).is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if raw.chars().count() > max_chars {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(title: &str, price_cents: i64) -> NewBook {
        NewBook {
            title: title.to_owned(),
            author: "Ada Lovelace".to_owned(),
            published_year: Some(1843),
            price_cents,
        }
    }

    #[test]
    fn a_valid_book_is_trimmed() {
        let valid = book("  Notes  ", 1000).validate().unwrap();
        assert_eq!(valid.title, "Notes");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let errors = book(" ", -5).validate().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "price_cents"]);
    }
}
