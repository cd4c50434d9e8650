//! The verification pipeline: one call from scanned text to a [`VerificationReport`].
//!
//! ```text
//! prefix → Base45 → inflate (capped) → COSE_Sign1 → CWT claims → DCC payload
//!                                         │            │
//!                      signer by kid → signature   validity period, key usage, schema
//! ```
//!
//! Every check records `pass`, `fail` or `skipped`; a failure skips only the checks that need
//! its output, so an expired certificate still reports its signature, key usage and schema.
//! Nothing here reads the clock or does I/O: the caller passes `now` and the trust store.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod policy;
mod report;
pub mod schema;

use healthpass_codec::cose::{Algorithm, CoseSign1};
use healthpass_codec::cwt::HcertClaims;
use healthpass_codec::{base45, hc1, zlib};
use healthpass_trust::revocation::CertificateHashes;
use healthpass_trust::{SignatureError, SignerCertificate, TrustStore};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

pub use policy::{AffectedField, Policy, PolicyReport, RuleReport};
pub use report::{Checks, Format, Outcome, Reason, ReasonCode, Verdict, VerificationReport};

/// Settings of the verifier. The defaults are what a border check should use.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// How far in the future `iat` may be before the certificate counts as not yet valid:
    /// device clocks drift, and issuers' clocks too. Default 5 minutes.
    pub clock_skew: SignedDuration,
    /// Cap on the inflated size of a certificate. Default 64 KiB.
    pub inflate_limit: usize,
    /// Read a text without the `HC1:` prefix as if it had one. Some wallets dropped the prefix
    /// and the EU app team let verifiers accept that (dgca-verifier-app-ios#105). The signature
    /// still covers everything that matters. Default false: the spec requires the prefix.
    pub accept_missing_prefix: bool,
    /// Read bytes that are not zlib as an uncompressed COSE message, as the DGCA apps do. The
    /// signature still covers everything that matters. Default false: the spec requires zlib.
    pub accept_uncompressed: bool,
    /// The arrival country's business rules. Without a policy the verdict is about
    /// authenticity and validity only.
    pub policy: Option<Policy>,
    /// When the trust data was fetched and how old it may be. Older data makes the verdict at
    /// best yellow: a signer revoked since may still be in it.
    pub trust_freshness: Option<TrustFreshness>,
}

/// The age of the trust data behind a verification.
#[derive(Debug, Clone, Copy)]
pub struct TrustFreshness {
    /// When the trust data was fetched.
    pub fetched_at: Timestamp,
    /// How old it may be.
    pub max_age: SignedDuration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            clock_skew: SignedDuration::from_mins(5),
            inflate_limit: zlib::DEFAULT_INFLATE_LIMIT,
            accept_missing_prefix: false,
            accept_uncompressed: false,
            policy: None,
            trust_freshness: None,
        }
    }
}

/// Most schema problems listed in one reason.
const MAX_SCHEMA_PROBLEMS: usize = 5;

/// Verifies scanned text at `now` with the default options.
pub fn verify(text: &str, now: Timestamp, trust: &TrustStore) -> VerificationReport {
    verify_with(text, now, trust, &VerifyOptions::default())
}

/// Verifies scanned text at `now`.
pub fn verify_with(
    text: &str,
    now: Timestamp,
    trust: &TrustStore,
    options: &VerifyOptions,
) -> VerificationReport {
    let mut report = VerificationReport {
        format: Format::Hc1,
        verdict: Verdict::Red,
        reasons: Vec::new(),
        checks: Checks::default(),
        checked_at: now,
        kid: None,
        issuer_country: None,
        issued_at: None,
        expires_at: None,
        certificate_type: None,
        signer: None,
        schema_version: None,
        certificate: None,
        policy: None,
    };
    let inflated = decode_transport(text, options, &mut report);
    if let Some(cose_bytes) = inflated.as_deref() {
        check_message(cose_bytes, now, trust, options, &mut report);
    }
    if let Some(freshness) = &options.trust_freshness {
        let age = now.duration_since(freshness.fetched_at);
        if age > freshness.max_age {
            report.add_reason(
                ReasonCode::TrustDataStale,
                format!(
                    "the trust data was fetched at {}, longer ago than the allowed {:#}",
                    freshness.fetched_at, freshness.max_age
                ),
            );
        }
    }
    if let Some(policy) = &options.policy
        && report.checks.all_pass()
    {
        policy::apply(&mut report, policy, now);
    }
    report.verdict = report.decide();
    report
}

