//! `healthpass decode`: what a QR text holds, in any format, without checking signatures.

use std::process::ExitCode;

use clap::Args;
use healthpass_trust::TrustStore;
use healthpass_verify::{Outcome, VerifyOptions};
use serde_json::json;

use crate::{input, outln};

#[derive(Args)]
pub struct DecodeArgs {
    /// Print `{format, payload, credential}` as JSON.
    #[arg(long, conflicts_with = "fhir")]
    json: bool,
    /// Print the credential as a FHIR R4 Bundle (Patient, Immunization, Observation).
    #[arg(long)]
    fhir: bool,
    /// The QR text, `@FILE` to read it from a file, or `-` for stdin.
    input: String,
}

pub fn run(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let text = input::qr_text(&args.input)?;
    let mut decoded = Vec::new();
    for credential in healthpass_verify::split_credentials(&text) {
        decoded.push(decode_one(&credential)?);
    }
    let many = decoded.len() > 1;
    let mut outputs: Vec<serde_json::Value> = Vec::new();
    for (format, payload, credential) in decoded {
        if args.fhir {
            outputs.push(credential.to_fhir_bundle());
        } else if args.json {
            outputs.push(
                json!({"format": format.as_str(), "payload": payload, "credential": credential}),
            );
        } else {
            outln!("{} (not verified)", crate::render::format_name(format));
            outln!(
                "  name           {}",
                credential.holder.name.as_deref().unwrap_or("-")
            );
            outln!(
                "  date of birth  {}",
                credential.holder.birth_date.as_deref().unwrap_or("-")
            );
            for event in &credential.events {
                outln!("  event          {}", serde_json::to_string(event)?);
            }
        }
    }
    if !outputs.is_empty() {
        let value = if many {
            serde_json::Value::Array(outputs)
        } else {
            outputs.swap_remove(0)
        };
        outln!("{}", serde_json::to_string_pretty(&value)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the pipeline with no trust at all: every format check, no signature.
fn decode_one(
    text: &str,
) -> anyhow::Result<(
    healthpass_verify::Format,
    serde_json::Value,
    healthpass_model::Credential,
)> {
    let options = VerifyOptions {
        accept_missing_prefix: false,
        ..VerifyOptions::default()
    };
    let report = healthpass_verify::verify_with(
        text,
        jiff::Timestamp::UNIX_EPOCH,
        &TrustStore::new(),
        &options,
    );
    match (report.certificate, report.credential) {
        (Some(payload), Some(credential)) => Ok((report.format, payload.into_value(), credential)),
        _ => {
            // The first check that failed before the payload says why.
            let why = report
                .reasons
                .iter()
                .find(|r| {
                    !matches!(
                        r.code,
                        healthpass_verify::ReasonCode::SignerUnknown
                            | healthpass_verify::ReasonCode::Expired
                            | healthpass_verify::ReasonCode::NotYetValid
                    )
                })
                .map(|r| format!("{}: {}", r.code.as_str(), r.message))
                .unwrap_or_else(|| "no payload".to_owned());
            let stage = report
                .checks
                .iter()
                .find(|(_, o)| *o == Outcome::Fail)
                .map(|(name, _)| name)
                .unwrap_or("payload");
            anyhow::bail!(
                "cannot decode this {} ({stage}): {why}",
                crate::render::format_name(report.format)
            )
        }
    }
}
