//! DIVOC: the archive and the credential are read, then its Linked Data proof
//! (`RsaSignature2018`, `Ed25519Signature2018`) is checked over the bundled JSON-LD contexts
//! (`healthpass-jsonld`) with a DIVOC key from the trust store.
//!
//! An unknown signer is red (`signer_unknown`), as for the other formats; what this verifier
//! cannot check (another proof type, a context it does not bundle, a value it does not
//! canonicalise exactly) is yellow and says so; it is never green without a checked signature.

use healthpass_jsonld::{LdError, ProofInput};
use healthpass_trust::TrustStore;

use crate::{Outcome, ReasonCode, VerificationReport, VerifyOptions};

pub(crate) fn verify(
    text: &str,
    trust: &TrustStore,
    options: &VerifyOptions,
    report: &mut VerificationReport,
) {
    report.checks.prefix = Outcome::Pass;
    let credential =
        match healthpass_codec::divoc::decode(text.trim().as_bytes(), options.inflate_limit) {
            Ok(credential) => credential,
            Err(err) => {
                report.checks.encoding = report.fail(ReasonCode::ArchiveInvalid, err.to_string());
                return;
            }
        };
    report.checks.encoding = Outcome::Pass;
    report.checks.decompress = Outcome::Pass;
    report.checks.container = Outcome::Pass;
    report.checks.payload = Outcome::Pass;
    report.checks.validity_period = Outcome::NotApplicable;
    report.checks.key_usage = Outcome::NotApplicable;
    report.checks.revocation = Outcome::NotApplicable;
    check_proof(&credential.credential, trust, report);
    report.issuer = credential.issuer().map(str::to_owned);
    let model = healthpass_model::from_divoc(&credential);
    report.checks.schema = if model.holder.name.is_some() && !model.events.is_empty() {
        Outcome::Pass
    } else {
        report.fail(
            ReasonCode::SchemaInvalid,
            "the credential has no holder name or no vaccination",
        )
    };
    report.certificate_type =
        (!model.events.is_empty()).then_some(healthpass_codec::dcc::CertificateType::Vaccination);
    report.credential = Some(model);
    report.certificate = Some(credential.credential.into());
}

/// Signer and signature: the proof's suite, a trusted key for its `verificationMethod`, the
/// signed bytes, the signature.
fn check_proof(
    credential: &serde_json::Value,
    trust: &TrustStore,
    report: &mut VerificationReport,
) {
    let proof = &credential["proof"];
    let proof_type = proof["type"].as_str();
    if let Some(name) = proof_type
        && healthpass_jsonld::Suite::from_type(name).is_none()
    {
        not_checked(
            report,
            format!(
                "DIVOC proofs of type {name} are not checked by this verifier: the content is \
                 shown as decoded, unauthenticated"
            ),
        );
        return;
    }
    let method = proof["verificationMethod"].as_str();
    report.kid = method.map(str::to_owned);
    if let Some(method) = method
        && trust.divoc_keys_for(method).next().is_none()
    {
        report.checks.signer = report.fail(
            ReasonCode::SignerUnknown,
            format!("no trusted DIVOC key for the verification method {method}"),
        );
        report.checks.signature = Outcome::Skipped;
        return;
    }
    let input = match healthpass_jsonld::prepare(credential) {
        Ok(input) => input,
        Err(err) => {
            proof_error(report, err);
            return;
        }
    };
    report.checks.signer = Outcome::Pass;
    report.checks.signature = check_signature(&input, trust, report);
}

fn check_signature(
    input: &ProofInput,
    trust: &TrustStore,
    report: &mut VerificationReport,
) -> Outcome {
    let alg = input.suite.jws_alg();
    let mut fitting = 0;
    for key in trust.divoc_keys_for(&input.verification_method) {
        for message in &input.signing_inputs {
            match key.verify(alg, message, &input.signature) {
                Ok(()) => return Outcome::Pass,
                Err(healthpass_trust::divoc_keys::DivocKeyError::AlgorithmMismatch { .. }) => {}
                Err(_) => fitting += 1,
            }
        }
    }
    if fitting == 0 {
        report.fail(
            ReasonCode::AlgorithmNotAllowed,
            format!(
                "no trusted key for {} can verify a {} ({alg}) proof",
                input.verification_method,
                input.suite.name()
            ),
        )
    } else {
        report.fail(
            ReasonCode::SignatureInvalid,
            format!(
                "the {} proof does not verify with the trusted key(s) for {}",
                input.suite.name(),
                input.verification_method
            ),
        )
    }
}

/// Yellow: the signature exists but this verifier cannot check it.
fn not_checked(report: &mut VerificationReport, message: String) {
    report.checks.signer = Outcome::NotApplicable;
    report.checks.signature = Outcome::NotApplicable;
    report.add_reason(ReasonCode::SignatureNotChecked, message);
}

fn proof_error(report: &mut VerificationReport, err: LdError) {
    let message = err.to_string();
    match err {
        LdError::ContextUnknown(_) => {
            report.checks.signer = Outcome::NotApplicable;
            report.checks.signature = Outcome::NotApplicable;
            report.add_reason(ReasonCode::ContextUnknown, message);
        }
        LdError::ValueUnsupported(_) | LdError::ProofTypeUnsupported(_) => {
            not_checked(report, message);
        }
        LdError::TooManyQuads | LdError::TooManyBlankNodes | LdError::BlankNodeTwins => {
            report.checks.signature = report.fail(ReasonCode::CredentialTooComplex, message);
        }
        LdError::TermUndefined(_) | LdError::Unsigned(_) | LdError::Invalid(_) => {
            report.checks.payload = report.fail(ReasonCode::PayloadInvalid, message);
            report.checks.signature = Outcome::Skipped;
        }
        // No proof, a malformed JWS, a purpose other than assertionMethod: unsigned.
        _ => {
            report.checks.signature = report.fail(ReasonCode::SignatureInvalid, message);
        }
    }
}
