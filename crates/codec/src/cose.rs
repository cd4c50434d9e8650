//! COSE_Sign1 (RFC 9052 section 4.2): decoding without copying, and encoding for issuers.
//!
//! The signed bytes are rebuilt from the protected header *as received* ([`CoseSign1::to_be_signed`]);
//! nothing is ever re-encoded before a signature check. Accepted framings are the ones HCERT
//! verifiers must read: tag 18, untagged, and CWT tag 61 around tag 18.

use crate::cbor::{self, CborError, Ctx, Label};
use minicbor::Decoder;
use minicbor::data::Type;
use thiserror::Error;

/// COSE header label of the algorithm (RFC 9052 table 3).
pub const HEADER_ALG: i64 = 1;
/// COSE header label of the key identifier.
pub const HEADER_KID: i64 = 4;
/// CBOR tag of a COSE_Sign1 message.
pub const TAG_COSE_SIGN1: u64 = 18;
/// CBOR tag of a CWT (RFC 8392 section 6).
pub const TAG_CWT: u64 = 61;

/// A COSE signature algorithm, by its registered identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// ECDSA with P-256 and SHA-256, signature as raw `r‖s` (-7).
    Es256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (-37).
    Ps256,
    /// Any other integer identifier.
    Other(i64),
    /// A text identifier (private use).
    Text(String),
}

impl Algorithm {
    /// Maps a COSE algorithm identifier.
    pub fn from_id(id: i64) -> Self {
        match id {
            -7 => Self::Es256,
            -37 => Self::Ps256,
            other => Self::Other(other),
        }
    }

    /// The registered identifier, if it is an integer.
    pub fn id(&self) -> Option<i64> {
        match self {
            Self::Es256 => Some(-7),
            Self::Ps256 => Some(-37),
            Self::Other(id) => Some(*id),
            Self::Text(_) => None,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Es256 => f.write_str("ES256"),
            Self::Ps256 => f.write_str("PS256"),
            Self::Other(id) => write!(f, "COSE algorithm {id}"),
            Self::Text(name) => write!(f, "COSE algorithm {name:?}"),
        }
    }
}

/// The header parameters a verifier uses. Other parameters are read and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header<'a> {
    /// Label 1.
    pub alg: Option<Algorithm>,
    /// Label 4.
    pub kid: Option<&'a [u8]>,
}

/// How the message was framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Tag 18 (the normal case).
    Tagged,
    /// No tag.
    Untagged,
    /// Tag 61 (CWT) wrapping tag 18.
    CwtTagged,
}

/// A decoded COSE_Sign1 message, borrowing from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSign1<'a> {
    /// How the message was framed.
    pub framing: Framing,
    /// The serialized protected header exactly as received (may be empty).
    pub protected_bytes: &'a [u8],
    /// The decoded protected header.
    pub protected: Header<'a>,
    /// The unprotected header.
    pub unprotected: Header<'a>,
    /// The payload (for HCERT: the CWT claims).
    pub payload: &'a [u8],
    /// The signature.
    pub signature: &'a [u8],
}

/// Why bytes are not a COSE_Sign1 message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CoseError {
    /// Not well-formed CBOR.
    #[error(transparent)]
    Cbor(#[from] CborError),
    /// A tag other than 18, or 61 around 18.
    #[error("CBOR tag {tag} is not a COSE_Sign1 tag (18, or 61 around 18)")]
    UnexpectedTag {
        /// The tag found.
        tag: u64,
    },
    /// The message is not an array of four items.
    #[error("a COSE_Sign1 message is an array of 4 items; found {found}")]
    NotSign1 {
        /// What was found instead.
        found: String,
    },
    /// A header label appears twice in one header map.
    #[error("header label {label} appears twice in the {bucket} header")]
    DuplicateLabel {
        /// The label.
        label: String,
        /// `protected` or `unprotected`.
        bucket: &'static str,
    },
    /// A known header parameter has the wrong type.
    #[error("header parameter {label} in the {bucket} header must be {expected}")]
    BadHeaderValue {
        /// The label.
        label: i64,
        /// `protected` or `unprotected`.
        bucket: &'static str,
        /// The expected type.
        expected: &'static str,
    },
    /// The payload is `nil` (detached); HCERT always carries it.
    #[error("the payload is detached (nil); a certificate must carry its payload")]
    DetachedPayload,
    /// Bytes follow the message.
    #[error("{extra} bytes follow the COSE_Sign1 message")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
}

