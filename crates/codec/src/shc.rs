//! SMART Health Cards (spec.smarthealth.cards, HL7 "SMART Health Cards and Links").
//!
//! ```text
//! shc:/ + digits ──numeric──▶ compact JWS ──base64url──▶ raw DEFLATE ──▶ JWT claims ──▶ FHIR Bundle
//! .smart-health-card file ─┘   (ES256, kid = RFC 7638 thumbprint, zip = DEF)
//! ```
//!
//! This module reads and writes the carriers (numeric QR text, chunks, the file) and the
//! claims; the signature is checked by `healthpass-trust` with the issuer's key.

use serde_json::Value;
use thiserror::Error;

use crate::json::BorrowedValue;

use crate::jws::CompactJws;

/// The QR text prefix (an IANA-registered URI scheme).
pub const QR_PREFIX: &str = "shc:/";
/// The longest JWS one QR code may carry (version 22, error correction L; spec "Encoding
/// Chunks as QR codes").
pub const MAX_SINGLE_QR_JWS: usize = 1195;
/// The longest JWS chunk when a card is split over several QR codes (deprecated since 1.3.0).
pub const MAX_CHUNK_JWS: usize = 1191;
/// Most chunks accepted when reading (the spec's own example uses 3).
pub const MAX_CHUNKS: usize = 32;
/// The VC type every card must carry.
pub const HEALTH_CARD_TYPE: &str = "https://smarthealth.cards#health-card";
/// `nbf`/`exp` above this many seconds (year 5138) can only be milliseconds by mistake
/// (health-cards-dev-tools#46).
pub const MAX_PLAUSIBLE_SECONDS: f64 = 1e11;

/// Why SMART Health Card input does not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ShcError {
    /// The text does not start with `shc:/`, or its chunk header is malformed.
    #[error("invalid numeric QR header: {detail}")]
    NumericHeader {
        /// What is wrong.
        detail: String,
    },
    /// An odd number of digits.
    #[error("the numeric QR data has an odd number of digits ({digits})")]
    NumericOddCount {
        /// How many digits.
        digits: usize,
    },
    /// A character other than a digit.
    #[error("the numeric QR data has a non-digit character at offset {offset}")]
    NumericNotDigit {
        /// Its offset in the data after the header.
        offset: usize,
    },
    /// A digit pair above 77 (`z` − 45), which no JWS character maps to.
    #[error("the numeric QR data has the pair {pair} at offset {offset}, above the largest (77)")]
    NumericTooBig {
        /// The pair's value.
        pair: u8,
        /// Its offset in the data after the header.
        offset: usize,
    },
    /// Chunks that do not make up one card.
    #[error("QR chunks do not fit together: {detail}")]
    Chunks {
        /// What is wrong.
        detail: String,
    },
    /// A `.smart-health-card` file that is not `{"verifiableCredential": [JWS, …]}`.
    #[error("not a SMART Health Card file: {detail}")]
    File {
        /// What is wrong.
        detail: String,
    },
    /// The JWT claims are not strict JSON.
    #[error("the card's payload is not JSON: {detail}")]
    PayloadJson {
        /// What is wrong.
        detail: String,
    },
    /// A claim is missing or of the wrong type.
    #[error("the card's claim {claim} {problem}")]
    Claim {
        /// The claim's path (`vc.credentialSubject.fhirBundle`, …).
        claim: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// One decoded numeric QR text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumericChunk {
    /// 1-based chunk index (1 when the text has no chunk header).
    pub index: usize,
    /// How many chunks make the card (1 when the text has no chunk header).
    pub total: usize,
    /// Whether the text carried a `C/N/` header (even `1/1/`, which the spec does not allow).
    pub has_chunk_header: bool,
    /// The JWS characters this chunk carries.
    pub jws: String,
}

