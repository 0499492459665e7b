//! The check every state-changing form passes before it may change
//! anything: did it come from one of our own pages?

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

/// Why a form was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The browser says another site sent it (`Sec-Fetch-Site`).
    CrossSite,
    /// The form's token is missing or is not the browser's.
    BadToken,
}

// ANCHOR: solution
/// Whether a form may change anything. `cookie` is the CSRF token the
/// browser holds in its cookie (if any); `field` is the token the form
/// sent in its hidden field.
pub fn check_form(headers: &HeaderMap, cookie: Option<&str>, field: &str) -> Result<(), Refusal> {
    // A browser that says where the form came from is believed; one that
    // says nothing (an old one, curl) still needs the token.
    if let Some(site) = headers.get("sec-fetch-site")
        && site != "same-origin"
    {
        return Err(Refusal::CrossSite);
    }
    // No cookie means no token was ever issued: an empty field must not
    // match an empty nothing.
    let Some(cookie) = cookie.filter(|token| !token.is_empty()) else {
        return Err(Refusal::BadToken);
    };
    // Constant time: how long the answer takes says nothing about how
    // much of a guess was right.
    if bool::from(cookie.as_bytes().ct_eq(field.as_bytes())) {
        Ok(())
    } else {
        Err(Refusal::BadToken)
    }
}
// ANCHOR_END: solution
