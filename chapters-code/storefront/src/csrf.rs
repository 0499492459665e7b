//! Cross-site request forgery: another site's page posting a form to
//! this one, with the shopper's cookies riding along. Two checks, either
//! of which stops it:
//!
//! 1. **A token in every form** (double submit): the browser holds a
//!    random value in an `HttpOnly`, `SameSite=Strict` cookie, and every
//!    form the storefront renders carries the same value in a hidden
//!    field. Another site can make the browser send the cookie (or, with
//!    `Strict`, not even that), but it cannot read it, so it cannot write
//!    the field.
//! 2. **Where the form came from**: browsers say so in `Sec-Fetch-Site`.
//!    A state-changing request that says `cross-site` or `same-site` is
//!    refused before its form is read.
//!
//! The book shows what the token does not cover (a sibling subdomain that
//! can set cookies) and the stronger variant that signs the token.

use std::sync::Arc;

use axum::extract::{Form, FromRequest, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::pages::PageError;
use crate::session::{CSRF_COOKIE, CookieSettings, read_cookie};

/// The browser's CSRF token, for the forms a page renders.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub Arc<str>);

/// 32 random bytes, base64url: 43 characters.
const TOKEN_CHARS: usize = 43;

// ANCHOR: issue
/// Makes sure every browser has a token: reads it from the cookie, or
/// makes one and sets the cookie on the way out.
pub async fn issue_token(
    State(cookies): State<CookieSettings>,
    mut request: Request,
    next: Next,
) -> Response {
    let (token, fresh) = match read_cookie(request.headers(), CSRF_COOKIE) {
        Some(token) if token.len() == TOKEN_CHARS => (token, false),
        _ => match new_token() {
            Ok(token) => (token, true),
            Err(err) => return PageError::Internal(err.to_string()).into_response(),
        },
    };
    request
        .extensions_mut()
        .insert(CsrfToken(token.as_str().into()));
    let mut response = next.run(request).await;
    if fresh {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookies.strict(CSRF_COOKIE, &token));
    }
    response
}
// ANCHOR_END: issue

pub(crate) fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A form that carries the CSRF token.
pub trait Protected {
    fn csrf(&self) -> &str;
}

/// [`Protected`] for forms that keep the token in a field named `csrf`
/// (every form here: `#[serde(default)] csrf: String`).
macro_rules! token_in_csrf_field {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::csrf::Protected for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(crate) use token_in_csrf_field;

// ANCHOR: csrf_form
/// A form from one of the storefront's own pages, or a 403 page.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Protected,
{
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, PageError> {
        let site = request.headers().get("sec-fetch-site");
        if site.is_some_and(|site| site != "same-origin") {
            return Err(PageError::Forbidden);
        }
        let expected = request
            .extensions()
            .get::<CsrfToken>()
            .cloned()
            .ok_or(PageError::Forbidden)?;
        let Form(form) = Form::<T>::from_request(request, state)
            .await
            .map_err(|rejection| PageError::BadForm(rejection.body_text()))?;
        let sent = form.csrf().as_bytes();
        if bool::from(sent.ct_eq(expected.0.as_bytes())) {
            Ok(Self(form))
        } else {
            Err(PageError::Forbidden)
        }
    }
}
// ANCHOR_END: csrf_form

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_the_length_the_cookie_check_expects() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_CHARS);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
