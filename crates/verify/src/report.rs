//! The verification report: every check's outcome, the decoded certificate and the verdict.

use std::sync::Arc;

use base64::Engine;
use healthpass_codec::dcc::{CertificateType, DigitalCovidCertificate};
use healthpass_trust::SignerCertificate;
use jiff::Timestamp;

use crate::policy::PolicyReport;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// The wire format a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// EU Digital COVID Certificate (`HC1:`).
    Hc1,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The check ran and passed.
    Pass,
    /// The check ran and failed.
    Fail,
    /// The check could not run because a check it depends on failed.
    #[default]
    Skipped,
}

/// Every check of the HC1 pipeline, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Checks {
    /// The text starts with `HC1:`.
    pub prefix: Outcome,
    /// The rest is valid Base45.
    pub base45: Outcome,
    /// The bytes inflate as zlib within the size cap.
    pub decompress: Outcome,
    /// The bytes are a COSE_Sign1 message.
    pub cose: Outcome,
    /// The COSE payload is a CWT with an EU DCC.
    pub cwt: Outcome,
    /// A trusted signer with the message's key id exists.
    pub signer: Outcome,
    /// The signature verifies with one of those signers.
    pub signature: Outcome,
    /// `iat`/`exp` and the signer's validity contain the verification time.
    pub validity_period: Outcome,
    /// The signer's extended key usage allows this certificate type.
    pub key_usage: Outcome,
    /// The payload conforms to the DCC schema of its version, with exactly one entry.
    pub schema: Outcome,
    /// No revocation the verifier holds matches the certificate's hashes.
    pub revocation: Outcome,
}

impl Checks {
    /// Each check with its name, in pipeline order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Outcome)> {
        [
            ("prefix", self.prefix),
            ("base45", self.base45),
            ("decompress", self.decompress),
            ("cose", self.cose),
            ("cwt", self.cwt),
            ("signer", self.signer),
            ("signature", self.signature),
            ("validity_period", self.validity_period),
            ("key_usage", self.key_usage),
            ("schema", self.schema),
            ("revocation", self.revocation),
        ]
        .into_iter()
    }

    /// Whether every check passed.
    pub fn all_pass(&self) -> bool {
        self.iter().all(|(_, o)| o == Outcome::Pass)
    }
}

/// The overall answer, ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Valid.
    Green,
    /// Authentic, but the system cannot decide alone (a rule could not be evaluated, the
    /// destination has no rules, accepted only from a later date, stale trust data).
    Yellow,
    /// Not valid.
    Red,
}

/// Machine-readable reason codes. Each names one thing a person at the gate can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReasonCode {
    /// No `HC1:` prefix.
    PrefixMissing,
    /// `HC2:` or another HCERT version this verifier does not know.
    PrefixUnsupportedVersion,
    /// Not valid Base45.
    Base45Invalid,
    /// Not zlib, corrupt, or too large once inflated.
    DecompressFailed,
    /// Not a COSE_Sign1 message.
    CoseInvalid,
    /// Not a valid CWT with an EU DCC.
    CwtInvalid,
    /// No trusted signer has the message's key id (or the message has none).
    SignerUnknown,
    /// The signer was on the trust list, and its country withdrew it.
    SignerWithdrawn,
    /// The issuer revoked this certificate.
    CertificateRevoked,
    /// The algorithm is missing, not allowed, or does not fit the signer's key.
    AlgorithmNotAllowed,
    /// The signature does not verify.
    SignatureInvalid,
    /// The certificate's `exp` has passed.
    Expired,
    /// The certificate's `iat` is in the future.
    NotYetValid,
    /// `exp` or `iat` is missing.
    ValidityMissing,
    /// The signer certificate has expired.
    SignerExpired,
    /// The signer certificate is not valid yet.
    SignerNotYetValid,
    /// The signer may not sign this type of certificate.
    KeyUsageMismatch,
    /// The payload does not conform to its schema.
    SchemaInvalid,
    /// A rule of the arrival country (or an invalidation rule of the issuer) failed.
    RuleFailed,
    /// A rule could not be evaluated: a person has to decide.
    RuleOpen,
    /// The arrival country has no rules for this certificate: a person has to decide.
    NoRules,
    /// The certificate fails the rules today but will pass them on a later date.
    NotYetAccepted,
    /// The trust data is older than its allowed age.
    TrustDataStale,
}

