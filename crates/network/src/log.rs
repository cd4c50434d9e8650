//! The gateway's transparency log, as everyone outside the gateway sees it.
//!
//! Every change the gateway accepts (an onboarding record, a signer certificate uploaded or
//! withdrawn, a rule, a revocation batch, value sets) is one entry, in order: entry `i` is
//! the change that took the trust list to version `i + 1`, so a checkpoint of size `n` covers
//! exactly trust-list version `n`. An entry holds the signed request as the gateway received
//! it, so anyone holding the log can replay every check the gateway made
//! (`healthpass log verify`): the operator can neither add a change that no country or
//! governance signed, nor drop or rewrite one without breaking the tree every client and
//! witness already holds.
//!
//! The proofs and checkpoints are [`healthpass_trust::tlog`]'s; this module adds what the
//! entries are ([`Change`]), the network's log settings ([`LogSettings`]) and the JSON the
//! gateway serves proofs in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_trust::tlog::{LogPolicy, NoteError, NoteVerifierKey, TreeHash};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What kind of change an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// A country's signed onboarding record (JSON).
    Onboarding,
    /// A DSC upload (CMS DER).
    Upload,
    /// A DSC withdrawal (CMS DER).
    Withdrawal,
    /// A revocation batch (CMS DER).
    RevocationBatch,
    /// The deletion of a revocation batch (CMS DER).
    RevocationDeletion,
    /// A rule version (CMS DER).
    Rule,
    /// The deletion of a rule (CMS DER).
    RuleDeletion,
    /// A value-set release with its governance signatures (JSON).
    ValueSets,
}

impl ChangeKind {
    /// Every kind (a match on this list stops compiling when one is added).
    pub const ALL: [ChangeKind; 8] = [
        Self::Onboarding,
        Self::Upload,
        Self::Withdrawal,
        Self::RevocationBatch,
        Self::RevocationDeletion,
        Self::Rule,
        Self::RuleDeletion,
        Self::ValueSets,
    ];

    /// The name stored, logged and counted (`upload`, `revocation_batch`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Onboarding => "onboarding",
            Self::Upload => "upload",
            Self::Withdrawal => "withdrawal",
            Self::RevocationBatch => "revocation_batch",
            Self::RevocationDeletion => "revocation_deletion",
            Self::Rule => "rule",
            Self::RuleDeletion => "rule_deletion",
            Self::ValueSets => "valuesets",
        }
    }

    /// The kind of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One accepted change: one log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The trust-list version after it (its log index plus one).
    pub version: u64,
    /// What it is.
    pub kind: ChangeKind,
    /// The country it concerns (empty for governance changes: onboarding, value sets).
    pub country: String,
    /// When the gateway accepted it (uploads are re-checked at this time on replay).
    pub accepted_at: Timestamp,
    /// The signed request, as received.
    pub body: Vec<u8>,
}

/// The first line of every entry (domain separation from anything else that is hashed).
const ENTRY_HEADER: &str = "healthpass/log-entry/v1";

/// The largest entry read (a CMS upload or a batch of 1000 hashes is far smaller).
pub const MAX_ENTRY_BYTES: usize = 4 * 1024 * 1024;

/// Why bytes are not a log entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// Over [`MAX_ENTRY_BYTES`].
    #[error("the entry is {len} bytes; at most {MAX_ENTRY_BYTES} are read")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// The header is not the five lines this version writes, or not in their one form.
    #[error("the entry header is not valid: {0}")]
    Header(&'static str),
}

impl Change {
    /// Its index in the log.
    pub fn index(&self) -> u64 {
        self.version.saturating_sub(1)
    }

    /// The entry's bytes, which the tree hashes: a text header (format, version, kind,
    /// country, acceptance time), a blank line, then the body as received.
    pub fn entry_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "{ENTRY_HEADER}\n{}\n{}\n{}\n{}\n\n",
            self.version,
            self.kind.as_str(),
            self.country,
            self.accepted_at
        )
        .into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads an entry. Only the form [`entry_bytes`](Self::entry_bytes) writes is accepted,
    /// so one change has exactly one entry (and one leaf hash).
    pub fn from_entry_bytes(bytes: &[u8]) -> Result<Self, EntryError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLong { len: bytes.len() });
        }
        let header_end = bytes
            .windows(2)
            .position(|w| w == b"\n\n")
            .ok_or(EntryError::Header("no blank line after the header"))?;
        let header = std::str::from_utf8(&bytes[..header_end])
            .map_err(|_| EntryError::Header("not UTF-8"))?;
        let mut lines = header.split('\n');
        if lines.next() != Some(ENTRY_HEADER) {
            return Err(EntryError::Header("not a healthpass/log-entry/v1"));
        }
        let (Some(version), Some(kind), Some(country), Some(accepted_at), None) = (
            lines.next(),
            lines.next(),
            lines.next(),
            lines.next(),
            lines.next(),
        ) else {
            return Err(EntryError::Header(
                "not version, kind, country and time lines",
            ));
        };
        let change = Self {
            version: version
                .parse()
                .map_err(|_| EntryError::Header("the version is not a number"))?,
            kind: ChangeKind::parse(kind).ok_or(EntryError::Header("unknown kind"))?,
            country: country.to_owned(),
            accepted_at: accepted_at
                .parse()
                .map_err(|_| EntryError::Header("the time is not RFC 3339"))?,
            body: bytes[header_end + 2..].to_vec(),
        };
        if change.version == 0 || change.entry_bytes() != bytes {
            return Err(EntryError::Header("not in canonical form"));
        }
        Ok(change)
    }
}

