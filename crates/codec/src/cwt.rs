//! CWT claims (RFC 8392) as HCERT uses them: `iss` (1), `exp` (4), `iat` (6) and the health
//! certificate container `hcert` (-260), whose key 1 holds the EU DCC payload and keys 3 and 4
//! the WHO DDCC core data sets (vaccination status, test result). WHO's reference QR codes put
//! the DDCC map directly in the COSE payload, with no claims at all; that is read too.

use crate::cbor::{self, CborError, Ctx, Label};
use minicbor::Decoder;
use minicbor::data::Type;
use serde_json::Value;
use thiserror::Error;

/// Claim key of the issuer.
pub const CLAIM_ISS: i64 = 1;
/// Claim key of the expiry time.
pub const CLAIM_EXP: i64 = 4;
/// Claim key of the issue time.
pub const CLAIM_IAT: i64 = 6;
/// Claim key of the HCERT container.
pub const CLAIM_HCERT: i64 = -260;
/// Key of the EU DCC payload inside the HCERT container (`eu_dcc_v1`).
pub const HCERT_EU_DCC_V1: i64 = 1;
/// Key of the WHO DDCC vaccination status core data set (DDCC:VS) in the HCERT container.
pub const HCERT_DDCC_VS: i64 = 3;
/// Key of the WHO DDCC test result core data set (DDCC:TR) in the HCERT container.
pub const HCERT_DDCC_TR: i64 = 4;

/// What an HCERT message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HcertContent {
    /// An EU Digital COVID Certificate (`-260 → 1`).
    EuDcc,
    /// A WHO DDCC vaccination status (`-260 → 3`).
    DdccVaccination,
    /// A WHO DDCC test result (`-260 → 4`).
    DdccTest,
    /// A WHO DDCC core data set as the whole COSE payload, as WHO's reference QR codes carry
    /// it (no `iss`, `iat`, `exp`).
    DdccBare,
}

impl HcertContent {
    /// Whether this is a WHO DDCC core data set.
    pub fn is_ddcc(self) -> bool {
        !matches!(self, Self::EuDcc)
    }
}

/// The claims of an HCERT CWT.
#[derive(Debug, Clone, PartialEq)]
pub struct HcertClaims<'a> {
    /// Issuing country (ISO 3166-1 alpha-2), optional.
    pub issuer: Option<&'a str>,
    /// Issued at, seconds since the epoch (floats truncated).
    pub issued_at: Option<i64>,
    /// Expires at, seconds since the epoch (floats truncated).
    pub expires_at: Option<i64>,
    /// The payload as JSON: the EU DCC (`-260 → 1`) or the DDCC core data set.
    pub dcc: Value,
    /// Which payload it is.
    pub content: HcertContent,
}

/// Why a CWT payload is not a valid HCERT claim set.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CwtError {
    /// Not well-formed CBOR, or a value of the wrong type.
    #[error(transparent)]
    Cbor(#[from] CborError),
    /// The claims are not a CBOR map.
    #[error("the CWT claims must be a CBOR map")]
    NotAMap,
    /// A claim appears twice.
    #[error("claim {claim} appears twice")]
    DuplicateClaim {
        /// The claim key.
        claim: String,
    },
    /// There is no health certificate (`-260 → 1`, `3` or `4`, or a bare DDCC map).
    #[error("the CWT has no health certificate (claim -260, key 1, 3 or 4)")]
    MissingHcert,
    /// The DCC payload is not a map.
    #[error("the EU DCC payload must be a map")]
    HcertNotAMap,
    /// Bytes follow the claims map.
    #[error("{extra} bytes follow the CWT claims")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
}

