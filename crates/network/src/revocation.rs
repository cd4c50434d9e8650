//! Revocation batches as the EU gateway takes them (`eu-dcc.md` section 6.2): a country's
//! CMS-signed JSON `{country, expires, kid, hashType, entries: [{hash}]}`, 1 to 1000 hashes of
//! one type for one signer (or `UNKNOWN_KID`). The hashes are truncated SHA-256 values: the
//! batch names no person and no certificate in clear.
//!
//! The gateway lists batches at `/revocation-list` and serves each one's CMS as uploaded; a
//! verifier checks the CMS against the country's upload certificates itself.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_trust::revocation::{HashType, RevocationHash};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::VerifiedOnboarding;

/// Most hashes in one batch (the EU gateway's limit).
pub const MAX_BATCH_ENTRIES: usize = 1000;

/// The `kid` of a batch that applies to every signer of the country.
pub const UNKNOWN_KID: &str = "UNKNOWN_KID";

/// One revocation batch, as signed by its country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevocationBatch {
    /// The revoking country.
    pub country: String,
    /// After this time the batch may be dropped (the certificates have expired).
    pub expires: Timestamp,
    /// The signer's kid (Base64 of 8 bytes), or `UNKNOWN_KID`.
    pub kid: String,
    /// `SIGNATURE`, `UCI` or `COUNTRYCODEUCI`.
    pub hash_type: String,
    /// The hashes.
    pub entries: Vec<RevocationEntry>,
}

/// One revoked hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationEntry {
    /// Base64 of the first 16 bytes of the SHA-256.
    pub hash: String,
}

/// Why a revocation batch is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// Not the batch JSON.
    #[error("not a revocation batch: {0}")]
    Format(String),
    /// The country is not two capital letters.
    #[error("the batch's country {0:?} is not an ISO 3166-1 alpha-2 code")]
    Country(String),
    /// The kid is neither Base64 of 8 bytes nor `UNKNOWN_KID`.
    #[error("the batch's kid is neither Base64 of 8 bytes nor UNKNOWN_KID")]
    Kid,
    /// An unknown hash type.
    #[error("unknown hash type {0:?} (SIGNATURE, UCI or COUNTRYCODEUCI)")]
    HashType(String),
    /// No entries, or more than 1000.
    #[error("a batch holds 1 to {MAX_BATCH_ENTRIES} hashes, this one {0}")]
    Size(usize),
    /// An entry is not Base64 of 16 bytes.
    #[error("entry {index} is not Base64 of a 16-byte hash")]
    Hash {
        /// 0-based position.
        index: usize,
    },
}

impl RevocationBatch {
    /// A batch of `hashes`.
    pub fn new(
        country: &str,
        expires: Timestamp,
        kid: Option<[u8; 8]>,
        hash_type: HashType,
        hashes: &[RevocationHash],
    ) -> Self {
        Self {
            country: country.to_owned(),
            expires,
            kid: kid.map_or_else(|| UNKNOWN_KID.to_owned(), |k| B64.encode(k)),
            hash_type: hash_type.as_str().to_owned(),
            entries: hashes
                .iter()
                .map(|h| RevocationEntry {
                    hash: B64.encode(h),
                })
                .collect(),
        }
    }

    /// Reads and checks a batch strictly.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BatchError> {
        let batch: Self =
            serde_json::from_slice(bytes).map_err(|e| BatchError::Format(e.to_string()))?;
        batch.check()?;
        Ok(batch)
    }

    /// The JSON as signed.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a batch serializes")
    }

    fn check(&self) -> Result<(), BatchError> {
        let c = self.country.as_bytes();
        if c.len() != 2 || !c.iter().all(u8::is_ascii_uppercase) {
            return Err(BatchError::Country(self.country.clone()));
        }
        self.kid()?;
        self.hash_type()?;
        if self.entries.is_empty() || self.entries.len() > MAX_BATCH_ENTRIES {
            return Err(BatchError::Size(self.entries.len()));
        }
        self.hashes().map(|_| ())
    }

    /// The signer's kid; `None` for `UNKNOWN_KID`.
    pub fn kid(&self) -> Result<Option<[u8; 8]>, BatchError> {
        if self.kid == UNKNOWN_KID {
            return Ok(None);
        }
        B64.decode(&self.kid)
            .ok()
            .and_then(|k| <[u8; 8]>::try_from(k).ok())
            .map(Some)
            .ok_or(BatchError::Kid)
    }

    /// The hash type.
    pub fn hash_type(&self) -> Result<HashType, BatchError> {
        HashType::parse(&self.hash_type).ok_or_else(|| BatchError::HashType(self.hash_type.clone()))
    }

    /// The hashes.
    pub fn hashes(&self) -> Result<Vec<RevocationHash>, BatchError> {
        self.entries
            .iter()
            .enumerate()
            .map(|(index, e)| {
                B64.decode(&e.hash)
                    .ok()
                    .and_then(|h| RevocationHash::try_from(h).ok())
                    .ok_or(BatchError::Hash { index })
            })
            .collect()
    }
}

