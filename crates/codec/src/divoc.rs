//! DIVOC certificates (India's CoWIN, and Indonesia, Jamaica, Sri Lanka… on the same open-source
//! platform, egovernments/DIVOC; an optional content profile of WHO DDCC).
//!
//! ```text
//! "B64:" + Base64 ──▶ ZIP archive ──▶ certificate.json ──▶ W3C Verifiable Credential (JSON-LD)
//! raw ZIP bytes ───┘   (PK\3\4)        (deflate)            proof: RsaSignature2018 / Ed25519Signature2018
//! ```
//!
//! This module reads the carrier and the credential's JSON; it does not check the proof, which
//! signs the URDNA2015-canonicalised RDF of the JSON-LD document (pinned contexts, never fetched)
//! and belongs with the crypto in `healthpass-trust`.
//!
//! The reader is strict and bounded:
//! - at most [`MAX_INPUT`] bytes of input (a QR code holds under 3 KB);
//! - the archive holds exactly one entry, named `certificate.json` byte for byte, stored or
//!   deflated, not encrypted. Extra entries are refused, not ignored: DIVOC issuers write a
//!   single entry; nothing else in the archive is covered by the signature; and readers that
//!   take "the first entry", "the entry named certificate.json" or "the last entry of that name"
//!   (the WHO reference verifier builds a name → bytes map from a streaming reader) would then
//!   see different certificates in the same QR code;
//! - the layout is the plain one every writer produces: local header at offset 0, entry data,
//!   its data descriptor if the header announces one, central directory, end record at the very
//!   end with no archive comment. No prepended or trailing bytes, no gaps, local and central
//!   headers agree, and the raw names in both headers are checked (an Info-ZIP Unicode Path
//!   field cannot rename the entry for one reader and not another);
//! - `certificate.json` may declare at most `limit` bytes, is inflated with a hard output cap of
//!   `limit` bytes whatever the headers say ([`crate::zlib::inflate_raw`]), must end its deflate
//!   stream exactly at the end of the entry data, and must match the declared size and CRC-32;
//! - its content is strict JSON ([`crate::json::parse_strict`]: no duplicate keys) and an object.
//!
//! Base64 is the standard alphabet with canonical padding. ASCII whitespace (space, tab, CR, LF)
//! anywhere after `B64:` is skipped: scanners and clipboards append line ends and some tools
//! wrap long Base64 lines, and whitespace is outside the alphabet, so skipping it cannot change
//! the decoded bytes, which are then checked strictly as a ZIP archive.

use std::borrow::Cow;
use std::io::Cursor;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::json::JsonError;
use crate::zlib::InflateError;

/// The default cap on `certificate.json`'s inflated size: 64 KiB, over 30 times a CoWIN
/// certificate (about 1.8 KB).
pub const DEFAULT_LIMIT: usize = 64 * 1024;
/// The largest input accepted, Base64 text or ZIP bytes: 16 KiB, over five times what the
/// largest QR code (version 40, byte mode) holds.
pub const MAX_INPUT: usize = 16 * 1024;
/// The text prefix of a Base64-encoded archive.
pub const B64_PREFIX: &[u8] = b"B64:";
/// The first bytes of a ZIP archive (a local file header signature).
pub const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The one entry a DIVOC archive holds.
pub const CERTIFICATE_ENTRY: &str = "certificate.json";

const LOCAL_HEADER_LEN: usize = 30;
const CENTRAL_HEADER_LEN: usize = 46;
const END_RECORD_LEN: usize = 22;
const CENTRAL_MAGIC: &[u8] = b"PK\x01\x02";
const END_MAGIC: &[u8] = b"PK\x05\x06";
const DESCRIPTOR_MAGIC: &[u8] = b"PK\x07\x08";
/// General-purpose flag bits: encrypted, sizes in a data descriptor, strong encryption.
const FLAG_ENCRYPTED: u16 = 1 << 0;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
/// Compression methods: stored, deflated, and the marker of WinZip AES encryption.
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;
const METHOD_AES: u16 = 99;

