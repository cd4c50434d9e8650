//! A compact, delta-updatable revocation filter: what a phone keeps offline to ask "is this
//! certificate revoked?" for one signer key, at about 3 bytes per revoked certificate.
//!
//! Each revoked hash (hash type and the 16-byte EU revocation hash, `eu-dcc.md` 6.1) becomes
//! a *fingerprint*: the top `u` bits of its first 8 bytes, XOR a constant per hash type (the
//! hash is SHA-256 output, so fingerprints are uniform, and one hash under two types lands in
//! two places). The filter is the sorted multiset of fingerprints, Golomb–Rice coded in
//! buckets of about 8 with an index of bucket offsets: a lookup reads one index entry and
//! decodes one bucket. A certificate that is not revoked matches with probability
//! `n / 2^u` per lookup. A fresh filter has `u = ⌈log2 n⌉ + 21` (a rate of at most 2^-21);
//! the gateway keeps `u` across updates, so that deltas apply, only while the rate stays at
//! or below 2^-20 (9.5 · 10^-7), and then starts afresh ([`universe_bits_after`]).
//!
//! Why sorted fingerprints rather than a binary fuse or xor filter: those are static (each
//! revocation means a rebuild, or another layer whose false positives add up) and come with
//! 8, 16 or 32-bit fingerprints (about 1.1, 2.3 or 4.5 bytes per entry at 2^-8, 2^-16 or
//! 2^-32), while sorted fingerprints take a delta as a merge whose result is byte for byte the
//! filter the gateway built, so both sides compare one SHA-256. `healthpass bench revocation`
//! measures both on the same keys (size, measured false positives, lookup time against an
//! ES256 verification).
//!
//! A hit is only "possibly revoked": the verifier confirms it against the exact hashes of the
//! hash's partition (its first byte) when it has them, and otherwise says so (yellow).
//! Decoding is strict and bounded: lengths are checked against the input before anything is
//! allocated, and every bucket must decode to exactly its stated end.

use crate::revocation::{HashType, RevocationHash};

/// Bits of false-positive protection a freshly built filter has: `u = ⌈log2 n⌉ + 21`.
pub const FINGERPRINT_MARGIN_BITS: u8 = 21;

/// The expected number of fingerprints per bucket (a power of two).
const BUCKET_ENTRIES_LOG2: u32 = 3;

/// The largest filter read: 2^28 entries (about 270 million revoked certificates of one
/// signer key, which is more than any issuer has signed).
pub const MAX_ENTRIES: u64 = 1 << 28;

/// The widest fingerprint (keeps every shift in range; far beyond what 2^28 entries need).
pub const MAX_UNIVERSE_BITS: u8 = 56;

/// Format tag of the encoding.
const MAGIC: &[u8; 8] = b"HPRF\x00\x00\x00\x02";

/// Format tag of a delta.
const DELTA_MAGIC: &[u8; 8] = b"HPRD\x00\x00\x00\x02";

/// Why filter bytes do not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// Not a filter (or delta) of this format.
    #[error("not a revocation filter of this format")]
    Magic,
    /// Shorter than its header or than what the header says follows.
    #[error("the filter is truncated")]
    Truncated,
    /// Bytes after the end.
    #[error("the filter has {0} bytes after its end")]
    Trailing(usize),
    /// A parameter out of range.
    #[error("the filter's {0} is out of range")]
    Parameter(&'static str),
    /// The coded fingerprints do not decode as the index says.
    #[error("the filter's bucket {0} does not decode to its stated end")]
    Bucket(u64),
    /// A delta for a filter of other parameters.
    #[error("the delta is for {delta}-bit fingerprints; the filter has {filter}")]
    DeltaMismatch {
        /// The delta's universe bits.
        delta: u8,
        /// The filter's.
        filter: u8,
    },
    /// A delta removes a fingerprint the filter does not hold.
    #[error("the delta removes a fingerprint the filter does not hold")]
    RemovesAbsent,
}

/// The type constants XORed into a fingerprint (arbitrary odd 64-bit values; they keep the
/// three types of one hash apart).
fn type_constant(hash_type: HashType) -> u64 {
    match hash_type {
        HashType::Signature => 0,
        HashType::Uci => 0x9e37_79b9_7f4a_7c15,
        HashType::CountryCodeUci => 0xc2b2_ae3d_27d4_eb4f,
    }
}

/// The bit of a hash type in a filter's mask of the types it holds.
fn type_bit(hash_type: HashType) -> u8 {
    match hash_type {
        HashType::Signature => 1,
        HashType::Uci => 2,
        HashType::CountryCodeUci => 4,
    }
}

