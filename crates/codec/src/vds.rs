//! ICAO Visible Digital Seal for non-constrained environments (VDS-NC), the JSON travel seal
//! of ICAO's "VDS-NC for travel-related public health proofs":
//!
//! ```text
//! {"data": {"hdr": {"t": "icao.vacc" | "icao.test", "v": 1, "is": "UTO"}, "msg": {…}},
//!  "sig":  {"alg": "ES256", "cer": base64url(DER barcode signer certificate), "sigvl": base64url(r‖s)}}
//! ```
//!
//! The signature covers the RFC 8785 (JCS) canonical form of `data`, not the bytes received:
//! the QR holds plain JSON whose whitespace and key order the issuer does not fix. Duplicate
//! keys are refused before canonicalising, so what is shown is what was signed.

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value;
use thiserror::Error;

/// Largest seal text accepted (a QR code holds under 3 KB; the certificate is most of it).
pub const MAX_SEAL_LEN: usize = 16 * 1024;

/// The seal's document type (`data.hdr.t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SealType {
    /// `icao.vacc`: proof of vaccination (document type `NV` in the signer certificate).
    #[serde(rename = "icao.vacc")]
    Vaccination,
    /// `icao.test`: proof of testing (document type `NT`).
    #[serde(rename = "icao.test")]
    Test,
}

impl SealType {
    /// The `t` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vaccination => "icao.vacc",
            Self::Test => "icao.test",
        }
    }

    /// The two-letter document type a barcode signer certificate must list for this seal.
    pub fn document_type(self) -> &'static str {
        match self {
            Self::Vaccination => "NV",
            Self::Test => "NT",
        }
    }
}

