//! The identity HTTP API: sign up, get a token, read the public keys.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::model::{Credentials, TokenResponse};
use super::passwords;
use super::store::UserStore;
use super::throttle::LoginThrottle;
use super::tokens::Signer;
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::Problem;

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: UserStore,
    pub signer: Signer,
    pub throttle: Arc<LoginThrottle>,
    /// A real hash of nothing in particular: checked for unknown users so
    /// they take as long to refuse as known ones.
    pub decoy_hash: Arc<str>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/users", post(sign_up))
        .route("/v1/token", post(token))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(state)
}

/// Sign up.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/v1/users",
    request_body = Credentials,
    responses(
        (status = 201, description = "Signed up", body = super::model::User,
         headers(("location" = String, description = "The new user"))),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
    ),
))]
pub async fn sign_up(
    State(state): State<AppState>,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Response, Problem> {
    credentials
        .validate_new()
        .map_err(Problem::invalid_fields)?;
    let password = credentials.password.clone();
    let hash = tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|_| Problem::internal())?
        .map_err(|err| {
            tracing::error!(%err, "hashing failed");
            Problem::internal()
        })?;
    let Some(user) = state.store.create(&credentials.username, &hash).await? else {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            format!("the username {:?} is taken", credentials.username),
        ));
    };
    tracing::info!(user_id = user.id, "user signed up");
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/users/{}", user.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(user)).into_response())
}

/// Log in: a 15-minute access token.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/v1/token",
    request_body = Credentials,
    responses(
        (status = 200, description = "A token", body = TokenResponse),
        (status = 401, description = "Invalid username or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this user", body = Problem, content_type = "application/problem+json",
         headers(("retry-after" = u32, description = "Seconds to wait"))),
    ),
))]
// ANCHOR: token
pub async fn token(
    State(state): State<AppState>,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Json<TokenResponse>, Problem> {
    let username = credentials.username.to_ascii_lowercase();
    if let Some(wait) = state.throttle.locked(&username, Instant::now()) {
        let seconds = u32::try_from(wait.as_secs() + 1).unwrap_or(u32::MAX);
        return Err(Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed logins; wait and try again",
        )
        .with_retry_after(seconds));
    }
    let stored = state.store.password_hash(&username).await?;
    // Unknown users are checked against a decoy hash: same work, same
    // answer, so neither the body nor the timing says who exists.
    let (name, hash) = stored.unwrap_or_else(|| (String::new(), state.decoy_hash.to_string()));
    let password = credentials.password;
    let matches = tokio::task::spawn_blocking(move || passwords::verify(&password, &hash))
        .await
        .map_err(|_| Problem::internal())?;
    if !matches || name.is_empty() {
        state.throttle.failed(&username, Instant::now());
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid username or password",
        ));
    }
    state.throttle.succeeded(&username);
    let access_token = state.signer.issue(&name).map_err(|err| {
        tracing::error!(%err, "signing failed");
        Problem::internal()
    })?;
    Ok(Json(TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: state.signer.ttl().as_secs(),
    }))
}
// ANCHOR_END: token

/// The public keys that verify identity's tokens (RFC 7517).
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    responses((status = 200, description = "A JWK set", body = Object)),
))]
pub async fn jwks(State(state): State<AppState>) -> Result<Response, Problem> {
    let keys = state.signer.jwks().map_err(|err| {
        tracing::error!(%err, "cannot describe the signing key");
        Problem::internal()
    })?;
    // Verifiers may cache it briefly; a restart rotates the key.
    Ok(([(header::CACHE_CONTROL, "public, max-age=60")], Json(keys)).into_response())
}

async fn ready(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    health::ready_if(state.store.ping(), "the identity database").await
}
