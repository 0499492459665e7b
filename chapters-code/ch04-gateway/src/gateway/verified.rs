//! Tokens the gateway has verified already, kept until they expire.
//!
//! A client sends the same token with every request for up to 15 minutes,
//! and an Ed25519 verification costs more than everything else the gateway
//! does for a request (chapter 4's profile shows it). A lookup by the
//! token's exact bytes costs next to nothing: a token that differs in one
//! byte is a miss, and is verified in full.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use moka::Expiry;

/// At most this many tokens are remembered (about 30 MB of 300-byte tokens).
pub const MAX_REMEMBERED: u64 = 100_000;

#[derive(Debug, Clone)]
struct Verified {
    user: Arc<str>,
    /// How long the token had left when it was verified.
    lifetime: Duration,
}

/// Each entry lives as long as its token: it goes when the token expires.
struct UntilTokenExpires;

impl Expiry<String, Verified> for UntilTokenExpires {
    fn expire_after_create(&self, _: &String, entry: &Verified, _: Instant) -> Option<Duration> {
        Some(entry.lifetime)
    }
}

// ANCHOR: verified
#[derive(Debug, Clone)]
pub struct VerifiedTokens {
    entries: moka::future::Cache<String, Verified>,
}

impl VerifiedTokens {
    pub fn new() -> Self {
        let entries = moka::future::Cache::builder()
            .max_capacity(MAX_REMEMBERED)
            .expire_after(UntilTokenExpires)
            .build();
        Self { entries }
    }

    /// The user of a token verified before and not expired since.
    pub async fn user(&self, token: &str) -> Option<Arc<str>> {
        self.entries.get(token).await.map(|entry| entry.user)
    }

    /// Remembers a token that passed every check, until `expires` (its
    /// `exp` claim, in seconds since 1970).
    pub async fn remember(&self, token: &str, user: Arc<str>, expires: u64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let Some(lifetime) = Duration::from_secs(expires).checked_sub(now) else {
            return;
        };
        let entry = Verified { user, lifetime };
        self.entries.insert(token.to_owned(), entry).await;
    }

    /// Forgets every token: the signing keys changed, and a token signed
    /// with a key identity no longer publishes must be checked again.
    pub fn forget_all(&self) {
        self.entries.invalidate_all();
    }
}
// ANCHOR_END: verified

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_seconds(seconds: u64) -> u64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        now.as_secs() + seconds
    }

    #[tokio::test]
    async fn a_token_is_remembered_until_it_expires_and_forgotten_with_the_keys() {
        let tokens = VerifiedTokens::new();
        tokens
            .remember("a.b.c", "demo".into(), in_seconds(60))
            .await;
        assert_eq!(tokens.user("a.b.c").await.as_deref(), Some("demo"));
        assert_eq!(
            tokens.user("a.b.d").await,
            None,
            "another token, even by one byte"
        );
        tokens
            .remember("x.y.z", "grace".into(), in_seconds(1))
            .await;
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(tokens.user("x.y.z").await, None, "expired with its token");
        tokens.remember("old.y.z", "ada".into(), 0).await;
        assert_eq!(
            tokens.user("old.y.z").await,
            None,
            "an expired token is never kept"
        );
        tokens.forget_all();
        assert_eq!(tokens.user("a.b.c").await, None, "new keys: verify again");
    }
}