impl<'a> CoseSign1<'a> {
    /// Decodes a COSE_Sign1 message.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, CoseError> {
        let mut d = Decoder::new(bytes);
        let framing = match d.datatype().ctx(&d)? {
            Type::Tag => match d.tag().ctx(&d)?.as_u64() {
                TAG_COSE_SIGN1 => Framing::Tagged,
                TAG_CWT => match d.datatype().ctx(&d)? {
                    Type::Tag => match d.tag().ctx(&d)?.as_u64() {
                        TAG_COSE_SIGN1 => Framing::CwtTagged,
                        tag => return Err(CoseError::UnexpectedTag { tag }),
                    },
                    _ => return Err(CoseError::UnexpectedTag { tag: TAG_CWT }),
                },
                tag => return Err(CoseError::UnexpectedTag { tag }),
            },
            _ => Framing::Untagged,
        };
        match d.datatype().ctx(&d)? {
            Type::Array => {}
            other => {
                return Err(CoseError::NotSign1 {
                    found: other.to_string(),
                });
            }
        }
        match d.array().ctx(&d)? {
            Some(4) => {}
            Some(n) => {
                return Err(CoseError::NotSign1 {
                    found: format!("an array of {n} items"),
                });
            }
            None => {
                return Err(CoseError::NotSign1 {
                    found: "an indefinite-length array".into(),
                });
            }
        }
        let protected_bytes = definite_bytes(&mut d, "the protected header")?;
        let protected = if protected_bytes.is_empty() {
            Header::default()
        } else {
            let mut inner = Decoder::new(protected_bytes);
            let header = read_header(&mut inner, "protected")?;
            cbor::expect_end(&inner).map_err(|extra| {
                CborError::at(
                    inner.position(),
                    format!("{extra} bytes follow the protected header map"),
                )
            })?;
            header
        };
        let unprotected = read_header(&mut d, "unprotected")?;
        if d.datatype().ctx(&d)? == Type::Null {
            return Err(CoseError::DetachedPayload);
        }
        let payload = definite_bytes(&mut d, "the payload")?;
        let signature = definite_bytes(&mut d, "the signature")?;
        cbor::expect_end(&d).map_err(|extra| CoseError::TrailingBytes { extra })?;
        Ok(Self {
            framing,
            protected_bytes,
            protected,
            unprotected,
            payload,
            signature,
        })
    }

    /// The key id: from the protected header if present there, else from the unprotected one
    /// (HCERT 1.0.8 section 3.3.3).
    pub fn kid(&self) -> Option<&'a [u8]> {
        self.protected.kid.or(self.unprotected.kid)
    }

    /// The algorithm: from the protected header if present there, else from the unprotected one.
    pub fn alg(&self) -> Option<&Algorithm> {
        self.protected
            .alg
            .as_ref()
            .or(self.unprotected.alg.as_ref())
    }

    /// The bytes the signature covers: `Sig_structure` of RFC 9052 section 4.4, built from the
    /// protected header bytes as received and an empty external AAD.
    pub fn to_be_signed(&self) -> Vec<u8> {
        to_be_signed(self.protected_bytes, self.payload)
    }
}

/// Builds `["Signature1", protected, h'', payload]` as definite-length CBOR.
pub fn to_be_signed(protected_bytes: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected_bytes.len() + payload.len() + 24);
    out.push(0x84);
    out.push(0x6A);
    out.extend_from_slice(b"Signature1");
    push_bytes(&mut out, protected_bytes);
    out.push(0x40);
    push_bytes(&mut out, payload);
    out
}

/// Encodes a protected header holding `alg` and `kid`, the way HCERT issuers do.
pub fn encode_protected_header(alg: &Algorithm, kid: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(kid.len() + 8);
    out.push(0xA2);
    out.push(0x01); // alg
    match alg {
        Algorithm::Text(name) => {
            push_header(&mut out, 3, name.len() as u64);
            out.extend_from_slice(name.as_bytes());
        }
        other => push_int(&mut out, other.id().unwrap_or_default()),
    }
    out.push(0x04); // kid
    push_bytes(&mut out, kid);
    out
}

/// Encodes a tagged COSE_Sign1 message with an empty unprotected header.
pub fn encode_sign1(protected_bytes: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected_bytes.len() + payload.len() + signature.len() + 16);
    out.push(0xD2);
    out.push(0x84);
    push_bytes(&mut out, protected_bytes);
    out.push(0xA0);
    push_bytes(&mut out, payload);
    push_bytes(&mut out, signature);
    out
}

/// Appends a CBOR major-type header with its argument (RFC 8949 section 3).
pub(crate) fn push_header(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xFF => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..=0xFFFF => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xFFFF_FFFF => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    push_header(out, 2, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub(crate) fn push_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        push_header(out, 0, n as u64);
    } else {
        push_header(out, 1, (-1 - n) as u64);
    }
}

fn definite_bytes<'a>(d: &mut Decoder<'a>, what: &str) -> Result<&'a [u8], CoseError> {
    let at = d.position();
    match d.datatype().ctx(d)? {
        Type::Bytes => Ok(d.bytes().ctx(d)?),
        other => Err(CborError::at(
            at,
            format!("{what} must be a definite-length byte string, found {other}"),
        )
        .into()),
    }
}

