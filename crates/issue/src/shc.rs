//! Issuing SMART Health Cards: a FHIR Bundle → JWT claims → raw DEFLATE → compact JWS (ES256,
//! `kid` = the key's RFC 7638 thumbprint) → `shc:/` numeric text, one QR code. Cards longer
//! than one QR code holds are refused, never chunked (chunking is deprecated since 1.3.0).

use healthpass_codec::{jws, shc, zlib};
use jiff::Timestamp;
use serde_json::{Value, json};
use thiserror::Error;

use crate::key::{KeyError, SigningKey};

/// Why a card could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ShcIssueError {
    /// The key is not an EC P-256 key (SMART Health Cards are ES256 only).
    #[error("SMART Health Cards are signed with ES256: the key must be EC P-256")]
    NotEs256,
    /// The issuer URL breaks the spec's rules.
    #[error("the issuer URL {iss:?} {problem}")]
    IssuerUrl {
        /// The URL.
        iss: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// Not a FHIR Bundle.
    #[error("the content must be a FHIR Bundle (resourceType Bundle)")]
    NotABundle,
    /// The JWS would not fit one QR code.
    #[error(
        "the card is {len} characters long; one QR code holds {max}: make the bundle smaller (chunking is deprecated)"
    )]
    TooLong {
        /// The JWS length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Signs SMART Health Cards for one issuer with one key.
#[derive(Debug)]
pub struct ShcIssuer {
    key: SigningKey,
    iss: String,
    jwk: Value,
}

impl ShcIssuer {
    /// An issuer at `iss` (https, no trailing slash) signing with `key` (EC P-256).
    pub fn new(key: SigningKey, iss: &str) -> Result<Self, ShcIssueError> {
        if let Some(problem) = shc::issuer_url_problem(iss) {
            return Err(ShcIssueError::IssuerUrl {
                iss: iss.to_owned(),
                problem,
            });
        }
        let jwk = key.public_jwk().ok_or(ShcIssueError::NotEs256)?;
        Ok(Self {
            key,
            iss: iss.to_owned(),
            jwk,
        })
    }

    /// The key's id: its RFC 7638 thumbprint.
    pub fn kid(&self) -> &str {
        self.jwk["kid"].as_str().unwrap_or_default()
    }

    /// The JWKS to publish at `iss/.well-known/jwks.json`.
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.jwk]})
    }

    /// Signs a card holding `bundle`, issued at `nbf`, optionally expiring and with a
    /// revocation id. Returns the compact JWS.
    pub fn issue(
        &self,
        bundle: &Value,
        nbf: Timestamp,
        exp: Option<Timestamp>,
        rid: Option<&str>,
    ) -> Result<String, ShcIssueError> {
        if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return Err(ShcIssueError::NotABundle);
        }
        let claims = shc::encode_claims(
            &self.iss,
            nbf.as_second(),
            exp.map(|t| t.as_second()),
            rid,
            bundle,
        );
        let header = json!({"alg": "ES256", "zip": "DEF", "kid": self.kid()});
        let mut failure = None;
        let text = jws::encode(&header, &zlib::deflate_raw(&claims), |input| {
            self.key.sign(input).unwrap_or_else(|e| {
                failure = Some(e);
                Vec::new()
            })
        });
        if let Some(err) = failure {
            return Err(err.into());
        }
        if text.len() > shc::MAX_SINGLE_QR_JWS {
            return Err(ShcIssueError::TooLong {
                len: text.len(),
                max: shc::MAX_SINGLE_QR_JWS,
            });
        }
        Ok(text)
    }
}

/// The `shc:/…` QR text of a JWS.
pub fn qr_text(jws: &str) -> String {
    format!("{}{}", shc::QR_PREFIX, shc::encode_numeric(jws))
}