/// Decodes one `shc:/…` text (no surrounding whitespace).
pub fn decode_numeric(text: &str) -> Result<NumericChunk, ShcError> {
    let rest = text
        .strip_prefix(QR_PREFIX)
        .ok_or_else(|| ShcError::NumericHeader {
            detail: format!("the text must start with {QR_PREFIX}"),
        })?;
    // A chunk header (`C/N/`, each at most three digits) is within the first eight
    // characters: only those are searched, not the whole digit string.
    let header_slash = rest.bytes().take(4).position(|b| b == b'/');
    let (index, total, has_chunk_header, digits) =
        match header_slash.map(|at| (&rest[..at], &rest[at + 1..])) {
            None => (1, 1, false, rest),
            Some((c, after)) => {
                let (n, digits) = after
                    .bytes()
                    .take(4)
                    .position(|b| b == b'/')
                    .map(|at| (&after[..at], &after[at + 1..]))
                    .ok_or_else(|| ShcError::NumericHeader {
                        detail: "a chunk header is shc:/C/N/ followed by digits".to_owned(),
                    })?;
                let index = header_number(c)?;
                let total = header_number(n)?;
                if index == 0 || index > total {
                    return Err(ShcError::NumericHeader {
                        detail: format!("chunk index {index} is outside 1..={total}"),
                    });
                }
                if total > MAX_CHUNKS {
                    return Err(ShcError::NumericHeader {
                        detail: format!("{total} chunks, more than {MAX_CHUNKS}"),
                    });
                }
                (index, total, true, digits)
            }
        };
    Ok(NumericChunk {
        index,
        total,
        has_chunk_header,
        jws: numeric_to_jws(digits)?,
    })
}

fn header_number(text: &str) -> Result<usize, ShcError> {
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ShcError::NumericHeader {
            detail: format!("{text:?} is not a chunk number"),
        });
    }
    text.parse().map_err(|_| ShcError::NumericHeader {
        detail: format!("{text:?} is not a chunk number"),
    })
}

/// Digit pairs to JWS characters: each pair is `ord(c) - 45`. One branch-free pass for valid
/// data; anything else is decoded again, in order, for the first error.
fn numeric_to_jws(digits: &str) -> Result<String, ShcError> {
    let bytes = digits.as_bytes();
    if bytes.len().is_multiple_of(2) {
        // Written into a slice of the final length with no early exit: no capacity checks
        // and no branches in the loop.
        let mut jws = vec![0u8; bytes.len() / 2];
        let mut invalid = false;
        for (out, pair) in jws.iter_mut().zip(bytes.chunks_exact(2)) {
            let (high, low) = (pair[0].wrapping_sub(b'0'), pair[1].wrapping_sub(b'0'));
            let value = high.wrapping_mul(10).wrapping_add(low);
            invalid |= (high > 9) | (low > 9) | (value > 77);
            *out = value.wrapping_add(45);
        }
        if !invalid && let Ok(jws) = String::from_utf8(jws) {
            return Ok(jws);
        }
    }
    numeric_to_jws_checked(digits)
}

/// [`numeric_to_jws`], checking each step: the first non-digit, an odd count, then the first
/// pair above 77.
fn numeric_to_jws_checked(digits: &str) -> Result<String, ShcError> {
    let bytes = digits.as_bytes();
    if let Some(offset) = bytes.iter().position(|b| !b.is_ascii_digit()) {
        return Err(ShcError::NumericNotDigit { offset });
    }
    if !bytes.len().is_multiple_of(2) {
        return Err(ShcError::NumericOddCount {
            digits: bytes.len(),
        });
    }
    let mut jws = Vec::with_capacity(bytes.len() / 2);
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let value = (pair[0] - b'0') * 10 + (pair[1] - b'0');
        if value > 77 {
            return Err(ShcError::NumericTooBig {
                pair: value,
                offset: i * 2,
            });
        }
        jws.push(value + 45);
    }
    // Every byte is ASCII (45..=122), so this never fails.
    String::from_utf8(jws).map_err(|e| ShcError::NumericNotDigit {
        offset: e.utf8_error().valid_up_to() * 2,
    })
}

