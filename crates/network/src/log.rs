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
    /// The gateway's own statement of the revocation filters it serves from then on, by
    /// digest ([`crate::revocation::LoggedFilters`] JSON); signed by the log itself.
    RevocationFilters,
}

impl ChangeKind {
    /// Every kind (a match on this list stops compiling when one is added).
    pub const ALL: [ChangeKind; 9] = [
        Self::Onboarding,
        Self::Upload,
        Self::Withdrawal,
        Self::RevocationBatch,
        Self::RevocationDeletion,
        Self::Rule,
        Self::RuleDeletion,
        Self::ValueSets,
        Self::RevocationFilters,
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
            Self::RevocationFilters => "revocation_filters",
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
const ENTRY_HEADER: &str = "healthpass/log-entry/v2";

/// The largest entry read (seven short lines).
pub const MAX_ENTRY_BYTES: usize = 1024;

/// The longest subject written; a longer one (or one with a character outside printable
/// ASCII) is written as `-`, and an auditor sees it differ from the body's.
pub const MAX_SUBJECT_CHARS: usize = 200;

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
    /// The entry is not the seven lines this version writes, or not in their one form.
    #[error("the entry is not valid: {0}")]
    Header(&'static str),
}

/// One log entry: what the tree hashes for a [`Change`]. It names the change (kind, country,
/// time, and the one thing it changes: its subject) and commits to the signed request by its
/// SHA-256; the request itself is served beside the log. So a client reads the whole history
/// in a few hundred bytes per change and fetches no request it does not apply, while an
/// auditor fetches every request and checks it against its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// The trust-list version after the change (its index plus one).
    pub version: u64,
    /// What it is.
    pub kind: ChangeKind,
    /// The country it concerns (empty for governance changes).
    pub country: String,
    /// When the gateway accepted it.
    pub accepted_at: Timestamp,
    /// What it changes ([`subject`]).
    pub subject: String,
    /// SHA-256 of the signed request.
    pub body_sha256: [u8; 32],
}

impl LogRecord {
    /// Its index in the log.
    pub fn index(&self) -> u64 {
        self.version.saturating_sub(1)
    }

    /// The entry's bytes, which the tree hashes: seven lines (format, version, kind, country,
    /// acceptance time, subject, body digest in hex), each ended by a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let digest: String = self
            .body_sha256
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!(
            "{ENTRY_HEADER}\n{}\n{}\n{}\n{}\n{}\n{digest}\n",
            self.version,
            self.kind.as_str(),
            self.country,
            self.accepted_at,
            self.subject,
        )
        .into_bytes()
    }