/// Why a text is not a VDS-NC seal.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SealError {
    /// Longer than [`MAX_SEAL_LEN`].
    #[error("the seal is {len} bytes long, over the limit of {MAX_SEAL_LEN}")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Not strict JSON.
    #[error("the seal is not JSON: {detail}")]
    Json {
        /// What is wrong.
        detail: String,
    },
    /// A member is missing, of the wrong type, or unknown where the format is closed.
    #[error("the seal's {field} {problem}")]
    Field {
        /// The member's path (`data.hdr.t`, …).
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// A parsed seal.
#[derive(Debug, Clone, PartialEq)]
pub struct Seal {
    /// `data` as received (header and message).
    pub data: Value,
    /// `data.hdr.t`.
    pub seal_type: SealType,
    /// `data.hdr.v`.
    pub version: i64,
    /// `data.hdr.is`: the issuing state (ISO 3166-1 alpha-3).
    pub issuing_state: String,
    /// `sig.alg` (`ES256`, `ES384`, `ES512`).
    pub alg: String,
    /// `sig.sigvl`, decoded: the raw `r‖s` signature.
    pub signature: Vec<u8>,
    /// `sig.cer`, decoded: the barcode signer certificate (DER).
    pub certificate: Vec<u8>,
}

fn field(field: &'static str, problem: impl Into<String>) -> SealError {
    SealError::Field {
        field,
        problem: problem.into(),
    }
}

/// Whether `text` looks like a VDS-NC seal (a JSON object with `data` and `sig`), cheaply,
/// for format detection.
pub fn looks_like_seal(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{') && t.contains("\"data\"") && t.contains("\"sig\"")
}

impl Seal {
    /// Parses a seal as scanned (surrounding whitespace is allowed: JSON permits it).
    pub fn parse(text: &str) -> Result<Self, SealError> {
        if text.len() > MAX_SEAL_LEN {
            return Err(SealError::TooLong { len: text.len() });
        }
        let root = crate::json::parse_strict(text.as_bytes()).map_err(|e| SealError::Json {
            detail: e.to_string(),
        })?;
        let Value::Object(mut root) = root else {
            return Err(field("(root)", "is not an object"));
        };
        if let Some(extra) = root.keys().find(|k| *k != "data" && *k != "sig") {
            return Err(field("(root)", format!("has an unknown member {extra:?}")));
        }
        let data = root
            .get("data")
            .filter(|d| d.is_object())
            .ok_or_else(|| field("data", "is missing or not an object"))?;
        // JCS writes every number as a double: an integer a double cannot hold would be
        // signed rounded and shown as written (found by the vds_seal fuzz target).
        if !numbers_exact(data) {
            return Err(field(
                "data",
                "holds a number beyond ±2^53, which RFC 8785 cannot sign exactly",
            ));
        }
        let hdr = data
            .get("hdr")
            .filter(|h| h.is_object())
            .ok_or_else(|| field("data.hdr", "is missing or not an object"))?;
        if !data.get("msg").is_some_and(Value::is_object) {
            return Err(field("data.msg", "is missing or not an object"));
        }
        let seal_type = match hdr.get("t").and_then(Value::as_str) {
            Some("icao.vacc") => SealType::Vaccination,
            Some("icao.test") => SealType::Test,
            Some(other) => {
                return Err(field(
                    "data.hdr.t",
                    format!("is {other:?}, not icao.vacc or icao.test"),
                ));
            }
            None => return Err(field("data.hdr.t", "is missing or not text")),
        };
        let version = hdr
            .get("v")
            .and_then(Value::as_i64)
            .ok_or_else(|| field("data.hdr.v", "is missing or not an integer"))?;
        if version != 1 {
            return Err(field(
                "data.hdr.v",
                format!("is {version}; this reader knows version 1"),
            ));
        }
        let issuing_state = hdr
            .get("is")
            .and_then(Value::as_str)
            .filter(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()))
            .ok_or_else(|| field("data.hdr.is", "is not a three-letter country code"))?
            .to_owned();
        let sig = root
            .get("sig")
            .and_then(Value::as_object)
            .ok_or_else(|| field("sig", "is missing or not an object"))?;
        if let Some(extra) = sig
            .keys()
            .find(|k| !matches!(k.as_str(), "alg" | "cer" | "sigvl"))
        {
            return Err(field("sig", format!("has an unknown member {extra:?}")));
        }
        let alg = sig
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| field("sig.alg", "is missing or not text"))?
            .to_owned();
        let signature = base64url_padded(sig.get("sigvl"), "sig.sigvl")?;
        let certificate = base64url_padded(sig.get("cer"), "sig.cer")?;
        // Checked above to be there: moved out, not copied.
        let data = root
            .remove("data")
            .ok_or_else(|| field("data", "is missing or not an object"))?;
        Ok(Self {
            data,
            seal_type,
            version,
            issuing_state,
            alg,
            signature,
            certificate,
        })
    }

    /// The bytes the signature covers: JCS (RFC 8785) of `data`.
    pub fn signed_bytes(&self) -> Vec<u8> {
        canonical_json(&self.data)
    }

    /// `data.msg`.
    pub fn message(&self) -> &Value {
        &self.data["msg"]
    }
}

/// Whether every number in `value` is exactly what RFC 8785 (IEEE 754 doubles) will write.
fn numbers_exact(value: &Value) -> bool {
    const MAX_EXACT: u64 = 1 << 53;
    match value {
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u <= MAX_EXACT,
            (None, Some(i)) => i.unsigned_abs() <= MAX_EXACT,
            // Written with a fraction or an exponent: JCS prints a double of magnitude
            // 2^53..1e21 as plain digits, which would read back as an integer other than the
            // one signed (`1666666666666666666.666` is signed as `1666666666666666800`). The
            // same bound for every number keeps the rule one sentence long.
            (None, None) => n.as_f64().is_some_and(|f| f.abs() <= MAX_EXACT as f64),
        },
        Value::Array(items) => items.iter().all(numbers_exact),
        Value::Object(map) => map.values().all(numbers_exact),
        _ => true,
    }
}

/// RFC 8785 canonical JSON of a value.
///
/// Written directly when every number is an integer a double holds exactly (|n| <= 2^53,
/// which JCS writes as plain digits) and every object key is ASCII (so the UTF-16 order JCS
/// sorts by is the byte order of the map): what a seal holds. Anything else (fractions,
/// non-ASCII keys) goes through `serde_json_canonicalizer`, which the direct writer matches
/// byte for byte (see the tests).
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    if write_canonical(value, &mut out).is_some() {
        return out;
    }
    // Serialising a serde_json::Value cannot fail: its numbers are finite and keys are text.
    serde_json_canonicalizer::to_vec(value).unwrap_or_default()
}

