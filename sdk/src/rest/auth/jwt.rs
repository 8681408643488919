//! Signed JWT assertions for the OAuth 2.0 JWT bearer grant (RFC 7523), feature `jwt`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::Secret;

/// The signature algorithm of a [`JwtAssertion`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// RSA with SHA-256 (singer-sdk's choice); a PEM RSA private key.
    Rs256,
    /// ECDSA P-256 with SHA-256; a PEM EC private key.
    Es256,
}

/// What to sign: `iss` (the client id), optional `sub`, `aud` (the token endpoint unless
/// set), `scope`, `iat` and `exp` (one hour later unless set). The key is a PEM private key
/// that is not encrypted.
///
/// ```
/// use singer_sdk::rest::{Grant, JwtAssertion, OAuth2};
/// let pem = "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n";
/// let grant = Grant::JwtBearer(Box::new(JwtAssertion::new("client-id", pem)));
/// let auth = OAuth2::new("https://auth.example.com/token", grant).setting("private_key");
/// assert!(!format!("{auth:?}").contains("BEGIN"));
/// ```
#[derive(Debug, Clone)]
pub struct JwtAssertion {
    issuer: String,
    private_key: Secret,
    algorithm: JwtAlgorithm,
    subject: Option<String>,
    audience: Option<String>,
    lifetime: Duration,
    key_id: Option<String>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<&'a str>,
    aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    iat: u64,
    exp: u64,
}

impl JwtAssertion {
    /// Assertions issued by `issuer`, signed RS256 with `private_key_pem`.
    pub fn new(issuer: impl Into<String>, private_key_pem: impl Into<Secret>) -> Self {
        JwtAssertion {
            issuer: issuer.into(),
            private_key: private_key_pem.into(),
            algorithm: JwtAlgorithm::Rs256,
            subject: None,
            audience: None,
            lifetime: Duration::from_secs(3600),
            key_id: None,
        }
    }

    /// The signature algorithm (default RS256).
    #[must_use]
    pub fn algorithm(mut self, algorithm: JwtAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The `sub` claim (the user to act for).
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// The `aud` claim (default: the token endpoint).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// How long an assertion is valid (default one hour).
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The `kid` header.
    #[must_use]
    pub fn key_id(mut self, kid: impl Into<String>) -> Self {
        self.key_id = Some(kid.into());
        self
    }

    /// A signed assertion for `token_url` with `scopes`.
    ///
    /// # Errors
    ///
    /// A message (never containing the key) when the key is not a PEM key for the algorithm.
    pub(crate) fn sign(&self, token_url: &str, scopes: &[String]) -> Result<String, String> {
        use jsonwebtoken::{Algorithm, EncodingKey, Header};
        let pem = self.private_key.expose().as_bytes();
        let (algorithm, key) = match self.algorithm {
            JwtAlgorithm::Rs256 => (Algorithm::RS256, EncodingKey::from_rsa_pem(pem)),
            JwtAlgorithm::Es256 => (Algorithm::ES256, EncodingKey::from_ec_pem(pem)),
        };
        let key = key.map_err(|e| format!("the private key is not a usable PEM key ({e})"))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            iss: &self.issuer,
            sub: self.subject.as_deref(),
            aud: self.audience.as_deref().unwrap_or(token_url),
            scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
            iat: now,
            exp: now + self.lifetime.as_secs(),
        };
        let mut header = Header::new(algorithm);
        header.kid.clone_from(&self.key_id);
        jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|e| format!("cannot sign the JWT assertion ({e})"))
    }
}
