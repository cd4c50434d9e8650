//! PEM blocks (RFC 7468): the DER between `-----BEGIN <label>-----` and `-----END <label>-----`,
//! Base64 with any whitespace. Text around the blocks is ignored. One reader for every place
//! that takes PEM: certificates, CRLs, public and private keys.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The DER of each block labelled `label` in `text`, in order; a block whose Base64 does not
/// decode gives its error.
pub fn blocks<'a>(
    text: &'a str,
    label: &str,
) -> impl Iterator<Item = Result<Vec<u8>, base64::DecodeError>> + 'a {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(&begin)? + begin.len();
        let len = rest[start..].find(&end)?;
        let body: String = rest[start..start + len]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        rest = &rest[start + len + end.len()..];
        Some(STANDARD.decode(body))
    })
}

/// The DER of the first block labelled `label`, if there is one.
pub fn first(text: &str, label: &str) -> Option<Result<Vec<u8>, base64::DecodeError>> {
    blocks(text, label).next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_in_order_with_their_errors() {
        let text = "intro\n-----BEGIN X-----\nAQ\nID\n-----END X-----\n-----BEGIN Y-----\nBA==\n-----END Y-----\n\
                    -----BEGIN X-----\n!!\n-----END X-----\n-----BEGIN X-----\nBQ==";
        let found: Vec<_> = blocks(text, "X").collect();
        assert_eq!(found.len(), 2, "an unterminated block is not a block");
        assert_eq!(found[0], Ok(vec![1, 2, 3]));
        assert!(found[1].is_err());
        assert_eq!(first(text, "Y"), Some(Ok(vec![4])));
        assert_eq!(first(text, "Z"), None);
    }
}