/// Every hash type's bit.
pub const ALL_HASH_TYPES: u8 = 7;

/// The 64-bit key of a revoked hash (the top `u` bits are its fingerprint).
pub fn filter_key(hash_type: HashType, hash: &RevocationHash) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_be_bytes(first) ^ type_constant(hash_type)
}

/// The universe bits a filter of `n` entries is built with.
pub fn universe_bits_for(n: u64) -> u8 {
    let log2 = if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    };
    (log2 as u8 + FINGERPRINT_MARGIN_BITS).min(MAX_UNIVERSE_BITS)
}

/// The fingerprint width of a filter rebuilt with `n` entries, whose previous version had
/// `previous` bits: kept (so a delta connects the two) while the false-positive rate stays at
/// or below 2^-20 and the width is at most 2 bits wider than a fresh one; otherwise fresh.
pub fn universe_bits_after(previous: Option<u8>, n: u64) -> u8 {
    let fresh = universe_bits_for(n);
    match previous {
        Some(u) if u + 1 >= fresh && u <= fresh + 2 => u,
        _ => fresh,
    }
}

/// Bits MSB-first into 64-bit words.
#[derive(Default)]
struct BitWriter {
    words: Vec<u64>,
    len: u64,
}

impl BitWriter {
    fn push_bits(&mut self, value: u64, bits: u32) {
        if bits == 0 {
            return;
        }
        let value = if bits == 64 {
            value
        } else {
            value & ((1u64 << bits) - 1)
        };
        let used = (self.len % 64) as u32;
        if used == 0 {
            self.words.push(0);
        }
        let free = 64 - used;
        let last = self.words.len() - 1;
        if bits <= free {
            self.words[last] |= value << (free - bits);
        } else {
            self.words[last] |= value >> (bits - free);
            self.words.push(value << (64 - (bits - free)));
        }
        self.len += u64::from(bits);
    }

    /// Unary `q` (q zeros, then a one), then `k` bits of `r`.
    fn push_rice(&mut self, gap: u64, k: u32) {
        let q = if k == 64 { 0 } else { gap >> k };
        let mut zeros = q;
        while zeros >= 32 {
            self.push_bits(0, 32);
            zeros -= 32;
        }
        self.push_bits(1, zeros as u32 + 1);
        self.push_bits(gap, k);
    }
}

/// Reads what [`BitWriter`] wrote; `None` past `end`.
struct BitReader<'a> {
    words: &'a [u64],
    pos: u64,
    end: u64,
}

impl BitReader<'_> {
    /// The 64 bits from `pos` (zeros past the last word).
    fn peek(&self) -> u64 {
        let i = (self.pos / 64) as usize;
        let shift = (self.pos % 64) as u32;
        let hi = self.words.get(i).copied().unwrap_or(0);
        if shift == 0 {
            hi
        } else {
            let lo = self.words.get(i + 1).copied().unwrap_or(0);
            (hi << shift) | (lo >> (64 - shift))
        }
    }

    fn bits(&mut self, n: u32) -> Option<u64> {
        if n == 0 {
            return Some(0);
        }
        if self.pos + u64::from(n) > self.end {
            return None;
        }
        let v = self.peek() >> (64 - n);
        self.pos += u64::from(n);
        Some(v)
    }

    fn rice(&mut self, k: u32) -> Option<u64> {
        let mut q = 0u64;
        loop {
            let window = self.peek();
            if window != 0 {
                let z = u64::from(window.leading_zeros());
                if self.pos + z + 1 > self.end {
                    return None;
                }
                q += z;
                self.pos += z + 1;
                break;
            }
            if self.pos + 64 > self.end {
                return None;
            }
            q += 64;
            self.pos += 64;
            // A quotient this long cannot be in a valid bucket (gaps are below 2^64).
            if q > (1u64 << 40) {
                return None;
            }
        }
        let r = self.bits(k)?;
        if k >= 64 {
            return (q == 0).then_some(r);
        }
        q.checked_shl(k).filter(|v| v >> k == q).map(|v| v | r)
    }
}

/// The bucket layout a filter of `count` fingerprints of `universe_bits` uses: bucket bits
/// (about 8 per bucket) and the Rice parameter (the mean gap inside a bucket).
fn layout(count: u64, universe_bits: u8) -> (u8, u8) {
    let bucket_bits = universe_bits_for(count.div_ceil(1 << BUCKET_ENTRIES_LOG2))
        .saturating_sub(FINGERPRINT_MARGIN_BITS)
        .min(universe_bits);
    let span_bits = u32::from(universe_bits - bucket_bits);
    (
        bucket_bits,
        span_bits.saturating_sub(BUCKET_ENTRIES_LOG2) as u8,
    )
}

