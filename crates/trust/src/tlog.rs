//! Transparency-log proofs and checkpoints: what a verifier needs to hold a trust network's
//! operator to one append-only history.
//!
//! The log is an RFC 9162 Merkle tree (leaf hash `SHA-256(0x00 ‖ entry)`, node hash
//! `SHA-256(0x01 ‖ left ‖ right)`); the proof algorithms are `tlog_tiles`' (Cloudflare's port
//! of Go's `sumdb/tlog`, which Go's checksum database and the C2SP logs run on). Its tree
//! heads are [C2SP checkpoints](https://c2sp.org/tlog-checkpoint) in
//! [signed notes](https://c2sp.org/signed-note): origin, size and root hash, signed by the log's
//! Ed25519 key and co-signed by witnesses ([C2SP tlog-cosignature](https://c2sp.org/tlog-cosignature),
//! Ed25519, signature type `0x04`). A [`LogPolicy`] says which log key to believe and how many
//! witnesses must agree; [`check_consistency`] and [`check_inclusion`] then tie what a gateway
//! serves to the checkpoint a client already holds.
//!
//! Like the rest of this crate, nothing here does I/O or reads a clock: a cosignature's
//! timestamp is compared with the `now` the caller passes in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use ring::digest::{SHA256, digest};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use std::fmt;

/// A node or root hash of the tree (SHA-256).
pub type TreeHash = [u8; 32];

/// The root of the empty tree: SHA-256 of nothing (RFC 9162, section 2.1.1).
pub const EMPTY_ROOT: TreeHash = tlog_tiles::EMPTY_HASH.0;

/// The longest proof this reader looks at. A tree of 2^64 leaves needs 64 hashes for an
/// inclusion proof and at most 2 × 64 for a consistency proof; anything longer is malformed,
/// and refusing it before running it keeps a hostile proof from costing more than that.
pub const MAX_PROOF_HASHES: usize = 130;

/// The largest signed note read (a checkpoint with many cosignatures is well under 8 KiB).
pub const MAX_NOTE_BYTES: usize = 64 * 1024;

/// The most signature lines read from one note (the signed-note spec asks for at least 16).
pub const MAX_NOTE_SIGNATURES: usize = 64;

/// How far in the future a cosignature's timestamp may be before it is not counted (clocks
/// of witnesses and verifiers differ; a cosignature from the future is not a statement about
/// the present).
pub const COSIGNATURE_CLOCK_SKEW_SECONDS: i64 = 600;

/// RFC 9162 leaf hash of one log entry: `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> TreeHash {
    tlog_tiles::record_hash(entry).0
}

/// Lower-case hex of a hash, for messages (short enough to compare by eye).
pub fn hex(hash: &TreeHash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The proof has more hashes than any tree of this size needs.
    #[error("the proof has {len} hashes; at most {MAX_PROOF_HASHES} are read")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// The leaf index is not inside the tree.
    #[error("entry {index} is not inside a tree of {size} entries")]
    IndexOutOfRange {
        /// The index asked about.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The newer tree is smaller than the older one.
    #[error("a tree of {new_size} entries cannot extend one of {old_size}")]
    Shrunk {
        /// The older size.
        old_size: u64,
        /// The newer size.
        new_size: u64,
    },
    /// The proof does not lead to the root it should.
    #[error("the proof does not lead to the tree root")]
    Mismatch,
}

/// Checks an RFC 9162 inclusion proof: entry `index`, with leaf hash `leaf`, is in the tree of
/// `size` entries whose root is `root`.
pub fn check_inclusion(
    proof: &[TreeHash],
    index: u64,
    leaf: TreeHash,
    size: u64,
    root: TreeHash,
) -> Result<(), ProofError> {
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::TooLong { len: proof.len() });
    }
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let proof: Vec<tlog_tiles::Hash> = proof.iter().copied().map(tlog_tiles::Hash).collect();
    tlog_tiles::check_record(
        &proof,
        size,
        tlog_tiles::Hash(root),
        index,
        tlog_tiles::Hash(leaf),
    )
    .map_err(|_| ProofError::Mismatch)
}

/// Checks an RFC 9162 consistency proof: the tree of `new_size` entries with root `new_root`
/// starts with the tree of `old_size` entries with root `old_root`. Equal sizes need equal
/// roots and an empty proof; the empty tree is a prefix of every tree.
pub fn check_consistency(
    proof: &[TreeHash],
    old_size: u64,
    old_root: TreeHash,
    new_size: u64,
    new_root: TreeHash,
) -> Result<(), ProofError> {
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::TooLong { len: proof.len() });
    }
    if new_size < old_size {
        return Err(ProofError::Shrunk { old_size, new_size });
    }
    if old_size == 0 {
        return match (proof.is_empty(), old_root == EMPTY_ROOT) {
            (true, true) => Ok(()),
            _ => Err(ProofError::Mismatch),
        };
    }
    let proof: Vec<tlog_tiles::Hash> = proof.iter().copied().map(tlog_tiles::Hash).collect();
    tlog_tiles::check_tree(
        &proof,
        new_size,
        tlog_tiles::Hash(new_root),
        old_size,
        tlog_tiles::Hash(old_root),
    )
    .map_err(|_| ProofError::Mismatch)
}

/// Why a signed note, a key or a checkpoint does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// Over [`MAX_NOTE_BYTES`].
    #[error("the note is {len} bytes; at most {MAX_NOTE_BYTES} are read")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// A control character other than newline.
    #[error("the note holds a control character (byte {offset})")]
    ControlCharacter {
        /// Where.
        offset: usize,
    },
    /// No blank line between text and signatures, or no signature.
    #[error("the note has no blank line followed by signature lines")]
    NoSignatures,
    /// Over [`MAX_NOTE_SIGNATURES`] signature lines.
    #[error("the note has over {MAX_NOTE_SIGNATURES} signature lines")]
    TooManySignatures,
    /// A signature line is not `— name base64`.
    #[error("signature line {line} is not `— <key name> <base64>`")]
    SignatureLine {
        /// 1-based, among the signature lines.
        line: usize,
    },
    /// A key name is empty or holds a space or `+`.
    #[error("key name {0:?} is empty or holds a space or '+'")]
    KeyName(String),
    /// A verifier key (`name+hexid+base64`) does not read.
    #[error("verifier key: {0}")]
    VerifierKey(String),
    /// The note text is not a checkpoint (origin, size, root hash lines).
    #[error("not a checkpoint: {0}")]
    Checkpoint(String),
}

/// A signature line of a note: key name, key id and signature bytes (after the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The 32-bit key id.
    pub key_id: u32,
    /// The signature (for a cosignature: 8-byte timestamp, then the Ed25519 signature).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    fn to_line(&self) -> String {
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.signature);
        format!("\u{2014} {} {}\n", self.name, B64.encode(raw))
    }
}

/// A signed note (C2SP signed-note): text ending in a newline, a blank line, and one or more
/// signature lines. Read strictly: UTF-8, no control characters but newline, canonical Base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text, with its final newline.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