/// The network's transparency log, as its definition names it: the gateway's log key and the
/// witnesses whose cosignatures verifiers require. The key and witness keys are C2SP
/// verifier keys (`name+id+base64`); the log key's name is the log's origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// The gateway's checkpoint key (type `0x01`, Ed25519).
    pub key: String,
    /// The witnesses' cosigning keys (type `0x04`).
    #[serde(default)]
    pub witnesses: Vec<String>,
    /// How many of them must co-sign a checkpoint before a verifier believes it (k).
    #[serde(default)]
    pub quorum: usize,
}

impl LogSettings {
    /// The policy these settings describe, with every key read and checked.
    pub fn policy(&self) -> Result<LogPolicy, NoteError> {
        let key = NoteVerifierKey::parse_vkey(&self.key)?;
        let witnesses = self
            .witnesses
            .iter()
            .map(|w| NoteVerifierKey::parse_vkey(w))
            .collect::<Result<Vec<_>, _>>()?;
        LogPolicy::new(key, witnesses, self.quorum)
    }
}

/// `GET /log/consistency?from=m&to=n`: the RFC 9162 consistency proof between two sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The older size.
    pub from: u64,
    /// The newer size.
    pub to: u64,
    /// The proof's hashes, Base64.
    pub proof: Vec<String>,
}

/// `GET /log/entries?start=a&end=b&size=n`: entries with their inclusion proofs in the tree
/// of `size` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntries {
    /// The tree size the proofs are for.
    pub size: u64,
    /// The entries, in index order.
    pub entries: Vec<LogEntry>,
}

/// One entry with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// The index.
    pub index: u64,
    /// [`Change::entry_bytes`], Base64.
    pub entry: String,
    /// Its inclusion proof's hashes, Base64.
    pub proof: Vec<String>,
}

/// Hashes as Base64, for the JSON above.
pub fn encode_hashes(hashes: &[TreeHash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// Hashes from Base64; `None` if one is not 32 bytes of Base64.
pub fn decode_hashes(hashes: &[String]) -> Option<Vec<TreeHash>> {
    hashes
        .iter()
        .map(|h| B64.decode(h).ok()?.try_into().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_and_only_in_their_one_form() {
        let change = Change {
            version: 7,
            kind: ChangeKind::RevocationBatch,
            country: "AT".into(),
            accepted_at: "2026-11-28T10:00:00Z".parse().unwrap(),
            body: vec![0x30, 0x82, 0x0a, b'\n', b'\n', 0xff],
        };
        let bytes = change.entry_bytes();
        assert!(bytes.starts_with(
            b"healthpass/log-entry/v1\n7\nrevocation_batch\nAT\n2026-11-28T10:00:00Z\n\n0"
        ));
        assert_eq!(Change::from_entry_bytes(&bytes).unwrap(), change);
        assert_eq!(change.index(), 6);
        let text = String::from_utf8_lossy(&bytes[..bytes.len() - 6]).into_owned();
        for bad in [
            text.replace("\n7\n", "\n07\n"),
            text.replace("\n7\n", "\n0\n"),
            text.replace("revocation_batch", "upload_batch"),
            text.replace("10:00:00Z", "10:00:00+00:00"),
            text.replace("log-entry/v1", "log-entry/v2"),
            text.replace("\nAT\n", "\nAT\nextra\n"),
            text.trim_end().to_owned(),
        ] {
            assert!(Change::from_entry_bytes(bad.as_bytes()).is_err(), "{bad:?}");
        }
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn hashes_round_trip_and_refuse_wrong_lengths() {
        let hashes = vec![[1u8; 32], [2u8; 32]];
        assert_eq!(decode_hashes(&encode_hashes(&hashes)), Some(hashes));
        assert_eq!(decode_hashes(&["AAAA".into()]), None);
        assert_eq!(decode_hashes(&["not base64".into()]), None);
    }
}