/// The Rice parameter of a bucket's count (mean 8).
const COUNT_RICE_BITS: u32 = BUCKET_ENTRIES_LOG2;

/// Buckets per superblock of the offset index (offsets inside one fit in 32 bits).
const SUPERBLOCK_LOG2: u32 = 16;

/// The filter of one signer key. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationFilter {
    universe_bits: u8,
    /// Which hash types it holds (bits of `type_bit`): a lookup of another type costs nothing,
    /// so a certificate costs one lookup per type its issuer revokes by, usually one.
    hash_types: u8,
    bucket_bits: u8,
    rice_bits: u8,
    count: u64,
    /// The coded stream: per bucket, its count (Rice, k = 3), then its fingerprints as gaps
    /// (Rice, k = `rice_bits`), the first from the bucket's base.
    stream: Vec<u64>,
    /// Its length in bits.
    bits: u64,
    /// Where each bucket starts: `superblocks[b >> 16] + offsets[b]`.
    offsets: Vec<u32>,
    superblocks: Vec<u64>,
}

impl RevocationFilter {
    /// Builds a filter of `entries` with the fingerprint width the gateway uses for this many
    /// ([`universe_bits_for`]).
    pub fn build(entries: impl IntoIterator<Item = (HashType, RevocationHash)>) -> Self {
        let entries: Vec<(HashType, RevocationHash)> = entries.into_iter().collect();
        Self::from_entries(&entries, universe_bits_for(entries.len() as u64))
    }

    /// Builds a filter of `entries` with `universe_bits` of fingerprint (the gateway keeps a
    /// width across versions: [`universe_bits_after`]).
    pub fn from_entries(entries: &[(HashType, RevocationHash)], universe_bits: u8) -> Self {
        let hash_types = entries.iter().fold(0, |m, (t, _)| m | type_bit(*t));
        let keys = entries.iter().map(|(t, h)| filter_key(*t, h)).collect();
        Self::from_keys(keys, universe_bits, hash_types)
    }

    /// Builds a filter from 64-bit keys ([`filter_key`]) with `universe_bits` of fingerprint,
    /// holding the hash types of the mask `hash_types` ([`ALL_HASH_TYPES`] when unknown).
    pub fn from_keys(keys: Vec<u64>, universe_bits: u8, hash_types: u8) -> Self {
        let universe_bits = universe_bits.clamp(1, MAX_UNIVERSE_BITS);
        let mut fingerprints = keys;
        for k in &mut fingerprints {
            *k = fingerprint_of(*k, universe_bits);
        }
        fingerprints.sort_unstable();
        Self::from_sorted(&fingerprints, universe_bits, hash_types & ALL_HASH_TYPES)
    }

    /// From sorted fingerprints (each below `2^universe_bits`).
    fn from_sorted(fingerprints: &[u64], universe_bits: u8, hash_types: u8) -> Self {
        let count = fingerprints.len() as u64;
        let (bucket_bits, rice_bits) = layout(count, universe_bits);
        let span_bits = u32::from(universe_bits - bucket_bits);
        let mut writer = BitWriter::default();
        let mut starts = Vec::with_capacity((1usize << bucket_bits) + 1);
        let mut i = 0;
        for bucket in 0..1u64 << bucket_bits {
            starts.push(writer.len);
            let end = fingerprints[i..].partition_point(|&f| f >> span_bits == bucket) + i;
            writer.push_rice((end - i) as u64, COUNT_RICE_BITS);
            let mut previous = bucket << span_bits;
            for &f in &fingerprints[i..end] {
                writer.push_rice(f - previous, u32::from(rice_bits));
                previous = f;
            }
            i = end;
        }
        let bits = writer.len;
        let (offsets, superblocks) = index(&starts);
        Self {
            universe_bits,
            hash_types,
            bucket_bits,
            rice_bits,
            count,
            stream: writer.words,
            bits,
            offsets,
            superblocks,
        }
    }

    /// How many fingerprints (revoked hashes) it holds.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The fingerprint width `u`.
    pub fn universe_bits(&self) -> u8 {
        self.universe_bits
    }

    /// The expected false-positive rate of one lookup: `n / 2^u`.
    pub fn false_positive_rate(&self) -> f64 {
        self.count as f64 / 2f64.powi(i32::from(self.universe_bits))
    }

