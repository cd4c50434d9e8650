//! DIVOC: the archive and the credential are read; the JSON-LD signature is not checked (no
//! maintained Rust implementation of URDNA2015 with bundled contexts yet), so the verdict is
//! at best yellow and says so.

use crate::{Outcome, ReasonCode, VerificationReport, VerifyOptions};

pub(crate) fn verify(text: &str, options: &VerifyOptions, report: &mut VerificationReport) {
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
    report.checks.signer = Outcome::NotApplicable;
    report.checks.signature = Outcome::NotApplicable;
    report.checks.validity_period = Outcome::NotApplicable;
    report.checks.key_usage = Outcome::NotApplicable;
    report.checks.revocation = Outcome::NotApplicable;
    report.add_reason(
        ReasonCode::SignatureNotChecked,
        format!(
            "DIVOC signatures ({}) are not checked by this verifier: the content is shown as \
             decoded, unauthenticated",
            credential.proof_type().unwrap_or("no proof")
        ),
    );
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
    report.certificate = Some(credential.credential);
}
