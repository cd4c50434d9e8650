//! The HCERT pipeline (`HC1:`): the EU DCC and the WHO DDCC core data sets in it.
//!
//! ```text
//! prefix → Base45 → inflate (capped) → COSE_Sign1 → CWT claims → DCC / DDCC payload
//!                                         │            │
//!                      signer by kid → signature   validity period, key usage, schema
//! ```

use std::sync::Arc;

use healthpass_codec::cose::{Algorithm, CoseSign1};
use healthpass_codec::cwt::HcertClaims;
use healthpass_codec::{base45, hc1, zlib};
use healthpass_trust::revocation::{CertificateHashes, RevocationStatus};
use healthpass_trust::{SignatureError, SignerCertificate, TrustStore};
use jiff::Timestamp;

use crate::{
    Format, MAX_SCHEMA_PROBLEMS, Outcome, ReasonCode, VerificationReport, VerifyOptions, b64,
    schema,
};

/// prefix → Base45 → inflate; returns the COSE bytes.
pub(crate) fn decode_transport(
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
        report.checks.encoding = report.fail(ReasonCode::Base45Invalid, err.to_string());
        return None;
    }
    report.checks.encoding = Outcome::Pass;
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
pub(crate) fn check_message(
    cose_bytes: &[u8],
    now: Timestamp,
    trust: &TrustStore,
    options: &VerifyOptions,
    report: &mut VerificationReport,
) {
    let message = match CoseSign1::decode(cose_bytes) {
        Ok(message) => {
            report.checks.container = Outcome::Pass;
            message
        }
        Err(err) => {
            report.checks.container = report.fail(ReasonCode::CoseInvalid, err.to_string());
            return;
        }
    };
    report.kid = message.kid().map(crate::b64);

    // Signer and signature: independent of the payload's content.
    let verified_by = check_signature(&message, trust, report);
    report.signer = verified_by.cloned();

    let claims = match HcertClaims::decode(message.payload) {
        Ok(claims) => {
            report.checks.payload = Outcome::Pass;
            claims
        }
        Err(err) => {
            report.checks.payload = report.fail(ReasonCode::CwtInvalid, err.to_string());
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

    if claims.content.is_ddcc() {
        report.format = Format::Ddcc;
        // WHO's reference codes carry no iat/exp; the data set's own validity stands in.
        if report.issued_at.is_none() && report.expires_at.is_none() {
            let day = |key: &str| {
                claims
                    .dcc
                    .get(key)
                    .and_then(serde_json::Value::as_str)
                    .and_then(healthpass_codec::dcc::parse_lenient_timestamp)
            };
            report.issued_at = day("valid_from");
            report.expires_at = day("valid_until");
        }
    }
    report.checks.validity_period = check_validity(report, verified_by.map(|s| &**s), now, options);
    if claims.content.is_ddcc() {
        check_ddcc(claims, report, verified_by);
        return;
    }

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
    report.credential = Some(healthpass_model::from_dcc(&claims.dcc));
    report.certificate = Some(claims.dcc.into());
}

/// The rest of a WHO DDCC: its key usage by type, the core data set's required elements, the
/// common model. Revocation lists are keyed by EU DCC identifiers; a DDCC has none.
fn check_ddcc(
    claims: HcertClaims<'_>,
    report: &mut VerificationReport,
    verified_by: Option<&Arc<SignerCertificate>>,
) {
    use healthpass_codec::dcc::CertificateType;
    let credential = healthpass_model::from_ddcc(&claims.dcc);
    let ty = match credential.events.first().map(|e| e.event_type) {
        Some(healthpass_model::EventType::Test) => Some(CertificateType::Test),
        Some(_) => Some(CertificateType::Vaccination),
        None => None,
    };
    report.certificate_type = ty;
    report.checks.key_usage = match (verified_by, ty) {
        (Some(signer), Some(ty)) if !signer.key_usage().permits(ty) => report.fail(
            ReasonCode::KeyUsageMismatch,
            format!(
                "the signer's extended key usage does not allow certificates of type {}",
                ty.key()
            ),
        ),
        (Some(_), _) => Outcome::Pass,
        (None, _) => Outcome::Skipped,
    };
    let mut missing = Vec::new();
    if credential.holder.name.is_none() {
        missing.push("name");
    }
    if credential.events.is_empty() {
        missing.push("vaccination or test");
    }
    if credential.events.iter().any(|e| e.date.is_none()) {
        missing.push("date");
    }
    report.checks.schema = if missing.is_empty() {
        Outcome::Pass
    } else {
        report.fail(
            ReasonCode::SchemaInvalid,
            format!(
                "the DDCC core data set lacks required elements: {}",
                missing.join(", ")
            ),
        )
    };
    report.checks.revocation = Outcome::NotApplicable;
    report.credential = Some(credential);
    report.certificate = Some(claims.dcc.into());
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
    match revocations.status(message.kid().unwrap_or_default(), &hashes) {
        RevocationStatus::NotRevoked => Outcome::Pass,
        RevocationStatus::Revoked(revoked) => report.fail(
            ReasonCode::CertificateRevoked,
            format!(
                "the certificate was revoked by {} (batch {}, matched by its {} hash)",
                revoked.source.country, revoked.source.batch_id, revoked.hash_type
            ),
        ),
        RevocationStatus::PossiblyRevoked {
            hash_type,
            partition,
            false_positive_rate,
        } => {
            // Never green or red on a guess: the filter cannot tell a revocation from a false
            // positive (rate stated), only the partition's exact hashes can.
            report.add_reason(
                ReasonCode::PossiblyRevoked,
                format!(
                    "possibly revoked, confirm online: the signer's revocation filter matches the certificate's {hash_type} hash \
                     (false-positive rate {false_positive_rate:.1e}); the exact hashes of partition {partition:02x} would settle it"
                ),
            );
            Outcome::Pass
        }
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
        crate::check_signer_validity(report, signer, now);
    }
    if report.reasons.len() == before {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}