/// A request to delete a batch (EU: `{"batchId": …}`), CMS-signed like an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchDeletion {
    /// The batch.
    pub batch_id: String,
}

/// One batch in the gateway's list (EU `BatchListItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchListItem {
    /// The batch's id ([`batch_id`]).
    pub batch_id: String,
    /// The revoking country.
    pub country: String,
    /// When the gateway accepted it (or its deletion).
    pub date: Timestamp,
    /// Whether the country deleted it.
    pub deleted: bool,
    /// The gateway version of its last change (for `?since=`).
    pub version: u64,
}

/// The gateway's list of batches (EU `BatchList`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchList {
    /// More pages follow (never: the list is sent whole).
    pub more: bool,
    /// The batches.
    pub batches: Vec<BatchListItem>,
}

/// The id of a batch: hex of the first 16 bytes of its CMS's
/// [`signed_digest`](crate::cms::VerifiedCms::signed_digest), so a re-enveloped copy of a
/// batch has the same id as the batch.
pub fn batch_id(signed_digest: &[u8; 32]) -> String {
    signed_digest[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Why a verifier does not apply a batch the gateway listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("revocation batch {batch_id} of {country}: {problem}")]
pub struct BatchRejection {
    /// The batch, as listed.
    pub batch_id: String,
    /// Its country, as listed.
    pub country: String,
    /// What is wrong.
    pub problem: String,
}

/// Checks a batch the gateway served, as a verifier must: its id is its CMS's, the CMS is the
/// listed country's (signed by one of its upload certificates), and it holds a valid batch of
/// that country.
pub fn verify_batch(
    item: &BatchListItem,
    cms_der: &[u8],
    countries: &BTreeMap<String, VerifiedOnboarding>,
) -> Result<RevocationBatch, BatchRejection> {
    let reject = |problem: String| BatchRejection {
        batch_id: item.batch_id.clone(),
        country: item.country.clone(),
        problem,
    };
    let onboarding = countries
        .get(&item.country)
        .ok_or_else(|| reject("the country is not onboarded".into()))?;
    let verified = onboarding
        .certificates
        .verify_upload(cms_der, None)
        .map_err(|e| reject(format!("the upload signature is refused: {e}")))?;
    if batch_id(&verified.signed_digest) != item.batch_id {
        return Err(reject("the batch id is not its content's".into()));
    }
    let batch = RevocationBatch::from_json(&verified.content).map_err(|e| reject(e.to_string()))?;
    if batch.country != item.country {
        return Err(reject(format!("the batch is for {}", batch.country)));
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> Timestamp {
        "2027-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_batch_round_trips_and_is_read_strictly() {
        let batch = RevocationBatch::new("AT", at(), Some([7; 8]), HashType::Uci, &[[1; 16]]);
        let json = batch.to_json();
        let back = RevocationBatch::from_json(&json).unwrap();
        assert_eq!(back, batch);
        assert_eq!(back.kid().unwrap(), Some([7; 8]));
        assert_eq!(back.hashes().unwrap(), [[1; 16]]);
        let unknown = RevocationBatch::new("AT", at(), None, HashType::Signature, &[[1; 16]]);
        assert_eq!(unknown.kid, "UNKNOWN_KID");

        let edit = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
            f(&mut v);
            RevocationBatch::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err()
        };
        assert_eq!(
            edit(&|v| v["country"] = "at".into()),
            BatchError::Country("at".into())
        );
        assert_eq!(edit(&|v| v["kid"] = "AAAA".into()), BatchError::Kid);
        assert_eq!(
            edit(&|v| v["hashType"] = "SHA".into()),
            BatchError::HashType("SHA".into())
        );
        assert_eq!(
            edit(&|v| v["entries"] = serde_json::json!([])),
            BatchError::Size(0)
        );
        assert_eq!(
            edit(&|v| v["entries"][0]["hash"] = "AAAA".into()),
            BatchError::Hash { index: 0 }
        );
        assert!(matches!(
            edit(&|v| v["extra"] = 1.into()),
            BatchError::Format(_)
        ));
        let many = vec![[0; 16]; MAX_BATCH_ENTRIES + 1];
        let big = RevocationBatch::new("AT", at(), None, HashType::Uci, &many);
        assert_eq!(
            RevocationBatch::from_json(&big.to_json()).unwrap_err(),
            BatchError::Size(1001)
        );
        assert_eq!(batch_id(&[0xab; 32]), "ab".repeat(16));
    }
}

/// `GET /revocation/filters`: the revocation filter of each signer key, built from the batches
/// in force (`healthpass_trust::revocation_filter`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterList {
    /// The gateway version the filters were built at.
    pub version: u64,
    /// The transparency-log entry that holds these filters' digests ([`LoggedFilters`]), when
    /// the gateway has a log: a verifier checks the filters it applies against it, so the
    /// operator cannot serve a filter without a revocation it logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// One per signer key with revoked certificates.
    pub filters: Vec<FilterInfo>,
}