/// prefix → Base45 → inflate; returns the COSE bytes.
fn decode_transport(
    text: &str,
    options: &VerifyOptions,
    report: &mut VerificationReport,
) -> Option<Vec<u8>> {
    let body = match hc1::strip_prefix(text) {
        Ok(body) => {
            report.checks.prefix = Outcome::Pass;
            body
        }
        Err(hc1::PrefixError::Missing) if options.accept_missing_prefix => {
            report.checks.prefix = Outcome::Pass;
            text
        }
        Err(err) => {
            let code = match err {
                hc1::PrefixError::UnsupportedVersion { .. } => ReasonCode::PrefixUnsupportedVersion,
                _ => ReasonCode::PrefixMissing,
            };
            report.checks.prefix = report.fail(code, err.to_string());
            return None;
        }
    };
    let mut compressed = Vec::new();
    if let Err(err) = base45::decode_into(body.as_bytes(), &mut compressed) {
        report.checks.base45 = report.fail(ReasonCode::Base45Invalid, err.to_string());
        return None;
    }
    report.checks.base45 = Outcome::Pass;
    match zlib::inflate(&compressed, options.inflate_limit) {
        Ok(bytes) => {
            report.checks.decompress = Outcome::Pass;
            Some(bytes)
        }
        Err(zlib::InflateError::NotZlib { .. }) if options.accept_uncompressed => {
            report.checks.decompress = Outcome::Pass;
            Some(compressed)
        }
        Err(err) => {
            report.checks.decompress = report.fail(ReasonCode::DecompressFailed, err.to_string());
            None
        }
    }
}

/// COSE → signer → signature, and CWT → validity, key usage, schema.
fn check_message(
    cose_bytes: &[u8],
    now: Timestamp,
    trust: &TrustStore,
    options: &VerifyOptions,
    report: &mut VerificationReport,
) {
    let message = match CoseSign1::decode(cose_bytes) {
        Ok(message) => {
            report.checks.cose = Outcome::Pass;
            message
        }
        Err(err) => {
            report.checks.cose = report.fail(ReasonCode::CoseInvalid, err.to_string());
            return;
        }
    };
    report.kid = message.kid().map(<[u8]>::to_vec);

    // Signer and signature: independent of the payload's content.
    let verified_by = check_signature(&message, trust, report);
    report.signer = verified_by.cloned();

    let claims = match HcertClaims::decode(message.payload) {
        Ok(claims) => {
            report.checks.cwt = Outcome::Pass;
            claims
        }
        Err(err) => {
            report.checks.cwt = report.fail(ReasonCode::CwtInvalid, err.to_string());
            return;
        }
    };
    report.issuer_country = claims
        .issuer
        .map(str::to_owned)
        .or_else(|| verified_by.and_then(|s| s.country().map(str::to_owned)));
    report.issued_at = claims
        .issued_at
        .and_then(|s| Timestamp::from_second(s).ok());
    report.expires_at = claims
        .expires_at
        .and_then(|s| Timestamp::from_second(s).ok());

    report.checks.validity_period = check_validity(report, verified_by.map(|s| &**s), now, options);

    let types = healthpass_codec::dcc::entry_types(&claims.dcc);
    report.certificate_type = match types.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    report.checks.key_usage = match verified_by {
        Some(signer) if !types.is_empty() => {
            let refused: Vec<&str> = types
                .iter()
                .filter(|ty| !signer.key_usage().permits(**ty))
                .map(|ty| ty.key())
                .collect();
            if refused.is_empty() {
                Outcome::Pass
            } else {
                report.fail(
                    ReasonCode::KeyUsageMismatch,
                    format!(
                        "the signer's extended key usage does not allow certificates of type {}",
                        refused.join(", ")
                    ),
                )
            }
        }
        _ => Outcome::Skipped,
    };

    let (schema_version, problems) = schema::check_dcc(&claims.dcc, MAX_SCHEMA_PROBLEMS);
    report.schema_version = Some(schema_version);
    report.checks.schema = if problems.is_empty() {
        Outcome::Pass
    } else {
        report.fail(
            ReasonCode::SchemaInvalid,
            format!(
                "the payload does not conform to DCC schema {schema_version}: {}",
                problems.join("; ")
            ),
        )
    };
    report.checks.revocation = if report.checks.signature == Outcome::Pass {
        check_revocation(&message, &claims, trust, report)
    } else {
        // A revocation names a certificate its issuer signed; an unauthenticated message
        // has none to match.
        Outcome::Skipped
    };
    report.certificate = Some(claims.dcc);
}

