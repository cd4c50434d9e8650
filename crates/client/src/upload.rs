//! A country's uploads: each a CMS SignedData by one of its upload certificates, sent Base64
//! as `application/cms` (the EU gateway's format) over mutual TLS with its authentication
//! certificate.

use crate::http::{ClientError, GatewayClient};
use base64::Engine;

/// What an upload does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    /// Add a signer certificate (the CMS content is its DER).
    Signer,
    /// Withdraw a signer certificate (the CMS content is its DER).
    WithdrawSigner,
    /// Publish a revocation batch (the CMS content is the batch JSON).
    RevocationBatch,
    /// Delete a revocation batch (the CMS content is `{"batchId"}`).
    DeleteRevocationBatch,
    /// Publish a rule version (the CMS content is the EU rule JSON).
    Rule,
    /// Delete every version of a rule (the CMS content is its identifier).
    DeleteRule,
}

impl UploadKind {
    /// The gateway path.
    pub fn path(self) -> &'static str {
        match self {
            Self::Signer => "/signerCertificate",
            Self::WithdrawSigner => "/signerCertificate/delete",
            Self::RevocationBatch => "/revocation-list",
            Self::DeleteRevocationBatch => "/revocation-list/delete",
            Self::Rule => "/rules",
            Self::DeleteRule => "/rules/delete",
        }
    }
}

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// Talking to the gateway failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The gateway refused it: its problem report.
    #[error("the gateway refused the upload: {0}")]
    Refused(String),
}

/// Sends a CMS upload; returns the gateway's answer (`{"version", …}`).
pub async fn upload(
    client: &GatewayClient,
    kind: UploadKind,
    cms_der: &[u8],
) -> Result<serde_json::Value, UploadError> {
    let body = base64::engine::general_purpose::STANDARD.encode(cms_der);
    let response = client
        .post(kind.path(), "application/cms", body.into_bytes())
        .await?;
    if !response.status.is_success() {
        return Err(UploadError::Refused(response.problem()));
    }
    Ok(serde_json::from_slice(&response.body).unwrap_or(serde_json::Value::Null))
}