    /// Reads an entry. Only the form [`to_bytes`](Self::to_bytes) writes is accepted, so one
    /// change has exactly one entry (and one leaf hash).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EntryError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLong { len: bytes.len() });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| EntryError::Header("not UTF-8"))?;
        let text = text
            .strip_suffix('\n')
            .ok_or(EntryError::Header("not ended by a newline"))?;
        let lines: Vec<&str> = text.split('\n').collect();
        let [header, version, kind, country, accepted_at, subject, digest] = lines[..] else {
            return Err(EntryError::Header("not seven lines"));
        };
        if header != ENTRY_HEADER {
            return Err(EntryError::Header("not a healthpass/log-entry/v2"));
        }
        let mut body_sha256 = [0u8; 32];
        if digest.len() != 64 {
            return Err(EntryError::Header("the body digest is not 64 hex digits"));
        }
        for (i, byte) in body_sha256.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digest[2 * i..2 * i + 2], 16)
                .map_err(|_| EntryError::Header("the body digest is not 64 hex digits"))?;
        }
        let record = Self {
            version: version
                .parse()
                .map_err(|_| EntryError::Header("the version is not a number"))?,
            kind: ChangeKind::parse(kind).ok_or(EntryError::Header("unknown kind"))?,
            country: country.to_owned(),
            accepted_at: accepted_at
                .parse()
                .map_err(|_| EntryError::Header("the time is not RFC 3339"))?,
            subject: subject.to_owned(),
            body_sha256,
        };
        if record.version == 0 || record.to_bytes() != bytes {
            return Err(EntryError::Header("not in canonical form"));
        }
        Ok(record)
    }

    /// Whether `body` is the request this entry commits to.
    pub fn commits_to(&self, body: &[u8]) -> bool {
        sha256(body) == self.body_sha256
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

impl Change {
    /// Its index in the log.
    pub fn index(&self) -> u64 {
        self.version.saturating_sub(1)
    }

    /// Its log entry.
    pub fn record(&self) -> LogRecord {
        LogRecord {
            version: self.version,
            kind: self.kind,
            country: self.country.clone(),
            accepted_at: self.accepted_at,
            subject: subject(self.kind, &self.body),
            body_sha256: sha256(&self.body),
        }
    }

    /// Its log entry's bytes ([`LogRecord::to_bytes`]).
    pub fn entry_bytes(&self) -> Vec<u8> {
        self.record().to_bytes()
    }
}

/// What a change changes, as its log entry names it, read from the signed request:
///
/// | kind | subject |
/// |---|---|
/// | onboarding | `{country}/{sequence}` of the record |
/// | upload, withdrawal | the DSC's thumbprint (SHA-256 of its DER, hex) |
/// | revocation batch | the batch id |
/// | revocation deletion | the id of the batch deleted |
/// | rule | `{identifier}/{version}` |
/// | rule deletion | the identifier |
/// | value sets | the release's sequence |
/// | revocation filters | how many signer keys have one |
///
/// A request that does not read as its kind (the gateway never accepts one) has the subject
/// `-`, as has one whose subject is not printable ASCII or is longer than
/// [`MAX_SUBJECT_CHARS`].
pub fn subject(kind: ChangeKind, body: &[u8]) -> String {
    let cms = || crate::cms::verify(body, None).ok();
    let text = || std::str::from_utf8(body).ok();
    let subject = match kind {
        ChangeKind::Onboarding => text()
            .and_then(|t| crate::SignedOnboarding::from_json(t).ok())
            .map(|o| format!("{}/{}", o.record.country, o.record.sequence)),
        ChangeKind::Upload | ChangeKind::Withdrawal => {
            cms().map(|c| healthpass_trust::thumbprint_of(&c.content))
        }
        ChangeKind::RevocationBatch => cms().map(|c| crate::revocation::batch_id(&c.signed_digest)),
        ChangeKind::RevocationDeletion => cms().and_then(|c| {
            serde_json::from_slice::<crate::revocation::BatchDeletion>(&c.content)
                .ok()
                .map(|d| d.batch_id)
        }),
        ChangeKind::Rule => cms().and_then(|c| {
            let text = String::from_utf8(c.content).ok()?;
            let rule = healthpass_rules::Rule::from_json_str(&text).ok()?;
            Some(format!("{}/{}", rule.identifier, rule.version))
        }),
        ChangeKind::RuleDeletion => {
            cms().map(|c| String::from_utf8_lossy(&c.content).trim().to_owned())
        }
        ChangeKind::ValueSets => text()
            .and_then(|t| crate::SignedValueSets::from_json(t).ok())
            .map(|v| v.release.sequence.to_string()),
        ChangeKind::RevocationFilters => crate::revocation::LoggedFilters::from_json(body)
            .ok()
            .map(|f| f.filters.len().to_string()),
    };
    match subject {
        Some(s)
            if !s.is_empty()
                && s.len() <= MAX_SUBJECT_CHARS
                && s.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            s
        }
        _ => "-".to_owned(),
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

/// `GET /log/entries?start=a&end=b`: entries `a..` ([`LogRecord::to_bytes`], each a string),
/// in index order. No proofs: a client checks them all at once, by computing the root of a
/// signed checkpoint from a [`LogFrontier`] and the entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntries {
    /// The first entry's index.
    pub start: u64,
    /// The entries.
    pub entries: Vec<String>,
}

/// `GET /log/frontier?size=m`: the frontier of the tree of `m` entries
/// ([`healthpass_trust::tlog::Frontier`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFrontier {
    /// The size.
    pub size: u64,
    /// Its complete subtrees' roots, leftmost first, Base64.
    pub hashes: Vec<String>,
}

/// `GET /log/inclusion?index=i&size=n`: entry `i` with its inclusion proof in the tree of `n`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The entry's index.
    pub index: u64,
    /// The tree size the proof is for.
    pub size: u64,
    /// The entry ([`LogRecord::to_bytes`]).
    pub entry: String,
    /// The proof's hashes, Base64.
    pub proof: Vec<String>,
}

/// `GET /log/bodies?start=a&end=b`: the signed requests of entries `a..`, as received,
/// Base64, in index order (what an auditor replays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogBodies {
    /// The first entry's index.
    pub start: u64,
    /// The requests.
    pub bodies: Vec<String>,
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
        let record = change.record();
        // Not a CMS message: the subject says so rather than guess.
        assert_eq!(record.subject, "-");
        assert!(record.commits_to(&change.body));
        assert!(!record.commits_to(b"another body"));
        let bytes = change.entry_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(
            "healthpass/log-entry/v2\n7\nrevocation_batch\nAT\n2026-11-28T10:00:00Z\n-\n"
        ));
        assert_eq!(LogRecord::from_bytes(&bytes).unwrap(), record);
        assert_eq!(record.index(), 6);
        let digest = text.lines().nth(6).unwrap().to_owned();
        for bad in [
            text.replace("\n7\n", "\n07\n"),
            text.replace("\n7\n", "\n0\n"),
            text.replace("revocation_batch", "upload_batch"),
            text.replace("10:00:00Z", "10:00:00+00:00"),
            text.replace("log-entry/v2", "log-entry/v1"),
            text.replace("\nAT\n", "\nAT\nextra\n"),
            text.replace(&digest, &digest.to_uppercase()),
            text.replace(&digest, &digest[2..]),
            text.trim_end().to_owned(),
            format!("{text}\n"),
        ] {
            assert!(LogRecord::from_bytes(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(matches!(
            LogRecord::from_bytes(&[b'a'; MAX_ENTRY_BYTES + 1]),
            Err(EntryError::TooLong { .. })
        ));
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
