//! The identity service over HTTP: sign up, log in, verify with the JWKS,
//! and the ways a login fails.

use ch01_autonomy::problem::Problem;
use ch01_autonomy::server;
use ch04_gateway::identity::model::TokenResponse;
use ch04_gateway::identity::tokens::{AUDIENCE, Claims, ISSUER};
use ch04_gateway::identity::{App, Config, MAX_FAILED_LOGINS};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::json;
use testkit::{TempDb, TestServer};

const DEMO_PASSWORD: &str = "demo-password-for-tests";

struct Identity {
    server: TestServer,
    _db: TempDb,
}

async fn spawn_identity() -> Identity {
    let db = TempDb::new();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url(),
        token_ttl_minutes: 15,
        demo_password: DEMO_PASSWORD.to_owned(),
        signing_key_file: None,
    };
    let router = App::open(&config).await.unwrap().into_router();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Identity { server, _db: db }
}

async fn post(identity: &Identity, path: &str, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(identity.server.url(path))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn login(identity: &Identity, username: &str, password: &str) -> reqwest::Response {
    post(
        identity,
        "/v1/token",
        json!({"username": username, "password": password}),
    )
    .await
}

// ANCHOR: verify_with_jwks
#[tokio::test]
async fn the_demo_user_gets_a_token_that_the_jwks_verifies() {
    let identity = spawn_identity().await;
    let response = login(&identity, "demo", DEMO_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let token: TokenResponse = response.json().await.unwrap();
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.expires_in, 15 * 60);

    let jwks: JwkSet = reqwest::get(identity.server.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(&token.access_token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("the token's kid is published");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    let claims = jsonwebtoken::decode::<Claims>(
        &token.access_token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims.sub, "demo");
}
// ANCHOR_END: verify_with_jwks

#[tokio::test]
async fn a_new_user_signs_up_and_logs_in() {
    let identity = spawn_identity().await;
    let created = post(
        &identity,
        "/v1/users",
        json!({"username": "ada", "password": "analytical-engine"}),
    )
    .await;
    assert_eq!(created.status(), 201);
    assert!(created.headers().contains_key("location"));
    assert_eq!(
        login(&identity, "ada", "analytical-engine").await.status(),
        200
    );
    assert_eq!(
        login(&identity, "ADA", "analytical-engine").await.status(),
        200,
        "names ignore case"
    );

    let again = post(
        &identity,
        "/v1/users",
        json!({"username": "ada", "password": "another-password"}),
    )
    .await;
    let problem: Problem = again.json().await.unwrap();
    assert_eq!(problem.status, 409);
}

#[tokio::test]
async fn bad_sign_ups_are_422_naming_the_field() {
    let identity = spawn_identity().await;
    let cases = [
        (
            json!({"username": "ab", "password": "long-enough-1"}),
            "username",
        ),
        (
            json!({"username": "Has Space", "password": "long-enough-1"}),
            "username",
        ),
        (
            json!({"username": "grace", "password": "short"}),
            "password",
        ),
        (
            json!({"username": "grace-hopper", "password": "grace-hopper"}),
            "password",
        ),
    ];
    for (body, field) in cases {
        let response = post(&identity, "/v1/users", body.clone()).await;
        assert_eq!(response.status(), 422, "for {body}");
        let problem: Problem = response.json().await.unwrap();
        assert_eq!(problem.errors[0].field, field, "for {body}");
    }
}

// ANCHOR: no_enumeration
#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let identity = spawn_identity().await;
    let wrong_password = login(&identity, "demo", "not-the-password").await;
    let unknown_user = login(&identity, "nobody-here", "not-the-password").await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_user.status(), 401);
    let (a, b): (Problem, Problem) = (
        wrong_password.json().await.unwrap(),
        unknown_user.json().await.unwrap(),
    );
    assert_eq!(a, b, "nothing tells which usernames exist");
}
// ANCHOR_END: no_enumeration

#[tokio::test]
async fn repeated_failures_lock_the_username_out() {
    let identity = spawn_identity().await;
    for _ in 0..MAX_FAILED_LOGINS {
        assert_eq!(
            login(&identity, "demo", "guess-guess-guess").await.status(),
            401
        );
    }
    let locked = login(&identity, "demo", DEMO_PASSWORD).await;
    assert_eq!(locked.status(), 429, "even the right password waits");
    assert!(locked.headers().contains_key("retry-after"));
}
