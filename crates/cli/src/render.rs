//! Human rendering of a verification report. By default only what a checker needs to match the
//! holder's ID document: verdict, name, date of birth, type and validity.

use std::fmt::Write;

use healthpass_verify::{Outcome, Verdict, VerificationReport};

/// Renders a report for a terminal.
pub fn human(report: &VerificationReport, details: bool) -> String {
    let mut out = String::new();
    let (word, summary) = match report.verdict {
        Verdict::Green => ("GREEN", "valid"),
        Verdict::Yellow => ("YELLOW", "undecided"),
        Verdict::Red => ("RED", "not valid"),
    };
    match report.certificate_type {
        Some(kind) => {
            let kind = format!("{kind:?}").to_lowercase();
            let _ = writeln!(
                out,
                "{word}  {summary} EU Digital COVID Certificate ({kind})"
            );
        }
        None if report.certificate.is_some() => {
            let _ = writeln!(out, "{word}  {summary} EU Digital COVID Certificate");
        }
        None => {
            let _ = writeln!(
                out,
                "{word}  {summary}: no readable EU Digital COVID Certificate"
            );
        }
    }
    if report.certificate.is_some() && report.checks.signature != Outcome::Pass {
        let _ = writeln!(
            out,
            "  (the signature is not verified: the data below may be forged)"
        );
    }
    if let Some(dcc) = report.dcc() {
        let nam = &dcc.nam;
        let family = nam
            .family_name
            .as_deref()
            .or(nam.family_name_standardised.as_deref())
            .unwrap_or("-");
        let given = nam
            .given_name
            .as_deref()
            .or(nam.given_name_standardised.as_deref())
            .unwrap_or("-");
        let _ = writeln!(out, "  name           {family}, {given}");
        if let (Some(fnt), gnt) = (&nam.family_name_standardised, &nam.given_name_standardised) {
            let _ = writeln!(
                out,
                "  as on passport {fnt}<<{}",
                gnt.as_deref().unwrap_or("")
            );
        }
        let _ = writeln!(
            out,
            "  date of birth  {}",
            dcc.dob.as_deref().filter(|d| !d.is_empty()).unwrap_or("-")
        );
    }
    if report.verdict != Verdict::Green || details {
        if let Some(country) = &report.issuer_country {
            let _ = writeln!(out, "  issued by      {country}");
        }
        if let (Some(iat), Some(exp)) = (report.issued_at, report.expires_at) {
            let _ = writeln!(out, "  valid          {iat} to {exp}");
        }
    }
    if report.verdict != Verdict::Green || details {
        // Clocks lie: say which time the verdict is about.
        let _ = writeln!(out, "  checked at     {}", report.checked_at);
    }
    if details {
        for (name, outcome) in report.checks.iter() {
            let mark = match outcome {
                Outcome::Pass => "pass",
                Outcome::Fail => "FAIL",
                Outcome::Skipped => "skipped",
            };
            let _ = writeln!(out, "  check {name:<16} {mark}");
        }
        if let Some(signer) = &report.signer {
            let _ = writeln!(
                out,
                "  signer         {} ({})",
                signer.subject(),
                signer.public_key().describe()
            );
        }
        if let Some(cert) = &report.certificate {
            let _ = writeln!(out, "  payload        {cert}");
        }
        if let Some(policy) = &report.policy {
            let region = policy
                .region
                .as_deref()
                .map(|r| format!("/{r}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  rules of       {}{region}: {} applied",
                policy.country,
                policy.rules.len()
            );
            for rule in &policy.rules {
                let _ = writeln!(
                    out,
                    "  rule {:<11} {:<7} {}",
                    rule.rule.identifier,
                    rule.result,
                    rule.description()
                );
            }
        }
    }
    for reason in &report.reasons {
        let _ = writeln!(
            out,
            "  reason         {}: {}",
            reason.code.as_str(),
            reason.message
        );
    }
    out
}
