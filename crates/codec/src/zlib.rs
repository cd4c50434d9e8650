//! zlib (RFC 1950) and raw DEFLATE (RFC 1951, as SMART Health Cards use it) with a hard cap
//! on the inflated size.
//!
//! A QR code carries at most a few kilobytes, but a few kilobytes of deflate can expand to
//! gigabytes. [`inflate`] stops at `limit` bytes and reports [`InflateError::TooLarge`]
//! instead of allocating more.

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use thiserror::Error;

/// The default output cap: 64 KiB, over 50 times the largest certificate in the EU corpus.
pub const DEFAULT_INFLATE_LIMIT: usize = 64 * 1024;

/// Why bytes could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InflateError {
    /// The first two bytes are not a zlib header (for example an uncompressed COSE message).
    #[error("not zlib data: the header bytes {header:02x?} are not a valid zlib header")]
    NotZlib {
        /// The first (up to) two bytes.
        header: Vec<u8>,
    },
    /// The deflate stream is corrupt.
    #[error("corrupt deflate stream: {detail}")]
    Corrupt {
        /// What the inflater reported.
        detail: String,
    },
    /// The stream ends before its end marker.
    #[error("the deflate stream is truncated")]
    Truncated,
    /// Bytes follow the end of the zlib stream.
    #[error("{extra} bytes follow the end of the deflate stream")]
    TrailingData {
        /// How many.
        extra: usize,
    },
    /// Inflating would exceed the output cap.
    #[error("the inflated data exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The cap that was hit.
        limit: usize,
    },
}

/// Checks the two-byte zlib header of RFC 1950 section 2.2 (deflate method, checksum).
fn is_zlib_header(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => {
            cmf & 0x0F == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) * 256 + u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Inflates a complete zlib stream, producing at most `limit` bytes.
pub fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    if !is_zlib_header(data) {
        return Err(InflateError::NotZlib {
            header: data.iter().take(2).copied().collect(),
        });
    }
    let mut out = Vec::new();
    with_inflater(true, |inflater| {
        inflate_into(inflater, data, limit, &mut out)
    })?;
    Ok(out)
}

/// Inflates a complete raw DEFLATE stream (no zlib or gzip header; SMART Health Cards'
/// `zip: "DEF"`), producing at most `limit` bytes. Bytes after the final block are an error.
pub fn inflate_raw(data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    with_inflater(false, |inflater| {
        inflate_into(inflater, data, limit, &mut out)
    })?;
    Ok(out)
}

/// [`inflate_raw`], handing the inflated bytes to `read` instead of returning them: they stay
/// in a buffer this thread reuses, so a card read straight into JSON allocates nothing here.
pub fn inflate_raw_with<T>(
    data: &[u8],
    limit: usize,
    read: impl FnOnce(&[u8]) -> T,
) -> Result<T, InflateError> {
    thread_local! {
        static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    let mut out = SCRATCH.with(|cell| std::mem::take(&mut *cell.borrow_mut()));
    let result = with_inflater(false, |inflater| {
        inflate_into(inflater, data, limit, &mut out)
    })
    .map(|()| read(&out));
    // Keep a buffer the size of a certificate, not of the largest input ever seen.
    if out.capacity() <= DEFAULT_INFLATE_LIMIT {
        SCRATCH.with(|cell| *cell.borrow_mut() = out);
    }
    result
}

/// Runs `f` with this thread's inflater for the given framing, reset.
fn with_inflater<T>(zlib_header: bool, f: impl FnOnce(&mut Decompress) -> T) -> T {
    // Setting up an inflater zeroes a 32 KiB window, which costs more than inflating a
    // certificate; each thread keeps one per framing and resets it instead.
    thread_local! {
        static INFLATERS: RefCell<[Option<Decompress>; 2]> = const { RefCell::new([None, None]) };
    }
    let slot = usize::from(zlib_header);
    let mut inflater = INFLATERS
        .with(|cell| cell.borrow_mut()[slot].take())
        .unwrap_or_else(|| Decompress::new(zlib_header));
    inflater.reset(zlib_header);
    let result = f(&mut inflater);
    INFLATERS.with(|cell| cell.borrow_mut()[slot] = Some(inflater));
    result
}

/// Inflates into `out` (cleared first; its old capacity is reused). The output grows as a
/// fresh vector would (`room`), so where the stream is found truncated or too large does not
/// depend on what the buffer held before.
fn inflate_into(
    inflater: &mut Decompress,
    data: &[u8],
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), InflateError> {
    // JSON payloads (a SMART Health Card) compress about 3:1, CBOR ones (HC1) less: start
    // at 4:1 so one pass inflates a certificate.
    let mut room = (data.len() * 4).min(limit);
    let mut len = 0;
    out.clear();
    out.resize(room, 0);
    loop {
        let consumed = inflater.total_in() as usize;
        let produced = inflater.total_out();
        let status = inflater
            .decompress(
                &data[consumed..],
                &mut out[len..room],
                FlushDecompress::Finish,
            )
            .map_err(|e| InflateError::Corrupt {
                detail: e.to_string(),
            })?;
        len += (inflater.total_out() - produced) as usize;
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                let consumed_now = inflater.total_in() as usize;
                if len < room && consumed_now == data.len() {
                    // Room left and all input used, yet no end marker.
                    return Err(InflateError::Truncated);
                }
                if len >= limit {
                    return Err(InflateError::TooLarge { limit });
                }
                let grow = room.max(256).min(limit - len);
                room = room.max(len + grow);
                out.resize(room, 0);
            }
        }
    }
    out.truncate(len);
    if len > limit {
        return Err(InflateError::TooLarge { limit });
    }
    let consumed = inflater.total_in() as usize;
    if consumed != data.len() {
        return Err(InflateError::TrailingData {
            extra: data.len() - consumed,
        });
    }
    Ok(())
}

