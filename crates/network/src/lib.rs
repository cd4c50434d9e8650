//! Governance of the trust network, without a single owner.
//!
//! The network is defined by `n` governance public keys and a threshold `k` ([`Network`]),
//! handed out of band like a root certificate. A country joins through an
//! [`OnboardingRecord`]: its CSCA certificates (which sign its document signers), its upload
//! certificates (which sign what it uploads) and its authentication certificates (mutual TLS).
//! The record counts only with `k` valid signatures of distinct governance keys
//! ([`SignedOnboarding::verify`]); the gateway checks that before accepting a country, and
//! every verifier checks it again, so neither the gateway's operator nor any `k - 1` governance
//! key holders can add a country on their own.
//!
//! Signatures are Ed25519 over a domain-separated canonical JSON form of the record
//! ([`OnboardingRecord::signing_bytes`]).
//!
//! Countries sign what they upload as CMS SignedData ([`cms`], the EU gateway's
//! `application/cms`), and the [`trustlist`] a verifier downloads is checked entry by entry:
//! governance → onboarding → CSCA → DSC, and the country's upload signature over the DSC.
//! Nothing here does I/O or reads the clock.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cms;
pub mod log;
pub mod revocation;
pub mod rules;
pub mod trustlist;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_trust::SignerCertificate;
use jiff::Timestamp;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Prefix of every signed onboarding message, so that a governance signature can never be
/// replayed as a signature over anything else.
const ONBOARDING_DOMAIN: &[u8] = b"healthpass/onboarding/v1\0";

/// The most governance keys a network may have.
pub const MAX_GOVERNANCE_KEYS: usize = 64;

/// Why a governance key, network or record is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GovernanceError {
    /// A private key file is not an Ed25519 PKCS#8 key.
    #[error("not an Ed25519 private key (PKCS#8 PEM): {0}")]
    Key(String),
    /// The threshold is 0, or larger than the number of keys.
    #[error("threshold {threshold} is not between 1 and the number of governance keys ({keys})")]
    Threshold {
        /// k.
        threshold: usize,
        /// n.
        keys: usize,
    },
    /// The network's log settings do not read (a key, or a quorum no witnesses can meet).
    #[error("the network's log settings: {0}")]
    LogSettings(String),
    /// Two governance keys share an id, or a key id does not match its key.
    #[error("governance key {0:?} is listed twice or does not match its id")]
    KeyList(String),
    /// Too many governance keys.
    #[error("more than {MAX_GOVERNANCE_KEYS} governance keys")]
    TooManyKeys,
    /// Not JSON of the expected shape.
    #[error("not a valid {what}: {problem}")]
    Format {
        /// What was being read.
        what: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The key signing is not one of the network's governance keys.
    #[error("key {0} is not a governance key of this network")]
    NotAGovernanceKey(String),
    /// The record is for another network.
    #[error("the record is for network {record:?}, not {network:?}")]
    WrongNetwork {
        /// The record's network.
        record: String,
        /// The network checked against.
        network: String,
    },
    /// Fewer than `k` valid signatures of distinct governance keys.
    #[error(
        "{what} has {valid} valid governance signature(s), {required} required{}",
        rejected_suffix(.rejected)
    )]
    NotEnoughSignatures {
        /// What was signed (`onboarding of AT`, `value sets 3`).
        what: String,
        /// Valid signatures of distinct governance keys.
        valid: usize,
        /// The threshold.
        required: usize,
        /// Signatures that did not count, with why.
        rejected: Vec<String>,
    },
    /// A certificate in the record is unreadable or belongs to another country.
    #[error("{role} certificate #{index}: {problem}")]
    Certificate {
        /// `csca`, `upload` or `authentication`.
        role: &'static str,
        /// Its position in the record, from 1.
        index: usize,
        /// What is wrong.
        problem: String,
    },
}

fn rejected_suffix(rejected: &[String]) -> String {
    if rejected.is_empty() {
        String::new()
    } else {
        format!(" (not counted: {})", rejected.join("; "))
    }
}

fn format_error(what: &'static str) -> impl Fn(serde_json::Error) -> GovernanceError {
    move |e| GovernanceError::Format {
        what,
        problem: e.to_string(),
    }
}

