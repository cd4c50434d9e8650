use healthpass_codec::cose;
use healthpass_codec::cwt;
use healthpass_trust::{PublicKey, SignerCertificate};
use jiff::Timestamp;
use serde_json::Value;
use thiserror::Error;

use crate::key::{KeyError, SigningKey};

/// Signs EU DCC payloads as `HC1:` texts with one key and its signer certificate.
#[derive(Debug)]
pub struct Hc1Issuer {
    key: SigningKey,
    signer: SignerCertificate,
    protected_header: Vec<u8>,
}

/// Why a certificate could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The private key does not belong to the signer certificate.
    #[error("the private key does not match the signer certificate's public key ({key})")]
    KeyMismatch {
        /// The certificate's key type.
        key: String,
    },
    /// The payload is not a JSON object.
    #[error("the payload must be a JSON object")]
    PayloadNotAnObject,
    /// The certificate would be valid outside its signer's validity (HCERT section 5.1).
    #[error(
        "the certificate would be valid {from} to {until}, outside its signer's validity ({not_before} to {not_after})"
    )]
    OutlivesSigner {
        /// Requested iat.
        from: Timestamp,
        /// Requested exp.
        until: Timestamp,
        /// Signer not before.
        not_before: Timestamp,
        /// Signer not after.
        not_after: Timestamp,
    },
    /// `exp` is not after `iat`.
    #[error("the expiry {until} is not after the issue time {from}")]
    EmptyValidity {
        /// Requested iat.
        from: Timestamp,
        /// Requested exp.
        until: Timestamp,
    },
    /// The signer's extended key usage does not allow this type of certificate.
    #[error(
        "the signer certificate may not sign {kind} certificates (its extended key usage excludes them)"
    )]
    KeyUsage {
        /// `v`, `t` or `r`.
        kind: &'static str,
    },
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl Hc1Issuer {
    /// Pairs a key with its signer certificate, checking that they belong together.
    pub fn new(key: SigningKey, signer: SignerCertificate) -> Result<Self, IssueError> {
        let matches = match signer.public_key() {
            PublicKey::EcP256(point) => point.as_slice() == key.public_key_bytes(),
            PublicKey::Rsa { pkcs1, .. } => pkcs1.as_slice() == key.public_key_bytes(),
            _ => false,
        };
        if !matches {
            return Err(IssueError::KeyMismatch {
                key: signer.public_key().describe(),
            });
        }
        let protected_header = cose::encode_protected_header(&key.algorithm(), &signer.kid());
        Ok(Self {
            key,
            signer,
            protected_header,
        })
    }

    /// The signer certificate.
    pub fn signer(&self) -> &SignerCertificate {
        &self.signer
    }

    /// Issues one certificate valid from `issued_at` until `expires_at`; `iss` is the signer's
    /// country. Returns the `HC1:` text.
    pub fn issue(
        &self,
        dcc: &Value,
        issued_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String, IssueError> {
        if !dcc.is_object() {
            return Err(IssueError::PayloadNotAnObject);
        }
        if expires_at <= issued_at {
            return Err(IssueError::EmptyValidity {
                from: issued_at,
                until: expires_at,
            });
        }
        for ty in healthpass_codec::dcc::entry_types(dcc) {
            if !self.signer.key_usage().permits(ty) {
                return Err(IssueError::KeyUsage { kind: ty.key() });
            }
        }
        let validity = self.signer.validity();
        if issued_at < validity.not_before || expires_at > validity.not_after {
            return Err(IssueError::OutlivesSigner {
                from: issued_at,
                until: expires_at,
                not_before: validity.not_before,
                not_after: validity.not_after,
            });
        }
        let claims = cwt::encode_hcert_claims(
            self.signer.country(),
            issued_at.as_second(),
            expires_at.as_second(),
            dcc,
        );
        let signature = self
            .key
            .sign(&cose::to_be_signed(&self.protected_header, &claims))?;
        let message = cose::encode_sign1(&self.protected_header, &claims, &signature);
        Ok(healthpass_codec::hc1::encode(&message))
    }
}
