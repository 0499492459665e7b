//! What a browser keeps for the storefront, all in cookies the page's
//! script can never read (`HttpOnly`):
//!
//! - `bookshop_session`: the access token identity issued at sign-in. The
//!   gateway reads it (chapter 4's `session_cookie`) and tells the
//!   storefront who the shopper is; the storefront never sees it again.
//! - `bookshop_csrf`: a random value that every form repeats ([`csrf`]).
//! - `bookshop_cart`: the cart, as book ids and quantities ([`crate::cart`]).
//!
//! [`csrf`]: crate::csrf

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

pub const SESSION_COOKIE: &str = "bookshop_session";
pub const CSRF_COOKIE: &str = "bookshop_csrf";
pub const CART_COOKIE: &str = "bookshop_cart";

/// Every cookie lives under the storefront's own path.
const PATH: &str = "/shop";

/// How the storefront writes its cookies.
#[derive(Debug, Clone, Copy)]
pub struct CookieSettings {
    /// Only over HTTPS. On for any real deployment; the launcher turns it
    /// off because it serves plain HTTP on loopback.
    pub secure: bool,
}

impl CookieSettings {
    // ANCHOR: session_cookie
    /// `Set-Cookie` for the token: as long as the token lives, never for
    /// a script, and sent on a link from another site (so a link to an
    /// order opens signed in) but never on a form posted from one.
    pub fn session(&self, token: &str, lifetime: Duration) -> HeaderValue {
        self.build(SESSION_COOKIE, token, SameSite::Lax, Some(lifetime))
    }
    // ANCHOR_END: session_cookie

    /// `Set-Cookie` for a value only this site's own pages send back.
    pub fn strict(&self, name: &'static str, value: &str) -> HeaderValue {
        self.build(name, value, SameSite::Strict, None)
    }

    /// `Set-Cookie` that tells the browser to forget `name`.
    pub fn expired(&self, name: &'static str) -> HeaderValue {
        self.build(name, "", SameSite::Strict, Some(Duration::ZERO))
    }

    fn build(
        &self,
        name: &'static str,
        value: &str,
        same_site: SameSite,
        lifetime: Option<Duration>,
    ) -> HeaderValue {
        let mut cookie = Cookie::build((name, value.to_owned()))
            .path(PATH)
            .http_only(true)
            .secure(self.secure)
            .same_site(same_site)
            .build();
        if let Some(lifetime) = lifetime {
            let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
            cookie.set_max_age(cookie::time::Duration::seconds(seconds));
        }
        // Names and values are ours and URL-safe: always a valid header.
        HeaderValue::from_str(&cookie.to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
    }
}

/// The value of cookie `name` in a request.
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|text| Cookie::split_parse(text).flatten())
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_http_only_lax_and_lives_as_long_as_the_token() {
        let settings = CookieSettings { secure: true };
        let cookie = settings.session("t.o.k", Duration::from_secs(900));
        let text = cookie.to_str().unwrap();
        for part in [
            "bookshop_session=t.o.k",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/shop",
            "Max-Age=900",
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
    }

    #[test]
    fn an_expired_cookie_is_dropped_at_once() {
        let settings = CookieSettings { secure: false };
        let text = settings.expired(CART_COOKIE).to_str().unwrap().to_owned();
        assert!(text.contains("Max-Age=0"), "{text}");
        assert!(!text.contains("Secure"), "{text}");
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; bookshop_csrf=xyz"),
        );
        assert_eq!(read_cookie(&headers, CSRF_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(read_cookie(&headers, CART_COOKIE), None);
    }
}
