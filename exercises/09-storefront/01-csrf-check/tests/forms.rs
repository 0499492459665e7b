//! A real server whose one form goes through `check_form`, and requests
//! as a browser, another site and curl would send them.

use axum::Router;
use axum::extract::Form;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use ex09_csrf_check::{Refusal, check_form};
use serde::Deserialize;
use testkit::TestServer;

#[derive(Deserialize)]
struct AddToCart {
    #[serde(default)]
    csrf: String,
}

/// `POST /cart`: 303 when the form passes, 403 with the reason when not.
async fn add_to_cart(headers: HeaderMap, Form(form): Form<AddToCart>) -> (StatusCode, String) {
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(|cookies| {
            cookies
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(name, _)| *name == "csrf")
                .map(|(_, value)| value.to_owned())
        });
    match check_form(&headers, cookie.as_deref(), &form.csrf) {
        Ok(()) => (StatusCode::SEE_OTHER, "added".to_owned()),
        Err(refusal) => (StatusCode::FORBIDDEN, format!("{refusal:?}")),
    }
}

const TOKEN: &str = "q9Zx1v7Rk2cW0nT5mJ8bL3hY6fD4sA1eG7uP0oI2rKw";

/// Posts the form with `token` in the field, `cookie` as the browser's
/// cookie, and `site` as `Sec-Fetch-Site`; the status and the body.
async fn send_form(
    server: &TestServer,
    token: &str,
    cookie: Option<&str>,
    site: Option<&str>,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(server.url("/cart"))
        .form(&[("csrf", token), ("book_id", "1")]);
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("theme=dark; csrf={cookie}"));
    }
    if let Some(site) = site {
        request = request.header("sec-fetch-site", site);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn shop() -> TestServer {
    TestServer::router(Router::new().route("/cart", post(add_to_cart))).await
}

#[tokio::test]
async fn our_own_form_passes() {
    let server = shop().await;
    assert_eq!(
        send_form(&server, TOKEN, Some(TOKEN), Some("same-origin"))
            .await
            .0,
        303
    );
}

#[tokio::test]
async fn a_browser_that_does_not_say_where_it_came_from_still_needs_the_token() {
    let server = shop().await;
    assert_eq!(send_form(&server, TOKEN, Some(TOKEN), None).await.0, 303);
    assert_eq!(
        send_form(&server, "guess", Some(TOKEN), None).await,
        (403, format!("{:?}", Refusal::BadToken))
    );
}

#[tokio::test]
async fn a_form_from_another_site_is_refused_even_with_the_right_token() {
    let server = shop().await;
    for site in ["cross-site", "same-site"] {
        assert_eq!(
            send_form(&server, TOKEN, Some(TOKEN), Some(site)).await,
            (403, format!("{:?}", Refusal::CrossSite)),
            "Sec-Fetch-Site: {site}"
        );
    }
}

#[tokio::test]
async fn no_cookie_and_an_empty_field_is_no_token_at_all() {
    let server = shop().await;
    assert_eq!(
        send_form(&server, "", None, Some("same-origin")).await,
        (403, format!("{:?}", Refusal::BadToken))
    );
    assert_eq!(
        send_form(&server, "", Some(""), None).await,
        (403, format!("{:?}", Refusal::BadToken))
    );
}