/// Why input is not a DIVOC certificate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DivocError {
    /// The input starts neither with `B64:` nor with a ZIP local header (this includes empty
    /// input).
    #[error(
        "not a DIVOC code: the input starts with {start:02x?}, neither \"B64:\" nor a ZIP header"
    )]
    NotDivoc {
        /// The first (up to) four bytes.
        start: Vec<u8>,
    },
    /// The input is longer than [`MAX_INPUT`].
    #[error("the input is {len} bytes long, more than the {max} a DIVOC QR code can hold")]
    InputTooLarge {
        /// The input's length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The text after `B64:` is not canonical standard Base64.
    #[error("invalid Base64 after \"B64:\": {detail}")]
    Base64 {
        /// What the decoder reported (offsets count from after the prefix, whitespace skipped).
        detail: String,
    },
    /// The bytes are not a well-formed ZIP archive of the expected layout (truncated, trailing
    /// or prepended bytes, an archive comment, headers that disagree, a bad CRC-32…).
    #[error("invalid ZIP archive: {detail}")]
    Zip {
        /// What is wrong.
        detail: String,
    },
    /// The archive holds more than one entry.
    #[error("the archive holds {count} entries; a DIVOC archive holds only {CERTIFICATE_ENTRY}")]
    ExtraEntries {
        /// How many entries the archive declares.
        count: u64,
    },
    /// The archive has no entry named `certificate.json`.
    #[error(
        "the archive has no {CERTIFICATE_ENTRY}{}",
        found.as_ref().map(|name| format!(" (its one entry is {name:?})")).unwrap_or_default()
    )]
    MissingCertificate {
        /// The name of the archive's one entry (lossy UTF-8), if it has one.
        found: Option<String>,
    },
    /// `certificate.json` is encrypted.
    #[error("{CERTIFICATE_ENTRY} is encrypted")]
    Encrypted,
    /// `certificate.json` is compressed with a method other than stored or deflate.
    #[error(
        "{CERTIFICATE_ENTRY} uses compression method {method} ({name}); only stored (0) and deflate (8) are supported"
    )]
    UnsupportedCompression {
        /// The ZIP compression method number.
        method: u16,
        /// Its name, or "Unknown".
        name: &'static str,
    },
    /// `certificate.json` declares or inflates to more than the limit.
    #[error("{CERTIFICATE_ENTRY} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The cap that was hit.
        limit: usize,
    },
    /// The deflate data of `certificate.json` is corrupt, truncated or followed by other bytes.
    #[error("{CERTIFICATE_ENTRY} does not inflate: {0}")]
    Inflate(#[source] InflateError),
    /// `certificate.json` is not strict JSON.
    #[error("{CERTIFICATE_ENTRY} is not strict JSON: {0}")]
    Json(#[source] JsonError),
    /// `certificate.json` is JSON but not an object.
    #[error("{CERTIFICATE_ENTRY} is not a JSON object")]
    NotAnObject,
}

/// A decoded DIVOC certificate: the content of `certificate.json`, unverified.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DivocCredential {
    /// The Verifiable Credential (always a JSON object).
    pub credential: Value,
    /// `certificate.json` exactly as inflated. The proof does not sign these bytes but the
    /// canonical RDF of [`credential`](Self::credential).
    pub certificate_json: Vec<u8>,
}

/// One item of a credential's `evidence` (one vaccination event), as given: each field is
/// `None` when absent or of another JSON type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DivocEvidence<'a> {
    /// `vaccine`: the brand as the issuer writes it (`COVISHIELD`, `COVAXIN`…).
    pub vaccine: Option<&'a str>,
    /// `manufacturer`.
    pub manufacturer: Option<&'a str>,
    /// `batch`: the lot number.
    pub batch: Option<&'a str>,
    /// `date`: when the dose was given, as given (CoWIN writes an ISO 8601 date-time in UTC).
    pub date: Option<&'a str>,
    /// `dose`: the dose number (a JSON integer, or a string of decimal digits).
    pub dose: Option<u64>,
    /// `totalDoses`: the doses in the series (same forms as `dose`).
    pub total_doses: Option<u64>,
    /// `certificateId`.
    pub certificate_id: Option<&'a str>,
    /// `facility.address.addressCountry` (CoWIN: ISO 3166-1 alpha-2, `IN`).
    pub country: Option<&'a str>,
    /// `icd11Code`, in DIVOC profiles that give it (e.g. `XM9QW8`).
    pub icd11_code: Option<&'a str>,
    /// `prophylaxis`, in DIVOC profiles that give it.
    pub prophylaxis: Option<&'a str>,
}

/// Whether `input` looks like a DIVOC code: `B64:` text or ZIP bytes. [`decode`] tells for sure.
pub fn looks_like_divoc(input: &[u8]) -> bool {
    input.starts_with(B64_PREFIX) || input.starts_with(ZIP_MAGIC)
}

/// Decodes a DIVOC QR payload, given as bytes (QR byte mode: a raw ZIP archive is binary, not
/// UTF-8 text), with `certificate.json` inflating to at most `limit` bytes.
pub fn decode(input: &[u8], limit: usize) -> Result<DivocCredential, DivocError> {
    if input.len() > MAX_INPUT {
        return Err(DivocError::InputTooLarge {
            len: input.len(),
            max: MAX_INPUT,
        });
    }
    let archive: Cow<'_, [u8]> = if let Some(text) = input.strip_prefix(B64_PREFIX) {
        Cow::Owned(decode_base64(text)?)
    } else if input.starts_with(ZIP_MAGIC) {
        Cow::Borrowed(input)
    } else {
        return Err(DivocError::NotDivoc {
            start: input.iter().take(4).copied().collect(),
        });
    };
    let certificate_json = read_certificate(&archive, limit)?;
    let credential = crate::json::parse_strict(&certificate_json).map_err(DivocError::Json)?;
    if !credential.is_object() {
        return Err(DivocError::NotAnObject);
    }
    Ok(DivocCredential {
        credential,
        certificate_json,
    })
}

fn decode_base64(text: &[u8]) -> Result<Vec<u8>, DivocError> {
    let compact: Cow<'_, [u8]> = if text.iter().any(|b| is_skipped_whitespace(*b)) {
        Cow::Owned(
            text.iter()
                .copied()
                .filter(|b| !is_skipped_whitespace(*b))
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    };
    // The standard engine requires canonical padding and zero trailing bits.
    STANDARD.decode(compact).map_err(|e| DivocError::Base64 {
        detail: e.to_string(),
    })
}

