//! The SMART Health Card pipeline.
//!
//! ```text
//! shc:/digits (one or more chunks) ─┐
//! .smart-health-card file ──────────┼─▶ compact JWS ─▶ header (ES256, DEF, kid) ─▶ raw DEFLATE
//! bare JWS ─────────────────────────┘      │                                          │
//!                   issuer (iss) + kid → key → signature           JWT claims (iss, nbf, exp, vc)
//!                                                   validity, x5c, rid against the CRL, FHIR → model
//! ```
//!
//! Each rule the official validator (health-cards-dev-tools) checks has its reason code;
//! what it only warns about is a warning here too.

use healthpass_codec::json::BorrowedValue;
use healthpass_codec::jws::CompactJws;
use healthpass_codec::shc::{self, ShcClaims};
use healthpass_trust::TrustStore;
use healthpass_trust::jwk::{JwsSignatureError, X5cError};
use healthpass_trust::shc_crl::{RevocationMethod, hash_fhir_rid};
use jiff::Timestamp;

use crate::{Outcome, Payload, ReasonCode, VerificationReport, VerifyOptions};

/// Whether a text (leading whitespace trimmed) is a SMART Health Card: `shc:/`, a
/// `.smart-health-card` file, or a compact JWS whose header is JSON (`eyJ`).
pub(crate) fn looks_like_shc(text: &str) -> bool {
    text.starts_with("shc:")
        || (text.starts_with('{') && text.contains("\"verifiableCredential\""))
        || (text.starts_with("eyJ") && text.bytes().filter(|b| *b == b'.').count() == 2)
}

/// The credentials in a text, one per card: each JWS of a `.smart-health-card` file (or FHIR
/// `$health-cards-issue` response), else the text itself. A file may hold several cards;
/// each gets its own report.
pub fn split_credentials(text: &str) -> Vec<String> {
    let trimmed = text.trim_matches(is_trailing);
    if trimmed.starts_with('{')
        && let Ok(jws) = shc::parse_file(trimmed.as_bytes())
        && jws.len() > 1
    {
        return jws;
    }
    vec![text.to_owned()]
}