fn read_header<'a>(d: &mut Decoder<'a>, bucket: &'static str) -> Result<Header<'a>, CoseError> {
    let what = if bucket == "protected" {
        "the protected header"
    } else {
        "the unprotected header"
    };
    let len = cbor::map_header(d, what)?;
    let mut header = Header::default();
    let mut seen = cbor::SeenLabels::new();
    let mut failure: Option<CoseError> = None;
    cbor::for_each_entry(d, len, |d| {
        let label = cbor::label(d)?;
        if !seen.insert(label) {
            failure.get_or_insert(CoseError::DuplicateLabel {
                label: label.to_string(),
                bucket,
            });
        }
        let value_type = d.datatype().ctx(d)?;
        match label {
            Label::Int(HEADER_ALG) => match value_type {
                Type::String => header.alg = Some(Algorithm::Text(d.str().ctx(d)?.to_owned())),
                ty if cbor::is_int(ty) => header.alg = Some(Algorithm::from_id(d.i64().ctx(d)?)),
                _ => {
                    failure.get_or_insert(CoseError::BadHeaderValue {
                        label: HEADER_ALG,
                        bucket,
                        expected: "an integer or text",
                    });
                    cbor::skip(d)?;
                }
            },
            Label::Int(HEADER_KID) => match value_type {
                Type::Bytes => header.kid = Some(d.bytes().ctx(d)?),
                _ => {
                    failure.get_or_insert(CoseError::BadHeaderValue {
                        label: HEADER_KID,
                        bucket,
                        expected: "a byte string",
                    });
                    cbor::skip(d)?;
                }
            },
            _ => cbor::skip(d)?,
        }
        Ok(())
    })?;
    match failure {
        Some(err) => Err(err),
        None => Ok(header),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let protected = encode_protected_header(&Algorithm::Es256, &[1, 2, 3, 4, 5, 6, 7, 8]);
        encode_sign1(&protected, b"payload", &[9; 64])
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        let msg = CoseSign1::decode(&bytes).unwrap();
        assert_eq!(msg.framing, Framing::Tagged);
        assert_eq!(msg.alg(), Some(&Algorithm::Es256));
        assert_eq!(msg.kid(), Some(&[1, 2, 3, 4, 5, 6, 7, 8][..]));
        assert_eq!(msg.payload, b"payload");
        assert_eq!(msg.signature, &[9; 64]);
        // RFC 9052 4.4: ["Signature1", protected, h'', payload].
        let tbs = msg.to_be_signed();
        assert_eq!(&tbs[..12], b"\x84\x6aSignature1");
        assert!(tbs.ends_with(b"\x40\x47payload"));
    }

    #[test]
    fn framings() {
        let tagged = sample();
        let untagged = tagged[1..].to_vec();
        assert_eq!(
            CoseSign1::decode(&untagged).unwrap().framing,
            Framing::Untagged
        );
        let mut cwt = vec![0xD8, 0x3D];
        cwt.extend_from_slice(&tagged);
        assert_eq!(CoseSign1::decode(&cwt).unwrap().framing, Framing::CwtTagged);
        let mut sign = tagged.clone();
        sign[0] = 0xD8;
        sign.insert(1, 98); // COSE_Sign
        assert_eq!(
            CoseSign1::decode(&sign),
            Err(CoseError::UnexpectedTag { tag: 98 })
        );
    }

    #[test]
    fn strictness() {
        let mut trailing = sample();
        trailing.push(0);
        assert_eq!(
            CoseSign1::decode(&trailing),
            Err(CoseError::TrailingBytes { extra: 1 })
        );
        let mut three = sample();
        three[1] = 0x83;
        assert!(matches!(
            CoseSign1::decode(&three),
            Err(CoseError::NotSign1 { .. }) | Err(CoseError::Cbor(_))
        ));
        // Duplicate kid in the protected header.
        let protected = [0xA2, 0x04, 0x41, 0x01, 0x04, 0x41, 0x02];
        let dup = encode_sign1(&protected, b"p", b"s");
        assert!(matches!(
            CoseSign1::decode(&dup),
            Err(CoseError::DuplicateLabel { .. })
        ));
        // kid that is not a byte string.
        let protected = [0xA1, 0x04, 0x61, b'x'];
        let bad = encode_sign1(&protected, b"p", b"s");
        assert!(matches!(
            CoseSign1::decode(&bad),
            Err(CoseError::BadHeaderValue {
                label: HEADER_KID,
                ..
            })
        ));
        for cut in 0..sample().len() {
            assert!(
                CoseSign1::decode(&sample()[..cut]).is_err(),
                "prefix of {cut} bytes"
            );
        }
    }

    #[test]
    fn kid_and_alg_precedence() {
        // Protected: alg; unprotected: kid + other alg. Protected alg wins, kid falls back.
        let protected = [0xA1, 0x01, 0x26];
        let mut msg = vec![0xD2, 0x84, 0x43];
        msg.extend_from_slice(&protected);
        msg.extend_from_slice(&[0xA2, 0x01, 0x38, 0x24, 0x04, 0x42, 0xAA, 0xBB]);
        msg.extend_from_slice(&[0x41, b'p', 0x41, b's']);
        let decoded = CoseSign1::decode(&msg).unwrap();
        assert_eq!(decoded.alg(), Some(&Algorithm::Es256));
        assert_eq!(decoded.unprotected.alg, Some(Algorithm::Ps256));
        assert_eq!(decoded.kid(), Some(&[0xAA, 0xBB][..]));
    }
}
