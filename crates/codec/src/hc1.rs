//! The `HC1:` text of an EU Digital COVID Certificate: context prefix and the whole encoding
//! chain in the issuing direction.

use thiserror::Error;

/// The context identifier of HCERT version 1 (HCERT spec section 4.2.2).
pub const PREFIX: &str = "HC1:";

/// Why a text does not start with the HCERT context identifier.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PrefixError {
    /// A later HCERT version (`HC2:` … `HCZ:`), which this verifier does not know.
    #[error(
        "context identifier {found:?} is a HCERT version this verifier does not support (expected \"HC1:\")"
    )]
    UnsupportedVersion {
        /// The identifier found.
        found: String,
    },
    /// No HCERT context identifier at all.
    #[error("the text does not start with the context identifier \"HC1:\"")]
    Missing,
}

/// Strips `HC1:` from the start of `text`.
pub fn strip_prefix(text: &str) -> Result<&str, PrefixError> {
    if let Some(rest) = text.strip_prefix(PREFIX) {
        return Ok(rest);
    }
    match text.as_bytes() {
        [b'H', b'C', v, b':', ..] if v.is_ascii_digit() || v.is_ascii_uppercase() => {
            Err(PrefixError::UnsupportedVersion {
                found: text[..4].to_owned(),
            })
        }
        _ => Err(PrefixError::Missing),
    }
}

/// Why HC1 text could not be turned back into a COSE message, by step.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No (or another) context identifier.
    #[error(transparent)]
    Prefix(#[from] PrefixError),
    /// Not Base45.
    #[error(transparent)]
    Base45(#[from] crate::base45::Base45Error),
    /// Not zlib, or too large.
    #[error(transparent)]
    Inflate(#[from] crate::zlib::InflateError),
}

/// Decodes HC1 text to its COSE message: prefix, Base45, inflate (at most `limit` bytes). The
/// verifier runs these steps one by one to report each; this is for callers that want the bytes.
pub fn decode(text: &str, limit: usize) -> Result<Vec<u8>, TransportError> {
    let compressed = crate::base45::decode(strip_prefix(text)?)?;
    Ok(crate::zlib::inflate(&compressed, limit)?)
}

/// Encodes a COSE message as HC1 text: zlib (best compression), Base45, prefix.
pub fn encode(cose: &[u8]) -> String {
    let mut text = String::from(PREFIX);
    text.push_str(&crate::base45::encode(&crate::zlib::deflate(cose)));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_inverts_encode() {
        let cose = b"\xd2\x84 not really COSE, any bytes".to_vec();
        assert_eq!(decode(&encode(&cose), 1024), Ok(cose));
        assert!(matches!(
            decode("HC2:AB", 1024),
            Err(TransportError::Prefix(_))
        ));
        assert!(matches!(
            decode("HC1:a", 1024),
            Err(TransportError::Base45(_))
        ));
        assert!(matches!(
            decode("HC1:BB8", 1024),
            Err(TransportError::Inflate(_))
        ));
    }

    #[test]
    fn prefixes() {
        assert_eq!(strip_prefix("HC1:ABC"), Ok("ABC"));
        assert_eq!(
            strip_prefix("HC2:ABC"),
            Err(PrefixError::UnsupportedVersion {
                found: "HC2:".into()
            })
        );
        assert_eq!(strip_prefix("HL0:ABC"), Err(PrefixError::Missing));
        assert_eq!(strip_prefix("NCFOXN%TS3DH"), Err(PrefixError::Missing));
        assert_eq!(strip_prefix("hc1:ABC"), Err(PrefixError::Missing));
        assert_eq!(strip_prefix(""), Err(PrefixError::Missing));
    }
}
