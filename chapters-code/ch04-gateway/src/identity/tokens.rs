//! Issuing JWTs: EdDSA (Ed25519) signatures, so that verifiers need only
//! the public key, which is published as a JWKS.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{Jwk, JwkSet, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "bookshop-identity";
pub const AUDIENCE: &str = "bookshop";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's name.
    pub sub: String,
    pub iss: String,
    pub aud: String,
    /// Issued at and expiry, in seconds since the Unix epoch.
    pub iat: u64,
    pub exp: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no randomness for a key: {0}")]
    Random(String),
    #[error("cannot sign or describe a token: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
}

/// The PKCS#8 (RFC 8410) header of an Ed25519 private key: the DER bytes
/// are this prefix followed by the 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Signs tokens with one Ed25519 key, identified by `kid`.
#[derive(Clone)]
pub struct Signer {
    key: EncodingKey,
    kid: String,
    ttl: Duration,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    // ANCHOR: signer
    /// A fresh key. It lives as long as the process: a restart rotates
    /// it, and verifiers fetch the new public key when they meet its `kid`.
    pub fn generate(ttl: Duration) -> Result<Self, TokenError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|err| TokenError::Random(err.to_string()))?;
        let der = [&ED25519_PKCS8_PREFIX[..], &seed[..]].concat();
        Ok(Self {
            key: EncodingKey::from_ed_der(&der),
            kid: uuid::Uuid::new_v4().simple().to_string(),
            ttl,
        })
    }

    /// A signed access token for `subject`, valid for the signer's TTL.
    pub fn issue(&self, subject: &str) -> Result<String, TokenError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            sub: subject.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + self.ttl.as_secs(),
        };
        self.sign(&claims)
    }

    /// Signs any claims with this key (tests use it for expired tokens).
    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.key)?)
    }
    // ANCHOR_END: signer

    /// The key in a PEM file (PKCS#8 Ed25519, as `openssl genpkey
    /// -algorithm ed25519` writes it), for identity replicas that must all
    /// sign with one key: Kubernetes mounts it from a Secret. The `kid` is
    /// the key's RFC 7638 thumbprint, so every replica names it the same.
    pub fn from_pem(pem: &[u8], ttl: Duration) -> Result<Self, TokenError> {
        let key = EncodingKey::from_ed_pem(pem)?;
        let jwk = Jwk::from_encoding_key(&key, Algorithm::EdDSA)?;
        Ok(Self {
            kid: jwk.thumbprint(ThumbprintHash::SHA256)?,
            key,
            ttl,
        })
    }

    /// The public half, as the JWKS verifiers download.
    pub fn jwks(&self) -> Result<JwkSet, TokenError> {
        let mut jwk = Jwk::from_encoding_key(&self.key, Algorithm::EdDSA)?;
        jwk.common.key_id = Some(self.kid.clone());
        Ok(JwkSet { keys: vec![jwk] })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    /// Verifies `token` with the one key `publisher` publishes, checking
    /// audience and issuer as the gateway does.
    fn verify(token: &str, publisher: &Signer) -> jsonwebtoken::errors::Result<Claims> {
        let key = DecodingKey::from_jwk(&publisher.jwks().unwrap().keys[0]).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        Ok(jsonwebtoken::decode::<Claims>(token, &key, &validation)?.claims)
    }

    #[test]
    fn a_token_verifies_with_the_published_key() {
        let signer = Signer::generate(Duration::from_secs(60)).unwrap();
        let token = signer.issue("ada").unwrap();
        assert_eq!(verify(&token, &signer).unwrap().sub, "ada");
        assert_eq!(
            jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
            Some(signer.kid())
        );
    }

    #[test]
    fn another_key_does_not_verify_it() {
        let signer = Signer::generate(Duration::from_secs(60)).unwrap();
        let other = Signer::generate(Duration::from_secs(60)).unwrap();
        let token = signer.issue("ada").unwrap();
        assert!(verify(&token, &other).is_err());
    }

    /// An Ed25519 key made once with `openssl genpkey -algorithm ed25519`,
    /// for these tests only.
    const TEST_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICYKgHD7GDclPCSScsZW7Elu/xnnGsFY3hqr+REAMKXt
-----END PRIVATE KEY-----
";

    #[test]
    fn replicas_with_one_pem_key_verify_each_others_tokens() {
        let ttl = Duration::from_secs(60);
        let first = Signer::from_pem(TEST_PEM.as_bytes(), ttl).unwrap();
        let second = Signer::from_pem(TEST_PEM.as_bytes(), ttl).unwrap();
        assert_eq!(first.kid(), second.kid());
        let token = first.issue("ada").unwrap();
        assert_eq!(verify(&token, &second).unwrap().sub, "ada");
    }

    #[test]
    fn a_file_that_is_not_an_ed25519_pem_key_is_refused() {
        let ttl = Duration::from_secs(60);
        assert!(Signer::from_pem(b"not a key", ttl).is_err());
    }
}
