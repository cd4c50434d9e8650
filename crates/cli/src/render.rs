//! Human rendering of a verification report. By default only what a checker needs to match the
//! holder's ID document: verdict, name, date of birth, type and validity.

use std::fmt::Write;

use healthpass_verify::{Format, Outcome, Verdict, VerificationReport};

/// What a format is called on screen.
pub fn format_name(format: Format) -> &'static str {
    match format {
        Format::Hc1 => "EU Digital COVID Certificate",
        Format::Shc => "SMART Health Card",
        Format::IcaoVdsNc => "ICAO VDS-NC health seal",
        Format::Ddcc => "WHO DDCC certificate",
        Format::Divoc => "DIVOC certificate",
        _ => "health certificate",
    }
}

/// Renders a report for a terminal.
pub fn human(report: &VerificationReport, details: bool) -> String {
    let mut out = String::new();
    let (word, summary) = match report.verdict {
        Verdict::Green => ("GREEN", "valid"),
        Verdict::Yellow => ("YELLOW", "undecided"),
        Verdict::Red => ("RED", "not valid"),
    };
    let name = format_name(report.format);
    match report.certificate_type {
        Some(kind) => {
            let kind = format!("{kind:?}").to_lowercase();
            let _ = writeln!(out, "{word}  {summary} {name} ({kind})");
        }
        None if report.certificate.is_some() => {
            let _ = writeln!(out, "{word}  {summary} {name}");
        }
        None => {
            let _ = writeln!(out, "{word}  {summary}: no readable {name}");
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
    } else if let Some(credential) = &report.credential {
        let holder = &credential.holder;
        let _ = writeln!(
            out,
            "  name           {}",
            holder.name.as_deref().unwrap_or("-")
        );
        let _ = writeln!(
            out,
            "  date of birth  {}",
            holder.birth_date.as_deref().unwrap_or("-")
        );
    }
    if report.verdict != Verdict::Green || details {
        if let Some(country) = &report.issuer_country {
            let _ = writeln!(out, "  issued by      {country}");
        }
        match (&report.issuer_name, &report.issuer) {
            (Some(name), Some(issuer)) => {
                let _ = writeln!(out, "  issuer         {name} ({issuer})");
            }
            (None, Some(issuer)) => {
                let _ = writeln!(out, "  issuer         {issuer}");
            }
            _ => {}
        }
        match (report.issued_at, report.expires_at) {
            (Some(iat), Some(exp)) => {
                let _ = writeln!(out, "  valid          {iat} to {exp}");
            }
            (Some(iat), None) => {
                let _ = writeln!(out, "  valid          from {iat}");
            }
            _ => {}
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
                Outcome::NotApplicable => "n/a",
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
        if let Some(credential) = &report.credential {
            for event in &credential.events {
                let _ = writeln!(
                    out,
                    "  event          {:?} {} {}{}",
                    event.event_type,
                    event.date.as_deref().unwrap_or("-"),
                    event
                        .product_name
                        .as_deref()
                        .or(event.product.as_deref())
                        .unwrap_or(""),
                    match (event.dose, event.doses_total) {
                        (Some(d), Some(t)) => format!(" dose {d}/{t}"),
                        (Some(d), None) => format!(" dose {d}"),
                        _ => event
                            .result
                            .as_deref()
                            .map(|r| format!(" {r}"))
                            .unwrap_or_default(),
                    }
                );
            }
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
    for warning in &report.warnings {
        let _ = writeln!(
            out,
            "  warning        {}: {}",
            warning.code.as_str(),
            warning.message
        );
    }
    out
}