impl<'a> HcertClaims<'a> {
    /// Decodes the payload of an HCERT COSE message.
    pub fn decode(payload: &'a [u8]) -> Result<Self, CwtError> {
        let mut d = Decoder::new(payload);
        let len = match d.datatype().ctx(&d)? {
            Type::Map | Type::MapIndef => d.map().ctx(&d)?,
            _ => return Err(CwtError::NotAMap),
        };
        let mut issuer = None;
        let mut issued_at = None;
        let mut expires_at = None;
        let mut dcc = None;
        let mut text_keys = false;
        let mut seen = cbor::SeenLabels::new();
        let mut duplicate = None;
        cbor::for_each_entry(&mut d, len, |d| {
            let key = cbor::label(d)?;
            if !seen.insert(key) {
                duplicate.get_or_insert_with(|| key.to_string());
            }
            if matches!(key, Label::Text(_)) {
                text_keys = true;
            }
            match key {
                Label::Int(CLAIM_ISS) => {
                    let at = d.position();
                    match d.datatype().ctx(d)? {
                        Type::String => issuer = Some(d.str().ctx(d)?),
                        Type::Null | Type::Undefined => cbor::skip(d)?,
                        other => {
                            return Err(CborError::at(
                                at,
                                format!("claim iss must be text, found {other}"),
                            ));
                        }
                    }
                }
                Label::Int(CLAIM_EXP) => expires_at = Some(cbor::numeric_date(d)?),
                Label::Int(CLAIM_IAT) => issued_at = Some(cbor::numeric_date(d)?),
                Label::Int(CLAIM_HCERT) => dcc = read_hcert(d)?,
                _ => cbor::skip(d)?,
            }
            Ok(())
        })?;
        if let Some(claim) = duplicate {
            return Err(CwtError::DuplicateClaim { claim });
        }
        cbor::expect_end(&d).map_err(|extra| CwtError::TrailingBytes { extra })?;
        let (dcc, content) = match dcc {
            Some(found) => found,
            // No claims, text keys: WHO's reference DDCC QR codes (the validator reads them
            // the same way).
            None if text_keys
                && issuer.is_none()
                && issued_at.is_none()
                && expires_at.is_none() =>
            {
                let mut d = Decoder::new(payload);
                let map = cbor::to_json(&mut d, 0)?.ok_or(CwtError::MissingHcert)?;
                if map.get("name").is_none() {
                    return Err(CwtError::MissingHcert);
                }
                (map, HcertContent::DdccBare)
            }
            None => return Err(CwtError::MissingHcert),
        };
        if !dcc.is_object() {
            return Err(CwtError::HcertNotAMap);
        }
        Ok(Self {
            issuer,
            issued_at,
            expires_at,
            dcc,
            content,
        })
    }
}

/// Reads the `-260` container and returns its EU DCC (key 1) or else DDCC (key 3 or 4)
/// entry as JSON.
fn read_hcert(d: &mut Decoder<'_>) -> Result<Option<(Value, HcertContent)>, CborError> {
    let len = cbor::map_header(d, "claim -260")?;
    let mut dcc = None;
    let mut ddcc = None;
    let mut seen = cbor::SeenLabels::new();
    cbor::for_each_entry(d, len, |d| {
        let key_at = d.position();
        let key = cbor::label(d)?;
        if !seen.insert(key) {
            return Err(CborError::at(
                key_at,
                format!("key {key} appears twice in claim -260"),
            ));
        }
        match key {
            Label::Int(HCERT_EU_DCC_V1) => {
                dcc = cbor::to_json(d, 1)?.map(|v| (v, HcertContent::EuDcc));
            }
            Label::Int(HCERT_DDCC_VS) if ddcc.is_none() => {
                ddcc = cbor::to_json(d, 1)?.map(|v| (v, HcertContent::DdccVaccination));
            }
            Label::Int(HCERT_DDCC_TR) if ddcc.is_none() => {
                ddcc = cbor::to_json(d, 1)?.map(|v| (v, HcertContent::DdccTest));
            }
            _ => cbor::skip(d)?,
        }
        Ok(())
    })?;
    Ok(dcc.or(ddcc))
}

