//! The verification pipeline: one call from scanned text to a [`VerificationReport`], for
//! every format the verifier reads.
//!
//! ```text
//! detect format ─┬─ HC1:   → Base45 → zlib → COSE_Sign1 → CWT → EU DCC / WHO DDCC   (hc1)
//!                ├─ shc:/  → numeric → JWS (ES256) → raw DEFLATE → JWT → FHIR   (shc)
//!                ├─ {"data"… → VDS-NC seal → JCS(data), ES256 → barcode signer (vds)
//!                └─ B64: / PK → ZIP → DIVOC credential → JSON-LD proof (URDNA2015) (divoc)
//!       → signer in the trust store → signature → validity → key usage → schema →
//!         revocation → common model → the arrival country's rules → verdict
//! ```
//!
//! Every check records `pass`, `fail`, `skipped` or `not_applicable`; a failure skips only the
//! checks that need its output, so an expired certificate still reports its signature, key
//! usage and schema. Nothing here reads the clock or does I/O: the caller passes `now` and
//! the trust store.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod divoc;
mod hc1;
mod policy;
mod report;
pub mod schema;
mod shc;
mod shc_fhir;
mod vds;

use healthpass_codec::zlib;
use healthpass_trust::{SignerCertificate, TrustStore};

use jiff::{SignedDuration, Timestamp};

pub use policy::{AffectedField, Policy, PolicyReport, RuleReport};
pub use report::{
    Checks, Format, Outcome, Payload, Reason, ReasonCode, Verdict, VerificationReport,
};
pub use shc::split_credentials;

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

/// Which format a text is in, from its first characters.
pub fn detect_format(text: &str) -> Option<Format> {
    let t = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    // `HC2:` and later versions go down the HCERT path, which names the version it refuses.
    if t.starts_with("HC") && t.as_bytes().get(2).is_some_and(u8::is_ascii_digit) {
        Some(Format::Hc1)
    } else if t.starts_with('{') {
        json_format(t)
    } else if shc::looks_like_shc(t) {
        Some(Format::Shc)
    } else if healthpass_codec::vds::looks_like_seal(t) {
        Some(Format::IcaoVdsNc)
    } else if healthpass_codec::divoc::looks_like_divoc(t.as_bytes()) {
        Some(Format::Divoc)
    } else {
        None
    }
}

/// A JSON text is a SMART Health Card file (`{"verifiableCredential": [...]}`, or a FHIR
/// `Parameters` answer naming it) or an ICAO seal (`{"data": …, "sig": …}`). Plain member
/// names decide at the cost of a substring search, which is all the hot path pays; a text
/// that holds both names, or neither written plainly, is settled by its top-level members as
/// JSON reads them (escapes such as `"d\u0061ta"` included). A `verifiableCredential` key
/// inside a seal's message no longer makes the seal a SMART file, and a seal with escaped
/// member names is still a seal.
fn json_format(t: &str) -> Option<Format> {
    let shc = t.contains("\"verifiableCredential\"");
    let seal = t.contains("\"data\"") && t.contains("\"sig\"");
    match (shc, seal) {
        (true, false) => return Some(Format::Shc),
        (false, true) if !t.contains('\\') => return Some(Format::IcaoVdsNc),
        _ => {}
    }
    let members: std::collections::BTreeMap<String, serde::de::IgnoredAny> =
        serde_json::from_str(t).ok()?;
    if members.len() == 2 && members.contains_key("data") && members.contains_key("sig") {
        Some(Format::IcaoVdsNc)
    } else if members.contains_key("verifiableCredential") || members.contains_key("parameter") {
        Some(Format::Shc)
    } else {
        None
    }
}

/// Verifies scanned text at `now` with the default options.
pub fn verify(text: &str, now: Timestamp, trust: &TrustStore) -> VerificationReport {
    verify_with(text, now, trust, &VerifyOptions::default())
}

/// Verifies scanned text at `now`: detects the format, runs its pipeline, then the checks
/// every format shares (trust freshness, the arrival country's rules, the verdict).
pub fn verify_with(
    text: &str,
    now: Timestamp,
    trust: &TrustStore,
    options: &VerifyOptions,
) -> VerificationReport {
    let format = match detect_format(text) {
        Some(format) => format,
        // A text with no marker is read as HC1 when the options allow a missing prefix.
        None if options.accept_missing_prefix => Format::Hc1,
        None => {
            let mut report = VerificationReport::new(Format::Hc1, now);
            report.checks.prefix = report.fail(
                ReasonCode::FormatUnknown,
                "the text is not a health certificate this verifier reads (HC1:, shc:/, an ICAO \
                 VDS-NC seal, a SMART Health Card file or JWS, or DIVOC B64:)",
            );
            report.verdict = report.decide();
            return report;
        }
    };
    let mut report = VerificationReport::new(format, now);
    match format {
        Format::Hc1 | Format::Ddcc => {
            if let Some(cose_bytes) = hc1::decode_transport(text, options, &mut report) {
                hc1::check_message(&cose_bytes, now, trust, options, &mut report);
            }
        }
        Format::Shc => shc::verify(text, now, trust, options, &mut report),
        Format::IcaoVdsNc => vds::verify(text, now, trust, &mut report),
        Format::Divoc => divoc::verify(text, trust, options, &mut report),
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

/// The signer certificate's own validity at `now`.
pub(crate) fn check_signer_validity(
    report: &mut VerificationReport,
    signer: &SignerCertificate,
    now: Timestamp,
) {
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

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_from_the_text() {
        let seal = r#"{"data":{"hdr":{"t":"icao.vacc","v":1,"is":"AUS"},"msg":{}},"sig":{"alg":"ES256","cer":"x","sigvl":"y"}}"#;
        assert_eq!(detect_format(seal), Some(Format::IcaoVdsNc));
        assert_eq!(
            detect_format(&format!("\u{feff}  {seal}")),
            Some(Format::IcaoVdsNc)
        );
        // Member names written with escapes are the same names to JSON (found by the
        // vds_seal fuzz target: such a seal read as no format at all).
        let escaped = seal.replacen("\"data\"", "\"d\\u0061ta\"", 1);
        assert_eq!(detect_format(&escaped), Some(Format::IcaoVdsNc));
        // A seal whose message has a `verifiableCredential` member is still a seal.
        let confusing = seal.replacen("\"msg\":{}", "\"msg\":{\"verifiableCredential\":1}", 1);
        assert_eq!(detect_format(&confusing), Some(Format::IcaoVdsNc));
        let file = r#"{"verifiableCredential":["eyJhbGciOiJFUzI1NiJ9.e30.c2ln"]}"#;
        assert_eq!(detect_format(file), Some(Format::Shc));
        let parameters = r#"{"resourceType":"Parameters","parameter":[{"name":"verifiableCredential","valueString":"eyJ.e30.c2ln"}]}"#;
        assert_eq!(detect_format(parameters), Some(Format::Shc));
        // A file that also carries `data` and `sig` members somewhere inside is a file.
        let both = r#"{"verifiableCredential":[],"x":{"data":1,"sig":2}}"#;
        assert_eq!(detect_format(both), Some(Format::Shc));
        assert_eq!(detect_format(r#"{"name":"not a certificate"}"#), None);
        assert_eq!(detect_format("{not json"), None);
        assert_eq!(detect_format("HC1:NCF"), Some(Format::Hc1));
        assert_eq!(detect_format("shc:/5676"), Some(Format::Shc));
        assert_eq!(detect_format("B64:UEsDBA"), Some(Format::Divoc));
    }
}