/// The DER inside the first PEM block with `label`.
pub(crate) fn pem_body(pem: &str, label: &str) -> Result<Vec<u8>, GovernanceError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = pem
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body)
        .ok_or_else(|| GovernanceError::Key(format!("no {begin} block")))?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(b64)
        .map_err(|e| GovernanceError::Key(e.to_string()))
}

/// The id of a governance public key: the first 8 bytes of its SHA-256, in hex.
pub fn key_id(public_key: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, public_key);
    digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A governance private key (Ed25519). Held offline by one governance member.
pub struct GovernanceKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
    id: String,
}

impl std::fmt::Debug for GovernanceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GovernanceKey({})", self.id)
    }
}

const PEM_LABEL: &str = "PRIVATE KEY";

impl GovernanceKey {
    /// A new random key.
    pub fn generate() -> Result<Self, GovernanceError> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| GovernanceError::Key("the system random generator failed".into()))?;
        Self::from_pkcs8_der(pkcs8.as_ref())
    }

    /// From PKCS#8 DER (v1 or v2).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, GovernanceError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| GovernanceError::Key(e.to_string()))?;
        let id = key_id(pair.public_key().as_ref());
        Ok(Self {
            pair,
            pkcs8: der.to_vec(),
            id,
        })
    }

    /// From a PEM `PRIVATE KEY` block.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, GovernanceError> {
        Self::from_pkcs8_der(&pem_body(pem, PEM_LABEL)?)
    }

    /// As a PEM `PRIVATE KEY` block (unencrypted: keep the file offline and private).
    pub fn to_pkcs8_pem(&self) -> String {
        healthpass_codec::pem::encode(PEM_LABEL, &self.pkcs8)
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The public half, as the network definition lists it.
    pub fn public(&self) -> GovernancePublicKey {
        GovernancePublicKey {
            id: self.id.clone(),
            public_key: B64.encode(self.pair.public_key().as_ref()),
        }
    }
}

/// A governance public key as the network definition lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernancePublicKey {
    /// [`key_id`] of the key.
    pub id: String,
    /// The raw 32-byte Ed25519 public key, Base64.
    pub public_key: String,
}

/// The trust network's definition: its name, governance keys and threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The network's name; every record names the network it is for.
    pub name: String,
    /// How many governance signatures a record needs (k).
    pub threshold: usize,
    /// The governance keys (n).
    pub governance_keys: Vec<GovernancePublicKey>,
    /// The gateway's transparency log: its checkpoint key and the witnesses verifiers require.
    /// Without it, clients sync without the log's checks (and say so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<log::LogSettings>,
}

impl Network {
    /// A checked network definition.
    pub fn new(
        name: impl Into<String>,
        threshold: usize,
        governance_keys: Vec<GovernancePublicKey>,
    ) -> Result<Self, GovernanceError> {
        let network = Self {
            name: name.into(),
            threshold,
            governance_keys,
            log: None,
        };
        network.check()?;
        Ok(network)
    }

    /// Reads and checks a network definition.
    pub fn from_json(text: &str) -> Result<Self, GovernanceError> {
        let network: Self =
            serde_json::from_str(text).map_err(format_error("network definition"))?;
        network.check()?;
        Ok(network)
    }

    fn check(&self) -> Result<(), GovernanceError> {
        let n = self.governance_keys.len();
        if n > MAX_GOVERNANCE_KEYS {
            return Err(GovernanceError::TooManyKeys);
        }
        if self.threshold == 0 || self.threshold > n {
            return Err(GovernanceError::Threshold {
                threshold: self.threshold,
                keys: n,
            });
        }
        let mut seen = BTreeSet::new();
        for key in &self.governance_keys {
            let raw = B64
                .decode(&key.public_key)
                .map_err(|_| GovernanceError::KeyList(key.id.clone()))?;
            if raw.len() != 32 || key_id(&raw) != key.id || !seen.insert(key.id.as_str()) {
                return Err(GovernanceError::KeyList(key.id.clone()));
            }
        }
        if let Some(log) = &self.log {
            log.policy()
                .map_err(|e| GovernanceError::LogSettings(e.to_string()))?;
        }
        Ok(())
    }