    /// The hash types it holds.
    pub fn hash_types(&self) -> Vec<HashType> {
        HashType::ALL
            .into_iter()
            .filter(|t| self.hash_types & type_bit(*t) != 0)
            .collect()
    }

    /// Whether the hash may be revoked (a hit may be a false positive; see the module).
    pub fn may_contain(&self, hash_type: HashType, hash: &RevocationHash) -> bool {
        self.hash_types & type_bit(hash_type) != 0
            && self.contains_fingerprint(fingerprint_of(
                filter_key(hash_type, hash),
                self.universe_bits,
            ))
    }

    fn bucket_start(&self, bucket: usize) -> u64 {
        self.superblocks[bucket >> SUPERBLOCK_LOG2] + u64::from(self.offsets[bucket])
    }

    fn contains_fingerprint(&self, target: u64) -> bool {
        let span_bits = u32::from(self.universe_bits - self.bucket_bits);
        let bucket = (target >> span_bits) as usize;
        let mut reader = BitReader {
            words: &self.stream,
            pos: self.bucket_start(bucket),
            end: self.bits,
        };
        // Built or checked on reading: every bucket decodes.
        let Some(n) = reader.rice(COUNT_RICE_BITS) else {
            return false;
        };
        let mut value = (bucket as u64) << span_bits;
        for _ in 0..n {
            let Some(gap) = reader.rice(u32::from(self.rice_bits)) else {
                return false;
            };
            value += gap;
            if value >= target {
                return value == target;
            }
        }
        false
    }

    /// Every fingerprint, in order.
    pub fn fingerprints(&self) -> Vec<u64> {
        decode(
            &self.stream,
            self.bits,
            self.universe_bits,
            self.count,
            |_, _| {},
        )
        .expect("a filter decodes")
    }