/// The direct JCS writer; `None` where it leaves the value to `serde_json_canonicalizer`.
fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Option<()> {
    const MAX_EXACT: u64 = 1 << 53;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64().filter(|u| *u <= MAX_EXACT) {
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_EXACT) {
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                return None;
            }
        }
        Value::String(text) => write_canonical_str(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if !key.is_ascii() {
                    return None;
                }
                if i > 0 {
                    out.push(b',');
                }
                write_canonical_str(key, out);
                out.push(b':');
                write_canonical(item, out)?;
            }
            out.push(b'}');
        }
    }
    Some(())
}

/// A JSON string as serde_json (and so JCS) writes it: `"` and `\\` escaped, control
/// characters as `\b \t \n \f \r` or `\u00xx`, everything else as it is.
fn write_canonical_str(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut plain = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0A => b"\\n",
            0x0C => b"\\f",
            0x0D => b"\\r",
            0x00..=0x1F => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xF)],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain..i]);
        out.extend_from_slice(escape);
        plain = i + 1;
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}

/// base64url, with or without `=` padding: the ICAO worked examples pad, the TR's alphabet is
/// base64url.
fn base64url_padded(value: Option<&Value>, name: &'static str) -> Result<Vec<u8>, SealError> {
    let text = value
        .and_then(Value::as_str)
        .ok_or_else(|| field(name, "is missing or not text"))?;
    let decoded = if text.ends_with('=') {
        URL_SAFE.decode(text)
    } else {
        URL_SAFE_NO_PAD.decode(text)
    };
    decoded.map_err(|e| field(name, format!("is not base64url: {e}")))
}