    fn public_key(&self, id: &str) -> Option<Vec<u8>> {
        let key = self.governance_keys.iter().find(|k| k.id == id)?;
        B64.decode(&key.public_key).ok()
    }
}

/// What a country is onboarded with. Certificates are Base64 DER.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnboardingRecord {
    /// The network it is for.
    pub network: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Increases with every new record of the country; a verifier keeps the highest it saw
    /// and refuses older ones (no rollback to a withdrawn key).
    pub sequence: u64,
    /// When the record was made.
    pub issued_at: Timestamp,
    /// CSCA certificates: the only issuers of the country's document signers.
    pub csca: Vec<String>,
    /// Upload certificates: the only signers of the country's uploads.
    pub upload: Vec<String>,
    /// Authentication certificates: the only TLS client certificates of the country.
    pub authentication: Vec<String>,
}

/// The certificates of a record, parsed and checked.
#[derive(Debug, Clone)]
pub struct OnboardingCertificates {
    /// CSCA certificates.
    pub csca: Vec<SignerCertificate>,
    /// Upload certificates.
    pub upload: Vec<SignerCertificate>,
    /// Authentication certificates.
    pub authentication: Vec<SignerCertificate>,
}

/// Why a CMS message does not count as the country's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UploadSignatureError {
    /// The CMS does not verify.
    #[error(transparent)]
    Cms(cms::CmsError),
    /// It verifies, but its signer is not one of the country's upload certificates.
    #[error("it is signed by {signer}, not by an upload certificate of the country")]
    NotAnUploadCertificate {
        /// The signer's subject.
        signer: String,
    },
}

impl OnboardingCertificates {
    /// Verifies a CMS message as the country's: it verifies (over `detached`, when the
    /// content is not in the message), and its signer is one of the upload certificates.
    pub fn verify_upload(
        &self,
        cms_der: &[u8],
        detached: Option<&[u8]>,
    ) -> Result<cms::VerifiedCms, UploadSignatureError> {
        let verified = cms::verify(cms_der, detached).map_err(UploadSignatureError::Cms)?;
        if !self.upload.iter().any(|u| u.der() == verified.signer.der()) {
            return Err(UploadSignatureError::NotAnUploadCertificate {
                signer: verified.signer.subject().to_owned(),
            });
        }
        Ok(verified)
    }
}

impl OnboardingRecord {
    /// A record for `country` from DER certificates; each must carry that country in its
    /// subject, and each role needs at least one.
    pub fn new(
        network: &Network,
        country: &str,
        sequence: u64,
        issued_at: Timestamp,
        csca: &[Vec<u8>],
        upload: &[Vec<u8>],
        authentication: &[Vec<u8>],
    ) -> Result<Self, GovernanceError> {
        let b64 = |ders: &[Vec<u8>]| ders.iter().map(|d| B64.encode(d)).collect();
        let record = Self {
            network: network.name.clone(),
            country: country.to_owned(),
            sequence,
            issued_at,
            csca: b64(csca),
            upload: b64(upload),
            authentication: b64(authentication),
        };
        record.certificates()?;
        Ok(record)
    }