/// Looks the certificate's three revocation hashes up in the trust store's revocations.
fn check_revocation(
    message: &CoseSign1<'_>,
    claims: &HcertClaims<'_>,
    trust: &TrustStore,
    report: &mut VerificationReport,
) -> Outcome {
    let revocations = trust.revocations();
    if revocations.is_empty() {
        return Outcome::Pass;
    }
    let ci = healthpass_codec::dcc::DigitalCovidCertificate::from_json(&claims.dcc)
        .ok()
        .and_then(|dcc| {
            dcc.single_entry()
                .ok()
                .map(|e| e.certificate_id().to_owned())
        })
        .unwrap_or_default();
    let ecdsa = matches!(message.alg().and_then(Algorithm::id), Some(-7 | -35 | -36));
    let hashes = CertificateHashes::compute(
        message.signature,
        ecdsa,
        claims.issuer.unwrap_or_default(),
        &ci,
    );
    match revocations.lookup(message.kid().unwrap_or_default(), &hashes) {
        None => Outcome::Pass,
        Some(revoked) => report.fail(
            ReasonCode::CertificateRevoked,
            format!(
                "the certificate was revoked by {} (batch {}, matched by its {} hash)",
                revoked.source.country, revoked.source.batch_id, revoked.hash_type
            ),
        ),
    }
}

/// Finds the signers with the message's kid and tries each; returns the one that verified.
fn check_signature<'t>(
    message: &CoseSign1<'_>,
    trust: &'t TrustStore,
    report: &mut VerificationReport,
) -> Option<&'t Arc<SignerCertificate>> {
    let Some(kid) = message.kid() else {
        report.checks.signer = report.fail(
            ReasonCode::SignerUnknown,
            "the message carries no key id (kid)",
        );
        return None;
    };
    let candidates = trust.signers(kid);
    if candidates.is_empty() {
        report.checks.signer = match trust.withdrawn(kid) {
            Some(withdrawn) => report.fail(
                ReasonCode::SignerWithdrawn,
                format!(
                    "the signer with key id {} was withdrawn by {} at {}",
                    b64(kid),
                    withdrawn.country,
                    withdrawn.withdrawn_at
                ),
            ),
            None => report.fail(
                ReasonCode::SignerUnknown,
                format!("no trusted signer has key id {}", b64(kid)),
            ),
        };
        return None;
    }
    report.checks.signer = Outcome::Pass;
    let to_be_signed = message.to_be_signed();
    let mut first_error = None;
    for candidate in candidates {
        match candidate.verify(message.alg(), &to_be_signed, message.signature) {
            Ok(()) => {
                report.checks.signature = Outcome::Pass;
                return Some(candidate);
            }
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    let err = first_error.unwrap_or(SignatureError::Invalid);
    let code = match err {
        SignatureError::Invalid | SignatureError::BadLength { .. } => ReasonCode::SignatureInvalid,
        _ => ReasonCode::AlgorithmNotAllowed,
    };
    report.checks.signature = report.fail(code, err.to_string());
    None
}

fn check_validity(
    report: &mut VerificationReport,
    signer: Option<&SignerCertificate>,
    now: Timestamp,
    options: &VerifyOptions,
) -> Outcome {
    let before = report.reasons.len();
    match report.expires_at {
        None => {
            report.fail(
                ReasonCode::ValidityMissing,
                "the certificate has no expiry time (exp)",
            );
        }
        Some(exp) if now > exp => {
            report.fail(
                ReasonCode::Expired,
                format!("the certificate expired at {exp} (checked at {now})"),
            );
        }
        Some(_) => {}
    }
    match report.issued_at {
        None => {
            report.fail(
                ReasonCode::ValidityMissing,
                "the certificate has no issue time (iat)",
            );
        }
        Some(iat)
            if now
                .saturating_add(options.clock_skew)
                .is_ok_and(|t| t < iat) =>
        {
            report.fail(
                ReasonCode::NotYetValid,
                format!("the certificate was issued at {iat}, after the time checked ({now})"),
            );
        }
        Some(_) => {}
    }
    if let Some(signer) = signer {
        let validity = signer.validity();
        if now < validity.not_before {
            report.fail(
                ReasonCode::SignerNotYetValid,
                format!(
                    "the signer certificate is valid from {} (checked at {now})",
                    validity.not_before
                ),
            );
        } else if now > validity.not_after {
            report.fail(
                ReasonCode::SignerExpired,
                format!(
                    "the signer certificate expired at {} (checked at {now})",
                    validity.not_after
                ),
            );
        }
    }
    if report.reasons.len() == before {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
