//! Orders' view of a catalog book: tolerant of fields it doesn't need,
//! strict about the ones it does.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatalogBook {
    pub id: i64,
    pub title: String,
    pub price_cents: i64,
}

/// Reads a catalog answer; the error says what was wrong with it.
pub fn parse_book(body: &str) -> Result<CatalogBook, String> {
    serde_json::from_str(body).map_err(|err| err.to_string())
}