    /// The encoding: magic, `u` (1 byte), count (8), stream length in bits (8), the stream;
    /// big-endian, zero padding to a byte. The bucket layout follows from `u` and the count.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(25 + self.stream.len() * 8);
        out.extend_from_slice(MAGIC);
        out.push(self.universe_bits);
        out.push(self.hash_types);
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&self.bits.to_be_bytes());
        put_stream(&mut out, &self.stream, self.bits);
        out
    }

    /// Reads an encoding strictly: the stream must decode bucket by bucket to exactly `count`
    /// fingerprints, each inside its bucket, ending exactly at the stated length with zero
    /// padding. The encoding of a filter is unique, so equal filters have equal bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FilterError> {
        const HEADER: usize = 26;
        if bytes.len() < HEADER {
            return Err(if MAGIC.starts_with(&bytes[..bytes.len().min(8)]) {
                FilterError::Truncated
            } else {
                FilterError::Magic
            });
        }
        if &bytes[..8] != MAGIC {
            return Err(FilterError::Magic);
        }
        let (universe_bits, hash_types) = (bytes[8], bytes[9]);
        let count = u64::from_be_bytes(bytes[10..18].try_into().expect("8 bytes"));
        let bits = u64::from_be_bytes(bytes[18..26].try_into().expect("8 bytes"));
        if !(1..=MAX_UNIVERSE_BITS).contains(&universe_bits) {
            return Err(FilterError::Parameter("fingerprint width"));
        }
        if hash_types & !ALL_HASH_TYPES != 0 {
            return Err(FilterError::Parameter("hash types"));
        }
        let body = &bytes[HEADER..];
        let needed = bits.div_ceil(8);
        if (body.len() as u64) < needed {
            return Err(FilterError::Truncated);
        }
        if body.len() as u64 > needed {
            return Err(FilterError::Trailing(body.len() - needed as usize));
        }
        // Every fingerprint and every bucket costs at least one bit: this bounds what is
        // allocated below by the input's own size.
        let (bucket_bits, rice_bits) = layout(count, universe_bits);
        if count > MAX_ENTRIES || count > bits || (1u64 << bucket_bits) > bits.max(1) {
            return Err(FilterError::Parameter("count"));
        }
        let words = words_of(body);
        if bits % 64 != 0 && words.last().is_some_and(|w| w << (bits % 64) != 0) {
            return Err(FilterError::Parameter("padding"));
        }
        let mut starts = Vec::with_capacity((1usize << bucket_bits) + 1);
        decode(&words, bits, universe_bits, count, |_, start| {
            starts.push(start)
        })?;
        let (offsets, superblocks) = index(&starts);
        Ok(Self {
            universe_bits,
            hash_types,
            bucket_bits,
            rice_bits,
            count,
            stream: words,
            bits,
            offsets,
            superblocks,
        })
    }

    /// The SHA-256 of the encoding: what a verifier compares with the gateway's after
    /// applying a delta.
    pub fn digest(&self) -> [u8; 32] {
        let d = ring::digest::digest(&ring::digest::SHA256, &self.to_bytes());
        d.as_ref().try_into().expect("32 bytes")
    }

    /// [`digest`](Self::digest) in lowercase hex, as the gateway lists it.
    pub fn digest_hex(&self) -> String {
        crate::tlog::hex(&self.digest())
    }

    /// The delta from this filter to `newer` (same fingerprint width): what was added and
    /// what was removed.
    pub fn delta_to(&self, newer: &RevocationFilter) -> Result<FilterDelta, FilterError> {
        if newer.universe_bits != self.universe_bits {
            return Err(FilterError::DeltaMismatch {
                delta: newer.universe_bits,
                filter: self.universe_bits,
            });
        }
        let (old, new) = (self.fingerprints(), newer.fingerprints());
        let (mut added, mut removed) = (Vec::new(), Vec::new());
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < new.len() {
            match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a < b => {
                    removed.push(*a);
                    i += 1;
                }
                (Some(_), Some(b)) | (None, Some(b)) => {
                    added.push(*b);
                    j += 1;
                }
                (Some(a), None) => {
                    removed.push(*a);
                    i += 1;
                }
                (None, None) => unreachable!("the loop condition"),
            }
        }
        Ok(FilterDelta {
            universe_bits: self.universe_bits,
            hash_types: newer.hash_types,
            added,
            removed,
        })
    }

    /// This filter with `delta` applied: byte for byte the filter the gateway built.
    pub fn apply(&self, delta: &FilterDelta) -> Result<RevocationFilter, FilterError> {
        if delta.universe_bits != self.universe_bits {
            return Err(FilterError::DeltaMismatch {
                delta: delta.universe_bits,
                filter: self.universe_bits,
            });
        }
        let old = self.fingerprints();
        let mut merged = Vec::with_capacity(old.len() + delta.added.len());
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < delta.added.len() {
            if j == delta.added.len() || (i < old.len() && old[i] <= delta.added[j]) {
                merged.push(old[i]);
                i += 1;
            } else {
                merged.push(delta.added[j]);
                j += 1;
            }
        }
        // Remove one instance of each removed fingerprint (both lists are sorted).
        let mut out = Vec::with_capacity(merged.len());
        let mut r = 0;
        for f in merged {
            if r < delta.removed.len() && delta.removed[r] == f {
                r += 1;
            } else {
                if r < delta.removed.len() && delta.removed[r] < f {
                    return Err(FilterError::RemovesAbsent);
                }
                out.push(f);
            }
        }
        if r != delta.removed.len() {
            return Err(FilterError::RemovesAbsent);
        }
        Ok(Self::from_sorted(
            &out,
            self.universe_bits,
            delta.hash_types,
        ))
    }
}

fn fingerprint_of(key: u64, universe_bits: u8) -> u64 {
    let shift = 64 - u32::from(universe_bits);
    if shift >= 64 { 0 } else { key >> shift }
}