/// A key name: not empty, no Unicode space, no '+', and (as everything in a note) no control
/// character.
fn valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

impl SignedNote {
    /// Reads a signed note.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLong { len: note.len() });
        }
        if let Some(offset) = note.bytes().position(|b| b < 0x20 && b != b'\n') {
            return Err(NoteError::ControlCharacter { offset });
        }
        // The text ends at the last blank line: "\n\n" then signature lines.
        let split = note.rfind("\n\n").ok_or(NoteError::NoSignatures)?;
        let (text, rest) = (&note[..=split], &note[split + 2..]);
        if rest.is_empty() || !rest.ends_with('\n') {
            return Err(NoteError::NoSignatures);
        }
        let mut signatures = Vec::new();
        for (i, line) in rest[..rest.len() - 1].split('\n').enumerate() {
            if signatures.len() == MAX_NOTE_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            let bad = || NoteError::SignatureLine { line: i + 1 };
            let body = line.strip_prefix("\u{2014} ").ok_or_else(bad)?;
            let (name, encoded) = body.split_once(' ').ok_or_else(bad)?;
            if !valid_key_name(name) {
                return Err(NoteError::KeyName(name.to_owned()));
            }
            let raw = B64.decode(encoded).map_err(|_| bad())?;
            if raw.len() < 5 {
                return Err(bad());
            }
            let key_id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id,
                signature: raw[4..].to_vec(),
            });
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note as text (what [`parse`](Self::parse) reads back).
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for signature in &self.signatures {
            out.push_str(&signature.to_line());
        }
        out
    }

    /// Adds a signature line, replacing one from the same key (name and id): a witness that
    /// co-signs again, later, replaces its older cosignature.
    pub fn add_signature(&mut self, signature: NoteSignature) {
        self.signatures
            .retain(|s| !(s.name == signature.name && s.key_id == signature.key_id));
        self.signatures.push(signature);
    }
}

/// What kind of note key: the log's own signature or a witness's cosignature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteKeyKind {
    /// Ed25519 over the note text (signed-note type `0x01`): the log's checkpoint signature.
    Ed25519,
    /// Timestamped Ed25519 cosignature (type `0x04`, tlog-cosignature v1): a witness's.
    Cosignature,
}

impl NoteKeyKind {
    fn type_byte(self) -> u8 {
        match self {
            Self::Ed25519 => 0x01,
            Self::Cosignature => 0x04,
        }
    }
}

/// A public note key: name, kind and Ed25519 public key, with its key id
/// `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NoteVerifierKey {
    name: String,
    kind: NoteKeyKind,
    public_key: [u8; 32],
    key_id: u32,
}

impl fmt::Debug for NoteVerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

fn note_key_id(name: &str, kind: NoteKeyKind, public_key: &[u8; 32]) -> u32 {
    let mut input = Vec::with_capacity(name.len() + 34);
    input.extend_from_slice(name.as_bytes());
    input.push(b'\n');
    input.push(kind.type_byte());
    input.extend_from_slice(public_key);
    let hash = digest(&SHA256, &input);
    let h = hash.as_ref();
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

impl NoteVerifierKey {
    /// A key from its parts.
    pub fn new(name: &str, kind: NoteKeyKind, public_key: [u8; 32]) -> Result<Self, NoteError> {
        if !valid_key_name(name) {
            return Err(NoteError::KeyName(name.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            kind,
            key_id: note_key_id(name, kind, &public_key),
            public_key,
        })
    }

    /// Reads a verifier key as the signed-note spec writes it:
    /// `<name>+<8 hex digits of key id>+<base64(type ‖ public key)>`.
    pub fn parse_vkey(vkey: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::VerifierKey(why.to_owned());
        // Base64 has '+' of its own: the key is everything after the second '+'.
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("not <name>+<hex id>+<base64 key>"));
        };
        if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("the key id is not 8 hex digits"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad("the key id is not hex"))?;
        let raw = B64.decode(key).map_err(|_| bad("the key is not Base64"))?;
        let kind = match raw.first() {
            Some(0x01) => NoteKeyKind::Ed25519,
            Some(0x04) => NoteKeyKind::Cosignature,
            _ => return Err(bad("not an Ed25519 (0x01) or cosignature (0x04) key")),
        };
        let public_key: [u8; 32] = raw[1..]
            .try_into()
            .map_err(|_| bad("an Ed25519 public key is 32 bytes"))?;
        let key = Self::new(name, kind, public_key)?;
        if key.key_id != id {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(key)
    }

    /// The key as a verifier-key string.
    pub fn to_vkey(&self) -> String {
        let mut raw = vec![self.kind.type_byte()];
        raw.extend_from_slice(&self.public_key);
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Which kind of key.
    pub fn kind(&self) -> NoteKeyKind {
        self.kind
    }

    /// Whether a signature line claims to be this key's (same name and key id).
    pub fn matches(&self, signature: &NoteSignature) -> bool {
        signature.name == self.name && signature.key_id == self.key_id
    }

    /// Checks a signature line of this key over `text`: `None` if it does not verify;
    /// otherwise a cosignature's timestamp (`Some(Some(t))`), or `Some(None)` for a plain
    /// Ed25519 signature.
    pub fn verify(&self, text: &str, signature: &NoteSignature) -> Option<Option<u64>> {
        let key = UnparsedPublicKey::new(&ED25519, &self.public_key);
        match self.kind {
            NoteKeyKind::Ed25519 => key
                .verify(text.as_bytes(), &signature.signature)
                .ok()
                .map(|()| None),
            NoteKeyKind::Cosignature => {
                let (time, sig) = signature.signature.split_first_chunk::<8>()?;
                let time = u64::from_be_bytes(*time);
                if time > i64::MAX as u64 {
                    return None;
                }
                key.verify(&cosigned_message(text, time), sig)
                    .ok()
                    .map(|()| Some(time))
            }
        }
    }
}

/// The message a tlog-cosignature v1 signs: two header lines, then the checkpoint text.
fn cosigned_message(text: &str, time: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {time}\n{text}").into_bytes()
}

/// A private note key (Ed25519): signs checkpoints as a log, or co-signs them as a witness.
pub struct NoteSigner {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
    public: NoteVerifierKey,
}

/// The PEM label of a note signer's private key file.
const PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSigner({})", self.public.to_vkey())
    }
}