/// Writes a seal: `{"data": data, "sig": {"alg", "cer", "sigvl"}}`, compact, with `data` in
/// canonical form (so the text is exactly what was signed, and as short as it can be).
pub fn encode(data: &Value, alg: &str, certificate_der: &[u8], signature: &[u8]) -> String {
    let data = String::from_utf8(canonical_json(data)).unwrap_or_default();
    format!(
        "{{\"data\":{data},\"sig\":{{\"alg\":{},\"cer\":\"{}\",\"sigvl\":\"{}\"}}}}",
        Value::from(alg),
        URL_SAFE_NO_PAD.encode(certificate_der),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(name: &str) -> Option<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/");
        std::fs::read_to_string(format!("{path}{name}"))
            .map_err(|_| eprintln!("skipping: ../shared/corpus/{name} is not there"))
            .ok()
    }

    #[test]
    fn corpus_seals_parse_and_canonicalise() {
        for (name, ty, state) in [
            (
                "icao-vds-nc/single-vaccine.txt",
                SealType::Vaccination,
                "UTO",
            ),
            ("icao-vds-nc/test.txt", SealType::Test, "UTO"),
            (
                "who-ddcc-validator/ICAOAUQR1Contents.txt",
                SealType::Vaccination,
                "AUS",
            ),
        ] {
            let Some(text) = corpus(name) else { return };
            assert!(looks_like_seal(&text), "{name}");
            let seal = Seal::parse(&text).unwrap();
            assert_eq!(
                (seal.seal_type, seal.issuing_state.as_str()),
                (ty, state),
                "{name}"
            );
            assert_eq!(seal.alg, "ES256");
            assert_eq!(seal.signature.len(), 64, "{name}: raw r‖s");
            let signed = String::from_utf8(seal.signed_bytes()).unwrap();
            assert!(
                signed.starts_with("{\"hdr\":{\"is\":"),
                "{name}: keys sorted: {signed}"
            );
            // Written back, the seal parses to the same thing.
            let again = encode(&seal.data, &seal.alg, &seal.certificate, &seal.signature);
            assert_eq!(Seal::parse(&again).unwrap(), seal, "{name}");
        }
    }

    #[test]
    fn direct_canonical_form_is_the_canonicalizer_s() {
        let samples = [
            serde_json::json!({"hdr": {"t": "icao.vacc", "v": 1, "is": "AUS"}, "msg": {"uvci": "VB0009990012", "pid": {"n": "CITIZEN  JANE SUE", "dob": "1961-05-15"}, "ve": [{"vd": [{"seq": 1, "lot": "300157P"}]}]}}),
            serde_json::json!({"b": [null, true, false, 0, -1, 9007199254740992_u64, -9007199254740992_i64, "", {}, []], "a": "\"\\/\u{7f}\u{1}\u{8}\u{9}\u{a}\u{c}\u{d}\u{1f}é€😀\u{2028}", "A": {"z": 1, "Z": 2, "_": 3, "0": 4}}),
            // Left to the canonicalizer: fractions, big integers, non-ASCII keys.
            serde_json::json!({"f": 1.5, "e": 1e21, "small": 1e-7, "whole": 2.0}),
            serde_json::json!({"big": 9007199254740993_u64, "neg": -9007199254740993_i64}),
            serde_json::json!({"é": 1, "\u{ffff}": 2, "😀": 3, "z": 4}),
        ];
        for value in samples {
            assert_eq!(
                String::from_utf8(canonical_json(&value)).unwrap(),
                String::from_utf8(serde_json_canonicalizer::to_vec(&value).unwrap()).unwrap(),
                "{value}"
            );
        }
        // Every ASCII character and a few others, in a key and in a value, each written
        // directly.
        for c in (0u32..0x80).chain([0xe9, 0x2028, 0xfeff, 0x1f600]) {
            let c = char::from_u32(c).unwrap().to_string();
            let mut value = serde_json::json!({"k": c, "n": [c]});
            if c.is_ascii() {
                value[format!("{c}key")] = Value::from(1);
            }
            let mut direct = Vec::new();
            assert!(write_canonical(&value, &mut direct).is_some());
            assert_eq!(
                direct,
                serde_json_canonicalizer::to_vec(&value).unwrap(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_seal() {
        let ok = r#"{"data":{"hdr":{"t":"icao.vacc","v":1,"is":"UTO"},"msg":{}},"sig":{"alg":"ES256","cer":"AA","sigvl":"AA=="}}"#;
        assert!(Seal::parse(ok).is_ok());
        for (bad, what) in [
            (ok.replace("icao.vacc", "icao.visa"), "data.hdr.t"),
            (ok.replace("\"v\":1", "\"v\":2"), "data.hdr.v"),
            (ok.replace("UTO", "UT"), "data.hdr.is"),
            (ok.replace("\"msg\":{}", "\"msg\":[]"), "data.msg"),
            (ok.replace("\"alg\"", "\"x\":1,\"alg\""), "sig"),
            (
                ok.replace("\"sigvl\":\"AA==\"", "\"sigvl\":\"A*\""),
                "sig.sigvl",
            ),
            (ok.replace("{\"data\"", "{\"x\":1,\"data\""), "(root)"),
        ] {
            match Seal::parse(&bad) {
                Err(SealError::Field { field, .. }) => assert_eq!(field, what, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        // 2^53 + 1 would be signed as 2^53 (fuzz/artifacts/vds_seal/jcs-big-integer-*).
        let big = ok.replace("\"msg\":{}", "\"msg\":{\"seq\":9007199254740993}");
        assert!(matches!(
            Seal::parse(&big),
            Err(SealError::Field { field: "data", .. })
        ));
        // However the number is written (fuzz: a fraction beyond 2^53 was signed as the
        // integer JCS prints for it, which then read back as a different number).
        for beyond in [
            "1666666666666666666.666",
            "-9007199254740993.5",
            "1e300",
            "9.1e15",
        ] {
            let seal = ok.replace("\"msg\":{}", &format!("\"msg\":{{\"n\":{beyond}}}"));
            assert!(
                matches!(
                    Seal::parse(&seal),
                    Err(SealError::Field { field: "data", .. })
                ),
                "{beyond}"
            );
        }
        let within = ok.replace("\"msg\":{}", "\"msg\":{\"n\":9007199254740991.5e-3}");
        assert!(Seal::parse(&within).is_ok());
        let fits = ok.replace("\"msg\":{}", "\"msg\":{\"seq\":9007199254740992}");
        assert!(Seal::parse(&fits).is_ok());
        let dup = ok.replace("\"v\":1", "\"v\":1,\"v\":1");
        assert!(matches!(Seal::parse(&dup), Err(SealError::Json { .. })));
    }
}
