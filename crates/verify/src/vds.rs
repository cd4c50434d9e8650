//! The ICAO VDS-NC pipeline: the seal's JSON → its barcode signer certificate, trusted either
//! as such (pinned) or through a country signing CA → ES256 over JCS(`data`) → the
//! certificate's validity and barcode-signer profile → the message → the common model.

use std::sync::Arc;

use healthpass_codec::cose::Algorithm;
use healthpass_codec::dcc::CertificateType;
use healthpass_codec::vds::{Seal, SealType};
use healthpass_trust::{SignatureError, SignerCertificate, TrustStore, kid_of, verify_issued_by};
use jiff::Timestamp;

use crate::{Outcome, ReasonCode, VerificationReport};

/// How the seal's signer came to be trusted.
enum Anchor {
    /// The certificate itself is in the trust store.
    Pinned,
    /// Issued by a trusted country signing CA.
    Csca,
}

pub(crate) fn verify(
    text: &str,
    now: Timestamp,
    trust: &TrustStore,
    report: &mut VerificationReport,
) {
    report.checks.prefix = Outcome::Pass;
    report.checks.encoding = Outcome::NotApplicable;
    report.checks.decompress = Outcome::NotApplicable;
    let seal = match Seal::parse(text) {
        Ok(seal) => {
            report.checks.container = Outcome::Pass;
            report.checks.payload = Outcome::Pass;
            seal
        }
        Err(err) => {
            report.checks.container = report.fail(ReasonCode::SealInvalid, err.to_string());
            return;
        }
    };
    // Rules select by alpha-2 country, as for every other format.
    report.issuer_country = Some(
        healthpass_model::country_alpha2(&seal.issuing_state)
            .unwrap_or_else(|| seal.issuing_state.clone()),
    );
    // A pinned signer is the store's own parsed certificate, found by its DER: the hot path
    // parses no X.509 and hashes nothing. Only a signer the store does not hold is parsed
    // (and then must chain to a CSCA).
    let pinned = trust.signer_with_der(&seal.certificate).cloned();
    let kid = pinned
        .as_ref()
        .map_or_else(|| kid_of(&seal.certificate), |signer| signer.kid());
    report.kid = Some(crate::b64(&kid));
    let (signer, anchor) = match pinned {
        Some(signer) => (Some(signer), Some(Anchor::Pinned)),
        None => match SignerCertificate::from_der(&seal.certificate) {
            Ok(signer) => {
                let anchor = find_csca(&signer, trust, report);
                (Some(Arc::new(signer)), anchor)
            }
            Err(err) => {
                report.checks.signer = report.fail(
                    ReasonCode::SignerCertificateInvalid,
                    format!("the seal's signer certificate (sig.cer) is not valid: {err}"),
                );
                (None, None)
            }
        },
    };
    if let (Some(signer), Some(anchor)) = (&signer, &anchor) {
        report.checks.signer = Outcome::Pass;
        report.checks.signature = check_signature(&seal, signer, report);
        if report.checks.signature == Outcome::Pass {
            report.signer = Some(signer.clone());
        }
        let before = report.reasons.len();
        crate::check_signer_validity(report, signer, now);
        report.checks.validity_period = if report.reasons.len() == before {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        report.checks.key_usage = check_profile(signer, anchor, seal.seal_type, report);
    }
    let credential = healthpass_model::from_vds(seal.seal_type, seal.message());
    let mut missing = Vec::new();
    if credential.holder.name.is_none() {
        missing.push("pid.n (name)");
    }
    if credential.events.is_empty() {
        missing.push(match seal.seal_type {
            SealType::Vaccination => "ve[].vd[] (a vaccination)",
            SealType::Test => "tr (a test result)",
        });
    }
    if credential.events.iter().any(|e| e.date.is_none()) {
        missing.push("a date");
    }
    report.checks.schema = if missing.is_empty() {
        Outcome::Pass
    } else {
        report.fail(
            ReasonCode::SchemaInvalid,
            format!("the seal's message lacks {}", missing.join(", ")),
        )
    };
    report.checks.revocation = match &signer {
        Some(signer) => check_revocation(signer, trust, now, report),
        None => Outcome::Skipped,
    };
    report.certificate_type = Some(match seal.seal_type {
        SealType::Vaccination => CertificateType::Vaccination,
        SealType::Test => CertificateType::Test,
    });
    report.credential = Some(credential);
    report.certificate = Some(seal.data.into());
}

/// The barcode signer against its CSCA's revocation list, when one is loaded (ICAO Doc 9303
/// part 12: CSCAs publish CRLs through the PKD). Without a list there is nothing to check.
fn check_revocation(
    signer: &SignerCertificate,
    trust: &TrustStore,
    now: Timestamp,
    report: &mut VerificationReport,
) -> Outcome {
    let Some((list, revoked)) = trust.ca_revocation(signer) else {
        return Outcome::NotApplicable;
    };
    if let Some(at) = revoked {
        return report.fail(
            ReasonCode::SignerRevoked,
            format!(
                "the seal's signer certificate ({}) was revoked by {} on {at} (revocation list of {})",
                signer.subject(),
                list.issuer(),
                list.this_update()
            ),
        );
    }
    if !list.is_current(now) {
        report.warn(
            ReasonCode::RevocationListOutdated,
            format!(
                "the revocation list of {} (issued {}) is past its next update; a newer one may \
                 revoke more",
                list.issuer(),
                list.this_update()
            ),
        );
    }
    Outcome::Pass
}

fn find_csca(
    signer: &SignerCertificate,
    trust: &TrustStore,
    report: &mut VerificationReport,
) -> Option<Anchor> {
    if trust
        .cscas()
        .iter()
        .any(|csca| verify_issued_by(signer, csca).is_ok())
    {
        return Some(Anchor::Csca);
    }
    report.checks.signer = report.fail(
        ReasonCode::SignerUnknown,
        format!(
            "the seal's signer certificate ({}) is neither trusted itself nor issued by a trusted CSCA",
            signer.subject()
        ),
    );
    None
}

fn check_signature(
    seal: &Seal,
    signer: &SignerCertificate,
    report: &mut VerificationReport,
) -> Outcome {
    let result = match seal.alg.as_str() {
        "ES256" => signer.verify(
            Some(&Algorithm::from_id(-7)),
            &seal.signed_bytes(),
            &seal.signature,
        ),
        alg @ ("ES384" | "ES512") => {
            signer.verify_es384_es512(alg, &seal.signed_bytes(), &seal.signature)
        }
        other => {
            return report.fail(
                ReasonCode::AlgorithmNotAllowed,
                format!("the seal's algorithm {other} is not ES256, ES384 or ES512"),
            );
        }
    };
    match result {
        Ok(()) => Outcome::Pass,
        Err(
            err @ (SignatureError::Invalid
            | SignatureError::BadLength { .. }
            | SignatureError::WrongLength { .. }),
        ) => report.fail(
            ReasonCode::SignatureInvalid,
            format!("the seal's signature over its canonical data does not verify: {err}"),
        ),
        Err(err) => report.fail(ReasonCode::AlgorithmNotAllowed, err.to_string()),
    }
}

/// The barcode-signer profile: a signer anchored in a CSCA must have the health barcode
/// signer purpose and list the seal's document type. A pinned signer was trusted as it is;
/// what it does list must still fit.
fn check_profile(
    signer: &SignerCertificate,
    anchor: &Anchor,
    seal_type: SealType,
    report: &mut VerificationReport,
) -> Outcome {
    let profile = signer.barcode_profile();
    let doc_type = seal_type.document_type();
    let mut problems = Vec::new();
    if profile.has_eku && !profile.barcode_signer_eku {
        problems.push(
            "its extended key usage does not include barcode signing (2.23.136.1.1.14.2)"
                .to_owned(),
        );
    }
    if matches!(anchor, Anchor::Csca) && !profile.has_eku {
        problems.push(
            "it has no extended key usage; a barcode signer needs 2.23.136.1.1.14.2".to_owned(),
        );
    }
    match profile.allows(doc_type) {
        Some(false) => problems.push(format!(
            "its document types ({}) do not include {doc_type}",
            profile
                .document_types
                .as_deref()
                .unwrap_or_default()
                .join(", ")
        )),
        None if profile.document_types_unreadable => {
            problems.push("its document type list cannot be read".to_owned());
        }
        None if matches!(anchor, Anchor::Csca) => {
            problems.push(format!(
                "it lists no document types; a {} seal needs {doc_type}",
                seal_type.as_str()
            ));
        }
        _ => {}
    }
    if problems.is_empty() {
        Outcome::Pass
    } else {
        report.fail(
            ReasonCode::KeyUsageMismatch,
            format!(
                "the barcode signer may not sign this seal: {}",
                problems.join("; ")
            ),
        )
    }
}