impl NoteSigner {
    /// From an Ed25519 PKCS#8 key (DER), a key name and what it signs as.
    pub fn from_pkcs8(name: &str, kind: NoteKeyKind, pkcs8: &[u8]) -> Result<Self, NoteError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|e| NoteError::VerifierKey(format!("not an Ed25519 PKCS#8 key: {e}")))?;
        let public_key: [u8; 32] = pair
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| NoteError::VerifierKey("an Ed25519 public key is 32 bytes".into()))?;
        let public = NoteVerifierKey::new(name, kind, public_key)?;
        Ok(Self {
            pair,
            pkcs8: pkcs8.to_vec(),
            public,
        })
    }

    /// A new random key.
    pub fn generate(name: &str, kind: NoteKeyKind) -> Result<Self, NoteError> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| NoteError::VerifierKey("the system random generator failed".into()))?;
        Self::from_pkcs8(name, kind, pkcs8.as_ref())
    }

    /// From a PEM `PRIVATE KEY` file (PKCS#8).
    pub fn from_pkcs8_pem(name: &str, kind: NoteKeyKind, pem: &str) -> Result<Self, NoteError> {
        let der = healthpass_codec::pem::first(pem, PRIVATE_KEY_LABEL)
            .and_then(Result::ok)
            .ok_or_else(|| NoteError::VerifierKey("no PEM PRIVATE KEY block".into()))?;
        Self::from_pkcs8(name, kind, &der)
    }

    /// The private key as a PEM `PRIVATE KEY` block (unencrypted: keep the file private).
    pub fn to_pkcs8_pem(&self) -> String {
        healthpass_codec::pem::encode(PRIVATE_KEY_LABEL, &self.pkcs8)
    }

    /// The public half.
    pub fn verifier_key(&self) -> &NoteVerifierKey {
        &self.public
    }

    /// Signs `text` (a note text ending in a newline). A cosigner stamps it with `time`,
    /// seconds since the epoch; a log key ignores `time`.
    pub fn sign(&self, text: &str, time: u64) -> NoteSignature {
        let signature = match self.public.kind {
            NoteKeyKind::Ed25519 => self.pair.sign(text.as_bytes()).as_ref().to_vec(),
            NoteKeyKind::Cosignature => {
                let mut out = time.to_be_bytes().to_vec();
                out.extend_from_slice(self.pair.sign(&cosigned_message(text, time)).as_ref());
                out
            }
        };
        NoteSignature {
            name: self.public.name.clone(),
            key_id: self.public.key_id,
            signature,
        }
    }
}

/// A tree head: the log's origin, its size and its root hash (C2SP tlog-checkpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Who the log is (a schema-less URL); the log key's name.
    pub origin: String,
    /// How many entries.
    pub size: u64,
    /// The RFC 9162 root hash of those entries.
    pub root: TreeHash,
}

impl Checkpoint {
    /// Checks that `frontier`, grown from the frontier at `start` by the entries served since,
    /// is this checkpoint's tree.
    pub fn check_frontier(&self, start: u64, frontier: &Frontier) -> Result<(), LogError> {
        let computed = frontier.root();
        if frontier.size() != self.size || computed != self.root {
            return Err(LogError::EntriesDoNotMatch {
                start,
                size: self.size,
                root: hex(&self.root),
                computed: hex(&computed),
            });
        }
        Ok(())
    }

    /// The note text: origin, decimal size and Base64 root, each on its own line.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// The checkpoint a signed note carries (its signatures are not checked: for a note the
    /// holder verified when it took it, such as the one it keeps between syncs).
    pub fn from_note(note: &str) -> Result<Self, NoteError> {
        Self::from_text(&SignedNote::parse(note)?.text)
    }

    /// Reads a checkpoint from note text. Extension lines after the root are refused: this
    /// log writes none, and a verifier should not sign off on text it does not understand.
    pub fn from_text(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::Checkpoint(why.to_owned());
        // A checkpoint is a note's text: what a note may not hold, it may not either (found by
        // the tlog fuzz target: an origin with U+0003 read as a checkpoint, and no note could
        // carry it).
        if let Some(offset) = text.bytes().position(|b| b < 0x20 && b != b'\n') {
            return Err(NoteError::ControlCharacter { offset });
        }
        let checkpoint = tlog_tiles::Checkpoint::from_bytes(text.as_bytes())
            .map_err(|_| bad("not origin, size and root hash lines"))?;
        if !checkpoint.extension().is_empty() {
            return Err(bad("it has extension lines"));
        }
        let parsed = Self {
            origin: checkpoint.origin().to_owned(),
            size: checkpoint.size(),
            root: checkpoint.hash().0,
        };
        // One way to write each: no leading zeros, padded Base64 (a re-encoded text would
        // otherwise carry the same checkpoint under other signed bytes).
        if parsed.to_text() != text {
            return Err(bad("not in canonical form"));
        }
        Ok(parsed)
    }
}

/// Why a checkpoint, or a step from one checkpoint to the next, is not believed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The note or checkpoint does not read.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The checkpoint is of another log.
    #[error("the checkpoint is of log {found:?}, not {expected:?}")]
    WrongOrigin {
        /// The configured origin.
        expected: String,
        /// The checkpoint's.
        found: String,
    },
    /// No signature line of the log's key.
    #[error("the checkpoint is not signed by the log key {key}")]
    NotSignedByLog {
        /// The key name.
        key: String,
    },
    /// A known key's signature does not verify: the whole note is refused.
    #[error("the signature of {key} on the checkpoint of size {size} does not verify")]
    BadSignature {
        /// The key name.
        key: String,
        /// The checkpoint's size.
        size: u64,
    },
    /// Fewer valid witness cosignatures than the policy requires.
    #[error("checkpoint {size} has {have} valid witness cosignatures; {need} are required")]
    TooFewCosignatures {
        /// The checkpoint's size.
        size: u64,
        /// How many.
        have: usize,
        /// The quorum.
        need: usize,
    },
    /// Two checkpoints of one size with different roots: the log showed two histories.
    #[error(
        "the log is forked: two checkpoints of size {size} with roots {seen} (held) and {served} (served)"
    )]
    Fork {
        /// The size.
        size: u64,
        /// The root held, hex.
        seen: String,
        /// The root served, hex.
        served: String,
    },
    /// The served checkpoint is older than the one held: the log went back in time.
    #[error("the log went back from checkpoint {held} to {served}")]
    Rollback {
        /// The size held.
        held: u64,
        /// The size served.
        served: u64,
    },
    /// The consistency proof from the held checkpoint to the served one fails: history was
    /// rewritten (or the proof is wrong).
    #[error(
        "checkpoint {to_size} (root {to_root}) does not extend checkpoint {from_size} (root {from_root}): {reason}"
    )]
    Inconsistent {
        /// The held size.
        from_size: u64,
        /// The held root, hex.
        from_root: String,
        /// The served size.
        to_size: u64,
        /// The served root, hex.
        to_root: String,
        /// What failed.
        reason: ProofError,
    },
    /// Entries served for a range, appended to the frontier before them, do not give the
    /// checkpoint's root: the log served other entries than those it signed.
    #[error(
        "entries {start}..{size} appended to the frontier at {start} give root {computed}, \
         not the root {root} of checkpoint {size}"
    )]
    EntriesDoNotMatch {
        /// Where the entries started.
        start: u64,
        /// The checkpoint's size.
        size: u64,
        /// The checkpoint's root, hex.
        root: String,
        /// The root they give, hex.
        computed: String,
    },
    /// An entry is not in the checkpoint's tree.
    #[error("entry {index} is not in checkpoint {size} (root {root}): {reason}")]
    NotIncluded {
        /// The entry's index.
        index: u64,
        /// The checkpoint's size.
        size: u64,
        /// The checkpoint's root, hex.
        root: String,
        /// What failed.
        reason: ProofError,
    },
}

