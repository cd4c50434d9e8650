//! The verification report: every check's outcome, the decoded certificate and the verdict.

use std::sync::Arc;

use healthpass_codec::dcc::{CertificateType, DigitalCovidCertificate};
use healthpass_trust::SignerCertificate;
use jiff::Timestamp;

use crate::policy::PolicyReport;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// The wire format a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Format {
    /// EU Digital COVID Certificate (`HC1:`).
    #[serde(rename = "hc1")]
    Hc1,
    /// SMART Health Card (`shc:/`, a `.smart-health-card` file, or its JWS).
    #[serde(rename = "shc")]
    Shc,
    /// ICAO Visible Digital Seal for non-constrained environments (JSON).
    #[serde(rename = "icao-vds-nc")]
    IcaoVdsNc,
    /// WHO DDCC core data set in an HCERT container (`HC1:`).
    #[serde(rename = "ddcc")]
    Ddcc,
    /// DIVOC verifiable credential (`B64:` or ZIP).
    #[serde(rename = "divoc")]
    Divoc,
}

impl Format {
    /// The name used in JSON (`hc1`, `shc`, `icao-vds-nc`, `ddcc`, `divoc`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hc1 => "hc1",
            Self::Shc => "shc",
            Self::IcaoVdsNc => "icao-vds-nc",
            Self::Ddcc => "ddcc",
            Self::Divoc => "divoc",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The check ran and passed.
    Pass,
    /// The check ran and failed.
    Fail,
    /// The check could not run because a check it depends on failed.
    #[default]
    Skipped,
    /// The format has no such step (a SMART Health Card file has no numeric encoding, an ICAO
    /// seal no compression). Counts as passed.
    NotApplicable,
}