    /// Parses the certificates and checks each names the record's country.
    pub fn certificates(&self) -> Result<OnboardingCertificates, GovernanceError> {
        if self.country.len() != 2 || !self.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(GovernanceError::Format {
                what: "onboarding record",
                problem: format!("country {:?} is not two capital letters", self.country),
            });
        }
        let parse = |role: &'static str,
                     list: &[String]|
         -> Result<Vec<SignerCertificate>, GovernanceError> {
            if list.is_empty() {
                return Err(GovernanceError::Certificate {
                    role,
                    index: 0,
                    problem: "the record has none".into(),
                });
            }
            list.iter()
                .enumerate()
                .map(|(i, b64)| {
                    let problem = |problem: String| GovernanceError::Certificate {
                        role,
                        index: i + 1,
                        problem,
                    };
                    let der = B64
                        .decode(b64)
                        .map_err(|e| problem(format!("not Base64: {e}")))?;
                    let cert =
                        SignerCertificate::from_der(&der).map_err(|e| problem(e.to_string()))?;
                    match cert.country() {
                        Some(c) if c == self.country => Ok(cert),
                        other => Err(problem(format!(
                            "subject country is {:?}, not {}",
                            other.unwrap_or("missing"),
                            self.country
                        ))),
                    }
                })
                .collect()
        };
        Ok(OnboardingCertificates {
            csca: parse("csca", &self.csca)?,
            upload: parse("upload", &self.upload)?,
            authentication: parse("authentication", &self.authentication)?,
        })
    }

    /// The bytes governance keys sign: a domain prefix, then the record as canonical JSON
    /// (object keys sorted, no insignificant whitespace: RFC 8785 for the values a record holds,
    /// which are ASCII strings and integers).
    pub fn signing_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("a record serialises");
        let mut bytes = ONBOARDING_DOMAIN.to_vec();
        serde_json::to_writer(&mut bytes, &value).expect("writing to a Vec cannot fail");
        bytes
    }
}

/// One governance signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceSignature {
    /// The governance key's id.
    pub key: String,
    /// Ed25519 signature over [`OnboardingRecord::signing_bytes`], Base64.
    pub signature: String,
}

/// A record with the governance signatures gathered so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedOnboarding {
    /// The record.
    pub record: OnboardingRecord,
    /// Its signatures.
    pub signatures: Vec<GovernanceSignature>,
}

/// A record that passed [`SignedOnboarding::verify`].
#[derive(Debug, Clone)]
pub struct VerifiedOnboarding {
    /// The record.
    pub record: OnboardingRecord,
    /// Its certificates, parsed and checked.
    pub certificates: OnboardingCertificates,
    /// The governance keys whose signatures counted.
    pub signed_by: Vec<String>,
}

impl SignedOnboarding {
    /// A record with no signatures yet.
    pub fn unsigned(record: OnboardingRecord) -> Self {
        Self {
            record,
            signatures: Vec::new(),
        }
    }

    /// Reads a signed (or partly signed) record.
    pub fn from_json(text: &str) -> Result<Self, GovernanceError> {
        serde_json::from_str(text).map_err(format_error("onboarding record"))
    }

    /// As pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a record serialises")
    }

    /// Adds `key`'s signature (replacing an earlier one of the same key). The key must be a
    /// governance key of `network`, and the record must be for it and well formed.
    pub fn sign(&mut self, key: &GovernanceKey, network: &Network) -> Result<(), GovernanceError> {
        self.check_network(network)?;
        if !network.governance_keys.iter().any(|k| k.id == key.id) {
            return Err(GovernanceError::NotAGovernanceKey(key.id.clone()));
        }
        self.record.certificates()?;
        add_governance_signature(key, &self.record.signing_bytes(), &mut self.signatures);
        Ok(())
    }

    fn check_network(&self, network: &Network) -> Result<(), GovernanceError> {
        if self.record.network != network.name {
            return Err(GovernanceError::WrongNetwork {
                record: self.record.network.clone(),
                network: network.name.clone(),
            });
        }
        Ok(())
    }

    /// Checks the record against the network: for it, well formed, and signed by at least
    /// `threshold` distinct governance keys. Signatures by unknown keys, invalid signatures and
    /// a second signature by the same key do not count.
    pub fn verify(&self, network: &Network) -> Result<VerifiedOnboarding, GovernanceError> {
        self.check_network(network)?;
        let certificates = self.record.certificates()?;
        let signed_by = count_governance_signatures(
            network,
            &self.record.signing_bytes(),
            &self.signatures,
            || format!("onboarding of {}", self.record.country),
        )?;
        Ok(VerifiedOnboarding {
            record: self.record.clone(),
            certificates,
            signed_by,
        })
    }
}

/// Adds `key`'s Ed25519 signature over `message`, replacing an earlier one of the same key.
fn add_governance_signature(
    key: &GovernanceKey,
    message: &[u8],
    signatures: &mut Vec<GovernanceSignature>,
) {
    let signature = key.pair.sign(message);
    signatures.retain(|s| s.key != key.id);
    signatures.push(GovernanceSignature {
        key: key.id.clone(),
        signature: B64.encode(signature.as_ref()),
    });
}

