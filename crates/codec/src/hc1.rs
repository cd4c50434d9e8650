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