/// Compresses `data` as a zlib stream at the best compression level (QR space is precious).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    with_deflater(true, data)
}

/// Compresses `data` as a raw DEFLATE stream (no header) at the best compression level.
pub fn deflate_raw(data: &[u8]) -> Vec<u8> {
    with_deflater(false, data)
}

fn with_deflater(zlib_header: bool, data: &[u8]) -> Vec<u8> {
    // As for inflating: a fresh compressor zeroes about 256 KiB of tables; reuse one per thread.
    thread_local! {
        static DEFLATERS: RefCell<[Option<Compress>; 2]> = const { RefCell::new([None, None]) };
    }
    let slot = usize::from(zlib_header);
    let mut deflater = DEFLATERS
        .with(|cell| cell.borrow_mut()[slot].take())
        .unwrap_or_else(|| Compress::new(Compression::best(), zlib_header));
    deflater.reset();
    let out = deflate_with(&mut deflater, data);
    DEFLATERS.with(|cell| cell.borrow_mut()[slot] = Some(deflater));
    out
}

fn deflate_with(deflater: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    loop {
        let consumed = deflater.total_in() as usize;
        // Compressing into a Vec can only fail on a stream-state bug, which cannot happen here:
        // a fresh compressor fed with Finish until StreamEnd.
        let status = deflater
            .compress_vec(&data[consumed..], &mut out, FlushCompress::Finish)
            .unwrap_or(Status::BufError);
        if status == Status::StreamEnd {
            return out;
        }
        out.reserve(out.capacity().max(64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip_cap_and_framing() {
        let text = b"{\"iss\":\"https://example.org\"}".repeat(50);
        let raw = deflate_raw(&text);
        assert_ne!(raw[..2], deflate(&text)[..2]);
        assert_eq!(inflate_raw(&raw, text.len()).unwrap(), text);
        assert_eq!(
            inflate_raw(&raw, text.len() - 1),
            Err(InflateError::TooLarge {
                limit: text.len() - 1
            })
        );
        // A zlib stream is not raw deflate (its header is not a valid block), and the zlib
        // reader refuses raw data: SMART Health Cards must use raw DEFLATE.
        assert!(inflate_raw(&deflate(&text), 1 << 16).is_err());
        assert!(inflate(&raw, 1 << 16).is_err());
        let mut trailing = raw.clone();
        trailing.push(0);
        assert_eq!(
            inflate_raw(&trailing, 1 << 16),
            Err(InflateError::TrailingData { extra: 1 })
        );
        assert_eq!(
            inflate_raw(&raw[..raw.len() - 2], 1 << 16),
            Err(InflateError::Truncated)
        );
    }

    #[test]
    fn round_trip() {
        let data = b"the quick brown fox jumps over the lazy dog".repeat(20);
        let packed = deflate(&data);
        assert!(packed.len() < data.len());
        assert_eq!(inflate(&packed, DEFAULT_INFLATE_LIMIT).unwrap(), data);
    }

    #[test]
    fn bomb_is_capped() {
        let zeros = vec![0u8; 10 * 1024 * 1024];
        let bomb = deflate(&zeros);
        assert!(bomb.len() < 20_000, "10 MiB of zeros packs small");
        assert_eq!(
            inflate(&bomb, DEFAULT_INFLATE_LIMIT),
            Err(InflateError::TooLarge {
                limit: DEFAULT_INFLATE_LIMIT
            })
        );
        // Exactly at the limit is fine.
        let exact = deflate(&zeros[..1000]);
        assert_eq!(inflate(&exact, 1000).unwrap().len(), 1000);
        assert_eq!(
            inflate(&exact, 999),
            Err(InflateError::TooLarge { limit: 999 })
        );
    }

    #[test]
    fn rejects_non_zlib_truncated_and_trailing() {
        // An uncompressed COSE_Sign1 (common/Z2 in the EU test data).
        assert!(matches!(
            inflate(&[0xD2, 0x84, 0x4D], 100),
            Err(InflateError::NotZlib { .. })
        ));
        assert!(matches!(
            inflate(&[], 100),
            Err(InflateError::NotZlib { .. })
        ));
        let packed = deflate(b"hello hello hello");
        assert_eq!(
            inflate(&packed[..packed.len() - 3], 100),
            Err(InflateError::Truncated)
        );
        let mut extra = packed.clone();
        extra.extend_from_slice(b"xy");
        assert_eq!(
            inflate(&extra, 100),
            Err(InflateError::TrailingData { extra: 2 })
        );
        let mut corrupt = packed;
        corrupt[4] ^= 0xFF;
        assert!(inflate(&corrupt, 100).is_err());
    }
}