/// The governance keys whose signatures over `message` are valid, if at least the network's
/// threshold of distinct keys. Signatures by unknown keys, invalid signatures and a second
/// signature by the same key do not count; the error lists them.
fn count_governance_signatures(
    network: &Network,
    message: &[u8],
    signatures: &[GovernanceSignature],
    what: impl FnOnce() -> String,
) -> Result<Vec<String>, GovernanceError> {
    let mut signed_by = Vec::new();
    let mut rejected = Vec::new();
    for signature in signatures {
        let Some(public_key) = network.public_key(&signature.key) else {
            rejected.push(format!("{} is not a governance key", signature.key));
            continue;
        };
        if signed_by.contains(&signature.key) {
            rejected.push(format!("{} signed twice", signature.key));
            continue;
        }
        let valid = B64.decode(&signature.signature).ok().is_some_and(|sig| {
            UnparsedPublicKey::new(&ED25519, &public_key)
                .verify(message, &sig)
                .is_ok()
        });
        if valid {
            signed_by.push(signature.key.clone());
        } else {
            rejected.push(format!("{}'s signature does not verify", signature.key));
        }
    }
    if signed_by.len() < network.threshold {
        return Err(GovernanceError::NotEnoughSignatures {
            what: what(),
            valid: signed_by.len(),
            required: network.threshold,
            rejected,
        });
    }
    Ok(signed_by)
}

/// The value sets of the network (vaccine products, test types, …, the EU value-set JSON by
/// id): shared by every country's rules, so no country and no gateway operator publishes
/// them alone. A release is valid with k of n governance signatures, and replaces an earlier
/// release only with a higher sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSetRelease {
    /// The network's name.
    pub network: String,
    /// Increases with every release.
    pub sequence: u64,
    /// When it was made.
    pub issued_at: Timestamp,
    /// The value sets: id → the EU value-set JSON (`{valueSetId, valueSetDate, valueSetValues}`).
    pub value_sets: std::collections::BTreeMap<String, serde_json::Value>,
}

const VALUE_SETS_DOMAIN: &[u8] = b"healthpass/value-sets/v1\0";

impl ValueSetRelease {
    /// The bytes governance keys sign: a domain prefix, then the release as JSON with sorted
    /// keys and no insignificant whitespace.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("a release serialises");
        let mut bytes = VALUE_SETS_DOMAIN.to_vec();
        serde_json::to_writer(&mut bytes, &value).expect("writing to a Vec cannot fail");
        bytes
    }
}

/// A value-set release with its governance signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedValueSets {
    /// The release.
    pub release: ValueSetRelease,
    /// Its signatures.
    pub signatures: Vec<GovernanceSignature>,
}

impl SignedValueSets {
    /// A release with no signatures yet.
    pub fn unsigned(release: ValueSetRelease) -> Self {
        Self {
            release,
            signatures: Vec::new(),
        }
    }

    /// Reads a signed (or partly signed) release.
    pub fn from_json(text: &str) -> Result<Self, GovernanceError> {
        serde_json::from_str(text).map_err(format_error("value-set release"))
    }

