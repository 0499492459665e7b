//! Who is calling: the user the gateway verified, as a service behind it
//! receives them. A shared building block, not part of any one service:
//! the gateway writes the header, and every service that owns per-user
//! data reads it with [`Caller`].
//!
//! **The trust boundary.** The gateway removes any `x-bookshop-user` a
//! client sends and sets its own after it verified the token. A service
//! believes the header because only the gateway can reach it: services
//! listen on a private network (here, loopback; in chapter 8, a
//! Kubernetes network policy that admits only the gateway). Anyone who
//! can reach a service directly can claim to be anyone: that is the
//! price of this design, and the book shows the other one (forward the
//! token and verify it again in every service) beside it.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use ch01_autonomy::problem::Problem;

/// The header that tells a service who the caller is. Only the gateway
/// sets it: a copy sent by a client is removed before forwarding.
pub const USER_HEADER: &str = "x-bookshop-user";

/// [`is_user_name`] as a regular expression, for documents.
pub const USER_NAME_PATTERN: &str = "^[a-z0-9_.-]{3,32}$";

/// Whether `name` can be a Bookshop user name, as identity issues them:
/// 3 to 32 of `a-z`, `0-9`, `_`, `-` and `.`. Anything else in the header
/// was not set by the gateway.
pub fn is_user_name(name: &str) -> bool {
    (3..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
}

/// The user the gateway vouched for. As a handler argument it refuses a
/// request without one (401), before the handler runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(String);

impl Caller {
    pub fn name(&self) -> &str {
        &self.0
    }

    /// Ok when the caller is `customer`; a 403 problem when they try to
    /// act for someone else.
    pub fn acts_as(&self, customer: &str) -> Result<(), Problem> {
        if self.0 == customer {
            Ok(())
        } else {
            Err(Problem::new(
                StatusCode::FORBIDDEN,
                format!(
                    "you are signed in as {}; you cannot act for {customer}",
                    self.0
                ),
            ))
        }
    }

    /// Whether something that belongs to `owner` is the caller's. A
    /// service answers 404 for what is not, as for what does not exist,
    /// so that ids cannot be probed for who has what.
    pub fn owns(&self, owner: &str) -> bool {
        self.0 == owner
    }
}

// ANCHOR: caller
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        let user = parts
            .headers
            .get(USER_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|user| is_user_name(user));
        match user {
            Some(user) => Ok(Self(user.to_owned())),
            None => Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "no verified caller: call this through the gateway, with a token",
            )),
        }
    }
}
// ANCHOR_END: caller

/// `Option<Caller>` as a handler argument: `None` for an anonymous
/// request (a page anyone may see), never a refusal.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(
            <Self as FromRequestParts<S>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

// ANCHOR: caller_param
/// The header as an OpenAPI document states it: a required header whose
/// value is a user name. Not a security scheme: it proves nothing, it is
/// an assertion the services take from the gateway (see the trust
/// boundary above), and a document should not promise more.
#[cfg(feature = "openapi")]
impl utoipa::IntoParams for Caller {
    fn into_params(
        _parameter_in: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(USER_NAME_PATTERN));
        vec![
            ParameterBuilder::new()
                .name(USER_HEADER)
                .parameter_in(ParameterIn::Header)
                .required(utoipa::openapi::Required::True)
                .description(Some(
                    "The user the gateway verified. Only the gateway sets it: services are \
                     reachable on a private network only, and the gateway removes a copy a \
                     client sends.",
                ))
                .schema(Some(schema))
                .build(),
        ]
    }
}
// ANCHOR_END: caller_param

impl From<&str> for Caller {
    /// A caller named in code (tests, a trusted job).
    fn from(user: &str) -> Self {
        Self(user.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts_with(header: Option<&str>) -> Parts {
        let mut request = Request::builder();
        if let Some(value) = header {
            request = request.header(USER_HEADER, value);
        }
        request.body(()).unwrap().into_parts().0
    }

    async fn caller_of(header: Option<&str>) -> Result<Caller, Problem> {
        let mut parts = parts_with(header);
        <Caller as FromRequestParts<()>>::from_request_parts(&mut parts, &()).await
    }

    #[tokio::test]
    async fn an_optional_caller_is_none_without_a_vouched_user() {
        for header in [None, Some(""), Some("Ada")] {
            let mut parts = parts_with(header);
            let caller =
                <Caller as OptionalFromRequestParts<()>>::from_request_parts(&mut parts, &())
                    .await
                    .unwrap();
            assert_eq!(caller, None, "{header:?}");
        }
    }

    #[tokio::test]
    async fn a_vouched_user_is_the_caller() {
        assert_eq!(caller_of(Some("ada")).await.unwrap().name(), "ada");
    }

    #[tokio::test]
    async fn no_header_or_one_identity_could_not_have_issued_is_a_401() {
        let huge = "x".repeat(33);
        let refused = [
            None,
            Some(""),
            Some("   "),
            Some("Ada"),
            Some("a b"),
            Some(huge.as_str()),
        ];
        for header in refused {
            let refused = caller_of(header).await.unwrap_err();
            assert_eq!(refused.status, 401, "{header:?}");
        }
    }

    #[test]
    fn acting_for_someone_else_is_a_403() {
        let caller = Caller::from("ada");
        assert!(caller.acts_as("ada").is_ok());
        assert_eq!(caller.acts_as("grace").unwrap_err().status, 403);
        assert!(caller.owns("ada") && !caller.owns("grace"));
    }
}