/// Every check of the pipeline, in pipeline order. Each format fills the ones it has; the
/// others are `not_applicable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct Checks {
    /// The text has the format's marker (`HC1:`, `shc:/`, a seal's JSON, `B64:`).
    pub prefix: Outcome,
    /// The text decodes (Base45, SMART numeric digits, Base64).
    pub encoding: Outcome,
    /// The bytes inflate within the size cap (zlib, raw DEFLATE, ZIP).
    pub decompress: Outcome,
    /// The signed container parses (COSE_Sign1, compact JWS with its header, the seal).
    pub container: Outcome,
    /// The signed payload parses (CWT claims, JWT claims, the seal's data).
    pub payload: Outcome,
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
            ("encoding", self.encoding),
            ("decompress", self.decompress),
            ("container", self.container),
            ("payload", self.payload),
            ("signer", self.signer),
            ("signature", self.signature),
            ("validity_period", self.validity_period),
            ("key_usage", self.key_usage),
            ("schema", self.schema),
            ("revocation", self.revocation),
        ]
        .into_iter()
    }

    /// Whether every check passed (or does not apply to the format).
    pub fn all_pass(&self) -> bool {
        self.iter()
            .all(|(_, o)| matches!(o, Outcome::Pass | Outcome::NotApplicable))
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
    /// The signer key's revocation filter matches this certificate and the exact hashes that
    /// would settle it are not loaded: possibly revoked (or a false positive); confirm online.
    PossiblyRevoked,
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
    /// The text is none of the formats this verifier reads.
    FormatUnknown,
    /// A SMART Health Card QR text is not valid numeric data.
    NumericInvalid,
    /// SMART Health Card QR chunks do not make up one card.
    ChunksInvalid,
    /// Not a valid `.smart-health-card` file.
    FileInvalid,
    /// Not a valid compact JWS.
    JwsInvalid,
    /// The JWS header breaks the SMART Health Card rules (`alg` ES256, `zip` DEF, `kid`).
    JwsHeaderInvalid,
    /// The signed claims are missing or malformed.
    PayloadInvalid,
    /// Not a valid ICAO VDS-NC seal.
    SealInvalid,
    /// Not a valid DIVOC archive or credential.
    ArchiveInvalid,
    /// The issuer URL breaks the SMART Health Card rules (https, no trailing slash).
    IssuerInvalid,
    /// An ECDSA signature in ASN.1 DER form where the format requires raw `r‖s`.
    SignatureNotRaw,
    /// A time (`nbf`, `exp`) in milliseconds where seconds are required.
    TimeInMilliseconds,
    /// The signer certificate carried in the message is not a valid certificate.
    SignerCertificateInvalid,
    /// The signature cannot be checked by this verifier: a person has to decide.
    SignatureNotChecked,
    /// A DIVOC credential names a JSON-LD context the verifier does not bundle, so what its
    /// signature covers is unknown (contexts are never fetched): a person has to decide.
    ContextUnknown,
    /// A DIVOC credential beyond the limits of JSON-LD canonicalisation (too many statements,
    /// anonymous nodes, or identical anonymous nodes): refused, as no genuine one comes near.
    CredentialTooComplex,
    /// Characters around the data (whitespace, a byte-order mark). Warning only.
    TrailingCharacters,
    /// A SMART Health Card JWS longer than one QR code holds (1195 characters). Warning only.
    JwsTooLong,
    /// A card split over several QR codes, or a chunk header on a single one (deprecated since
    /// SMART Health Cards 1.3.0). Warning only.
    QrChunked,
    /// The issuer publishes revocations for this key and none were loaded. Warning only.
    RevocationListMissing,
    /// The signer certificate is on its CA's revocation list.
    SignerRevoked,
    /// A CA revocation list is past its `nextUpdate`; a newer one may revoke more. Warning
    /// only.
    RevocationListOutdated,
    /// A SMART Health Card's FHIR bundle breaks a size or data-minimisation rule of its
    /// profile (long references, `Resource.id`, `Coding.display`, …). Warning only.
    FhirProfileDeviation,
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
            Self::PossiblyRevoked => "possibly_revoked",
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
            Self::FormatUnknown => "format_unknown",
            Self::NumericInvalid => "numeric_invalid",
            Self::ChunksInvalid => "chunks_invalid",
            Self::FileInvalid => "file_invalid",
            Self::JwsInvalid => "jws_invalid",
            Self::JwsHeaderInvalid => "jws_header_invalid",
            Self::PayloadInvalid => "payload_invalid",
            Self::SealInvalid => "seal_invalid",
            Self::ArchiveInvalid => "archive_invalid",
            Self::IssuerInvalid => "issuer_invalid",
            Self::SignatureNotRaw => "signature_not_raw",
            Self::TimeInMilliseconds => "time_in_milliseconds",
            Self::SignerCertificateInvalid => "signer_certificate_invalid",
            Self::SignatureNotChecked => "signature_not_checked",
            Self::ContextUnknown => "context_unknown",
            Self::CredentialTooComplex => "credential_too_complex",
            Self::TrailingCharacters => "trailing_characters",
            Self::JwsTooLong => "jws_too_long",
            Self::QrChunked => "qr_chunked",
            Self::RevocationListMissing => "revocation_list_missing",
            Self::SignerRevoked => "signer_revoked",
            Self::RevocationListOutdated => "revocation_list_outdated",
            Self::FhirProfileDeviation => "fhir_profile_deviation",
        }
    }

    /// The colour this reason gives a report: red when the certificate is not acceptable,
    /// yellow when the system cannot decide alone.
    pub fn severity(self) -> Verdict {
        match self {
            Self::RuleOpen
            | Self::NoRules
            | Self::NotYetAccepted
            | Self::TrustDataStale
            | Self::SignatureNotChecked
            | Self::PossiblyRevoked
            | Self::ContextUnknown => Verdict::Yellow,
            // Warnings are listed apart and never colour a report; as reasons they would be
            // red (`report.warn` keeps them out of `reasons`).
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

/// A certificate's payload as JSON. The SMART Health Card verifier reads its payload without
/// building a [`Value`] (that was a third of a card's checks, for a value most callers never
/// look at): it keeps the checked text, and the value is built when asked for.
#[derive(Debug, Clone)]
pub enum Payload {
    /// The payload as a value.
    Value(Value),
    /// Strict JSON text, already checked.
    Json(String),
}

impl Payload {
    /// The payload as a [`Value`] (parsed now for [`Payload::Json`]).
    pub fn to_value(&self) -> std::borrow::Cow<'_, Value> {
        match self {
            Self::Value(value) => std::borrow::Cow::Borrowed(value),
            Self::Json(text) => std::borrow::Cow::Owned(json_value(text)),
        }
    }

    /// The payload as a [`Value`], taking it.
    pub fn into_value(self) -> Value {
        match self {
            Self::Value(value) => value,
            Self::Json(text) => json_value(&text),
        }
    }

    /// The value, when the payload is held as one.
    pub fn as_value(&self) -> Option<&Value> {
        match self {
            Self::Value(value) => Some(value),
            Self::Json(_) => None,
        }
    }
}

/// Text the verifier already read as strict JSON, as a value. (It cannot fail; `null` would
/// be the answer if it did.)
fn json_value(text: &str) -> Value {
    healthpass_codec::json::parse_strict(text.as_bytes()).unwrap_or(Value::Null)
}

impl From<Value> for Payload {
    fn from(value: Value) -> Self {
        Self::Value(value)
    }
}

/// Two payloads are equal when their JSON is, however each is held.
impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Json(a), Self::Json(b)) if a == b => true,
            _ => self.to_value() == other.to_value(),
        }
    }
}