    /// As pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a release serialises")
    }

    fn check_network(&self, network: &Network) -> Result<(), GovernanceError> {
        if self.release.network != network.name {
            return Err(GovernanceError::WrongNetwork {
                record: self.release.network.clone(),
                network: network.name.clone(),
            });
        }
        Ok(())
    }

    /// Adds `key`'s signature (replacing an earlier one of the same key).
    pub fn sign(&mut self, key: &GovernanceKey, network: &Network) -> Result<(), GovernanceError> {
        self.check_network(network)?;
        if !network.governance_keys.iter().any(|k| k.id == key.id) {
            return Err(GovernanceError::NotAGovernanceKey(key.id.clone()));
        }
        add_governance_signature(key, &self.release.signing_bytes(), &mut self.signatures);
        Ok(())
    }

    /// Checks the release: for this network and signed by k distinct governance keys.
    pub fn verify(&self, network: &Network) -> Result<Vec<String>, GovernanceError> {
        self.check_network(network)?;
        count_governance_signatures(
            network,
            &self.release.signing_bytes(),
            &self.signatures,
            || format!("value-set release {}", self.release.sequence),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthpass_issue::pki::{TestPkiOptions, generate_test_pki};

    fn der_of_pem(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        B64.decode(body).unwrap()
    }

    /// A 2-of-3 network and a record for `country` (test-PKI certificates stand in for the
    /// upload and authentication certificates: what matters here is their country).
    fn setup(country: &str) -> (Network, [GovernanceKey; 3], OnboardingRecord) {
        let keys = [(); 3].map(|()| GovernanceKey::generate().unwrap());
        let network = Network::new(
            "test-net",
            2,
            keys.iter().map(GovernanceKey::public).collect(),
        )
        .unwrap();
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let pki = generate_test_pki(&TestPkiOptions::new(country, t)).unwrap();
        let record = OnboardingRecord::new(
            &network,
            country,
            1,
            t,
            &[der_of_pem(&pki.csca_cert_pem)],
            std::slice::from_ref(&pki.dsc_cert_der),
            std::slice::from_ref(&pki.dsc_cert_der),
        )
        .unwrap();
        (network, keys, record)
    }

    #[test]
    fn two_of_three_signatures_onboard_a_country_one_does_not() {
        let (network, keys, record) = setup("AT");
        let mut signed = SignedOnboarding::unsigned(record);
        signed.sign(&keys[0], &network).unwrap();
        match signed.verify(&network) {
            Err(GovernanceError::NotEnoughSignatures {
                valid: 1,
                required: 2,
                ..
            }) => {}
            other => panic!("1 of 3 must be refused: {other:?}"),
        }
        // The same key again does not count twice.
        signed.signatures.push(signed.signatures[0].clone());
        assert!(matches!(
            signed.verify(&network),
            Err(GovernanceError::NotEnoughSignatures { valid: 1, .. })
        ));
        signed.signatures.pop();
        signed.sign(&keys[2], &network).unwrap();
        let verified = signed.verify(&network).unwrap();
        assert_eq!(verified.signed_by, [keys[0].id(), keys[2].id()]);
        assert_eq!(verified.certificates.csca[0].country(), Some("AT"));
        // Through JSON and back.
        let again = SignedOnboarding::from_json(&signed.to_json()).unwrap();
        assert!(again.verify(&network).is_ok());
    }

    #[test]
    fn a_changed_record_or_a_foreign_key_does_not_count() {
        let (network, keys, record) = setup("FR");
        let mut signed = SignedOnboarding::unsigned(record);
        signed.sign(&keys[0], &network).unwrap();
        signed.sign(&keys[1], &network).unwrap();
        let mut tampered = signed.clone();
        tampered.record.sequence = 2;
        let err = tampered.verify(&network).unwrap_err();
        assert!(
            matches!(err, GovernanceError::NotEnoughSignatures { valid: 0, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("does not verify"), "{err}");

        let outsider = GovernanceKey::generate().unwrap();
        assert_eq!(
            signed.clone().sign(&outsider, &network),
            Err(GovernanceError::NotAGovernanceKey(outsider.id().to_owned()))
        );
        // A signature by an outsider slipped in by hand is not counted either.
        let mut forged = SignedOnboarding::unsigned(signed.record.clone());
        forged.signatures.push(GovernanceSignature {
            key: outsider.id().to_owned(),
            signature: B64.encode(outsider.pair.sign(&signed.record.signing_bytes()).as_ref()),
        });
        forged.sign(&keys[0], &network).unwrap();
        let err = forged.verify(&network).unwrap_err();
        assert!(err.to_string().contains("is not a governance key"), "{err}");

        let other = Network::new("other-net", 1, vec![keys[0].public()]).unwrap();
        assert!(matches!(
            signed.verify(&other),
            Err(GovernanceError::WrongNetwork { .. })
        ));
    }

    #[test]
    fn records_hold_only_the_countrys_certificates() {
        let (network, _, record) = setup("DE");
        let foreign = generate_test_pki(&TestPkiOptions::new("PL", record.issued_at)).unwrap();
        let mut mixed = record.clone();
        mixed.upload.push(B64.encode(&foreign.dsc_cert_der));
        let err = mixed.certificates().unwrap_err();
        assert_eq!(
            err.to_string(),
            "upload certificate #2: subject country is \"PL\", not DE"
        );
        let mut empty = record.clone();
        empty.csca.clear();
        assert!(matches!(
            empty.certificates(),
            Err(GovernanceError::Certificate { role: "csca", .. })
        ));
        let mut junk = record;
        junk.authentication[0] = B64.encode(b"not a certificate");
        assert!(matches!(
            junk.certificates(),
            Err(GovernanceError::Certificate {
                role: "authentication",
                index: 1,
                ..
            })
        ));
        let _ = network;
    }

    #[test]
    fn networks_and_keys_are_checked() {
        let keys = [(); 2].map(|()| GovernanceKey::generate().unwrap());
        let public: Vec<_> = keys.iter().map(GovernanceKey::public).collect();
        assert!(matches!(
            Network::new("n", 0, public.clone()),
            Err(GovernanceError::Threshold { .. })
        ));
        assert!(matches!(
            Network::new("n", 3, public.clone()),
            Err(GovernanceError::Threshold { .. })
        ));
        let twice = vec![public[0].clone(), public[0].clone()];
        assert!(matches!(
            Network::new("n", 1, twice),
            Err(GovernanceError::KeyList(_))
        ));
        let mut wrong_id = public.clone();
        wrong_id[1].id = public[0].id.clone() + "00";
        assert!(matches!(
            Network::new("n", 1, wrong_id),
            Err(GovernanceError::KeyList(_))
        ));
        let network = Network::new("n", 2, public).unwrap();
        let json = serde_json::to_string(&network).unwrap();
        assert_eq!(Network::from_json(&json).unwrap(), network);
        // Keys survive PEM.
        let pem = keys[0].to_pkcs8_pem();
        assert_eq!(
            GovernanceKey::from_pkcs8_pem(&pem).unwrap().id(),
            keys[0].id()
        );
        assert!(
            GovernanceKey::from_pkcs8_pem(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
            )
            .is_err()
        );
    }

    #[test]
    fn signing_bytes_are_canonical_and_domain_separated() {
        let (_, _, record) = setup("AT");
        let bytes = record.signing_bytes();
        assert!(bytes.starts_with(ONBOARDING_DOMAIN));
        let json = std::str::from_utf8(&bytes[ONBOARDING_DOMAIN.len()..]).unwrap();
        assert!(
            json.starts_with("{\"authentication\":[\""),
            "keys sorted: {json}"
        );
        assert!(!json.contains(' ') && !json.contains('\n'));
        assert!(json.contains("\"issued_at\":\"2026-01-01T00:00:00Z\""));
    }

    #[test]
    fn value_sets_need_k_of_n_and_any_change_breaks_them() {
        let (network, keys, _) = setup("AT");
        let release = ValueSetRelease {
            network: network.name.clone(),
            sequence: 1,
            issued_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            value_sets: [(
                "vaccines-covid-19-names".to_owned(),
                serde_json::json!({"valueSetId": "vaccines-covid-19-names",
                    "valueSetValues": {"EU/1/20/1528": {"display": "Comirnaty", "active": true}}}),
            )]
            .into(),
        };
        let mut signed = SignedValueSets::unsigned(release);
        signed.sign(&keys[0], &network).unwrap();
        let err = signed.verify(&network).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("value-set release 1 has 1 valid governance signature(s), 2 required"),
            "{err}"
        );
        signed.sign(&keys[2], &network).unwrap();
        assert_eq!(signed.verify(&network).unwrap().len(), 2);
        let back = SignedValueSets::from_json(&signed.to_json()).unwrap();
        assert_eq!(back.verify(&network).unwrap().len(), 2);
        let mut changed = back;
        changed
            .release
            .value_sets
            .get_mut("vaccines-covid-19-names")
            .unwrap()["valueSetValues"]["EU/1/20/1528"]["active"] = false.into();
        assert!(matches!(
            changed.verify(&network),
            Err(GovernanceError::NotEnoughSignatures { valid: 0, .. })
        ));
    }
}