/// Appends the first `bits` bits of `words`, big-endian, zero-padded to a byte.
fn put_stream(out: &mut Vec<u8>, words: &[u64], bits: u64) {
    let start = out.len();
    for word in words {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.truncate(start + bits.div_ceil(8) as usize);
}

fn words_of(body: &[u8]) -> Vec<u64> {
    body.chunks(8)
        .map(|chunk| {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            u64::from_be_bytes(word)
        })
        .collect()
}

/// The two-level offset index of bucket starts.
fn index(starts: &[u64]) -> (Vec<u32>, Vec<u64>) {
    let mut superblocks = Vec::with_capacity((starts.len() >> SUPERBLOCK_LOG2) + 1);
    let mut offsets = Vec::with_capacity(starts.len());
    for (b, &start) in starts.iter().enumerate() {
        if b % (1 << SUPERBLOCK_LOG2) == 0 {
            superblocks.push(start);
        }
        let base = superblocks[b >> SUPERBLOCK_LOG2];
        // A superblock of 2^16 buckets spans well under 2^32 bits (checked on reading).
        offsets.push(u32::try_from(start - base).unwrap_or(u32::MAX));
    }
    (offsets, superblocks)
}

/// Decodes a filter stream bucket by bucket, calling `bucket_start(bucket, bit)` for each;
/// checks every count, gap and the end.
fn decode(
    words: &[u64],
    bits: u64,
    universe_bits: u8,
    count: u64,
    mut bucket_start: impl FnMut(u64, u64),
) -> Result<Vec<u64>, FilterError> {
    let (bucket_bits, rice_bits) = layout(count, universe_bits);
    let span_bits = u32::from(universe_bits - bucket_bits);
    let mut reader = BitReader {
        words,
        pos: 0,
        end: bits,
    };
    let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut superblock_base = 0;
    for bucket in 0..1u64 << bucket_bits {
        if bucket % (1 << SUPERBLOCK_LOG2) == 0 {
            superblock_base = reader.pos;
        }
        if reader.pos - superblock_base > u64::from(u32::MAX) {
            return Err(FilterError::Bucket(bucket));
        }
        bucket_start(bucket, reader.pos);
        let n = reader
            .rice(COUNT_RICE_BITS)
            .ok_or(FilterError::Bucket(bucket))?;
        if n > count - out.len() as u64 {
            return Err(FilterError::Bucket(bucket));
        }
        let base = bucket << span_bits;
        let limit = base + ((1u64 << span_bits) - 1);
        let mut value = base;
        for _ in 0..n {
            let gap = reader
                .rice(u32::from(rice_bits))
                .ok_or(FilterError::Bucket(bucket))?;
            value = value
                .checked_add(gap)
                .filter(|v| *v <= limit)
                .ok_or(FilterError::Bucket(bucket))?;
            out.push(value);
        }
    }
    if out.len() as u64 != count || reader.pos != bits {
        return Err(FilterError::Parameter("stream length"));
    }
    Ok(out)
}

/// What changed between two versions of a filter: fingerprints added and removed (sorted),
/// each list Rice-coded by its density when sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterDelta {
    /// The fingerprint width of the filters it connects.
    pub universe_bits: u8,
    /// The hash types the newer filter holds.
    pub hash_types: u8,
    /// Added fingerprints, sorted.
    pub added: Vec<u64>,
    /// Removed fingerprints, sorted.
    pub removed: Vec<u64>,
}

impl FilterDelta {
    /// The encoding: magic, `u`, then each list as count (8 bytes), Rice parameter (1),
    /// length in bits (8) and the gaps; big-endian, zero padding to a byte per list.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = DELTA_MAGIC.to_vec();
        out.push(self.universe_bits);
        out.push(self.hash_types);
        for list in [&self.added, &self.removed] {
            let k = delta_rice_bits(list.len() as u64, self.universe_bits);
            let mut writer = BitWriter::default();
            let mut previous = 0;
            for &f in list.iter() {
                writer.push_rice(f - previous, u32::from(k));
                previous = f;
            }
            out.extend_from_slice(&(list.len() as u64).to_be_bytes());
            out.extend_from_slice(&writer.len.to_be_bytes());
            put_stream(&mut out, &writer.words, writer.len);
        }
        out
    }

    /// Reads a delta strictly (sorted lists, fingerprints inside the universe, no trailing
    /// bytes, zero padding).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FilterError> {
        if bytes.len() < 10 || &bytes[..8] != DELTA_MAGIC {
            return Err(FilterError::Magic);
        }
        let (universe_bits, hash_types) = (bytes[8], bytes[9]);
        if hash_types & !ALL_HASH_TYPES != 0 {
            return Err(FilterError::Parameter("hash types"));
        }
        if !(1..=MAX_UNIVERSE_BITS).contains(&universe_bits) {
            return Err(FilterError::Parameter("fingerprint width"));
        }
        let mut rest = &bytes[10..];
        let mut lists = Vec::with_capacity(2);
        for _ in 0..2 {
            if rest.len() < 16 {
                return Err(FilterError::Truncated);
            }
            let count = u64::from_be_bytes(rest[..8].try_into().expect("8 bytes"));
            let bits = u64::from_be_bytes(rest[8..16].try_into().expect("8 bytes"));
            let needed = bits.div_ceil(8);
            if count > bits || count > MAX_ENTRIES || (rest.len() as u64 - 16) < needed {
                return Err(if count > bits || count > MAX_ENTRIES {
                    FilterError::Parameter("count")
                } else {
                    FilterError::Truncated
                });
            }
            let body = &rest[16..16 + needed as usize];
            let words = words_of(body);
            if bits % 64 != 0 && words.last().is_some_and(|w| w << (bits % 64) != 0) {
                return Err(FilterError::Parameter("padding"));
            }
            let k = delta_rice_bits(count, universe_bits);
            let mut reader = BitReader {
                words: &words,
                pos: 0,
                end: bits,
            };
            let mut list = Vec::with_capacity(count as usize);
            let mut value = 0u64;
            let max = (1u64 << universe_bits) - 1;
            for _ in 0..count {
                let gap = reader.rice(u32::from(k)).ok_or(FilterError::Truncated)?;
                value = value
                    .checked_add(gap)
                    .filter(|v| *v <= max)
                    .ok_or(FilterError::Parameter("fingerprint"))?;
                list.push(value);
            }
            if reader.pos != bits {
                return Err(FilterError::Parameter("stream length"));
            }
            lists.push(list);
            rest = &rest[16 + needed as usize..];
        }
        if !rest.is_empty() {
            return Err(FilterError::Trailing(rest.len()));
        }
        let removed = lists.pop().expect("two lists");
        let added = lists.pop().expect("two lists");
        Ok(Self {
            universe_bits,
            hash_types,
            added,
            removed,
        })
    }
}