fn is_skipped_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn zip_error(detail: impl Into<String>) -> DivocError {
    DivocError::Zip {
        detail: detail.into(),
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The fixed fields of the one-entry layout, read from the raw bytes.
struct Layout<'a> {
    /// Where the central directory starts (it ends at the end record).
    central_start: usize,
    /// General-purpose flags of the central header.
    flags: u16,
    /// Compression method of the central header.
    method: u16,
    /// The raw entry name of the central header.
    central_name: &'a [u8],
    /// The raw entry name of the local header.
    local_name: &'a [u8],
    /// Where the entry's data starts (after the local header, name and extra field).
    data_start: usize,
}

impl<'a> Layout<'a> {
    /// Checks the layout of a one-entry archive: end record at the end, central directory right
    /// before it, local header at offset 0.
    fn read(zip: &'a [u8]) -> Result<Self, DivocError> {
        let not_zip = || {
            zip_error(format!(
                "the data does not start with a local file header (starts with {:02x?})",
                &zip[..zip.len().min(4)]
            ))
        };
        let truncated = || zip_error(format!("truncated: {} bytes", zip.len()));
        let Some(end) = zip
            .len()
            .checked_sub(END_RECORD_LEN)
            .filter(|&end| zip[end..].starts_with(END_MAGIC))
        else {
            if !zip.starts_with(ZIP_MAGIC) {
                return Err(not_zip());
            }
            return Err(zip_error(
                "no end-of-central-directory record in the last 22 bytes \
                 (truncated, trailing bytes or an archive comment)",
            ));
        };
        let field = |at: usize| u16_at(zip, end + at).ok_or_else(truncated);
        let (disk, central_disk, on_disk, total) = (field(4)?, field(6)?, field(8)?, field(10)?);
        let central_size = u32_at(zip, end + 12).ok_or_else(truncated)?;
        let central_offset = u32_at(zip, end + 16).ok_or_else(truncated)?;
        if field(20)? != 0 {
            return Err(zip_error("the archive has a comment"));
        }
        if disk != 0 || central_disk != 0 || on_disk != total {
            return Err(zip_error("multi-disk archives are not supported"));
        }
        match total {
            0 => return Err(DivocError::MissingCertificate { found: None }),
            1 => {}
            n => return Err(DivocError::ExtraEntries { count: n.into() }),
        }
        if !zip.starts_with(ZIP_MAGIC) {
            return Err(not_zip());
        }
        if zip.len() < LOCAL_HEADER_LEN + CENTRAL_HEADER_LEN + END_RECORD_LEN {
            return Err(truncated());
        }
        let central_start = usize::try_from(central_offset).map_err(|_| truncated())?;
        let central_len = usize::try_from(central_size).map_err(|_| truncated())?;
        if central_start.checked_add(central_len) != Some(end) {
            return Err(zip_error(
                "the central directory does not end where the end record starts \
                 (ZIP64, or bytes between them)",
            ));
        }

        // The central directory: one header.
        let central = &zip[central_start..end];
        if !central.starts_with(CENTRAL_MAGIC) || central.len() < CENTRAL_HEADER_LEN {
            return Err(zip_error(
                "no central file header where the end record points",
            ));
        }
        let cfield = |at: usize| u16_at(central, at).ok_or_else(truncated);
        let (flags, method) = (cfield(8)?, cfield(10)?);
        let name_len = usize::from(cfield(28)?);
        let variable_len = name_len + usize::from(cfield(30)?) + usize::from(cfield(32)?);
        if CENTRAL_HEADER_LEN + variable_len != central.len() {
            return Err(zip_error(
                "the central directory is not exactly one central file header",
            ));
        }
        if u32_at(central, 42) != Some(0) {
            return Err(zip_error(
                "the entry's local header is not at the start of the archive",
            ));
        }
        let central_name = &central[CENTRAL_HEADER_LEN..CENTRAL_HEADER_LEN + name_len];

        // The local header at offset 0.
        let lfield = |at: usize| u16_at(zip, at).ok_or_else(truncated);
        let local_name_len = usize::from(lfield(26)?);
        let data_start = LOCAL_HEADER_LEN + local_name_len + usize::from(lfield(28)?);
        if data_start > central_start {
            return Err(zip_error(
                "the local header runs into the central directory",
            ));
        }
        let local_name = &zip[LOCAL_HEADER_LEN..LOCAL_HEADER_LEN + local_name_len];
        Ok(Self {
            central_start,
            flags,
            method,
            central_name,
            local_name,
            data_start,
        })
    }
}

/// Returns the bytes of `certificate.json`, checked as described in the module documentation.
fn read_certificate(zip: &[u8], limit: usize) -> Result<Vec<u8>, DivocError> {
    let layout = Layout::read(zip)?;
    for name in [layout.central_name, layout.local_name] {
        if name != CERTIFICATE_ENTRY.as_bytes() {
            return Err(DivocError::MissingCertificate {
                found: Some(String::from_utf8_lossy(name).into_owned()),
            });
        }
    }

    // The zip crate parses the central directory (and any extra fields) and checks that the
    // local header agrees with it and that no unlisted local header hides in the archive.
    let config = zip::read::Config {
        archive_offset: zip::read::ArchiveOffset::Known(0),
    };
    let mut archive = zip::ZipArchive::with_config(config, Cursor::new(zip))
        .map_err(|e| zip_error(e.to_string()))?;
    if archive.len() != 1 || archive.central_directory_start() != layout.central_start as u64 {
        return Err(zip_error(
            "the central directory the ZIP reader found is not the one at the end of the archive",
        ));
    }
    archive
        .validate_header_consistency()
        .map_err(|e| zip_error(e.to_string()))?;
    let entry = archive
        .by_index_data(0)
        .map_err(|e| zip_error(e.to_string()))?;
    if entry.name_raw() != CERTIFICATE_ENTRY.as_bytes() {
        return Err(DivocError::MissingCertificate {
            found: Some(String::from_utf8_lossy(entry.name_raw()).into_owned()),
        });
    }

    if layout.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) != 0
        || layout.method == METHOD_AES
        || entry.encrypted()
    {
        return Err(DivocError::Encrypted);
    }
    if layout.method != METHOD_STORED && layout.method != METHOD_DEFLATED {
        return Err(DivocError::UnsupportedCompression {
            method: layout.method,
            name: zip::CompressionMethod::name_from_u16(layout.method),
        });
    }
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let (size, compressed_size, crc32) = (entry.size(), entry.compressed_size(), entry.crc32());
    if size > limit_u64 || (layout.method == METHOD_STORED && compressed_size > limit_u64) {
        return Err(DivocError::TooLarge { limit });
    }

    // The entry's data, and what follows it up to the central directory: nothing, or the data
    // descriptor the local header announced, repeating the central header's CRC and sizes.
    let data_end = usize::try_from(compressed_size)
        .ok()
        .and_then(|n| layout.data_start.checked_add(n))
        .filter(|&data_end| data_end <= layout.central_start)
        .ok_or_else(|| zip_error("the entry's data runs into the central directory"))?;
    let data = &zip[layout.data_start..data_end];
    check_after_data(
        &zip[data_end..layout.central_start],
        layout.flags,
        crc32,
        compressed_size,
        size,
    )?;

    let content = if layout.method == METHOD_STORED {
        data.to_vec()
    } else {
        // Capped at `limit` whatever the headers declared; the stream must end exactly at the
        // end of the entry's data.
        crate::zlib::inflate_raw(data, limit).map_err(|e| match e {
            InflateError::TooLarge { limit } => DivocError::TooLarge { limit },
            other => DivocError::Inflate(other),
        })?
    };
    if content.len() > limit {
        return Err(DivocError::TooLarge { limit });
    }
    if content.len() as u64 != size {
        return Err(zip_error(format!(
            "{CERTIFICATE_ENTRY} holds {} bytes but its headers declare {size}",
            content.len()
        )));
    }
    let mut crc = flate2::Crc::new();
    crc.update(&content);
    if crc.sum() != crc32 {
        return Err(zip_error(format!(
            "{CERTIFICATE_ENTRY} has CRC-32 {:08x} but its headers declare {crc32:08x}",
            crc.sum()
        )));
    }
    Ok(content)
}