/// A checkpoint whose signatures satisfied a [`LogPolicy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The tree head.
    pub checkpoint: Checkpoint,
    /// The note as received (to keep, and to hand on to witnesses and other verifiers).
    pub note: String,
    /// The witnesses whose cosignatures verified, with their timestamps.
    pub cosigned_by: Vec<(String, u64)>,
}

impl VerifiedCheckpoint {
    /// Checks that this (newer) checkpoint extends `held`, with `proof` from the gateway.
    pub fn check_extends(&self, held: &Checkpoint, proof: &[TreeHash]) -> Result<(), LogError> {
        check_extends(held, &self.checkpoint, proof)
    }

    /// Checks that entry `index`, with contents `entry`, is in this checkpoint's tree.
    pub fn check_entry(
        &self,
        index: u64,
        entry: &[u8],
        proof: &[TreeHash],
    ) -> Result<(), LogError> {
        let cp = &self.checkpoint;
        check_inclusion(proof, index, leaf_hash(entry), cp.size, cp.root).map_err(|reason| {
            LogError::NotIncluded {
                index,
                size: cp.size,
                root: hex(&cp.root),
                reason,
            }
        })
    }
}

/// Checks that checkpoint `served` extends checkpoint `held` (same log), with `proof`: a
/// smaller size is a rollback, the same size with another root a fork, and otherwise the
/// consistency proof must hold.
pub fn check_extends(
    held: &Checkpoint,
    served: &Checkpoint,
    proof: &[TreeHash],
) -> Result<(), LogError> {
    if served.size < held.size {
        return Err(LogError::Rollback {
            held: held.size,
            served: served.size,
        });
    }
    if served.size == held.size && served.root != held.root {
        return Err(LogError::Fork {
            size: held.size,
            seen: hex(&held.root),
            served: hex(&served.root),
        });
    }
    check_consistency(proof, held.size, held.root, served.size, served.root).map_err(|reason| {
        LogError::Inconsistent {
            from_size: held.size,
            from_root: hex(&held.root),
            to_size: served.size,
            to_root: hex(&served.root),
            reason,
        }
    })
}

/// Which checkpoints to believe: signed by the log's key, and co-signed by at least `quorum`
/// of the listed witnesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPolicy {
    log_key: NoteVerifierKey,
    witnesses: Vec<NoteVerifierKey>,
    quorum: usize,
}

impl LogPolicy {
    /// A policy trusting checkpoints signed by `log_key` (its name is the log's origin) with
    /// `quorum` cosignatures of `witnesses`. A quorum above the number of witnesses can never
    /// be met, so it is refused here rather than at the first sync.
    pub fn new(
        log_key: NoteVerifierKey,
        witnesses: Vec<NoteVerifierKey>,
        quorum: usize,
    ) -> Result<Self, NoteError> {
        if log_key.kind != NoteKeyKind::Ed25519 {
            return Err(NoteError::VerifierKey(
                "a log key signs with type 0x01 (Ed25519)".into(),
            ));
        }
        if let Some(w) = witnesses
            .iter()
            .find(|w| w.kind != NoteKeyKind::Cosignature)
        {
            return Err(NoteError::VerifierKey(format!(
                "witness {} is not a cosignature (0x04) key",
                w.name
            )));
        }
        let mut distinct = witnesses.clone();
        distinct.sort_by_cached_key(NoteVerifierKey::to_vkey);
        distinct.dedup();
        // Cosignatures are counted by witness name: two keys under one name would count once.
        if let Some(pair) = distinct.windows(2).find(|p| p[0].name == p[1].name) {
            return Err(NoteError::VerifierKey(format!(
                "two witness keys are named {}",
                pair[0].name
            )));
        }
        if quorum > distinct.len() {
            return Err(NoteError::VerifierKey(format!(
                "a quorum of {quorum} needs at least {quorum} distinct witnesses, not {}",
                distinct.len()
            )));
        }
        Ok(Self {
            log_key,
            witnesses: distinct,
            quorum,
        })
    }

    /// The log's origin (its key's name).
    pub fn origin(&self) -> &str {
        &self.log_key.name
    }

    /// The log key.
    pub fn log_key(&self) -> &NoteVerifierKey {
        &self.log_key
    }

    /// The witnesses' keys.
    pub fn witnesses(&self) -> &[NoteVerifierKey] {
        &self.witnesses
    }

    /// How many witnesses must co-sign.
    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// Verifies a checkpoint note: its text is a checkpoint of this log, the log key signed
    /// it, every signature of a known key verifies (one that does not refuses the note, as
    /// the signed-note spec recommends), and at least `quorum` witnesses co-signed it at a
    /// time not after `now` (plus [`COSIGNATURE_CLOCK_SKEW_SECONDS`]). Signatures of unknown
    /// keys are ignored.
    pub fn verify(&self, note: &str, now: Timestamp) -> Result<VerifiedCheckpoint, LogError> {
        let parsed = SignedNote::parse(note)?;
        let checkpoint = Checkpoint::from_text(&parsed.text)?;
        if checkpoint.origin != self.log_key.name {
            return Err(LogError::WrongOrigin {
                expected: self.log_key.name.clone(),
                found: checkpoint.origin,
            });
        }
        let latest = now
            .as_second()
            .saturating_add(COSIGNATURE_CLOCK_SKEW_SECONDS);
        let mut log_signed = false;
        let mut cosigned_by: Vec<(String, u64)> = Vec::new();
        for signature in &parsed.signatures {
            let key = std::iter::once(&self.log_key)
                .chain(&self.witnesses)
                .find(|k| k.matches(signature));
            let Some(key) = key else { continue };
            let Some(time) = key.verify(&parsed.text, signature) else {
                return Err(LogError::BadSignature {
                    key: key.name.clone(),
                    size: checkpoint.size,
                });
            };
            match time {
                None => log_signed = true,
                Some(time) if i64::try_from(time).is_ok_and(|t| t <= latest) => {
                    if !cosigned_by.iter().any(|(name, _)| *name == key.name) {
                        cosigned_by.push((key.name.clone(), time));
                    }
                }
                Some(_) => {}
            }
        }
        if !log_signed {
            return Err(LogError::NotSignedByLog {
                key: self.log_key.name.clone(),
            });
        }
        if cosigned_by.len() < self.quorum {
            return Err(LogError::TooFewCosignatures {
                size: checkpoint.size,
                have: cosigned_by.len(),
                need: self.quorum,
            });
        }
        Ok(VerifiedCheckpoint {
            checkpoint,
            note: parsed.to_text(),
            cosigned_by,
        })
    }
}