/// The Rice parameter of a delta list: the mean gap of `n` values in `2^u`.
fn delta_rice_bits(n: u64, universe_bits: u8) -> u8 {
    let log2n = if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    };
    universe_bits.saturating_sub(log2n as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic revocation hashes: SHA-256 of a label and a counter, first 16 bytes.
    fn hashes(label: &str, n: u64) -> Vec<RevocationHash> {
        (0..n)
            .map(|i| {
                let d =
                    ring::digest::digest(&ring::digest::SHA256, format!("{label}{i}").as_bytes());
                d.as_ref()[..16].try_into().unwrap()
            })
            .collect()
    }

    fn filter_of(label: &str, n: u64) -> (RevocationFilter, Vec<RevocationHash>) {
        let revoked = hashes(label, n);
        let filter = RevocationFilter::build(revoked.iter().map(|h| (HashType::Uci, *h)));
        (filter, revoked)
    }

    #[test]
    fn members_are_found_and_the_encoding_is_canonical() {
        for n in [0, 1, 2, 31, 33, 1000, 20_000] {
            let (filter, revoked) = filter_of("member", n);
            assert_eq!(filter.len(), n);
            assert!(revoked.iter().all(|h| filter.may_contain(HashType::Uci, h)));
            let bytes = filter.to_bytes();
            let read = RevocationFilter::from_bytes(&bytes).unwrap();
            assert_eq!(read, filter, "n = {n}");
            assert_eq!(read.to_bytes(), bytes);
            let fps = filter.fingerprints();
            assert_eq!(fps.len() as u64, n);
            assert!(fps.windows(2).all(|w| w[0] <= w[1]));
            // Stated rate of a fresh filter: at most 2^-21.
            assert!(filter.false_positive_rate() <= 2f64.powi(-21), "n = {n}");
        }
        // A type the filter does not hold is not looked up; the same hash under another type
        // is another fingerprint.
        let (filter, revoked) = filter_of("member", 1000);
        assert_eq!(filter.hash_types(), [HashType::Uci]);
        assert!(
            !revoked
                .iter()
                .any(|h| filter.may_contain(HashType::Signature, h))
        );
        let keys = revoked
            .iter()
            .map(|h| filter_key(HashType::Uci, h))
            .collect();
        let all = RevocationFilter::from_keys(keys, filter.universe_bits(), ALL_HASH_TYPES);
        let other_types = revoked
            .iter()
            .filter(|h| all.may_contain(HashType::Signature, h))
            .count();
        assert!(other_types <= 1, "{other_types}");
    }

    /// Across updates the width is kept only while the rate stays at or below 2^-20.
    #[test]
    fn updates_keep_the_rate_at_or_below_two_to_the_minus_20() {
        let mut u = None;
        for n in [
            1u64, 2, 3, 1000, 1500, 2048, 2049, 4000, 4097, 100_000, 3, 1_000_000,
        ] {
            let next = universe_bits_after(u, n);
            assert!(
                n as f64 / 2f64.powi(i32::from(next)) <= 2f64.powi(-20),
                "n = {n}"
            );
            assert!(next <= universe_bits_for(n) + 2, "n = {n}");
            u = Some(next);
        }
        // Kept while it fits (fresh for 1000 is 31, for 2000 is 32), fresh when too narrow
        // (2049 needs 33) or too wide (40 wastes 9 bits per entry).
        assert_eq!(universe_bits_after(Some(32), 1000), 32);
        assert_eq!(universe_bits_after(Some(31), 2000), 31);
        assert_eq!(universe_bits_after(Some(31), 2049), 33);
        assert_eq!(universe_bits_after(Some(40), 1000), 31);
        assert_eq!(universe_bits_after(None, 1000), 31);
    }

    #[test]
    fn size_is_under_three_bytes_per_entry() {
        let (filter, _) = filter_of("size", 100_000);
        let per_entry = filter.to_bytes().len() as f64 / 100_000.0;
        assert!(per_entry < 3.0, "{per_entry} bytes per entry");
        assert!(
            per_entry > 2.5,
            "{per_entry}: below the information bound, suspicious"
        );
    }

    /// The measured false-positive rate matches n / 2^u. With u = ⌈log2 n⌉ + 8 the rate is
    /// near 2^-8, high enough to measure in a test: 10^6 non-members, and the count must be
    /// within 6 standard deviations of the expectation.
    #[test]
    fn measured_false_positive_rate_matches_the_stated_one() {
        let n = 4096u64;
        let revoked = hashes("fp", n);
        let keys = revoked
            .iter()
            .map(|h| filter_key(HashType::Uci, h))
            .collect();
        let filter = RevocationFilter::from_keys(keys, 12 + 8, ALL_HASH_TYPES);
        let p = filter.false_positive_rate();
        assert!((p - n as f64 / 2f64.powi(20)).abs() < 1e-12);
        let queries = 1_000_000u64;
        let hits = hashes("not revoked", queries)
            .iter()
            .filter(|h| filter.may_contain(HashType::Uci, h))
            .count() as f64;
        let expected = queries as f64 * p;
        let sigma = (queries as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (hits - expected).abs() < 6.0 * sigma,
            "{hits} hits, expected {expected} ± {sigma}"
        );
    }

    #[test]
    fn a_delta_gives_byte_for_byte_the_newer_filter() {
        let base = hashes("base", 3000);
        let old = RevocationFilter::build(base.iter().map(|h| (HashType::Uci, *h)));
        // 500 more revoked, 100 expired out of the list.
        let newer_hashes: Vec<_> = base[100..]
            .iter()
            .copied()
            .chain(hashes("more", 500))
            .collect();
        let entries: Vec<_> = newer_hashes.iter().map(|h| (HashType::Uci, *h)).collect();
        let newer = RevocationFilter::from_entries(&entries, old.universe_bits());
        let delta = old.delta_to(&newer).unwrap();
        assert_eq!((delta.added.len(), delta.removed.len()), (500, 100));
        let wire = delta.to_bytes();
        let read = FilterDelta::from_bytes(&wire).unwrap();
        assert_eq!(read, delta);
        let applied = old.apply(&read).unwrap();
        assert_eq!(applied.to_bytes(), newer.to_bytes());
        assert_eq!(applied.digest(), newer.digest());
        // A delta removing what is not there, or for another width, is refused.
        let mut wrong = delta.clone();
        wrong.removed.push(u64::MAX >> 8);
        assert_eq!(old.apply(&wrong), Err(FilterError::RemovesAbsent));
        let other =
            RevocationFilter::from_keys(vec![1, 2, 3], old.universe_bits() + 1, ALL_HASH_TYPES);
        assert!(matches!(
            old.apply(&other.delta_to(&other).unwrap()),
            Err(FilterError::DeltaMismatch { .. })
        ));
    }

    #[test]
    fn damaged_encodings_are_refused_or_read_as_what_they_say() {
        let (filter, _) = filter_of("damage", 300);
        let bytes = filter.to_bytes();
        assert_eq!(
            RevocationFilter::from_bytes(&bytes[..bytes.len() - 1]),
            Err(FilterError::Truncated)
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            RevocationFilter::from_bytes(&longer),
            Err(FilterError::Trailing(1))
        );
        assert_eq!(
            RevocationFilter::from_bytes(b"nonsense"),
            Err(FilterError::Magic)
        );
        assert_eq!(
            RevocationFilter::from_bytes(&bytes[..10]),
            Err(FilterError::Truncated)
        );
        // A huge count with a tiny body allocates nothing: refused from the header.
        let mut huge = bytes.clone();
        huge[10..18].copy_from_slice(&(1u64 << 27).to_be_bytes());
        assert!(RevocationFilter::from_bytes(&huge).is_err());
        // Every single-bit flip is refused or reads as a filter whose encoding is exactly the
        // damaged bytes (so its digest differs from the gateway's).
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 0x80 >> (bit % 8);
            if let Ok(read) = RevocationFilter::from_bytes(&damaged) {
                assert_eq!(read.to_bytes(), damaged, "bit {bit}");
                assert_ne!(read.digest(), filter.digest());
            }
        }
    }
}