/// What a `revocation_filters` log entry commits to: every filter the gateway serves from
/// then on, by digest. Its JSON has one form (this struct's, keys sorted by kid, each once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoggedFilters {
    /// One per signer key with revoked certificates, sorted by kid.
    pub filters: Vec<FilterInfo>,
}

/// Why bytes are not a [`LoggedFilters`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not the revocation filters' log form: {0}")]
pub struct LoggedFiltersError(pub String);

impl LoggedFilters {
    /// The entry's request body.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("filter digests serialize")
    }

    /// Reads an entry's request body; only the one form [`to_json`](Self::to_json) writes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, LoggedFiltersError> {
        let logged: Self =
            serde_json::from_slice(bytes).map_err(|e| LoggedFiltersError(e.to_string()))?;
        if !logged.filters.windows(2).all(|w| w[0].kid < w[1].kid) {
            return Err(LoggedFiltersError("kids not sorted, or one twice".into()));
        }
        if logged.to_json() != bytes {
            return Err(LoggedFiltersError("not in canonical form".into()));
        }
        Ok(logged)
    }
}

/// One signer key's filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterInfo {
    /// The signer's kid, Base64 (its path form is Base64url).
    pub kid: String,
    /// Revoked hashes in it.
    pub count: u64,
    /// Fingerprint width.
    pub universe_bits: u8,
    /// Lowercase hex SHA-256 of the filter's encoding.
    pub digest: String,
}

/// `GET /revocation/partitions/{kid}/{xx}`: the exact revoked hashes of one signer key whose
/// first byte is `xx`, to settle a filter hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartitionHashes {
    /// The signer's kid, Base64.
    pub kid: String,
    /// The first byte of every hash in it.
    pub partition: u8,
    /// The hashes, with their types.
    pub hashes: Vec<PartitionHash>,
}

/// One revoked hash of a partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartitionHash {
    /// `SIGNATURE`, `UCI` or `COUNTRYCODEUCI`.
    pub hash_type: String,
    /// Base64 of the 16 bytes.
    pub hash: String,
}

/// A kid in a path: Base64url without padding (EU convention), from its Base64 form.
pub fn kid_to_path(kid: &str) -> String {
    kid.trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// A kid from its path form back to Base64 (12 characters with padding for 8 bytes).
pub fn kid_from_path(path: &str) -> String {
    let mut kid = path.replace('-', "+").replace('_', "/");
    while !kid.len().is_multiple_of(4) {
        kid.push('=');
    }
    kid
}
