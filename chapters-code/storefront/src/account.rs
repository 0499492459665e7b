//! Signing up, in and out. The password goes from the browser's form to
//! the storefront, and from the storefront to identity; the token comes
//! back into an `HttpOnly` cookie, where no script can read it (not even
//! ours), and the gateway takes it from there on every request.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::compose::Shop;
use crate::csrf::{CsrfForm, new_token, token_in_csrf_field};
use crate::pages::{Nav, PageError, render};
use crate::session::{CART_COOKIE, CSRF_COOKIE, SESSION_COOKIE};
use crate::upstream::UpstreamError;

/// What the sign-in and sign-up forms send.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    csrf: String,
    username: String,
    password: String,
}

/// Just the token: the sign-out button.
#[derive(Debug, Deserialize)]
pub struct Empty {
    #[serde(default)]
    csrf: String,
}

token_in_csrf_field!(Credentials, Empty);

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    query: String,
    heading: &'static str,
    action: &'static str,
    username: String,
    password_autocomplete: &'static str,
    message: Option<String>,
    fields: Vec<(String, String)>,
    other_prompt: &'static str,
    other_href: &'static str,
    other_link: &'static str,
}

impl AccountPage {
    fn sign_in(nav: Nav) -> Self {
        Self {
            nav,
            query: String::new(),
            heading: "Sign in",
            action: "/shop/sign-in",
            username: String::new(),
            password_autocomplete: "current-password",
            message: None,
            fields: Vec::new(),
            other_prompt: "New here?",
            other_href: "/shop/sign-up",
            other_link: "Create an account",
        }
    }

    fn sign_up(nav: Nav) -> Self {
        Self {
            heading: "Create an account",
            action: "/shop/sign-up",
            password_autocomplete: "new-password",
            other_prompt: "Have an account?",
            other_href: "/shop/sign-in",
            other_link: "Sign in",
            ..Self::sign_in(nav)
        }
    }

    /// The form again, with what went wrong and the username kept.
    fn refused(mut self, username: String, err: UpstreamError) -> Result<Response, PageError> {
        let status = match err {
            UpstreamError::Refused {
                status, problem, ..
            } => {
                self.message = Some(match status {
                    StatusCode::UNAUTHORIZED => "Wrong username or password.".to_owned(),
                    StatusCode::TOO_MANY_REQUESTS => {
                        "Too many tries for this username. Wait a minute and try again.".to_owned()
                    }
                    _ => problem.detail,
                });
                self.fields = problem
                    .errors
                    .into_iter()
                    .map(|field| (field.field, field.message))
                    .collect();
                status
            }
            other => return Err(PageError::Unavailable(other)),
        };
        self.username = username;
        Ok((status, render(&self)?).into_response())
    }
}

pub async fn sign_in_page(nav: Nav) -> Result<impl IntoResponse, PageError> {
    render(&AccountPage::sign_in(nav))
}

pub async fn sign_up_page(nav: Nav) -> Result<impl IntoResponse, PageError> {
    render(&AccountPage::sign_up(nav))
}

// ANCHOR: sign_in
/// `POST /shop/sign-in`: a token from identity, into the session cookie.
pub async fn sign_in(
    State(shop): State<Arc<Shop>>,
    nav: Nav,
    CsrfForm(form): CsrfForm<Credentials>,
) -> Result<Response, PageError> {
    match shop.identity.token(&form.username, &form.password).await {
        Ok(token) => signed_in(&shop, &token.access_token, token.expires_in),
        Err(err) => AccountPage::sign_in(nav).refused(form.username, err),
    }
}

/// Home, with the session cookie set and a new CSRF token: a token an
/// attacker planted before sign-in is worth nothing after it.
fn signed_in(shop: &Shop, token: &str, lifetime_secs: u64) -> Result<Response, PageError> {
    let lifetime = std::time::Duration::from_secs(lifetime_secs);
    let csrf = new_token().map_err(|err| PageError::Internal(err.to_string()))?;
    let mut headers = HeaderMap::new();
    headers.append(header::SET_COOKIE, shop.cookies.session(token, lifetime));
    headers.append(header::SET_COOKIE, shop.cookies.strict(CSRF_COOKIE, &csrf));
    Ok((headers, Redirect::to("/shop")).into_response())
}
// ANCHOR_END: sign_in

/// `POST /shop/sign-up`: a new user, then signed in as them.
pub async fn sign_up(
    State(shop): State<Arc<Shop>>,
    nav: Nav,
    CsrfForm(form): CsrfForm<Credentials>,
) -> Result<Response, PageError> {
    let username = form.username.trim().to_ascii_lowercase();
    let signed_up = shop.identity.sign_up(&username, &form.password).await;
    let token = match signed_up {
        Ok(()) => shop.identity.token(&username, &form.password).await,
        Err(err) => Err(err),
    };
    match token {
        Ok(token) => signed_in(&shop, &token.access_token, token.expires_in),
        Err(err) => AccountPage::sign_up(nav).refused(username, err),
    }
}

/// `POST /shop/sign-out`: the browser forgets the token and the cart.
pub async fn sign_out(State(shop): State<Arc<Shop>>, CsrfForm(_form): CsrfForm<Empty>) -> Response {
    let mut headers = HeaderMap::new();
    for name in [SESSION_COOKIE, CART_COOKIE, CSRF_COOKIE] {
        headers.append(header::SET_COOKIE, shop.cookies.expired(name));
    }
    // Nothing in this answer may be kept for the next person at this screen.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (headers, Redirect::to("/shop")).into_response()
}
