//! Sign-up and login bodies, and the rules a new account must follow.

use serde::{Deserialize, Serialize};

use crate::caller::is_user_name;
use ch01_autonomy::problem::FieldError;

/// The body of `POST /v1/users` and of `POST /v1/token`. The rules are
/// those of a new account; a login that breaks them is simply refused.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credentials {
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[a-z0-9_.\-]{3,32}$"))]
    pub username: String,
    /// Not the username.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
    pub password: String,
}

/// A user as the API shows it: never the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub username: String,
}

/// The body of a successful `POST /v1/token` (RFC 6749's field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

impl Credentials {
    /// The rules for a new account, every broken one reported at once.
    pub fn validate_new(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if !is_user_name(&self.username) {
            errors.push(FieldError::new(
                "username",
                "3 to 32 characters: lowercase letters, digits, '_', '-' and '.'",
            ));
        }
        let length = self.password.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) {
            errors.push(FieldError::new(
                "password",
                format!("{MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
            ));
        } else if self.password.eq_ignore_ascii_case(&self.username) {
            errors.push(FieldError::new("password", "must not be the username"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
