//! A browser's token, kept in a cookie. Pages (chapter 9's storefront)
//! cannot send `Authorization` headers the way an API client does: the
//! browser sends cookies by itself. On a route with a `session_cookie`,
//! [`authenticate`](super::auth::authenticate) takes the token out of
//! that cookie, and the service behind sees only who the user is.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::Cookie;

// ANCHOR: take_cookie
/// Removes the cookie `name` from the request's `Cookie` headers and
/// returns its value; every other cookie is forwarded as it came.
pub fn take_cookie(headers: &mut HeaderMap, name: &str) -> Option<String> {
    let mut found = None;
    let mut others = Vec::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for cookie in Cookie::split_parse(text).flatten() {
            if cookie.name() == name {
                found = Some(cookie.value().to_owned());
            } else {
                others.push(format!("{}={}", cookie.name(), cookie.value()));
            }
        }
    }
    found.as_ref()?;
    headers.remove(header::COOKIE);
    if let Ok(rest) = HeaderValue::from_str(&others.join("; "))
        && !others.is_empty()
    {
        headers.insert(header::COOKIE, rest);
    }
    found
}
// ANCHOR_END: take_cookie

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for cookie in cookies {
            headers.append(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        }
        headers
    }

    #[test]
    fn the_session_cookie_is_taken_and_the_others_stay() {
        let mut sent = headers(&["theme=dark; bookshop_session=abc.def", "lang=en"]);
        let token = take_cookie(&mut sent, "bookshop_session");
        assert_eq!(token.as_deref(), Some("abc.def"));
        assert_eq!(sent.get(header::COOKIE).unwrap(), "theme=dark; lang=en");
    }

    #[test]
    fn without_the_cookie_nothing_changes() {
        let mut sent = headers(&["theme=dark"]);
        assert_eq!(take_cookie(&mut sent, "bookshop_session"), None);
        assert_eq!(sent.get(header::COOKIE).unwrap(), "theme=dark");
    }

    #[test]
    fn a_lone_session_cookie_leaves_no_cookie_header() {
        let mut sent = headers(&["bookshop_session=abc"]);
        assert!(take_cookie(&mut sent, "bookshop_session").is_some());
        assert!(sent.get(header::COOKIE).is_none());
    }
}