impl ReasonCode {
    /// The code as it appears in JSON (`signer_unknown`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PrefixMissing => "prefix_missing",
            Self::PrefixUnsupportedVersion => "prefix_unsupported_version",
            Self::Base45Invalid => "base45_invalid",
            Self::DecompressFailed => "decompress_failed",
            Self::CoseInvalid => "cose_invalid",
            Self::CwtInvalid => "cwt_invalid",
            Self::SignerUnknown => "signer_unknown",
            Self::SignerWithdrawn => "signer_withdrawn",
            Self::CertificateRevoked => "certificate_revoked",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::SignatureInvalid => "signature_invalid",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::ValidityMissing => "validity_missing",
            Self::SignerExpired => "signer_expired",
            Self::SignerNotYetValid => "signer_not_yet_valid",
            Self::KeyUsageMismatch => "key_usage_mismatch",
            Self::SchemaInvalid => "schema_invalid",
            Self::RuleFailed => "rule_failed",
            Self::RuleOpen => "rule_open",
            Self::NoRules => "no_rules",
            Self::NotYetAccepted => "not_yet_accepted",
            Self::TrustDataStale => "trust_data_stale",
        }
    }

    /// The colour this reason gives a report: red when the certificate is not acceptable,
    /// yellow when the system cannot decide alone.
    pub fn severity(self) -> Verdict {
        match self {
            Self::RuleOpen | Self::NoRules | Self::NotYetAccepted | Self::TrustDataStale => {
                Verdict::Yellow
            }
            _ => Verdict::Red,
        }
    }
}

/// Why a report is not green.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Machine-readable code.
    pub code: ReasonCode,
    /// What was found, in plain words.
    pub message: String,
}

/// How the signer that verified the signature appears in JSON (no personal data: a DSC
/// belongs to an organisation).
#[derive(Serialize)]
struct SignerSummary<'a> {
    subject: &'a str,
    country: Option<&'a str>,
    thumbprint: &'a str,
    not_before: Timestamp,
    not_after: Timestamp,
    key: String,
}

fn signer_summary<S: Serializer>(
    signer: &Option<Arc<SignerCertificate>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match signer {
        None => s.serialize_none(),
        Some(signer) => SignerSummary {
            subject: signer.subject(),
            country: signer.country(),
            thumbprint: signer.thumbprint(),
            not_before: signer.validity().not_before,
            not_after: signer.validity().not_after,
            key: signer.public_key().describe(),
        }
        .serialize(s),
    }
}

/// Everything the verifier found out about one scanned text.
#[derive(Debug, Clone, Serialize)]
pub struct VerificationReport {
    /// The format (always `hc1` for now).
    pub format: Format,
    /// The verdict.
    pub verdict: Verdict,
    /// Why the verdict is not green (empty when green).
    pub reasons: Vec<Reason>,
    /// Each check's outcome.
    pub checks: Checks,
    /// The time the checks were made against.
    pub checked_at: Timestamp,
    /// Key id from the COSE header.
    #[serde(serialize_with = "base64_opt")]
    pub kid: Option<Vec<u8>>,
    /// Issuing country: the CWT `iss`, else the signer's country.
    pub issuer_country: Option<String>,
    /// CWT `iat`.
    pub issued_at: Option<Timestamp>,
    /// CWT `exp`.
    pub expires_at: Option<Timestamp>,
    /// The type of the certificate's entry, when there is exactly one type.
    pub certificate_type: Option<CertificateType>,
    /// The signer whose key verified the signature (shared with the trust store, not copied).
    #[serde(serialize_with = "signer_summary")]
    pub signer: Option<Arc<SignerCertificate>>,
    /// The DCC schema version the payload was checked against.
    pub schema_version: Option<&'static str>,
    /// The payload as JSON (present once the CWT decodes, whatever the verdict).
    pub certificate: Option<Value>,
    /// The arrival country's rules and what they decided (when a policy was given and the
    /// technical checks passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyReport>,
}

fn base64_opt<S: Serializer>(kid: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match kid {
        Some(bytes) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes)),
        None => s.serialize_none(),
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl VerificationReport {
    /// Records why a check failed and returns `Fail`, for `checks.x = report.fail(…)`.
    pub(crate) fn fail(&mut self, code: ReasonCode, message: impl Into<String>) -> Outcome {
        self.add_reason(code, message);
        Outcome::Fail
    }

    pub(crate) fn add_reason(&mut self, code: ReasonCode, message: impl Into<String>) {
        self.reasons.push(Reason {
            code,
            message: message.into(),
        });
    }

    /// The verdict the checks and reasons call for: red if any check failed or any reason
    /// is red, else yellow if any reason is yellow, else green.
    pub(crate) fn decide(&self) -> Verdict {
        let worst = self.reasons.iter().map(|r| r.code.severity()).max();
        if !self.checks.all_pass() {
            Verdict::Red
        } else {
            worst.unwrap_or(Verdict::Green)
        }
    }

    /// The payload, typed; `None` when there is none or it does not fit the DCC structure.
    pub fn dcc(&self) -> Option<DigitalCovidCertificate<'_>> {
        self.certificate
            .as_ref()
            .and_then(|c| DigitalCovidCertificate::from_json(c).ok())
    }

    /// Whether a reason with this code is present.
    pub fn has_reason(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}