/// The right edge of a tree: the roots of its complete subtrees, largest (leftmost) first, one
/// for each bit set in its size. It is all that is needed to append entries and compute the
/// root, so a client holding the frontier at size `m` (at most 64 hashes) and the entries
/// `m..n` computes the root of size `n` itself: matching a signed checkpoint proves those are
/// the log's entries, with no proof per entry. A wrong frontier gives a wrong root (it is not
/// trusted on its own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (level, hash) of each complete subtree, leftmost first; levels strictly decrease.
    subtrees: Vec<(u8, TreeHash)>,
}

/// Why hashes are not the frontier of a size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{got} hashes are not the frontier of a tree of {size} (it has {expected})")]
pub struct FrontierError {
    /// The size.
    pub size: u64,
    /// How many hashes a frontier of that size has.
    pub expected: usize,
    /// How many were given.
    pub got: usize,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of a tree of `size` entries from its subtree roots, leftmost first.
    pub fn from_hashes(size: u64, hashes: &[TreeHash]) -> Result<Self, FrontierError> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(FrontierError {
                size,
                expected,
                got: hashes.len(),
            });
        }
        let levels = (0..64u8).rev().filter(|l| size >> l & 1 == 1);
        Ok(Self {
            size,
            subtrees: levels.zip(hashes.iter().copied()).collect(),
        })
    }

    /// Its subtree roots, leftmost first (what [`from_hashes`](Self::from_hashes) reads).
    pub fn hashes(&self) -> Vec<TreeHash> {
        self.subtrees.iter().map(|(_, h)| *h).collect()
    }

    /// The tree's size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends an entry by its leaf hash.
    pub fn push_leaf(&mut self, leaf: TreeHash) {
        let mut node = (0u8, leaf);
        while let Some(&(level, left)) = self.subtrees.last() {
            if level != node.0 {
                break;
            }
            self.subtrees.pop();
            node = (
                level + 1,
                tlog_tiles::node_hash(tlog_tiles::Hash(left), tlog_tiles::Hash(node.1)).0,
            );
        }
        self.subtrees.push(node);
        self.size += 1;
    }

    /// Appends an entry.
    pub fn push(&mut self, entry: &[u8]) {
        self.push_leaf(leaf_hash(entry));
    }

    /// The tree's root (RFC 9162: the subtrees joined from the right).
    pub fn root(&self) -> TreeHash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(&(_, mut root)) = subtrees.next() else {
            return EMPTY_ROOT;
        };
        for &(_, left) in subtrees {
            root = tlog_tiles::node_hash(tlog_tiles::Hash(left), tlog_tiles::Hash(root)).0;
        }
        root
    }
}

/// An append-only Merkle tree held in memory: the stored hashes of `tlog_tiles` (every leaf
/// hash and every complete subtree's hash, about two per entry), from which roots and proofs
/// of any earlier size are computed. What a gateway, a witness or an auditor rebuilding a log
/// keeps.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    size: u64,
    stored: Vec<tlog_tiles::Hash>,
}

impl tlog_tiles::HashReader for MemoryTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.stored.get(i).copied())
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Why a proof could not be made: a size or index beyond the tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the tree has {size} entries; asked about {asked}")]
pub struct BeyondTree {
    /// The tree's size.
    pub size: u64,
    /// The size or index asked about.
    pub asked: u64,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends an entry by its leaf hash ([`leaf_hash`]); returns its index.
    pub fn push_leaf(&mut self, leaf: TreeHash) -> u64 {
        let index = self.size;
        // Reads only hashes this tree stored (complete subtrees left of the new leaf).
        let new = tlog_tiles::stored_hashes_for_record_hash(index, tlog_tiles::Hash(leaf), self)
            .expect("a tree reads its own stored hashes");
        self.stored.extend(new);
        self.size += 1;
        index
    }

    /// Appends an entry; returns its index.
    pub fn push(&mut self, entry: &[u8]) -> u64 {
        self.push_leaf(leaf_hash(entry))
    }

    /// The root of the first `size` entries.
    pub fn root_at(&self, size: u64) -> Result<TreeHash, BeyondTree> {
        self.within(size)?;
        Ok(tlog_tiles::tree_hash(size, self)
            .expect("sizes within the tree read stored hashes")
            .0)
    }

    /// The root of the whole tree.
    pub fn root(&self) -> TreeHash {
        self.root_at(self.size).expect("the tree's own size")
    }

    /// The inclusion proof of entry `index` in the tree of the first `size` entries.
    pub fn prove_inclusion(&self, index: u64, size: u64) -> Result<Vec<TreeHash>, BeyondTree> {
        self.within(size)?;
        if index >= size {
            return Err(BeyondTree { size, asked: index });
        }
        let proof = tlog_tiles::prove_record(size, index, self)
            .expect("indexes within the tree read stored hashes");
        Ok(proof.into_iter().map(|h| h.0).collect())
    }

    /// The frontier of the first `size` entries.
    pub fn frontier(&self, size: u64) -> Result<Frontier, BeyondTree> {
        self.within(size)?;
        let mut start = 0u64;
        let mut hashes = Vec::new();
        for level in (0..64u8).rev().filter(|l| size >> l & 1 == 1) {
            let index = tlog_tiles::stored_hash_index(level, start >> level);
            let stored = usize::try_from(index)
                .ok()
                .and_then(|i| self.stored.get(i))
                .expect("complete subtrees within the tree are stored");
            hashes.push(stored.0);
            start += 1 << level;
        }
        Ok(Frontier::from_hashes(size, &hashes).expect("one hash per bit of the size"))
    }

