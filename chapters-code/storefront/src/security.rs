//! Headers that tell a browser what this site's pages may do.
//!
//! The pages load one stylesheet and one script file from this origin and
//! nothing else: no inline script, no frame, no form posted elsewhere. The Content-Security-Policy
//! says exactly that, so an injected `<script>` would not run even if a
//! value escaped the templates' escaping.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;

// ANCHOR: policy
/// This origin's stylesheet and its one script file (live order
/// updates, whose events come from this origin too); nothing inline,
/// nothing from anywhere else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

const BROWSER_HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    // Never guess a type: a JSON answer is not a page.
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    // Other sites learn where a shopper came from, not what they viewed.
    (header::REFERRER_POLICY, "same-origin"),
    // Older browsers that do not read frame-ancestors.
    (header::X_FRAME_OPTIONS, "DENY"),
];
// ANCHOR_END: policy

/// `routes`, with the browser headers on every response.
pub fn with_browser_headers(routes: Router) -> Router {
    routes.layer(middleware::from_fn(add_browser_headers))
}

async fn add_browser_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in BROWSER_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // Pages say who is signed in: no cache may keep one for someone else.
    // The stylesheet and the script set their own.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