fn is_trailing(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

pub(crate) fn verify(
    text: &str,
    now: Timestamp,
    trust: &TrustStore,
    options: &VerifyOptions,
    report: &mut VerificationReport,
) {
    let trimmed = text.trim_matches(is_trailing);
    if trimmed.len() != text.len() {
        report.warn(
            ReasonCode::TrailingCharacters,
            "whitespace or a byte-order mark around the card was ignored",
        );
    }
    report.checks.prefix = Outcome::Pass;
    let Some(jws_text) = unwrap(trimmed, report) else {
        return;
    };
    if jws_text.len() > shc::MAX_SINGLE_QR_JWS {
        report.warn(
            ReasonCode::JwsTooLong,
            format!(
                "the JWS is {} characters long; one QR code holds {} (the spec's limit)",
                jws_text.len(),
                shc::MAX_SINGLE_QR_JWS
            ),
        );
    }
    let jws = match CompactJws::parse(&jws_text) {
        Ok(jws) => jws,
        Err(err) => {
            report.checks.container = report.fail(ReasonCode::JwsInvalid, err.to_string());
            return;
        }
    };
    report.checks.container = check_header(&jws, report);
    let kid = jws.header_str("kid").map(str::to_owned);
    report.kid = kid.clone();

    // The payload is read into a borrowed tree (no allocation per member) and kept as text;
    // the report's JSON value is built only for a caller that asks for it.
    let payload = if jws.header_str("zip") == Some("DEF") {
        match shc::inflate_payload(&jws, options.inflate_limit) {
            Ok(text) => {
                report.checks.decompress = Outcome::Pass;
                Some(text)
            }
            Err(shc::PayloadError::Inflate(err)) => {
                report.checks.decompress = report.fail(
                    ReasonCode::DecompressFailed,
                    format!("the payload is not raw DEFLATE: {err}"),
                );
                None
            }
            Err(err) => {
                report.checks.decompress = Outcome::Pass;
                report.checks.payload = report.fail(ReasonCode::PayloadInvalid, err.to_string());
                None
            }
        }
    } else {
        report.checks.decompress = report.fail(
            ReasonCode::DecompressFailed,
            "the payload must be compressed with raw DEFLATE (header zip: DEF)",
        );
        None
    };
    let Some(payload) = payload else {
        return;
    };
    let tree = match BorrowedValue::parse(payload.as_bytes()) {
        Ok(tree) => tree,
        Err(err) => {
            report.checks.payload = report.fail(
                ReasonCode::PayloadInvalid,
                shc::PayloadError::Json(err.to_string()).to_string(),
            );
            return;
        }
    };
    checks(&jws, &payload, &tree, kid, now, trust, options, report);
    drop(tree);
    report.certificate = Some(Payload::Json(payload));
}

/// The checks on a card whose payload is JSON: claims, signer, signature, validity, FHIR
/// profile, revocation, common model.
#[allow(clippy::too_many_arguments)]
fn checks(
    jws: &CompactJws<'_>,
    payload: &str,
    tree: &BorrowedValue<'_>,
    kid: Option<String>,
    now: Timestamp,
    trust: &TrustStore,
    options: &VerifyOptions,
    report: &mut VerificationReport,
) {
    let claims = match ShcClaims::from_json(tree) {
        Ok(claims) => {
            report.checks.payload = Outcome::Pass;
            Some(claims)
        }
        Err(err) => {
            report.checks.payload = report.fail(ReasonCode::PayloadInvalid, err.to_string());
            None
        }
    };

    // Signer and signature need the issuer (from the claims) and the header's kid.
    let verified_key = match (&claims, &kid) {
        (Some(claims), Some(kid)) => check_signature(jws, claims, kid, trust, report),
        (Some(_), None) => {
            report.checks.signer = report.fail(
                ReasonCode::SignerUnknown,
                "the JWS header has no kid, so no issuer key can be chosen",
            );
            None
        }
        _ => None,
    };
    let Some(claims) = claims else {
        return;
    };
    report.issuer = Some(claims.iss.clone());
    report.issued_at = seconds(claims.nbf);
    report.expires_at = claims.exp.and_then(seconds);
    report.checks.validity_period =
        check_validity(&claims, verified_key.as_deref(), now, options, report);
    report.checks.key_usage = if verified_key.is_some() {
        // The key passed the JWK rules (use sig, alg ES256, P-256) when it was loaded.
        Outcome::Pass
    } else {
        Outcome::Skipped
    };
    report.checks.schema = if claims.is_health_card() {
        Outcome::Pass
    } else {
        report.fail(
            ReasonCode::SchemaInvalid,
            format!(
                "vc.type must include {} (found {})",
                shc::HEALTH_CARD_TYPE,
                claims.types.join(", ")
            ),
        )
    };
    let fhir = crate::shc_fhir::check(claims.fhir_bundle);
    for error in fhir.errors {
        report.checks.schema = report.fail(ReasonCode::SchemaInvalid, error);
    }
    if !fhir.deviations.is_empty() {
        report.warn(
            ReasonCode::FhirProfileDeviation,
            crate::shc_fhir::summary(&fhir.deviations),
        );
    }
    report.checks.revocation = match (&verified_key, &kid) {
        (Some(key), Some(kid)) => check_revocation(payload, &claims, key, kid, trust, report),
        _ => Outcome::Skipped,
    };
    let credential = healthpass_model::from_shc_bundle(claims.fhir_bundle);
    report.certificate_type = match credential.events.iter().map(|e| e.event_type).next() {
        Some(healthpass_model::EventType::Test) => {
            Some(healthpass_codec::dcc::CertificateType::Test)
        }
        Some(healthpass_model::EventType::Recovery) => {
            Some(healthpass_codec::dcc::CertificateType::Recovery)
        }
        Some(healthpass_model::EventType::Vaccination) => {
            Some(healthpass_codec::dcc::CertificateType::Vaccination)
        }
        None => None,
    };
    report.credential = Some(credential);
}

/// The JWS text from the numeric QR chunks, the file, or the text itself.
fn unwrap(text: &str, report: &mut VerificationReport) -> Option<String> {
    if text.starts_with("shc:") {
        let mut chunks = Vec::new();
        for part in split_whitespace(text) {
            match shc::decode_numeric(part) {
                Ok(chunk) => chunks.push(chunk),
                Err(err) => {
                    // `shc:` without the slash is no card prefix; a bad chunk header after
                    // `shc:/` is bad numeric data.
                    let code = if part.starts_with(shc::QR_PREFIX) {
                        ReasonCode::NumericInvalid
                    } else {
                        ReasonCode::PrefixMissing
                    };
                    if code == ReasonCode::PrefixMissing {
                        report.checks.prefix = report.fail(code, err.to_string());
                    } else {
                        report.checks.encoding = report.fail(code, err.to_string());
                    }
                    return None;
                }
            }
        }
        if chunks.len() > 1
            && let Some(big) = chunks.iter().find(|c| c.jws.len() > shc::MAX_CHUNK_JWS)
        {
            report.checks.encoding = report.fail(
                ReasonCode::ChunksInvalid,
                format!(
                    "chunk {} carries {} JWS characters; a chunk holds at most {}",
                    big.index,
                    big.jws.len(),
                    shc::MAX_CHUNK_JWS
                ),
            );
            return None;
        }
        if chunks.iter().any(|c| c.has_chunk_header) {
            report.warn(
                ReasonCode::QrChunked,
                if chunks.len() == 1 && chunks[0].total == 1 {
                    "a single QR code with a chunk header (shc:/1/1/): the spec writes none".to_owned()
                } else {
                    format!(
                        "the card is split over {} QR codes, deprecated since SMART Health Cards 1.3.0",
                        chunks[0].total
                    )
                },
            );
        }
        return match shc::assemble(chunks) {
            Ok(jws) => {
                report.checks.encoding = Outcome::Pass;
                Some(jws)
            }
            Err(err) => {
                report.checks.encoding = report.fail(ReasonCode::ChunksInvalid, err.to_string());
                None
            }
        };
    }
    report.checks.encoding = Outcome::NotApplicable;
    if text.starts_with('{') {
        return match shc::parse_file(text.as_bytes()) {
            Ok(mut jws) => {
                if jws.len() > 1 {
                    report.warn(
                        ReasonCode::FileInvalid,
                        format!(
                            "the file holds {} cards; this report is about the first (split_credentials gives each)",
                            jws.len()
                        ),
                    );
                }
                Some(jws.swap_remove(0))
            }
            Err(err) => {
                report.checks.container = report.fail(ReasonCode::FileInvalid, err.to_string());
                None
            }
        };
    }
    Some(text.to_owned())
}

/// `str::split_whitespace`, by bytes when the text is ASCII (a scanned card is): the same
/// parts, without decoding each character.
fn split_whitespace(text: &str) -> Vec<&str> {
    if !text.is_ascii() {
        return text.split_whitespace().collect();
    }
    // The ASCII characters `char::is_whitespace` takes (U+000B too, unlike
    // `u8::is_ascii_whitespace`).
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
    // The common case, one QR code's text without any whitespace, in one branch-free pass
    // (it vectorises) instead of a branch per digit.
    if !text.bytes().fold(false, |any, b| any | is_space(b)) {
        return if text.is_empty() {
            Vec::new()
        } else {
            vec![text]
        };
    }
    let mut parts = Vec::with_capacity(1);
    let mut start = None;
    for (i, b) in text.bytes().enumerate() {
        match (is_space(b), start) {
            (true, Some(from)) => {
                parts.push(&text[from..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(from) = start {
        parts.push(&text[from..]);
    }
    parts
}

/// The header rules: `alg` ES256, `zip` DEF, a `kid`.
fn check_header(jws: &CompactJws<'_>, report: &mut VerificationReport) -> Outcome {
    let mut problems = Vec::new();
    match jws.header_str("alg") {
        Some("ES256") => {}
        Some(other) => problems.push(format!("alg is {other}, not ES256")),
        None => problems.push("alg is missing".to_owned()),
    }
    match jws.header_str("zip") {
        Some("DEF") => {}
        Some(other) => problems.push(format!("zip is {other}, not DEF")),
        None => problems.push("zip is missing (the payload must be DEFLATE-compressed)".to_owned()),
    }
    if jws.header_str("kid").is_none() {
        problems.push("kid is missing".to_owned());
    }
    if problems.is_empty() {
        Outcome::Pass
    } else {
        report.fail(
            ReasonCode::JwsHeaderInvalid,
            format!(
                "the JWS header breaks the SMART Health Card rules: {}",
                problems.join("; ")
            ),
        )
    }
}

fn check_signature(
    jws: &CompactJws<'_>,
    claims: &ShcClaims<'_>,
    kid: &str,
    trust: &TrustStore,
    report: &mut VerificationReport,
) -> Option<std::sync::Arc<healthpass_trust::jwk::IssuerKey>> {
    if let Some(problem) = shc::issuer_url_problem(&claims.iss) {
        report.checks.signer = report.fail(
            ReasonCode::IssuerInvalid,
            format!("the issuer URL {:?} {problem}", claims.iss),
        );
        return None;
    }
    let Some(issuer) = trust.shc_issuer(&claims.iss) else {
        report.checks.signer = report.fail(
            ReasonCode::SignerUnknown,
            format!("the issuer {} is not trusted", claims.iss),
        );
        return None;
    };
    report.issuer_name = issuer.name.clone();
    let Some(key) = issuer.key(kid) else {
        report.checks.signer = report.fail(
            ReasonCode::SignerUnknown,
            format!(
                "the issuer {} has no trusted key with kid {kid}",
                claims.iss
            ),
        );
        return None;
    };
    report.checks.signer = Outcome::Pass;
    if jws.header_str("alg") != Some("ES256") {
        report.checks.signature = report.fail(
            ReasonCode::AlgorithmNotAllowed,
            "the signature algorithm must be ES256",
        );
        return None;
    }
    match key.verify_es256(jws.signing_input(), &jws.signature) {
        Ok(()) => {
            report.checks.signature = Outcome::Pass;
            Some(key.clone())
        }
        Err(JwsSignatureError::DerEncoded) => {
            report.checks.signature = report.fail(
                ReasonCode::SignatureNotRaw,
                "the signature is ASN.1 DER; JWS requires the raw 64-byte r‖s form",
            );
            None
        }
        Err(err) => {
            report.checks.signature = report.fail(ReasonCode::SignatureInvalid, err.to_string());
            None
        }
    }
}

fn check_validity(
    claims: &ShcClaims<'_>,
    key: Option<&healthpass_trust::jwk::IssuerKey>,
    now: Timestamp,
    options: &VerifyOptions,
    report: &mut VerificationReport,
) -> Outcome {
    let before = report.reasons.len();
    if claims.nbf > shc::MAX_PLAUSIBLE_SECONDS {
        report.fail(
            ReasonCode::TimeInMilliseconds,
            format!("nbf {} is in milliseconds; it must be seconds", claims.nbf),
        );
    } else if let Some(nbf) = seconds(claims.nbf)
        && now
            .saturating_add(options.clock_skew)
            .is_ok_and(|t| t < nbf)
    {
        report.fail(
            ReasonCode::NotYetValid,
            format!("the card is valid from {nbf} (nbf; checked at {now})"),
        );
    }
    match claims.exp {
        Some(exp) if exp > shc::MAX_PLAUSIBLE_SECONDS => {
            report.fail(
                ReasonCode::TimeInMilliseconds,
                format!("exp {exp} is in milliseconds; it must be seconds"),
            );
        }
        Some(exp) => {
            if let Some(exp) = seconds(exp)
                && now > exp
            {
                report.fail(
                    ReasonCode::Expired,
                    format!("the card expired at {exp} (checked at {now})"),
                );
            }
        }
        None => {}
    }
    // The key is trusted through the issuer's key set; an x5c chain binds it to the issuer
    // URL as well. A chain that binds nothing (another key, another URL, a broken link) is a
    // forgery signal; one that merely expired is not (the spec's own example 01 carries a
    // chain valid only in 2021-2022), so that is a warning.
    if let Some(key) = key
        && key.has_x5c()
        && let Err(err) = key.check_x5c(&claims.iss, now)
    {
        match err {
            X5cError::Expired { .. } | X5cError::NotYetValid { .. } => report.warn(
                ReasonCode::SignerExpired,
                format!("the issuer key's certificate chain (x5c) is not valid at {now}: {err}"),
            ),
            // A CA key on a curve this verifier does not implement (P-256, P-384 and P-521
            // are checked): the chain cannot be checked here, which says nothing against it.
            X5cError::UnsupportedIssuerKey { .. } => report.warn(
                ReasonCode::SignerCertificateInvalid,
                format!("the issuer key's certificate chain (x5c) was not checked: {err}"),
            ),
            _ => {
                report.fail(
                    ReasonCode::SignerCertificateInvalid,
                    format!("the issuer key's certificate chain (x5c) does not hold: {err}"),
                );
            }
        }
    }
    if report.reasons.len() == before {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}

fn check_revocation(
    payload: &str,
    claims: &ShcClaims<'_>,
    key: &healthpass_trust::jwk::IssuerKey,
    kid: &str,
    trust: &TrustStore,
    report: &mut VerificationReport,
) -> Outcome {
    let Some(crl) = trust.shc_issuer(&claims.iss).and_then(|i| i.crl(kid)) else {
        if key.crl_version().is_some() {
            report.warn(
                ReasonCode::RevocationListMissing,
                format!(
                    "{} publishes a revocation list for key {kid} and none is loaded: revocation was not checked",
                    claims.iss
                ),
            );
        }
        return Outcome::Pass;
    };
    // A `rid` list names cards by their own `vc.rid`; a `hash-fhir` list (RFC 002, for cards
    // issued before rids existed) by a hash of the bundle as carried.
    let (id, what) = match crl.method() {
        RevocationMethod::Rid => match &claims.rid {
            Some(rid) => (rid.clone(), "rid"),
            None => return Outcome::Pass,
        },
        RevocationMethod::HashFhir => match shc::fhir_bundle_text(payload) {
            Ok(bundle) => (hash_fhir_rid(bundle.as_bytes()), "hash-fhir id"),
            // The payload gave the claims a moment ago; failing now is not expected, and a
            // list that cannot be applied must not pass as checked.
            Err(err) => {
                return report.fail(
                    ReasonCode::PayloadInvalid,
                    format!(
                        "the bundle could not be read for the hash-fhir revocation list: {err}"
                    ),
                );
            }
        },
        _ => return Outcome::Pass,
    };
    if crl.is_revoked(&id, claims.nbf) {
        report.fail(
            ReasonCode::CertificateRevoked,
            format!(
                "the issuer revoked this card ({what} {id} in its revocation list, version {})",
                crl.ctr()
            ),
        )
    } else {
        Outcome::Pass
    }
}

/// Seconds (possibly fractional) since the epoch as a timestamp, to the millisecond.
fn seconds(value: f64) -> Option<Timestamp> {
    if !value.is_finite() || value.abs() > 1e13 {
        return None;
    }
    Timestamp::from_millisecond((value * 1000.0).round() as i64).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn split_whitespace_is_str_s() {
        for text in [
            "",
            "   ",
            "shc:/5676",
            " shc:/1/2/56\nshc:/2/2/76 ",
            "a\u{b}b\u{c}c\rd\te  f",
            "a\u{a0}b\u{2028}c d",
            "\u{85}x",
        ] {
            assert_eq!(
                super::split_whitespace(text),
                text.split_whitespace().collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }
}