    /// The consistency proof from the first `old_size` entries to the first `new_size`.
    pub fn prove_consistency(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<TreeHash>, BeyondTree> {
        self.within(new_size)?;
        if old_size > new_size {
            return Err(BeyondTree {
                size: new_size,
                asked: old_size,
            });
        }
        if old_size == 0 {
            return Ok(Vec::new());
        }
        let proof = tlog_tiles::prove_tree(new_size, old_size, self)
            .expect("sizes within the tree read stored hashes");
        Ok(proof.into_iter().map(|h| h.0).collect())
    }

    fn within(&self, size: u64) -> Result<(), BeyondTree> {
        if size > self.size {
            return Err(BeyondTree {
                size: self.size,
                asked: size,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 9162, section 2.1.1: MTH by its recursive definition.
    fn rfc_mth(leaves: &[Vec<u8>]) -> TreeHash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = largest_power_of_two_below(n);
                node(rfc_mth(&leaves[..k]), rfc_mth(&leaves[k..]))
            }
        }
    }

    fn node(left: TreeHash, right: TreeHash) -> TreeHash {
        let mut input = vec![1u8];
        input.extend_from_slice(&left);
        input.extend_from_slice(&right);
        digest(&SHA256, &input).as_ref().try_into().unwrap()
    }

    /// The largest power of two smaller than n (n > 1).
    fn largest_power_of_two_below(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// RFC 9162, section 2.1.3.1: PATH(m, D[n]).
    fn rfc_path(m: usize, leaves: &[Vec<u8>]) -> Vec<TreeHash> {
        let n = leaves.len();
        if n == 1 {
            return Vec::new();
        }
        let k = largest_power_of_two_below(n);
        if m < k {
            let mut path = rfc_path(m, &leaves[..k]);
            path.push(rfc_mth(&leaves[k..]));
            path
        } else {
            let mut path = rfc_path(m - k, &leaves[k..]);
            path.push(rfc_mth(&leaves[..k]));
            path
        }
    }

    /// RFC 9162, section 2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
    fn rfc_subproof(m: usize, leaves: &[Vec<u8>], b: bool) -> Vec<TreeHash> {
        let n = leaves.len();
        if m == n {
            return if b { Vec::new() } else { vec![rfc_mth(leaves)] };
        }
        let k = largest_power_of_two_below(n);
        if m <= k {
            let mut proof = rfc_subproof(m, &leaves[..k], b);
            proof.push(rfc_mth(&leaves[k..]));
            proof
        } else {
            let mut proof = rfc_subproof(m - k, &leaves[k..], false);
            proof.push(rfc_mth(&leaves[..k]));
            proof
        }
    }

    /// RFC 9162, section 2.1.3.2: verifying an inclusion proof, step by step as written.
    fn rfc_verify_inclusion(
        leaf_index: u64,
        tree_size: u64,
        leaf: TreeHash,
        path: &[TreeHash],
        root: TreeHash,
    ) -> bool {
        if leaf_index >= tree_size {
            return false;
        }
        let (mut fn_, mut sn) = (leaf_index, tree_size - 1);
        let mut r = leaf;
        for p in path {
            if sn == 0 {
                return false;
            }
            if fn_ & 1 == 1 || fn_ == sn {
                r = node(*p, r);
                if fn_ & 1 == 0 {
                    while fn_ & 1 == 0 && fn_ != 0 {
                        fn_ >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = node(r, *p);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        sn == 0 && r == root
    }

    /// RFC 9162, section 2.1.4.2: verifying a consistency proof, step by step as written.
    fn rfc_verify_consistency(
        first: u64,
        second: u64,
        first_hash: TreeHash,
        second_hash: TreeHash,
        proof: &[TreeHash],
    ) -> bool {
        if first == second {
            return proof.is_empty() && first_hash == second_hash;
        }
        if first == 0 || first > second || proof.is_empty() {
            return false;
        }
        let mut path: Vec<TreeHash> = proof.to_vec();
        if first.is_power_of_two() {
            path.insert(0, first_hash);
        }
        let (mut fn_, mut sn) = (first - 1, second - 1);
        while fn_ & 1 == 1 {
            fn_ >>= 1;
            sn >>= 1;
        }
        let (mut fr, mut sr) = (path[0], path[0]);
        for c in &path[1..] {
            if sn == 0 {
                return false;
            }
            if fn_ & 1 == 1 || fn_ == sn {
                fr = node(*c, fr);
                sr = node(*c, sr);
                if fn_ & 1 == 0 {
                    while fn_ & 1 == 0 && fn_ != 0 {
                        fn_ >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                sr = node(sr, *c);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        fr == first_hash && sr == second_hash && sn == 0
    }

    fn leaves(n: usize, seed: u8) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("entry {i} of {seed}").into_bytes())
            .collect()
    }

    fn tree_of(leaves: &[Vec<u8>]) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// Every pair of sizes up to 40 (and every index): the roots, inclusion and consistency
    /// proofs equal RFC 9162's definitions, and both verifiers (ours and the RFC's steps)
    /// accept them; a flipped bit in any proof hash, or the wrong index, is refused by both.
    #[test]
    fn proofs_equal_rfc_9162_for_every_pair_of_sizes_up_to_40() {
        let all = leaves(40, 0);
        let tree = tree_of(&all);
        assert_eq!(tree.root_at(0).unwrap(), EMPTY_ROOT);
        for n in 1..=all.len() {
            let root = tree.root_at(n as u64).unwrap();
            assert_eq!(root, rfc_mth(&all[..n]), "MTH of {n}");
            for m in 0..n {
                let proof = tree.prove_inclusion(m as u64, n as u64).unwrap();
                assert_eq!(proof, rfc_path(m, &all[..n]), "PATH({m}, D[{n}])");
                let leaf = leaf_hash(&all[m]);
                check_inclusion(&proof, m as u64, leaf, n as u64, root).unwrap();
                assert!(rfc_verify_inclusion(m as u64, n as u64, leaf, &proof, root));
                for bad in 0..proof.len() {
                    let mut wrong = proof.clone();
                    wrong[bad][bad % 32] ^= 1;
                    assert_eq!(
                        check_inclusion(&wrong, m as u64, leaf, n as u64, root),
                        Err(ProofError::Mismatch)
                    );
                    assert!(!rfc_verify_inclusion(
                        m as u64, n as u64, leaf, &wrong, root
                    ));
                }
                if n > 1 {
                    let other = (m + 1) % n;
                    assert!(check_inclusion(&proof, other as u64, leaf, n as u64, root).is_err());
                }
            }
            for m in 1..=n {
                let old_root = tree.root_at(m as u64).unwrap();
                let proof = tree.prove_consistency(m as u64, n as u64).unwrap();
                assert_eq!(
                    proof,
                    rfc_subproof(m, &all[..n], true),
                    "PROOF({m}, D[{n}])"
                );
                check_consistency(&proof, m as u64, old_root, n as u64, root).unwrap();
                assert!(rfc_verify_consistency(
                    m as u64, n as u64, old_root, root, &proof
                ));
                for bad in 0..proof.len() {
                    let mut wrong = proof.clone();
                    wrong[bad][0] ^= 0x80;
                    assert!(check_consistency(&wrong, m as u64, old_root, n as u64, root).is_err());
                    assert!(!rfc_verify_consistency(
                        m as u64, n as u64, old_root, root, &wrong
                    ));
                }
            }
            check_consistency(&[], 0, EMPTY_ROOT, n as u64, root).unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random trees (random entries, up to 300): every proof of our tree verifies with
        /// the RFC's steps, and a tree with one entry changed has another root and fails the
        /// old proofs: a rewritten entry cannot hide.
        #[test]
        fn random_trees_agree_with_rfc_9162(
            entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), 1..300),
            pick in any::<prop::sample::Index>(),
            pick_old in any::<prop::sample::Index>(),
        ) {
            let tree = tree_of(&entries);
            let n = entries.len();
            let root = tree.root();
            prop_assert_eq!(root, rfc_mth(&entries));
            let m = pick.index(n);
            let proof = tree.prove_inclusion(m as u64, n as u64).unwrap();
            prop_assert!(rfc_verify_inclusion(m as u64, n as u64, leaf_hash(&entries[m]), &proof, root));
            let old = pick_old.index(n) + 1;
            let old_root = tree.root_at(old as u64).unwrap();
            let consistency = tree.prove_consistency(old as u64, n as u64).unwrap();
            prop_assert!(rfc_verify_consistency(old as u64, n as u64, old_root, root, &consistency));
            prop_assert!(check_consistency(&consistency, old as u64, old_root, n as u64, root).is_ok());

            // Rewrite entry m: the new tree's root differs, and no proof ties it to the old.
            let mut rewritten = entries.clone();
            rewritten[m].push(0xff);
            let other = tree_of(&rewritten);
            prop_assert_ne!(other.root(), root);
            if m < old {
                // The rewritten entry is inside the old tree: the new tree does not extend it.
                let forged = other.prove_consistency(old as u64, n as u64).unwrap();
                prop_assert!(check_consistency(&forged, old as u64, old_root, n as u64, other.root()).is_err());
            }
            prop_assert!(check_inclusion(&proof, m as u64, leaf_hash(&rewritten[m]), n as u64, root).is_err());
        }
    }

    /// The frontier at every size m ≤ 40, with the entries m..n appended, gives RFC 9162's
    /// MTH of every n: a client holding the frontier needs no proof per entry. A frontier of
    /// the wrong length is refused; one with a changed hash gives another root.
    #[test]
    fn frontiers_append_to_the_rfc_roots() {
        let entries = leaves(40, 3);
        let tree = tree_of(&entries);
        let mut grown = Frontier::new();
        assert_eq!(grown.root(), EMPTY_ROOT);
        for m in 0..=40usize {
            let frontier = tree.frontier(m as u64).unwrap();
            assert_eq!(frontier, grown, "size {m}");
            assert_eq!(frontier.root(), rfc_mth(&entries[..m]), "size {m}");
            assert_eq!(
                Frontier::from_hashes(m as u64, &frontier.hashes()).unwrap(),
                frontier
            );
            let mut appended = frontier.clone();
            for (n, entry) in entries.iter().enumerate().skip(m) {
                appended.push(entry);
                assert_eq!(
                    appended.root(),
                    rfc_mth(&entries[..=n]),
                    "{m} then {}",
                    n + 1
                );
            }
            if m > 0 {
                let mut hashes = frontier.hashes();
                hashes[0][0] ^= 1;
                let mut bad = Frontier::from_hashes(m as u64, &hashes).unwrap();
                bad.push(b"next");
                let mut good = frontier.clone();
                good.push(b"next");
                assert_ne!(bad.root(), good.root());
                assert!(Frontier::from_hashes(m as u64, &hashes[1..]).is_err());
            }
            grown.push(entries.get(m).map_or(b"".as_slice(), |e| e));
        }
        assert_eq!(
            tree.frontier(41),
            Err(BeyondTree {
                size: 40,
                asked: 41
            })
        );
    }

    #[test]
    fn hostile_proofs_are_refused_before_they_run() {
        let tree = tree_of(&leaves(5, 1));
        let root = tree.root();
        let long = vec![[0u8; 32]; MAX_PROOF_HASHES + 1];
        assert_eq!(
            check_inclusion(&long, 0, [0; 32], 5, root),
            Err(ProofError::TooLong {
                len: MAX_PROOF_HASHES + 1
            })
        );
        assert_eq!(
            check_consistency(&long, 1, [0; 32], 5, root),
            Err(ProofError::TooLong {
                len: MAX_PROOF_HASHES + 1
            })
        );
        assert_eq!(
            check_inclusion(&[], 5, [0; 32], 5, root),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert_eq!(
            check_consistency(&[], 6, root, 5, root),
            Err(ProofError::Shrunk {
                old_size: 6,
                new_size: 5
            })
        );
        // From the empty tree: only with the empty root and no proof.
        assert!(check_consistency(&[root], 0, EMPTY_ROOT, 5, root).is_err());
        assert!(check_consistency(&[], 0, root, 5, root).is_err());
        assert_eq!(
            tree.prove_consistency(2, 6),
            Err(BeyondTree { size: 5, asked: 6 })
        );
        assert_eq!(
            tree.prove_inclusion(5, 5),
            Err(BeyondTree { size: 5, asked: 5 })
        );
    }

    fn key(seed: u8) -> Vec<u8> {
        // A fixed Ed25519 PKCS#8 v1 key from a 32-byte seed (RFC 8410 layout).
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&[seed; 32]);
        der
    }

    fn log_signer() -> NoteSigner {
        NoteSigner::from_pkcs8("gateway.example/log", NoteKeyKind::Ed25519, &key(1)).unwrap()
    }

    fn witness(i: u8) -> NoteSigner {
        NoteSigner::from_pkcs8(
            &format!("witness.example/w{i}"),
            NoteKeyKind::Cosignature,
            &key(10 + i),
        )
        .unwrap()
    }

    fn signed_checkpoint(size: u64, root: TreeHash, witnesses: &[u8], time: u64) -> String {
        let text = Checkpoint {
            origin: "gateway.example/log".into(),
            size,
            root,
        }
        .to_text();
        let mut note = SignedNote {
            signatures: vec![log_signer().sign(&text, 0)],
            text,
        };
        for &w in witnesses {
            note.add_signature(witness(w).sign(&note.text, time));
        }
        note.to_text()
    }

    fn policy(quorum: usize) -> LogPolicy {
        LogPolicy::new(
            log_signer().verifier_key().clone(),
            (1..=3).map(|i| witness(i).verifier_key().clone()).collect(),
            quorum,
        )
        .unwrap()
    }

    const NOW: u64 = 1_790_000_000;

    fn now() -> Timestamp {
        Timestamp::from_second(NOW as i64).unwrap()
    }

    /// The C2SP signed-note example (signed-note.md): its key id and Base64 layout read, and
    /// a note writes back byte for byte.
    #[test]
    fn signed_note_reads_and_writes_back() {
        let example = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n\u{2014} quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
        let note = SignedNote::parse(example).unwrap();
        assert_eq!(
            note.text,
            "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
        );
        assert_eq!(note.signatures.len(), 1);
        assert_eq!(note.signatures[0].name, "quasimodo.example/salvatore");
        assert_eq!(note.signatures[0].key_id, 0x367b_a04b);
        assert_eq!(note.signatures[0].signature.len(), 64);
        assert_eq!(note.to_text(), example);

        for (bad, why) in [
            ("text\n", NoteError::NoSignatures),
            ("text\n\n", NoteError::NoSignatures),
            ("text\n\n\u{2014} k AAAAAAA=", NoteError::NoSignatures),
            (
                "te\txt\n\n\u{2014} k AAAAAAA=\n",
                NoteError::ControlCharacter { offset: 2 },
            ),
            (
                "text\n\n- k AAAAAAA=\n",
                NoteError::SignatureLine { line: 1 },
            ),
            (
                "text\n\n\u{2014} k AAAA\n",
                NoteError::SignatureLine { line: 1 },
            ),
            (
                "text\n\n\u{2014} k+1 AAAAAAA=\n",
                NoteError::KeyName("k+1".into()),
            ),
            (
                "text\n\n\u{2014} k AAAAAAA\n",
                NoteError::SignatureLine { line: 1 },
            ),
        ] {
            assert_eq!(SignedNote::parse(bad), Err(why), "{bad:?}");
        }
    }

    /// Go's golang.org/x/mod/sumdb/note example (its package documentation): the verifier
    /// key reads with the key id it states, and the signature on the example note verifies.
    #[test]
    fn go_sumdb_note_example_verifies() {
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let key = NoteVerifierKey::parse_vkey(vkey).unwrap();
        assert_eq!(key.key_id(), 0xc74f_20a3);
        assert_eq!(key.to_vkey(), vkey);
        let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        let note = SignedNote::parse(text).unwrap();
        assert!(key.matches(&note.signatures[0]));
        assert_eq!(key.verify(&note.text, &note.signatures[0]), Some(None));
        let mut changed = note.clone();
        changed.text = changed.text.replace("answer", "question");
        assert_eq!(key.verify(&changed.text, &changed.signatures[0]), None);
    }

    #[test]
    fn verifier_keys_read_and_write_back() {
        let log = log_signer().verifier_key().clone();
        let vkey = log.to_vkey();
        assert!(vkey.starts_with("gateway.example/log+"));
        assert_eq!(NoteVerifierKey::parse_vkey(&vkey).unwrap(), log);
        let w = witness(1).verifier_key().clone();
        assert_eq!(NoteVerifierKey::parse_vkey(&w.to_vkey()).unwrap(), w);
        assert_ne!(w.key_id(), log.key_id());
        // A key id that does not match is refused (the id is derived, not chosen).
        let mut wrong = vkey.clone();
        let id_at = vkey.find('+').unwrap() + 1;
        let flipped = if &wrong[id_at..id_at + 1] == "0" {
            "1"
        } else {
            "0"
        };
        wrong.replace_range(id_at..id_at + 1, flipped);
        assert!(matches!(
            NoteVerifierKey::parse_vkey(&wrong),
            Err(NoteError::VerifierKey(_))
        ));
        assert!(NoteVerifierKey::parse_vkey("name+00000000").is_err());
    }

    #[test]
    fn checkpoints_are_canonical() {
        let cp = Checkpoint {
            origin: "gateway.example/log".into(),
            size: 12,
            root: [7; 32],
        };
        assert_eq!(Checkpoint::from_text(&cp.to_text()).unwrap(), cp);
        let text = cp.to_text();
        for bad in [
            text.replace("\n12\n", "\n012\n"),
            text.replace("\n12\n", "\n+12\n"),
            format!("{text}extension\n"),
            text.trim_end().to_owned(),
            text.replace("gateway.example/log", ""),
            // fuzz/fixtures/tlog-checkpoint-control-character.txt
            text.replace("gateway.example/log", "gateway.example\u{3}/log"),
        ] {
            assert!(Checkpoint::from_text(&bad).is_err(), "{bad:?}");
        }
        assert!(NoteVerifierKey::new("a\u{7f}b", NoteKeyKind::Ed25519, [0; 32]).is_err());
    }

    #[test]
    fn policy_counts_witnesses_and_refuses_bad_signatures() {
        let root = tree_of(&leaves(3, 2)).root();
        let note = signed_checkpoint(3, root, &[1, 2], NOW - 5);
        let verified = policy(2).verify(&note, now()).unwrap();
        assert_eq!(verified.checkpoint.size, 3);
        assert_eq!(verified.checkpoint.root, root);
        assert_eq!(verified.cosigned_by.len(), 2);
        assert_eq!(verified.note, note);
        assert_eq!(Checkpoint::from_note(&note).unwrap(), verified.checkpoint);
        assert!(Checkpoint::from_note("gateway.example/log\n3\n").is_err());
        assert_eq!(
            policy(3).verify(&note, now()),
            Err(LogError::TooFewCosignatures {
                size: 3,
                have: 2,
                need: 3
            })
        );
        // Unknown keys are ignored: a witness the policy does not list adds nothing.
        let stranger =
            NoteSigner::from_pkcs8("w.example/x", NoteKeyKind::Cosignature, &key(99)).unwrap();
        let mut parsed = SignedNote::parse(&note).unwrap();
        parsed.add_signature(stranger.sign(&parsed.text, NOW));
        assert_eq!(
            policy(2)
                .verify(&parsed.to_text(), now())
                .unwrap()
                .cosigned_by
                .len(),
            2
        );
        // A cosignature from too far in the future does not count.
        let future = signed_checkpoint(3, root, &[1, 2], NOW + 3600);
        assert!(matches!(
            policy(1).verify(&future, now()),
            Err(LogError::TooFewCosignatures { have: 0, .. })
        ));
        // A known key whose signature fails refuses the note: the root changed under it.
        let mut tampered = SignedNote::parse(&note).unwrap();
        tampered.text = tampered.text.replace("\n3\n", "\n4\n");
        assert!(matches!(
            policy(0).verify(&tampered.to_text(), now()),
            Err(LogError::BadSignature { .. })
        ));
        // No log signature: refused even with every witness.
        let mut unsigned = SignedNote::parse(&note).unwrap();
        unsigned.signatures.remove(0);
        assert_eq!(
            policy(0).verify(&unsigned.to_text(), now()),
            Err(LogError::NotSignedByLog {
                key: "gateway.example/log".into()
            })
        );
        // A quorum that no set of these witnesses could meet is refused up front.
        assert!(LogPolicy::new(log_signer().verifier_key().clone(), vec![], 1).is_err());
    }

    /// Fork, rollback and rewrite: each step a client could be shown is refused with the
    /// checkpoints named.
    #[test]
    fn split_views_rollbacks_and_rewrites_are_named() {
        let honest = tree_of(&leaves(10, 3));
        let mut rewritten_entries = leaves(10, 3);
        rewritten_entries[4] = b"a different entry 4".to_vec();
        let rewritten = tree_of(&rewritten_entries);
        let held = Checkpoint {
            origin: "o".into(),
            size: 6,
            root: honest.root_at(6).unwrap(),
        };
        let next = Checkpoint {
            origin: "o".into(),
            size: 10,
            root: honest.root(),
        };
        check_extends(&held, &next, &honest.prove_consistency(6, 10).unwrap()).unwrap();

        let fork = Checkpoint {
            size: 6,
            root: rewritten.root_at(6).unwrap(),
            ..held.clone()
        };
        let err = check_extends(&held, &fork, &[]).unwrap_err();
        assert!(matches!(err, LogError::Fork { size: 6, .. }));
        assert!(err.to_string().contains(&hex(&held.root)));

        let back = Checkpoint {
            size: 5,
            root: honest.root_at(5).unwrap(),
            ..held.clone()
        };
        assert_eq!(
            check_extends(&held, &back, &[]),
            Err(LogError::Rollback { held: 6, served: 5 })
        );

        let rewrite = Checkpoint {
            size: 10,
            root: rewritten.root(),
            ..held.clone()
        };
        let err = check_extends(
            &held,
            &rewrite,
            &rewritten.prove_consistency(6, 10).unwrap(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            LogError::Inconsistent {
                from_size: 6,
                to_size: 10,
                ..
            }
        ));
        assert!(err.to_string().contains("does not extend checkpoint 6"));
    }
}
