//! Orders' view of a catalog book. The catalog team just added fields
//! (an ISBN, formats), and every order fails since. Make the reader
//! tolerant of what it doesn't need, and strict about what it does.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogBook {
    pub id: i64,
    pub title: String,
    pub price_cents: i64,
}

/// Reads a catalog answer; the error says what was wrong with it.
pub fn parse_book(body: &str) -> Result<CatalogBook, String> {
    serde_json::from_str(body).map_err(|err| err.to_string())
}