impl PartialEq<Value> for Payload {
    fn eq(&self, other: &Value) -> bool {
        *self.to_value() == *other
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

/// Compact JSON.
impl std::fmt::Display for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Value(value) => value.fmt(f),
            Self::Json(text) => f.write_str(text),
        }
    }
}

/// Everything the verifier found out about one scanned text.
#[derive(Debug, Clone, Serialize)]
pub struct VerificationReport {
    /// The format, as detected from the text.
    pub format: Format,
    /// The verdict.
    pub verdict: Verdict,
    /// Why the verdict is not green (empty when green).
    pub reasons: Vec<Reason>,
    /// Deviations from the format's specification that do not make the certificate invalid
    /// (trailing characters, a deprecated chunked QR, …). They never change the verdict.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Reason>,
    /// Each check's outcome.
    pub checks: Checks,
    /// The time the checks were made against.
    pub checked_at: Timestamp,
    /// The signer's key id as text: Base64 of the COSE `kid` (HC1, DDCC), the JWK thumbprint
    /// (SMART Health Cards), the barcode signer certificate's SHA-256 prefix in Base64 (ICAO).
    pub kid: Option<String>,
    /// Issuing country: the CWT `iss`, else the signer's country (HC1); the seal's issuing
    /// state (ICAO, alpha-3).
    pub issuer_country: Option<String>,
    /// The issuer's URL (SMART Health Cards' `iss`, DIVOC's `issuer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The issuer's display name, as the trust source that vouches for it gives it (a VCI
    /// directory snapshot's `name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
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
    /// The payload as JSON (present once it decodes, whatever the verdict): the DCC, the DDCC
    /// data set, the SMART card's JWT claims, the seal's `data`, the DIVOC credential.
    pub certificate: Option<Payload>,
    /// The payload in the common model (holder and events), the same for every format.
    pub credential: Option<healthpass_model::Credential>,
    /// The arrival country's rules and what they decided (when a policy was given and the
    /// technical checks passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyReport>,
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

    /// Records a deviation that does not change the verdict.
    pub(crate) fn warn(&mut self, code: ReasonCode, message: impl Into<String>) {
        self.warnings.push(Reason {
            code,
            message: message.into(),
        });
    }

    /// An empty report of `format` at `now`: red, every check skipped.
    pub(crate) fn new(format: Format, now: Timestamp) -> Self {
        Self {
            format,
            verdict: Verdict::Red,
            reasons: Vec::new(),
            warnings: Vec::new(),
            checks: Checks::default(),
            checked_at: now,
            kid: None,
            issuer_country: None,
            issuer: None,
            issuer_name: None,
            issued_at: None,
            expires_at: None,
            certificate_type: None,
            signer: None,
            schema_version: None,
            certificate: None,
            credential: None,
            policy: None,
        }
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

    /// The EU DCC payload, typed; `None` for other formats, when there is none, or when it
    /// does not fit the DCC structure.
    pub fn dcc(&self) -> Option<DigitalCovidCertificate<'_>> {
        if self.format != Format::Hc1 {
            return None;
        }
        self.certificate
            .as_ref()
            .and_then(Payload::as_value)
            .and_then(|c| DigitalCovidCertificate::from_json(c).ok())
    }

    /// Whether a reason with this code is present.
    pub fn has_reason(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}
