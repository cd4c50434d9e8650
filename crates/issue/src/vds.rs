//! Issuing ICAO VDS-NC seals: the `data` (header and message) is signed in its RFC 8785
//! canonical form with ES256 by a barcode signer, whose certificate travels in the seal.

use healthpass_codec::vds;
use healthpass_trust::icao::BarcodeSignerProfile;
use healthpass_trust::{PublicKey, SignerCertificate};
use serde_json::Value;
use thiserror::Error;

use crate::key::{KeyError, SigningKey};

/// Why a seal could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SealIssueError {
    /// The key does not belong to the certificate, or is not EC P-256.
    #[error("the key must be the barcode signer certificate's EC P-256 key")]
    KeyMismatch,
    /// The data is not a seal's `data` (header with type, version 1 and issuing state; message).
    #[error("the seal data is not valid: {0}")]
    Data(String),
    /// The certificate may not seal this document type.
    #[error("the barcode signer certificate does not list document type {0}")]
    DocumentType(&'static str),
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Seals health proofs with one barcode signer.
#[derive(Debug)]
pub struct SealIssuer {
    key: SigningKey,
    certificate: SignerCertificate,
}

impl SealIssuer {
    /// A sealer with `key` and its barcode signer certificate.
    pub fn new(key: SigningKey, certificate: SignerCertificate) -> Result<Self, SealIssueError> {
        match certificate.public_key() {
            PublicKey::EcP256(point) if point.as_slice() == key.public_key_bytes() => {}
            _ => return Err(SealIssueError::KeyMismatch),
        }
        Ok(Self { key, certificate })
    }

    /// Seals `data` (`{"hdr": {"t", "v": 1, "is"}, "msg": {…}}`) and returns the seal's JSON
    /// text, as it goes into the QR code.
    pub fn issue(&self, data: &Value) -> Result<String, SealIssueError> {
        let alg = "ES256";
        // Parse what would be written, so that nothing is sealed that a reader refuses.
        let draft = vds::encode(data, alg, self.certificate.der(), &[0; 64]);
        let seal = vds::Seal::parse(&draft).map_err(|e| SealIssueError::Data(e.to_string()))?;
        let doc_type = seal.seal_type.document_type();
        if BarcodeSignerProfile::of(&self.certificate).allows(doc_type) == Some(false) {
            return Err(SealIssueError::DocumentType(doc_type));
        }
        let signature = self.key.sign(&seal.signed_bytes())?;
        Ok(vds::encode(data, alg, self.certificate.der(), &signature))
    }
}