/// Checks the bytes between the entry's data and the central directory.
fn check_after_data(
    gap: &[u8],
    flags: u16,
    crc32: u32,
    compressed_size: u64,
    size: u64,
) -> Result<(), DivocError> {
    if flags & FLAG_DATA_DESCRIPTOR == 0 {
        if gap.is_empty() {
            return Ok(());
        }
        return Err(zip_error(format!(
            "{} unexplained bytes between the entry's data and the central directory",
            gap.len()
        )));
    }
    let fields = gap.strip_prefix(DESCRIPTOR_MAGIC).unwrap_or(gap);
    let matches = fields.len() == 12
        && u32_at(fields, 0) == Some(crc32)
        && u32_at(fields, 4).map(u64::from) == Some(compressed_size)
        && u32_at(fields, 8).map(u64::from) == Some(size);
    if matches {
        Ok(())
    } else {
        Err(zip_error(
            "the data descriptor after the entry's data is missing or disagrees with the \
             central directory",
        ))
    }
}

fn str_at<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

/// A count as DIVOC profiles write it: a JSON integer, or a string of ASCII digits.
fn count_at(object: &Map<String, Value>, key: &str) -> Option<u64> {
    match object.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

impl<'a> DivocEvidence<'a> {
    fn from_object(item: &'a Map<String, Value>) -> Self {
        let country = item
            .get("facility")
            .and_then(|f| f.get("address"))
            .and_then(|a| a.get("addressCountry"))
            .and_then(Value::as_str);
        Self {
            vaccine: str_at(item, "vaccine"),
            manufacturer: str_at(item, "manufacturer"),
            batch: str_at(item, "batch"),
            date: str_at(item, "date"),
            dose: count_at(item, "dose"),
            total_doses: count_at(item, "totalDoses"),
            certificate_id: str_at(item, "certificateId"),
            country,
            icd11_code: str_at(item, "icd11Code"),
            prophylaxis: str_at(item, "prophylaxis"),
        }
    }
}

impl DivocCredential {
    fn object(&self) -> Option<&Map<String, Value>> {
        self.credential.as_object()
    }

    fn subject(&self) -> Option<&Map<String, Value>> {
        self.object()?.get("credentialSubject")?.as_object()
    }

    /// `credentialSubject.name`.
    pub fn name(&self) -> Option<&str> {
        str_at(self.subject()?, "name")
    }

    /// `credentialSubject.dob`, in DIVOC profiles that carry a date of birth (CoWIN gives only
    /// an `age`, see [`age`](Self::age)).
    pub fn birth_date(&self) -> Option<&str> {
        str_at(self.subject()?, "dob")
    }

    /// `credentialSubject.age` (CoWIN: a string of digits, at issuance), as given.
    pub fn age(&self) -> Option<&str> {
        str_at(self.subject()?, "age")
    }

    /// The items of `evidence` (one per vaccination event) that are JSON objects, in order; a
    /// single object instead of an array counts as one item.
    pub fn evidence(&self) -> Vec<DivocEvidence<'_>> {
        match self.object().and_then(|o| o.get("evidence")) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_object)
                .map(DivocEvidence::from_object)
                .collect(),
            Some(Value::Object(item)) => vec![DivocEvidence::from_object(item)],
            _ => Vec::new(),
        }
    }

    /// `issuer`: the string, or the `id` of an issuer object (both forms are valid VCs).
    pub fn issuer(&self) -> Option<&str> {
        match self.object()?.get("issuer")? {
            Value::String(s) => Some(s),
            Value::Object(o) => str_at(o, "id"),
            _ => None,
        }
    }

    /// `issuanceDate`, as given.
    pub fn issuance_date(&self) -> Option<&str> {
        str_at(self.object()?, "issuanceDate")
    }

    /// `proof.type`: the signature suite (`RsaSignature2018`, `Ed25519Signature2018`).
    pub fn proof_type(&self) -> Option<&str> {
        str_at(self.object()?.get("proof")?.as_object()?, "type")
    }

    /// `proof.verificationMethod`: the key the issuer names (CoWIN: `did:india`).
    pub fn verification_method(&self) -> Option<&str> {
        str_at(
            self.object()?.get("proof")?.as_object()?,
            "verificationMethod",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use zip::write::SimpleFileOptions;

    const CORPUS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/who-ddcc-validator"
    );

    /// The corpus sample as (B64 text, expected JSON), or None when the corpus is absent.
    fn sample() -> Option<(Vec<u8>, Value)> {
        let dir = std::path::Path::new(CORPUS);
        if !dir.is_dir() {
            eprintln!("{CORPUS} is absent: skipping the DIVOC corpus test");
            return None;
        }
        let text = std::fs::read(dir.join("DIVOCQR1Contents.txt")).unwrap();
        let unpacked = std::fs::read(dir.join("DIVOCQR1Unpacked.json")).unwrap();
        Some((text, serde_json::from_slice(&unpacked).unwrap()))
    }

    fn sample_zip(text: &[u8]) -> Vec<u8> {
        STANDARD
            .decode(text.strip_prefix(B64_PREFIX).unwrap().trim_ascii())
            .unwrap()
    }

    fn b64(zip: &[u8]) -> Vec<u8> {
        let mut text = B64_PREFIX.to_vec();
        text.extend_from_slice(STANDARD.encode(zip).as_bytes());
        text
    }

    /// An archive written by the zip crate's writer.
    fn write_zip(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in entries {
            let options = SimpleFileOptions::default().compression_method(method);
            writer.start_file(*name, options).unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    /// A one-entry archive built by hand, with whatever headers the test wants.
    struct Raw {
        name: &'static [u8],
        method: u16,
        flags: u16,
        data: Vec<u8>,
        crc32: u32,
        compressed_size: u32,
        size: u32,
    }

    impl Raw {
        /// `content` deflated, with honest headers.
        fn deflated(name: &'static [u8], content: &[u8]) -> Self {
            let data = crate::zlib::deflate_raw(content);
            let mut crc = flate2::Crc::new();
            crc.update(content);
            Raw {
                name,
                method: METHOD_DEFLATED,
                flags: 0,
                compressed_size: data.len() as u32,
                data,
                crc32: crc.sum(),
                size: content.len() as u32,
            }
        }

        fn build(&self) -> Vec<u8> {
            let name_len = self.name.len() as u16;
            let mut zip = Vec::new();
            zip.extend_from_slice(ZIP_MAGIC);
            zip.extend_from_slice(&20u16.to_le_bytes());
            zip.extend_from_slice(&self.flags.to_le_bytes());
            zip.extend_from_slice(&self.method.to_le_bytes());
            zip.extend_from_slice(&[0; 4]); // time, date
            zip.extend_from_slice(&self.crc32.to_le_bytes());
            zip.extend_from_slice(&self.compressed_size.to_le_bytes());
            zip.extend_from_slice(&self.size.to_le_bytes());
            zip.extend_from_slice(&name_len.to_le_bytes());
            zip.extend_from_slice(&0u16.to_le_bytes());
            zip.extend_from_slice(self.name);
            zip.extend_from_slice(&self.data);
            let central = zip.len() as u32;
            zip.extend_from_slice(CENTRAL_MAGIC);
            zip.extend_from_slice(&20u16.to_le_bytes());
            zip.extend_from_slice(&20u16.to_le_bytes());
            zip.extend_from_slice(&self.flags.to_le_bytes());
            zip.extend_from_slice(&self.method.to_le_bytes());
            zip.extend_from_slice(&[0; 4]);
            zip.extend_from_slice(&self.crc32.to_le_bytes());
            zip.extend_from_slice(&self.compressed_size.to_le_bytes());
            zip.extend_from_slice(&self.size.to_le_bytes());
            zip.extend_from_slice(&name_len.to_le_bytes());
            zip.extend_from_slice(&[0; 4]); // extra, comment lengths
            zip.extend_from_slice(&[0; 8]); // disk, internal and external attributes
            zip.extend_from_slice(&0u32.to_le_bytes()); // local header offset
            zip.extend_from_slice(self.name);
            let central_size = zip.len() as u32 - central;
            zip.extend_from_slice(END_MAGIC);
            zip.extend_from_slice(&[0; 4]);
            zip.extend_from_slice(&1u16.to_le_bytes());
            zip.extend_from_slice(&1u16.to_le_bytes());
            zip.extend_from_slice(&central_size.to_le_bytes());
            zip.extend_from_slice(&central.to_le_bytes());
            zip.extend_from_slice(&0u16.to_le_bytes());
            zip
        }
    }

    const SMALL: &[u8] = br#"{"type":["VerifiableCredential"],"credentialSubject":{"name":"A"}}"#;

    #[test]
    fn corpus_sample_decodes_to_its_unpacked_json() {
        let Some((text, expected)) = sample() else {
            return;
        };
        assert!(looks_like_divoc(&text));
        let cert = decode(&text, DEFAULT_LIMIT).unwrap();
        assert_eq!(cert.credential, expected);
        assert_eq!(
            crate::json::parse_strict(&cert.certificate_json).unwrap(),
            expected
        );

        // The same archive as raw bytes, and as Base64 with the whitespace scanners add.
        let zip = sample_zip(&text);
        assert!(looks_like_divoc(&zip));
        assert_eq!(decode(&zip, DEFAULT_LIMIT).unwrap(), cert);
        let mut wrapped = B64_PREFIX.to_vec();
        for line in text[B64_PREFIX.len()..].chunks(76) {
            wrapped.extend_from_slice(line);
            wrapped.extend_from_slice(b"\r\n");
        }
        assert_eq!(decode(&wrapped, DEFAULT_LIMIT).unwrap(), cert);

        assert_eq!(cert.name(), Some("Third March User One"));
        assert_eq!(cert.birth_date(), None);
        assert_eq!(cert.age(), Some("65"));
        assert_eq!(cert.issuer(), Some("https://cowin.gov.in/"));
        assert_eq!(cert.issuance_date(), Some("2021-03-03T04:28:46.012Z"));
        assert_eq!(cert.proof_type(), Some("RsaSignature2018"));
        assert_eq!(cert.verification_method(), Some("did:india"));
        let evidence = cert.evidence();
        assert_eq!(evidence.len(), 1);
        let e = evidence[0];
        assert_eq!(e.vaccine, Some("COVISHIELD"));
        assert_eq!(e.manufacturer, Some("Serum Institute of India"));
        assert_eq!(e.batch, Some("Dummy-TGN-Chamba"));
        assert_eq!(e.date, Some("2021-03-03T04:28:43.134Z"));
        assert_eq!((e.dose, e.total_doses), (Some(1), Some(2)));
        assert_eq!(e.certificate_id, Some("92047670169"));
        assert_eq!(e.country, Some("IN"));
        assert_eq!((e.icd11_code, e.prophylaxis), (None, None));

        // The limit applies to the inflated size (1811 bytes here).
        assert_eq!(decode(&text, 1811).unwrap(), cert);
        assert_eq!(
            decode(&text, 1810),
            Err(DivocError::TooLarge { limit: 1810 })
        );
    }

    #[test]
    fn truncated_archives_and_texts_are_refused() {
        let Some((text, _)) = sample() else {
            return;
        };
        let zip = sample_zip(&text);
        for len in 0..zip.len() {
            assert!(decode(&zip[..len], DEFAULT_LIMIT).is_err(), "{len} bytes");
        }
        for len in (B64_PREFIX.len()..text.len()).step_by(4) {
            assert!(decode(&text[..len], DEFAULT_LIMIT).is_err(), "{len} chars");
        }
        assert!(matches!(
            decode(&zip[..zip.len() - 1], DEFAULT_LIMIT),
            Err(DivocError::Zip { .. })
        ));
        // Trailing and prepended bytes, and an archive comment.
        let mut trailing = zip.clone();
        trailing.push(0);
        assert!(matches!(
            decode(&trailing, DEFAULT_LIMIT),
            Err(DivocError::Zip { .. })
        ));
        let mut prepended = zip.clone();
        prepended.splice(0..0, ZIP_MAGIC.iter().copied());
        assert!(matches!(
            decode(&b64(&prepended), DEFAULT_LIMIT),
            Err(DivocError::Zip { .. })
        ));
        let mut commented = zip.clone();
        let n = commented.len();
        commented[n - 2] = 2;
        commented.extend_from_slice(b"hi");
        assert!(matches!(
            decode(&commented, DEFAULT_LIMIT),
            Err(DivocError::Zip { .. })
        ));
        // A flipped bit in the compressed data: corrupt deflate or a CRC-32 mismatch.
        let mut flipped = zip.clone();
        flipped[100] ^= 0x10;
        assert!(decode(&flipped, DEFAULT_LIMIT).is_err());
        // A data descriptor that disagrees with the central directory.
        let mut descriptor = zip;
        let central = descriptor.len() - END_RECORD_LEN - CENTRAL_HEADER_LEN - 16;
        descriptor[central - 1] ^= 1;
        assert!(matches!(
            decode(&descriptor, DEFAULT_LIMIT),
            Err(DivocError::Zip { .. })
        ));
    }

    #[test]
    fn bad_base64_is_refused() {
        let zip = write_zip(
            &[(CERTIFICATE_ENTRY, SMALL)],
            zip::CompressionMethod::Deflated,
        );
        let good = b64(&zip);
        assert!(decode(&good, DEFAULT_LIMIT).is_ok());
        for bad in [
            b"B64:@@@@".to_vec(),
            b"B64:UEsDBA".to_vec(),      // missing padding
            b"B64:UEsDBA===".to_vec(),   // too much padding
            b"B64:UEsDBB==".to_vec(),    // non-zero trailing bits
            b"B64:UEsD-A==".to_vec(),    // URL-safe alphabet
            [&good[..], b"="].concat(),  // trailing padding
            [&good[..], b"\0"].concat(), // a NUL is not whitespace
        ] {
            assert!(
                matches!(decode(&bad, DEFAULT_LIMIT), Err(DivocError::Base64 { .. })),
                "{:?}",
                String::from_utf8_lossy(&bad)
            );
        }
        let mut spaced = good.clone();
        spaced.insert(10, b' ');
        spaced.extend_from_slice(b"\n");
        assert!(decode(&spaced, DEFAULT_LIMIT).is_ok());
        // Base64 of something that is not a ZIP archive.
        assert!(matches!(
            decode(b"B64:", DEFAULT_LIMIT),
            Err(DivocError::Zip { .. })
        ));
        assert!(matches!(
            decode(&b64(b"{}"), DEFAULT_LIMIT),
            Err(DivocError::Zip { .. })
        ));
    }

    #[test]
    fn zip_bombs_are_capped() {
        let mut content = b"{\"a\":\"".to_vec();
        content.resize(10 * 1024 * 1024, b' ');
        content.extend_from_slice(b"\"}");
        // Honest headers: the declared size is refused before inflating.
        let honest = write_zip(
            &[(CERTIFICATE_ENTRY, &content)],
            zip::CompressionMethod::Deflated,
        );
        assert!(honest.len() < MAX_INPUT, "{} bytes", honest.len());
        assert_eq!(
            decode(&honest, DEFAULT_LIMIT),
            Err(DivocError::TooLarge {
                limit: DEFAULT_LIMIT
            })
        );
        // Lying headers (100 bytes declared): the inflater stops at the cap.
        let mut liar = Raw::deflated(b"certificate.json", &content);
        liar.size = 100;
        let lying = liar.build();
        assert!(lying.len() < MAX_INPUT);
        assert_eq!(
            decode(&lying, DEFAULT_LIMIT),
            Err(DivocError::TooLarge {
                limit: DEFAULT_LIMIT
            })
        );
        assert_eq!(
            decode(&b64(&lying), DEFAULT_LIMIT),
            Err(DivocError::TooLarge {
                limit: DEFAULT_LIMIT
            })
        );
        // Under the cap but not the declared size.
        let mut short = Raw::deflated(b"certificate.json", SMALL);
        short.size -= 1;
        assert!(matches!(
            decode(&short.build(), DEFAULT_LIMIT),
            Err(DivocError::Zip { .. })
        ));
        // Exactly at the cap is fine, stored or deflated; one byte less is not.
        for method in [
            zip::CompressionMethod::Stored,
            zip::CompressionMethod::Deflated,
        ] {
            let zip = write_zip(&[(CERTIFICATE_ENTRY, SMALL)], method);
            assert!(decode(&zip, SMALL.len()).is_ok());
            assert_eq!(
                decode(&zip, SMALL.len() - 1),
                Err(DivocError::TooLarge {
                    limit: SMALL.len() - 1
                })
            );
        }
    }

    #[test]
    fn entries_other_than_certificate_json_are_refused() {
        let other = write_zip(&[("other.json", SMALL)], zip::CompressionMethod::Deflated);
        assert_eq!(
            decode(&other, DEFAULT_LIMIT),
            Err(DivocError::MissingCertificate {
                found: Some("other.json".to_owned())
            })
        );
        let case = write_zip(
            &[("Certificate.json", SMALL)],
            zip::CompressionMethod::Deflated,
        );
        assert!(matches!(
            decode(&case, DEFAULT_LIMIT),
            Err(DivocError::MissingCertificate { .. })
        ));
        let two = write_zip(
            &[(CERTIFICATE_ENTRY, SMALL), ("extra.txt", b"x")],
            zip::CompressionMethod::Deflated,
        );
        assert_eq!(
            decode(&two, DEFAULT_LIMIT),
            Err(DivocError::ExtraEntries { count: 2 })
        );
        // An empty archive is only an end record: not a DIVOC code as raw bytes, and no
        // certificate as Base64.
        let empty = write_zip(&[], zip::CompressionMethod::Deflated);
        assert!(matches!(
            decode(&empty, DEFAULT_LIMIT),
            Err(DivocError::NotDivoc { .. })
        ));
        assert_eq!(
            decode(&b64(&empty), DEFAULT_LIMIT),
            Err(DivocError::MissingCertificate { found: None })
        );
        // Local and central names that differ.
        let mut renamed = write_zip(
            &[("certificate.jsoN", SMALL)],
            zip::CompressionMethod::Deflated,
        );
        let at = LOCAL_HEADER_LEN + CERTIFICATE_ENTRY.len() - 1;
        renamed[at] = b'n';
        assert!(matches!(
            decode(&renamed, DEFAULT_LIMIT),
            Err(DivocError::MissingCertificate { .. })
        ));
    }

    #[test]
    fn encrypted_and_unsupported_entries_are_refused() {
        let mut encrypted = Raw::deflated(b"certificate.json", SMALL);
        encrypted.flags = FLAG_ENCRYPTED;
        assert_eq!(
            decode(&encrypted.build(), DEFAULT_LIMIT),
            Err(DivocError::Encrypted)
        );
        let mut aes = Raw::deflated(b"certificate.json", SMALL);
        aes.method = METHOD_AES;
        assert!(decode(&aes.build(), DEFAULT_LIMIT).is_err());
        let mut bzip2 = Raw::deflated(b"certificate.json", SMALL);
        bzip2.method = 12;
        assert_eq!(
            decode(&bzip2.build(), DEFAULT_LIMIT),
            Err(DivocError::UnsupportedCompression {
                method: 12,
                name: "Bzip2"
            })
        );
        // A CRC-32 that does not match the content.
        let mut crc = Raw::deflated(b"certificate.json", SMALL);
        crc.crc32 ^= 1;
        assert!(matches!(
            decode(&crc.build(), DEFAULT_LIMIT),
            Err(DivocError::Zip { detail }) if detail.contains("CRC-32")
        ));
        // The hand-built archive itself is fine.
        let plain = Raw::deflated(b"certificate.json", SMALL).build();
        assert_eq!(decode(&plain, DEFAULT_LIMIT).unwrap().name(), Some("A"));
        // Junk after the end of the deflate stream, inside the entry's data.
        let mut junk = Raw::deflated(b"certificate.json", SMALL);
        junk.data.push(0);
        junk.compressed_size += 1;
        assert!(matches!(
            decode(&junk.build(), DEFAULT_LIMIT),
            Err(DivocError::Inflate(InflateError::TrailingData { extra: 1 }))
        ));
    }

    #[test]
    fn content_must_be_a_strict_json_object() {
        let duplicate = write_zip(
            &[(CERTIFICATE_ENTRY, br#"{"issuer":"a","issuer":"b"}"#)],
            zip::CompressionMethod::Deflated,
        );
        assert!(matches!(
            decode(&duplicate, DEFAULT_LIMIT),
            Err(DivocError::Json(_))
        ));
        let trailing = write_zip(
            &[(CERTIFICATE_ENTRY, b"{} {}")],
            zip::CompressionMethod::Deflated,
        );
        assert!(matches!(
            decode(&trailing, DEFAULT_LIMIT),
            Err(DivocError::Json(_))
        ));
        let array = write_zip(
            &[(CERTIFICATE_ENTRY, b"[]")],
            zip::CompressionMethod::Deflated,
        );
        assert_eq!(decode(&array, DEFAULT_LIMIT), Err(DivocError::NotAnObject));
    }

    #[test]
    fn empty_foreign_and_oversized_input_is_refused() {
        assert_eq!(
            decode(b"", DEFAULT_LIMIT),
            Err(DivocError::NotDivoc { start: Vec::new() })
        );
        assert!(!looks_like_divoc(b""));
        assert!(!looks_like_divoc(b"HC1:6BF"));
        assert!(!looks_like_divoc(b"b64:UEsD"));
        assert!(looks_like_divoc(b"B64:"));
        assert!(matches!(
            decode(b"HC1:6BFOXN", DEFAULT_LIMIT),
            Err(DivocError::NotDivoc { .. })
        ));
        assert!(matches!(
            decode(b"PK\x05\x06", DEFAULT_LIMIT),
            Err(DivocError::NotDivoc { .. })
        ));
        let mut big = B64_PREFIX.to_vec();
        big.resize(MAX_INPUT + 1, b'A');
        assert_eq!(
            decode(&big, DEFAULT_LIMIT),
            Err(DivocError::InputTooLarge {
                len: MAX_INPUT + 1,
                max: MAX_INPUT
            })
        );
    }

    #[test]
    fn accessors_on_other_profiles() {
        let json = br#"{
            "issuer": {"id": "https://divoc.example/", "name": "Ministry"},
            "credentialSubject": {"name": "B", "dob": "1980-01-31"},
            "evidence": {"vaccine": "X", "dose": "2", "totalDoses": 3, "icd11Code": "XM9QW8",
                         "prophylaxis": "COVID-19 vaccine, non-replicating viral vector",
                         "facility": {"address": {"addressCountry": "LKA"}}},
            "proof": {"type": "Ed25519Signature2018"}
        }"#;
        let zip = write_zip(
            &[(CERTIFICATE_ENTRY, json)],
            zip::CompressionMethod::Deflated,
        );
        let cert = decode(&b64(&zip), DEFAULT_LIMIT).unwrap();
        assert_eq!(cert.issuer(), Some("https://divoc.example/"));
        assert_eq!(cert.birth_date(), Some("1980-01-31"));
        assert_eq!(cert.proof_type(), Some("Ed25519Signature2018"));
        assert_eq!(cert.issuance_date(), None);
        let evidence = cert.evidence();
        assert_eq!(evidence.len(), 1);
        assert_eq!(
            (evidence[0].dose, evidence[0].total_doses),
            (Some(2), Some(3))
        );
        assert_eq!(evidence[0].icd11_code, Some("XM9QW8"));
        assert!(evidence[0].prophylaxis.is_some());
        assert_eq!(evidence[0].country, Some("LKA"));
        assert_eq!(evidence[0].batch, None);

        // Wrong types give None, never a panic.
        let odd = br#"{"issuer":1,"credentialSubject":[],"evidence":[1,{"dose":-1},{"dose":"1.0"}],"proof":"x"}"#;
        let zip = write_zip(&[(CERTIFICATE_ENTRY, odd)], zip::CompressionMethod::Stored);
        let cert = decode(&zip, DEFAULT_LIMIT).unwrap();
        assert_eq!(
            (cert.issuer(), cert.name(), cert.proof_type()),
            (None, None, None)
        );
        let evidence = cert.evidence();
        assert_eq!(evidence.len(), 2);
        assert_eq!((evidence[0].dose, evidence[1].dose), (None, None));
    }
}
