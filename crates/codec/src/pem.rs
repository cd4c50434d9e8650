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

/// One PEM block: `der` as Base64 in lines of 64 characters between the `label` lines.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        // Base64 is ASCII, so every chunk is UTF-8.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_blocks_read_back() {
        let der: Vec<u8> = (0..=200).collect();
        let pem = encode("PRIVATE KEY", &der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(pem.lines().count(), 2 + 268_usize.div_ceil(64));
        assert_eq!(first(&pem, "PRIVATE KEY"), Some(Ok(der)));
    }

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
