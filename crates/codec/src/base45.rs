//! Base45 (RFC 9285), strict.
//!
//! The decoder rejects every input that the RFC does not allow: a length that leaves one
//! character over, a character outside the 45-character alphabet (lowercase included), a
//! three-character group above 65535 and a final two-character group above 255. Lenient
//! decoders let corrupted QR texts through and fail later with a less useful message.

use thiserror::Error;

/// The alphabet of RFC 9285 section 4; a character's value is its index.
pub const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

const INVALID: u8 = 0xFF;

static DECODE_TABLE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Why a text is not valid Base45.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Base45Error {
    /// `len % 3 == 1`: a lone character cannot encode anything.
    #[error("Base45 text has {len} characters; a length of 3n+1 is never valid")]
    InvalidLength {
        /// Length of the text in bytes.
        len: usize,
    },
    /// A character that is not in the Base45 alphabet.
    #[error("character {character:?} at position {position} is not in the Base45 alphabet")]
    InvalidCharacter {
        /// Byte offset in the text.
        position: usize,
        /// The offending character (a byte outside ASCII is shown as its Latin-1 value).
        character: char,
    },
    /// A group encodes a value larger than its bytes can hold.
    #[error("Base45 group at position {position} encodes {value}, more than {max}")]
    GroupOverflow {
        /// Byte offset of the group in the text.
        position: usize,
        /// The decoded value.
        value: u32,
        /// The largest value the group may carry (65535 or 255).
        max: u32,
    },
}

/// Decodes Base45 text into bytes.
pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let mut out = Vec::new();
    decode_into(text.as_bytes(), &mut out)?;
    Ok(out)
}

/// Decodes Base45 text, appending the bytes to `out` (which keeps its capacity across calls).
/// On error `out` is left as it was.
pub fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Result<(), Base45Error> {
    let start = out.len();
    let result = decode_append(text, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn decode_append(text: &[u8], out: &mut Vec<u8>) -> Result<(), Base45Error> {
    if text.len() % 3 == 1 {
        return Err(Base45Error::InvalidLength { len: text.len() });
    }
    let start = out.len();
    out.resize(start + text.len() / 3 * 2, 0);
    let mut chunks = text.chunks_exact(3);
    for ((group, chunk), dst) in chunks
        .by_ref()
        .enumerate()
        .zip(out[start..].chunks_exact_mut(2))
    {
        let (a, b, c) = (
            DECODE_TABLE[chunk[0] as usize],
            DECODE_TABLE[chunk[1] as usize],
            DECODE_TABLE[chunk[2] as usize],
        );
        // Valid values are below 45, INVALID is 0xFF: one test covers all three.
        if (a | b | c) & 0x80 != 0 {
            return Err(invalid_character(text, group * 3));
        }
        let n = u32::from(a) + u32::from(b) * 45 + u32::from(c) * 2025;
        if n > 0xFFFF {
            return Err(Base45Error::GroupOverflow {
                position: group * 3,
                value: n,
                max: 0xFFFF,
            });
        }
        dst.copy_from_slice(&(n as u16).to_be_bytes());
    }
    if let [x, y] = *chunks.remainder() {
        let position = text.len() - 2;
        let (a, b) = (DECODE_TABLE[x as usize], DECODE_TABLE[y as usize]);
        if (a | b) & 0x80 != 0 {
            return Err(invalid_character(text, position));
        }
        let n = u32::from(a) + u32::from(b) * 45;
        if n > 0xFF {
            return Err(Base45Error::GroupOverflow {
                position,
                value: n,
                max: 0xFF,
            });
        }
        out.push(n as u8);
    }
    Ok(())
}

/// The error for the first invalid character at or after `from`.
fn invalid_character(text: &[u8], from: usize) -> Base45Error {
    let position = (from..text.len())
        .find(|&i| DECODE_TABLE[text[i] as usize] == INVALID)
        .unwrap_or(from);
    Base45Error::InvalidCharacter {
        position,
        character: char::from(text[position]),
    }
}

/// Encodes bytes as Base45 text.
pub fn encode(data: &[u8]) -> String {
    let mut out = Vec::with_capacity(data.len().div_ceil(2) * 3);
    let mut pairs = data.chunks_exact(2);
    for pair in pairs.by_ref() {
        let mut n = u32::from(u16::from_be_bytes([pair[0], pair[1]]));
        for _ in 0..3 {
            out.push(ALPHABET[(n % 45) as usize]);
            n /= 45;
        }
    }
    if let [last] = pairs.remainder() {
        let n = u32::from(*last);
        out.push(ALPHABET[(n % 45) as usize]);
        out.push(ALPHABET[(n / 45) as usize]);
    }
    // Every pushed byte comes from ALPHABET, which is ASCII.
    out.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 9285 section 4.3 examples, checked in both directions.
    #[test]
    fn rfc_9285_vectors() {
        let vectors: &[(&[u8], &str)] = &[
            (b"AB", "BB8"),
            (b"Hello!!", "%69 VD92EX0"),
            (b"base-45", "UJCLQE7W581"),
            (b"ietf!", "QED8WEX0"),
            (&[0xFF, 0xFF], "FGW"),
            (&[0xFF], "U5"),
            (b"", ""),
        ];
        for (bytes, text) in vectors {
            assert_eq!(encode(bytes), *text);
            assert_eq!(decode(text).unwrap(), *bytes);
        }
    }

    #[test]
    fn rejects_what_the_rfc_rejects() {
        assert_eq!(decode("A"), Err(Base45Error::InvalidLength { len: 1 }));
        assert_eq!(decode("BB8A"), Err(Base45Error::InvalidLength { len: 4 }));
        assert_eq!(
            decode("bb8"),
            Err(Base45Error::InvalidCharacter {
                position: 0,
                character: 'b'
            })
        );
        assert_eq!(
            decode("BB="),
            Err(Base45Error::InvalidCharacter {
                position: 2,
                character: '='
            })
        );
        // "GGW" = 16 + 16*45 + 32*2025 = 65536, one above what two bytes hold.
        assert_eq!(
            decode("GGW"),
            Err(Base45Error::GroupOverflow {
                position: 0,
                value: 16 + 16 * 45 + 32 * 2025,
                max: 0xFFFF
            })
        );
        assert!(matches!(
            decode(":::"),
            Err(Base45Error::GroupOverflow { value: 91124, .. })
        ));
        assert!(matches!(
            decode("V5"),
            Err(Base45Error::GroupOverflow {
                value: 256,
                max: 255,
                ..
            })
        ));
    }

    #[test]
    fn error_leaves_output_untouched() {
        let mut out = vec![1, 2, 3];
        assert!(decode_into(b"BB8BB8U5x", &mut out).is_err());
        assert_eq!(out, [1, 2, 3]);
        assert!(decode_into(b"BB8V5", &mut out).is_err());
        assert_eq!(out, [1, 2, 3]);
        decode_into(b"BB8", &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, b'A', b'B']);
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let text = encode(&data);
            prop_assert_eq!(decode(&text).unwrap(), data);
        }

        #[test]
        fn decode_never_panics(text in ".{0,64}") {
            let _ = decode(&text);
        }
    }
}
