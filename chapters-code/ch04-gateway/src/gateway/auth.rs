//! Verifying access tokens at the edge, with keys from identity's JWKS.
//!
//! Keys are cached by `kid`. A token signed with a key we have not seen
//! (identity restarted and rotated its key) triggers one refresh, at most
//! every few seconds, so a flood of forged `kid`s cannot hammer identity.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ch01_autonomy::problem::Problem;
use ch02_communication::catalog_client::Locate;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

pub use crate::caller::USER_HEADER;

use super::routes::Resolved;
use super::session;
use super::verified::VerifiedTokens;

// ANCHOR: layer
/// Who the token proved the caller to be, for the layers after
/// [`authenticate`] (the rate limit, forwarding as `x-bookshop-user`).
#[derive(Debug, Clone)]
pub struct VerifiedUser(pub Arc<str>);

/// On a route that needs a token: verifies it, or answers 401. On a
/// route with a session cookie: verifies the cookie's token if there is
/// one, and lets the request go on either way.
pub async fn authenticate(
    State(verifier): State<Arc<Verifier>>,
    Resolved(route): Resolved,
    mut request: Request,
    next: Next,
) -> Response {
    if route.auth {
        let authorization = request.headers().get(header::AUTHORIZATION);
        match verifier.verify(authorization).await {
            Ok(user) => {
                request.extensions_mut().insert(VerifiedUser(user));
            }
            Err(err) => {
                return (StatusCode::UNAUTHORIZED, [challenge()], Problem::from(err))
                    .into_response();
            }
        }
    } else if let Some(cookie) = &route.session_cookie {
        // The token stays here: the pages learn who, never the credential.
        if let Some(token) = session::take_cookie(request.headers_mut(), cookie) {
            match verifier.verify_token(&token).await {
                Ok(user) => {
                    request.extensions_mut().insert(VerifiedUser(user));
                }
                Err(err) => tracing::debug!(%err, "a session cookie that does not verify"),
            }
        }
    }
    next.run(request).await
}
// ANCHOR_END: layer

// ANCHOR: claims
/// Who issues the tokens this gateway accepts, and for whom they are.
/// The gateway's own expectation, not an import of identity's code: the
/// two meet only in the token, and the gateway tests check they agree.
pub const TRUSTED_ISSUER: &str = "bookshop-identity";
pub const EXPECTED_AUDIENCE: &str = "bookshop";

/// The one claim the gateway reads. `exp`, `iss` and `aud` are checked by
/// [`Validation`] on the raw token; nothing else identity puts in a token
/// matters here (a tolerant reader, as in chapter 2).
#[derive(Debug, Deserialize)]
struct AccessClaims {
    sub: String,
    exp: u64,
}
// ANCHOR_END: claims
/// How often an unknown `kid` may trigger a JWKS download.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("this route needs `Authorization: Bearer <token>`")]
    Missing,
    #[error("the token is malformed or uses an algorithm this gateway does not accept")]
    Malformed,
    #[error("the token was signed with a key this gateway does not know")]
    UnknownKey,
    #[error("the token is invalid: {0}")]
    Invalid(String),
}

impl From<AuthError> for Problem {
    fn from(err: AuthError) -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, err.to_string())
    }
}

// ANCHOR: verifier
pub struct Verifier {
    jwks_at: Arc<dyn Locate>,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// When the keys were last fetched. An async lock: requests that meet
    /// an unknown `kid` while a fetch runs wait for it, then look again.
    last_refresh: tokio::sync::Mutex<Option<Instant>>,
    validation: Validation,
    /// Tokens that passed every check, until they expire.
    verified: VerifiedTokens,
}

impl Verifier {
    /// `jwks_at` locates identity; the keys are at `/.well-known/jwks.json`.
    pub fn new(jwks_at: Arc<dyn Locate>) -> Self {
        // EdDSA only: `alg: none`, HS256 with the public key as a secret,
        // and every other algorithm swap are refused before any crypto.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[EXPECTED_AUDIENCE]);
        validation.set_issuer(&[TRUSTED_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Self {
            jwks_at,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .unwrap_or_default(),
            keys: RwLock::new(HashMap::new()),
            last_refresh: tokio::sync::Mutex::new(None),
            validation,
            verified: VerifiedTokens::new(),
        }
    }
    // ANCHOR_END: verifier

    // ANCHOR: verify
    /// The verified subject of the `Authorization` header.
    pub async fn verify(&self, authorization: Option<&HeaderValue>) -> Result<Arc<str>, AuthError> {
        let token = authorization
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(AuthError::Missing)?;
        self.verify_token(token).await
    }

    /// The verified subject of `token`, however it arrived.
    pub async fn verify_token(&self, token: &str) -> Result<Arc<str>, AuthError> {
        if let Some(user) = self.verified.user(token).await {
            return Ok(user);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(AuthError::Malformed);
        }
        let kid = header.kid.ok_or(AuthError::Malformed)?;
        let key = match self.cached(&kid) {
            Some(key) => key,
            None => {
                self.refresh().await;
                self.cached(&kid).ok_or(AuthError::UnknownKey)?
            }
        };
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &key, &self.validation)
            .map_err(|err| AuthError::Invalid(err.to_string()))?
            .claims;
        let user: Arc<str> = claims.sub.into();
        self.verified
            .remember(token, user.clone(), claims.exp)
            .await;
        Ok(user)
    }
    // ANCHOR_END: verify

    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    /// Downloads the JWKS, unless that happened less than
    /// [`MIN_REFRESH_INTERVAL`] ago.
    async fn refresh(&self) {
        let mut last = self.last_refresh.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        let Some(base) = self.jwks_at.locate() else {
            tracing::warn!("no identity instance is known; cannot fetch its keys");
            return;
        };
        let url = format!("{}/.well-known/jwks.json", base.trim_end_matches('/'));
        let jwks = match self.http.get(&url).send().await {
            Ok(response) => response.json::<JwkSet>().await,
            Err(err) => Err(err),
        };
        match jwks {
            Ok(jwks) => {
                let fresh: HashMap<String, DecodingKey> = jwks
                    .keys
                    .iter()
                    .filter_map(|jwk| {
                        Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?))
                    })
                    .collect();
                tracing::info!(keys = fresh.len(), "fetched identity's signing keys");
                if let Ok(mut keys) = self.keys.write() {
                    *keys = fresh;
                }
                self.verified.forget_all();
            }
            Err(err) => tracing::warn!(%err, %url, "cannot fetch identity's keys"),
        }
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

/// `WWW-Authenticate: Bearer` on every 401, as RFC 6750 asks.
pub fn challenge() -> (header::HeaderName, HeaderValue) {
    (header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
}