/// Encodes HCERT claims: `{1: iss, 4: exp, 6: iat, -260: {1: dcc}}` with definite lengths.
/// The DCC must be a JSON object; date-times are written as plain text strings.
pub fn encode_hcert_claims(
    issuer: Option<&str>,
    issued_at: i64,
    expires_at: i64,
    dcc: &Value,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    crate::cose::push_header(&mut out, 5, 3 + u64::from(issuer.is_some()));
    if let Some(iss) = issuer {
        crate::cose::push_int(&mut out, CLAIM_ISS);
        push_text(&mut out, iss);
    }
    crate::cose::push_int(&mut out, CLAIM_EXP);
    crate::cose::push_int(&mut out, expires_at);
    crate::cose::push_int(&mut out, CLAIM_IAT);
    crate::cose::push_int(&mut out, issued_at);
    crate::cose::push_int(&mut out, CLAIM_HCERT);
    crate::cose::push_header(&mut out, 5, 1);
    crate::cose::push_int(&mut out, HCERT_EU_DCC_V1);
    push_json(&mut out, dcc);
    out
}

fn push_text(out: &mut Vec<u8>, s: &str) {
    crate::cose::push_header(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Encodes JSON as CBOR (integers as integers, other numbers as 64-bit floats).
fn push_json(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(0xF6),
        Value::Bool(false) => out.push(0xF4),
        Value::Bool(true) => out.push(0xF5),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                crate::cose::push_header(out, 0, u);
            } else if let Some(i) = n.as_i64() {
                crate::cose::push_int(out, i);
            } else {
                out.push(0xFB);
                out.extend_from_slice(&n.as_f64().unwrap_or_default().to_be_bytes());
            }
        }
        Value::String(s) => push_text(out, s),
        Value::Array(items) => {
            crate::cose::push_header(out, 4, items.len() as u64);
            items.iter().for_each(|item| push_json(out, item));
        }
        Value::Object(map) => {
            crate::cose::push_header(out, 5, map.len() as u64);
            for (k, v) in map {
                push_text(out, k);
                push_json(out, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip() {
        let dcc = json!({"ver": "1.3.0", "nam": {"fnt": "MUSTER"}, "dob": "1990", "v": [{"dn": 1, "x": 1.5}]});
        let bytes = encode_hcert_claims(Some("AT"), 1_600_000_000, 1_700_000_000, &dcc);
        let claims = HcertClaims::decode(&bytes).unwrap();
        assert_eq!(claims.issuer, Some("AT"));
        assert_eq!(claims.issued_at, Some(1_600_000_000));
        assert_eq!(claims.expires_at, Some(1_700_000_000));
        assert_eq!(claims.dcc, dcc);
    }

    #[test]
    fn float_dates_nulls_and_tag0() {
        // {6: 1620000000.5 (f64), 4: 1.7e9 (f32 is too small, use f64), -260: {1: {"a": null, "t": 0("2021-05-01T10:00:00Z"), "u": undefined}}}
        let mut b = vec![0xA3, 0x06, 0xFB];
        b.extend_from_slice(&1_620_000_000.5f64.to_be_bytes());
        b.extend_from_slice(&[0x04, 0xFB]);
        b.extend_from_slice(&1_700_000_000.0f64.to_be_bytes());
        b.extend_from_slice(&[
            0x39, 0x01, 0x03, 0xA1, 0x01, 0xA3, 0x61, b'a', 0xF6, 0x61, b't', 0xC0, 0x74,
        ]);
        b.extend_from_slice(b"2021-05-01T10:00:00Z");
        b.extend_from_slice(&[0x61, b'u', 0xF7]);
        let claims = HcertClaims::decode(&b).unwrap();
        assert_eq!(claims.issued_at, Some(1_620_000_000));
        assert_eq!(claims.expires_at, Some(1_700_000_000));
        assert_eq!(claims.dcc, json!({"t": "2021-05-01T10:00:00Z"}));
    }

    #[test]
    fn strictness() {
        // Duplicate iat.
        assert_eq!(
            HcertClaims::decode(&[0xA2, 0x06, 0x01, 0x06, 0x02]),
            Err(CwtError::DuplicateClaim { claim: "6".into() })
        );
        // No hcert.
        assert_eq!(
            HcertClaims::decode(&[0xA1, 0x06, 0x01]),
            Err(CwtError::MissingHcert)
        );
        // Not a map.
        assert_eq!(HcertClaims::decode(&[0x80]), Err(CwtError::NotAMap));
        // Duplicate key inside the DCC.
        let dup = [
            0xA1, 0x39, 0x01, 0x03, 0xA1, 0x01, 0xA2, 0x61, b'a', 0x01, 0x61, b'a', 0x02,
        ];
        assert!(matches!(HcertClaims::decode(&dup), Err(CwtError::Cbor(_))));
        // Byte string inside the DCC.
        let bytes = [
            0xA1, 0x39, 0x01, 0x03, 0xA1, 0x01, 0xA1, 0x61, b'a', 0x41, 0x00,
        ];
        assert!(matches!(
            HcertClaims::decode(&bytes),
            Err(CwtError::Cbor(_))
        ));
        // Trailing byte.
        let ok = encode_hcert_claims(None, 1, 2, &json!({}));
        let mut trailing = ok.clone();
        trailing.push(0x00);
        assert_eq!(
            HcertClaims::decode(&trailing),
            Err(CwtError::TrailingBytes { extra: 1 })
        );
        // Deep nesting is refused, not a stack overflow.
        let mut deep = vec![0xA1, 0x39, 0x01, 0x03, 0xA1, 0x01];
        deep.extend(std::iter::repeat_n(0x81, 100_000));
        deep.push(0x00);
        assert!(matches!(HcertClaims::decode(&deep), Err(CwtError::Cbor(_))));
    }
}

#[cfg(test)]
mod ddcc_tests {
    use super::*;
    use crate::cose::CoseSign1;

    #[test]
    fn who_reference_qr_is_a_bare_ddcc_map() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus/who-ddcc-validator/"
        );
        let (Ok(text), Ok(unpacked)) = (
            std::fs::read_to_string(format!("{path}WHOQR1Contents.txt")),
            std::fs::read_to_string(format!("{path}WHOQR1Unpacked.json")),
        ) else {
            eprintln!("skipping: ../shared/corpus/who-ddcc-validator is not there");
            return;
        };
        let cose = crate::hc1::decode(text.trim(), 64 * 1024).unwrap();
        let message = CoseSign1::decode(&cose).unwrap();
        let claims = HcertClaims::decode(message.payload).unwrap();
        assert_eq!(claims.content, HcertContent::DdccBare);
        assert_eq!(
            (claims.issuer, claims.issued_at, claims.expires_at),
            (None, None, None)
        );
        let expected: Value = serde_json::from_str(&unpacked).unwrap();
        assert_eq!(claims.dcc, expected);
    }

    #[test]
    fn ddcc_under_claim_260_keys_3_and_4() {
        let ddcc = serde_json::json!({"name": "A B", "vaccine": {"code": "XM68M6"}});
        // encode_hcert_claims writes -260 → 1; rewrite the inner key to 3 and 4 (one byte).
        let encoded = encode_hcert_claims(Some("XX"), 1, 2, &ddcc);
        let at = encoded
            .windows(3)
            .position(|w| w == [0x39, 0x01, 0x03])
            .expect("-260 label");
        for (key, content) in [
            (3u8, HcertContent::DdccVaccination),
            (4, HcertContent::DdccTest),
        ] {
            let mut bytes = encoded.clone();
            assert_eq!(
                bytes[at + 4],
                0x01,
                "key 1 follows the one-entry map header"
            );
            bytes[at + 4] = key;
            let claims = HcertClaims::decode(&bytes).unwrap();
            assert_eq!(claims.content, content);
            assert_eq!(claims.dcc, ddcc);
            assert!(content.is_ddcc());
        }
    }
}
