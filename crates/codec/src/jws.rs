//! JWS compact serialisation (RFC 7515 section 7.1): `header.payload.signature`, each part
//! base64url without padding. The signature covers the ASCII of `header.payload` exactly as
//! received, so [`CompactJws::signing_input`] borrows it from the input instead of re-encoding.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use thiserror::Error;

/// Largest compact JWS accepted (a `.smart-health-card` file may carry a long one; a QR holds
/// under 3 KB). Refused before any decoding, so a hostile input costs nothing.
pub const MAX_JWS_LEN: usize = 256 * 1024;

/// Which part of a compact JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The protected header.
    Header,
    /// The payload.
    Payload,
    /// The signature.
    Signature,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Header => "header",
            Self::Payload => "payload",
            Self::Signature => "signature",
        })
    }
}

/// Why a text is not a compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JwsError {
    /// Not three dot-separated parts.
    #[error("a compact JWS has three parts separated by dots; found {parts}")]
    Parts {
        /// How many parts there were.
        parts: usize,
    },
    /// Longer than [`MAX_JWS_LEN`].
    #[error("the JWS is {len} characters long, over the limit of {MAX_JWS_LEN}")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// A part is not base64url without padding.
    #[error("the JWS {part} is not base64url: {detail}")]
    Base64 {
        /// Which part.
        part: Part,
        /// What is wrong.
        detail: String,
    },
    /// The header is not a strict JSON object.
    #[error("the JWS header is not a JSON object: {detail}")]
    Header {
        /// What is wrong.
        detail: String,
    },
}

/// A parsed compact JWS. Borrows the text it came from.
#[derive(Debug, Clone)]
pub struct CompactJws<'a> {
    text: &'a str,
    signing_input_len: usize,
    /// The protected header as JSON.
    pub header: Value,
    /// The payload bytes (still compressed when the header says `zip`).
    pub payload: Vec<u8>,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// Parses `text` (no surrounding whitespace: the caller decides whether to tolerate it).
    pub fn parse(text: &'a str) -> Result<Self, JwsError> {
        if text.len() > MAX_JWS_LEN {
            return Err(JwsError::TooLong { len: text.len() });
        }
        let parts: Vec<&str> = text.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts[..] else {
            return Err(JwsError::Parts { parts: parts.len() });
        };
        let header_bytes = base64url(header_b64, Part::Header)?;
        let header = crate::json::parse_strict(&header_bytes).map_err(|e| JwsError::Header {
            detail: e.to_string(),
        })?;
        if !header.is_object() {
            return Err(JwsError::Header {
                detail: "not an object".to_owned(),
            });
        }
        Ok(Self {
            text,
            signing_input_len: header_b64.len() + 1 + payload_b64.len(),
            header,
            payload: base64url(payload_b64, Part::Payload)?,
            signature: base64url(signature_b64, Part::Signature)?,
        })
    }

    /// The bytes the signature covers: `header.payload` as received.
    pub fn signing_input(&self) -> &'a [u8] {
        &self.text.as_bytes()[..self.signing_input_len]
    }

    /// The whole JWS text.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// A text member of the header (`alg`, `kid`, `zip`, …), if present and text.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }
}

fn base64url(text: &str, part: Part) -> Result<Vec<u8>, JwsError> {
    URL_SAFE_NO_PAD.decode(text).map_err(|e| JwsError::Base64 {
        part,
        detail: e.to_string(),
    })
}

/// Encodes a compact JWS from a header object, payload bytes and a signer over the signing
/// input. The header is written as given (serde_json's compact form).
pub fn encode(header: &Value, payload: &[u8], sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let mut text = URL_SAFE_NO_PAD.encode(header.to_string());
    text.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut text);
    let signature = sign(text.as_bytes());
    text.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut text);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_and_signing_input_is_the_received_text() {
        let header = json!({"alg": "ES256", "kid": "k", "zip": "DEF"});
        let jws = encode(&header, b"payload bytes", |input| {
            assert!(input.ends_with(b".cGF5bG9hZCBieXRlcw"));
            vec![7; 64]
        });
        let parsed = CompactJws::parse(&jws).unwrap();
        assert_eq!(parsed.header, header);
        assert_eq!(parsed.payload, b"payload bytes");
        assert_eq!(parsed.signature, vec![7; 64]);
        assert_eq!(
            parsed.signing_input(),
            jws.rsplit_once('.').unwrap().0.as_bytes()
        );
        assert_eq!(parsed.header_str("kid"), Some("k"));
    }

    #[test]
    fn refuses_malformed() {
        assert_eq!(
            CompactJws::parse("a.b").unwrap_err(),
            JwsError::Parts { parts: 2 }
        );
        assert!(matches!(
            CompactJws::parse("e30.e30.AA=").unwrap_err(),
            JwsError::Base64 {
                part: Part::Signature,
                ..
            }
        ));
        // `[]` is JSON, not an object; `{"a":1,"a":2}` has a duplicate key.
        assert!(matches!(
            CompactJws::parse("W10.e30.AA").unwrap_err(),
            JwsError::Header { .. }
        ));
        assert!(matches!(
            CompactJws::parse("eyJhIjoxLCJhIjoyfQ.e30.AA").unwrap_err(),
            JwsError::Header { .. }
        ));
        let long = "a".repeat(MAX_JWS_LEN + 1);
        assert!(matches!(
            CompactJws::parse(&long).unwrap_err(),
            JwsError::TooLong { .. }
        ));
    }
}