/// JWS characters to digit pairs (the numeric segment of the QR code).
pub fn encode_numeric(jws: &str) -> String {
    let mut digits = String::with_capacity(jws.len() * 2);
    for b in jws.bytes() {
        let value = b.saturating_sub(45);
        digits.push(char::from(b'0' + value / 10));
        digits.push(char::from(b'0' + value % 10));
    }
    digits
}

/// Puts chunks (in any order) back together into one JWS. One unchunked text is returned as
/// it is.
pub fn assemble(mut chunks: Vec<NumericChunk>) -> Result<String, ShcError> {
    let Some(first) = chunks.first() else {
        return Err(ShcError::Chunks {
            detail: "no QR text".to_owned(),
        });
    };
    let total = first.total;
    if let Some(other) = chunks.iter().find(|c| c.total != total) {
        return Err(ShcError::Chunks {
            detail: format!("one chunk says {total} in all, another {}", other.total),
        });
    }
    chunks.sort_by_key(|c| c.index);
    if let Some(pair) = chunks.windows(2).find(|w| w[0].index == w[1].index) {
        return Err(ShcError::Chunks {
            detail: format!("chunk {} appears twice", pair[0].index),
        });
    }
    if chunks.len() != total {
        let missing: Vec<String> = (1..=total)
            .filter(|i| !chunks.iter().any(|c| c.index == *i))
            .map(|i| i.to_string())
            .collect();
        return Err(ShcError::Chunks {
            detail: format!("chunk {} of {total} missing", missing.join(", ")),
        });
    }
    Ok(chunks.into_iter().map(|c| c.jws).collect())
}

/// The JWS texts of a `.smart-health-card` file (`{"verifiableCredential": [JWS, …]}`),
/// or of a FHIR `$health-cards-issue` response (`Parameters` with `verifiableCredential`
/// value strings). Surrounding whitespace is the caller's to strip.
pub fn parse_file(bytes: &[u8]) -> Result<Vec<String>, ShcError> {
    let file = crate::json::parse_strict(bytes).map_err(|e| ShcError::File {
        detail: e.to_string(),
    })?;
    let texts: Vec<&Value> =
        if file.get("resourceType").and_then(Value::as_str) == Some("Parameters") {
            file.get("parameter")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|p| p.get("name").and_then(Value::as_str) == Some("verifiableCredential"))
                .filter_map(|p| p.get("valueString"))
                .collect()
        } else {
            file.get("verifiableCredential")
                .and_then(Value::as_array)
                .ok_or_else(|| ShcError::File {
                    detail: "there is no verifiableCredential array".to_owned(),
                })?
                .iter()
                .collect()
        };
    if texts.is_empty() {
        return Err(ShcError::File {
            detail: "it holds no verifiable credential".to_owned(),
        });
    }
    texts
        .into_iter()
        .map(|t| {
            t.as_str().map(str::to_owned).ok_or_else(|| ShcError::File {
                detail: "a verifiable credential is not a JWS string".to_owned(),
            })
        })
        .collect()
}

/// Writes a `.smart-health-card` file.
pub fn encode_file(jws: &[&str]) -> String {
    serde_json::json!({ "verifiableCredential": jws }).to_string()
}

/// The JWT claims of a card, borrowing the FHIR Bundle from the payload they were read from.
#[derive(Debug, Clone, PartialEq)]
pub struct ShcClaims<'a> {
    /// The issuer's base URL.
    pub iss: String,
    /// Issuance time, seconds since the epoch (may be fractional).
    pub nbf: f64,
    /// Expiry, seconds since the epoch, when the card has one.
    pub exp: Option<f64>,
    /// `vc.type`.
    pub types: Vec<String>,
    /// `vc.rid`, the revocation id, when the issuer supports revocation.
    pub rid: Option<String>,
    /// `vc.credentialSubject.fhirVersion`.
    pub fhir_version: Option<String>,
    /// `vc.credentialSubject.fhirBundle`.
    pub fhir_bundle: &'a BorrowedValue<'a>,
}

/// Inflates a card's JWS payload (raw DEFLATE, capped) and parses it as strict JSON.
pub fn decode_payload(jws: &CompactJws<'_>, limit: usize) -> Result<Value, PayloadError> {
    crate::zlib::inflate_raw_with(&jws.payload, limit, crate::json::parse_strict)?
        .map_err(|e| PayloadError::Json(e.to_string()))
}

/// Inflates a card's JWS payload (raw DEFLATE, capped) to its text, for
/// [`BorrowedValue::parse`]: the verifier reads the claims from that and keeps the text, so a
/// [`Value`] is built only for whoever asks for one. Bytes that are not UTF-8 give
/// [`decode_payload`]'s error.
pub fn inflate_payload(jws: &CompactJws<'_>, limit: usize) -> Result<String, PayloadError> {
    crate::zlib::inflate_raw_with(&jws.payload, limit, |bytes| {
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => Err(crate::json::parse_strict(bytes)
                .map_or_else(|e| e.to_string(), |_| "the payload is not UTF-8".to_owned())),
        }
    })?
    .map_err(PayloadError::Json)
}

/// The card's FHIR bundle as the text it carries, not re-serialised: RFC 002's `hash-fhir`
/// revocation ids hash exactly those bytes (see `healthpass_trust::shc_crl::hash_fhir_rid`).
/// `payload` is the inflated payload ([`inflate_payload`]).
pub fn fhir_bundle_text(payload: &str) -> Result<&str, PayloadError> {
    #[derive(serde::Deserialize)]
    struct Payload<'a> {
        #[serde(borrow)]
        vc: Vc<'a>,
    }
    #[derive(serde::Deserialize)]
    struct Vc<'a> {
        #[serde(borrow, rename = "credentialSubject")]
        subject: Subject<'a>,
    }
    #[derive(serde::Deserialize)]
    struct Subject<'a> {
        #[serde(borrow, rename = "fhirBundle")]
        bundle: &'a serde_json::value::RawValue,
    }
    serde_json::from_str::<Payload<'_>>(payload)
        .map(|p| p.vc.subject.bundle.get())
        .map_err(|e| PayloadError::Json(e.to_string()))
}

/// Why a JWS payload does not give JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not raw DEFLATE, or over the cap.
    #[error(transparent)]
    Inflate(#[from] crate::zlib::InflateError),
    /// Not strict JSON.
    #[error("the inflated payload is not JSON: {0}")]
    Json(String),
}

impl<'a> ShcClaims<'a> {
    /// Reads the claims from the payload JSON.
    pub fn from_json(payload: &'a BorrowedValue<'a>) -> Result<Self, ShcError> {
        let claim = |claim: &'static str, problem: &str| ShcError::Claim {
            claim,
            problem: problem.to_owned(),
        };
        if !payload.is_object() {
            return Err(claim("(payload)", "is not a JSON object"));
        }
        let iss = payload
            .get("iss")
            .and_then(BorrowedValue::as_str)
            .ok_or_else(|| claim("iss", "is missing or not text"))?
            .to_owned();
        let nbf = payload
            .get("nbf")
            .and_then(BorrowedValue::as_f64)
            .ok_or_else(|| claim("nbf", "is missing or not a number"))?;
        let exp = match payload.get("exp") {
            None => None,
            Some(v) => Some(v.as_f64().ok_or_else(|| claim("exp", "is not a number"))?),
        };
        let vc = payload
            .get("vc")
            .filter(|v| v.is_object())
            .ok_or_else(|| claim("vc", "is missing or not an object"))?;
        let types = vc
            .get("type")
            .and_then(BorrowedValue::as_array)
            .ok_or_else(|| claim("vc.type", "is missing or not an array"))?
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| claim("vc.type", "holds something other than text"))?;
        let rid = match vc.get("rid") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .ok_or_else(|| claim("vc.rid", "is not text"))?
                    .to_owned(),
            ),
        };
        let subject = vc
            .get("credentialSubject")
            .filter(|v| v.is_object())
            .ok_or_else(|| claim("vc.credentialSubject", "is missing or not an object"))?;
        let fhir_version = subject
            .get("fhirVersion")
            .and_then(BorrowedValue::as_str)
            .map(str::to_owned);
        let fhir_bundle = subject
            .get("fhirBundle")
            .filter(|b| b.get("resourceType").and_then(BorrowedValue::as_str) == Some("Bundle"))
            .ok_or_else(|| {
                claim(
                    "vc.credentialSubject.fhirBundle",
                    "is missing or not a FHIR Bundle",
                )
            })?;
        Ok(Self {
            iss,
            nbf,
            exp,
            types,
            rid,
            fhir_version,
            fhir_bundle,
        })
    }

    /// Whether `vc.type` has the health-card type the spec requires.
    pub fn is_health_card(&self) -> bool {
        self.types.iter().any(|t| t == HEALTH_CARD_TYPE)
    }
}

/// Why an `iss` is not a valid issuer URL: the spec requires `https://` and no trailing slash
/// (keys are fetched from `iss + "/.well-known/jwks.json"`).
pub fn issuer_url_problem(iss: &str) -> Option<&'static str> {
    if !iss.starts_with("https://") {
        Some("does not start with https://")
    } else if iss.ends_with('/') {
        Some("ends with a slash")
    } else if iss.len() <= "https://".len() || iss.chars().any(char::is_whitespace) {
        Some("is not a URL")
    } else {
        None
    }
}

/// The claims for a new card: `{iss, nbf, [exp], vc: {type, [rid], credentialSubject:
/// {fhirVersion: "4.0.1", fhirBundle}}}`, minified.
pub fn encode_claims(
    iss: &str,
    nbf: i64,
    exp: Option<i64>,
    rid: Option<&str>,
    fhir_bundle: &Value,
) -> Vec<u8> {
    let mut vc = serde_json::json!({
        "type": [HEALTH_CARD_TYPE],
        "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": fhir_bundle},
    });
    if let Some(rid) = rid {
        vc["rid"] = Value::from(rid);
    }
    let mut claims = serde_json::json!({"iss": iss, "nbf": nbf, "vc": vc});
    if let Some(exp) = exp {
        claims["exp"] = Value::from(exp);
    }
    claims.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(name: &str) -> Option<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/");
        match std::fs::read_to_string(format!("{path}{name}")) {
            Ok(text) => Some(text),
            Err(_) => {
                eprintln!("skipping: ../shared/corpus/{name} is not there");
                None
            }
        }
    }

    #[test]
    fn spec_example_00_numeric_qr_both_ways() {
        // Spec "Encoding Chunks as QR codes": shc:/ + two digits per JWS character.
        let (Some(qr), Some(jws)) = (
            corpus("shc-spec-examples/example-00-f-qr-code-numeric-value-0.txt"),
            corpus("shc-spec-examples/example-00-d-jws.txt"),
        ) else {
            return;
        };
        let chunk = decode_numeric(qr.trim()).unwrap();
        assert_eq!(
            (chunk.index, chunk.total, chunk.has_chunk_header),
            (1, 1, false)
        );
        assert_eq!(chunk.jws, jws.trim());
        assert_eq!(
            format!("{QR_PREFIX}{}", encode_numeric(jws.trim())),
            qr.trim()
        );
    }

    #[test]
    fn spec_example_02_chunks_in_any_order() {
        let texts: Vec<String> = (0..3)
            .filter_map(|i| {
                corpus(&format!(
                    "shc-spec-examples/example-02-f-qr-code-numeric-value-{i}.txt"
                ))
            })
            .collect();
        let Some(jws) = corpus("shc-spec-examples/example-02-d-jws.txt") else {
            return;
        };
        let chunks: Vec<NumericChunk> = texts
            .iter()
            .map(|t| decode_numeric(t.trim()).unwrap())
            .collect();
        assert!(chunks.iter().all(|c| c.total == 3 && c.has_chunk_header));
        let mut shuffled = chunks.clone();
        shuffled.rotate_left(1);
        assert_eq!(assemble(shuffled).unwrap(), jws.trim());
        // One missing, one twice.
        let missing = vec![chunks[0].clone(), chunks[2].clone()];
        assert!(
            assemble(missing)
                .unwrap_err()
                .to_string()
                .contains("chunk 2 of 3 missing")
        );
        let twice = vec![chunks[0].clone(), chunks[2].clone(), chunks[0].clone()];
        assert!(
            assemble(twice)
                .unwrap_err()
                .to_string()
                .contains("appears twice")
        );
    }

    #[test]
    fn numeric_fast_path_is_the_checked_one() {
        let inputs = [
            "",
            "00",
            "77",
            "78",
            "99",
            "5676",
            "567",
            "56a6",
            "5 76",
            "0077",
            "7800",
            "/0",
            ":0",
            "0/",
            "0:",
            "7778",
            "7877",
            "56\u{e9}6",
        ];
        for digits in inputs {
            assert_eq!(
                numeric_to_jws(digits),
                numeric_to_jws_checked(digits),
                "{digits:?}"
            );
        }
        let all: String = (0..=77).map(|v| format!("{v:02}")).collect();
        assert_eq!(numeric_to_jws(&all), numeric_to_jws_checked(&all));
        assert_eq!(numeric_to_jws(&all).unwrap().len(), 78);
    }

    #[test]
    fn numeric_errors_are_typed() {
        assert!(matches!(
            decode_numeric("shc:5676"),
            Err(ShcError::NumericHeader { .. })
        ));
        assert!(matches!(
            decode_numeric("shc:/567"),
            Err(ShcError::NumericOddCount { digits: 3 })
        ));
        assert!(matches!(
            decode_numeric("shc:/5678"),
            Err(ShcError::NumericTooBig {
                pair: 78,
                offset: 2
            })
        ));
        assert!(matches!(
            decode_numeric("shc:/56a6"),
            Err(ShcError::NumericNotDigit { offset: 2 })
        ));
        assert!(matches!(
            decode_numeric("shc:/3/2/5656"),
            Err(ShcError::NumericHeader { .. })
        ));
        assert!(matches!(
            decode_numeric("shc:/0/2/5656"),
            Err(ShcError::NumericHeader { .. })
        ));
        let single = decode_numeric("shc:/1/1/5656").unwrap();
        assert!(single.has_chunk_header);
        assert_eq!(single.jws, "ee");
    }

    #[test]
    fn file_and_claims_of_example_00() {
        let Some(file) = corpus("shc-spec-examples/example-00-e-file.smart-health-card") else {
            return;
        };
        let jws = parse_file(file.as_bytes()).unwrap();
        assert_eq!(jws.len(), 1);
        let parsed = CompactJws::parse(&jws[0]).unwrap();
        assert_eq!(parsed.header_str("zip"), Some("DEF"));
        let payload = decode_payload(&parsed, 64 * 1024).unwrap();
        let text = inflate_payload(&parsed, 64 * 1024).unwrap();
        let borrowed = BorrowedValue::parse(text.as_bytes()).unwrap();
        assert_eq!(borrowed.to_value(), payload);
        let claims = ShcClaims::from_json(&borrowed).unwrap();
        assert_eq!(claims.iss, "https://spec.smarthealth.cards/examples/issuer");
        assert_eq!(claims.rid.as_deref(), Some("MKyCxh7p6uQ"));
        assert!(claims.is_health_card());
        assert_eq!(issuer_url_problem(&claims.iss), None);
        let entries = claims.fhir_bundle["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 4);
        // The minified payload the spec publishes is exactly what the JWS carries.
        let minified = corpus("shc-spec-examples/example-00-c-jws-payload-minified.json").unwrap();
        assert_eq!(
            payload,
            crate::json::parse_strict(minified.trim().as_bytes()).unwrap()
        );
    }

    #[test]
    fn issuer_urls() {
        assert_eq!(
            issuer_url_problem("http://example.org"),
            Some("does not start with https://")
        );
        assert_eq!(
            issuer_url_problem("https://example.org/"),
            Some("ends with a slash")
        );
        assert_eq!(issuer_url_problem("https://example.org/issuer"), None);
    }
}
