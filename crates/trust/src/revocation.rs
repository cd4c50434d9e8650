//! Revoked certificates, by hash (EU DCC revocation, `eu-dcc.md` section 6.1): an issuer
//! revokes a certificate by publishing the first 16 bytes of a SHA-256 over its `ci`, over
//! `iss ‖ ci`, or over its signature. No identifier travels in clear, so the list holds nothing
//! personal, and a verifier checks a certificate without sending anything anywhere.

use crate::revocation_filter::RevocationFilter;
use ring::digest;
use std::collections::HashMap;
use std::fmt;

/// What a revocation hash is computed over (the EU gateway's `hashType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashType {
    /// The COSE signature: for ECDSA only its first half (`r`; `s` is malleable), for RSA all
    /// of it.
    Signature,
    /// The UTF-8 `ci` (UVCI) exactly as in the payload.
    Uci,
    /// The UTF-8 issuing country (CWT `iss`) followed by the `ci`.
    CountryCodeUci,
}

impl HashType {
    /// Every type, in the order a verifier checks them.
    pub const ALL: [HashType; 3] = [Self::Signature, Self::Uci, Self::CountryCodeUci];

    /// The EU name (`SIGNATURE`, `UCI`, `COUNTRYCODEUCI`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "SIGNATURE",
            Self::Uci => "UCI",
            Self::CountryCodeUci => "COUNTRYCODEUCI",
        }
    }

    /// Parses an EU name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for HashType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A revocation hash: the first 16 bytes of a SHA-256.
pub type RevocationHash = [u8; 16];

fn truncated_sha256(parts: &[&[u8]]) -> RevocationHash {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in parts {
        context.update(part);
    }
    let mut hash = [0; 16];
    hash.copy_from_slice(&context.finish().as_ref()[..16]);
    hash
}

/// The three revocation hashes of one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateHashes {
    /// Over the signature.
    pub signature: RevocationHash,
    /// Over `ci`.
    pub uci: RevocationHash,
    /// Over `iss ‖ ci`.
    pub country_code_uci: RevocationHash,
}

impl CertificateHashes {
    /// Computes the hashes. `ecdsa` says whether the signature is ECDSA (`r ‖ s`), of which
    /// only `r` counts; `issuer` is the CWT `iss` (empty when missing).
    pub fn compute(signature: &[u8], ecdsa: bool, issuer: &str, ci: &str) -> Self {
        let signed = if ecdsa {
            &signature[..signature.len() / 2]
        } else {
            signature
        };
        Self {
            signature: truncated_sha256(&[signed]),
            uci: truncated_sha256(&[ci.as_bytes()]),
            country_code_uci: truncated_sha256(&[issuer.as_bytes(), ci.as_bytes()]),
        }
    }

    /// The hash of one type.
    pub fn of(&self, hash_type: HashType) -> RevocationHash {
        match hash_type {
            HashType::Signature => self.signature,
            HashType::Uci => self.uci,
            HashType::CountryCodeUci => self.country_code_uci,
        }
    }
}

/// Where a revocation came from, for the verifier's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationSource {
    /// The country that revoked it.
    pub country: String,
    /// The batch it came in.
    pub batch_id: String,
}

/// The revoked certificates a verifier knows, keyed by the signer's kid (`None`: the EU
/// `UNKNOWN_KID`, which applies to every signer), hash type and hash.
///
/// A list may also hold a compact [`RevocationFilter`] per signer key (what a verifier syncs
/// when it does not keep every hash), with the partitions (first byte of the hash) whose exact
/// hashes it holds: a filter hit outside those is only "possibly revoked".
#[derive(Debug, Clone, Default)]
pub struct RevocationList {
    entries: HashMap<(Option<[u8; 8]>, HashType, RevocationHash), usize>,
    sources: Vec<RevocationSource>,
    filters: HashMap<[u8; 8], KeyFilter>,
}

/// A signer key's filter and the partitions whose exact hashes the list holds.
#[derive(Debug, Clone)]
struct KeyFilter {
    filter: std::sync::Arc<RevocationFilter>,
    /// Bit `p` set: the exact hashes of partition `p` (hashes starting with byte `p`) are
    /// loaded, so a filter hit there is settled by the exact lookup.
    exact: [u64; 4],
}

/// What a lookup found, filters included.
#[derive(Debug, Clone, PartialEq)]
pub enum RevocationStatus<'a> {
    /// Not revoked (no exact match, and no filter hit that the exact hashes leave open).
    NotRevoked,
    /// Revoked: an exact match.
    Revoked(Revoked<'a>),
    /// The signer key's filter matches a hash whose partition's exact hashes are not loaded:
    /// possibly revoked (or a false positive); confirm online.
    PossiblyRevoked {
        /// The hash type that matched.
        hash_type: HashType,
        /// The partition to fetch to settle it (the hash's first byte).
        partition: u8,
        /// The filter's false-positive rate.
        false_positive_rate: f64,
    },
}

/// A revocation that matched a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked<'a> {
    /// Which hash matched.
    pub hash_type: HashType,
    /// Who revoked it.
    pub source: &'a RevocationSource,
}

impl RevocationList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of revoked hashes held exactly.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is revoked: no exact hash and no filter.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.filters.is_empty()
    }

    /// Adds (or replaces) the filter of signer `kid`. No partition of it is exact yet.
    pub fn set_filter(&mut self, kid: [u8; 8], filter: std::sync::Arc<RevocationFilter>) {
        self.filters.insert(
            kid,
            KeyFilter {
                filter,
                exact: [0; 4],
            },
        );
    }

    /// Records that the exact hashes of `partition` for signer `kid` are loaded (with
    /// [`insert_batch`](Self::insert_batch); a partition with no revoked hash is loaded by
    /// saying so). Without a filter for `kid` this changes nothing.
    pub fn mark_exact(&mut self, kid: [u8; 8], partition: u8) {
        if let Some(f) = self.filters.get_mut(&kid) {
            f.exact[usize::from(partition / 64)] |= 1 << (partition % 64);
        }
    }

    /// The exact lookup, then the signer key's filter for what it leaves open.
    pub fn status(&self, kid: &[u8], hashes: &CertificateHashes) -> RevocationStatus<'_> {
        if let Some(revoked) = self.lookup(kid, hashes) {
            return RevocationStatus::Revoked(revoked);
        }
        let Some(key) = <[u8; 8]>::try_from(kid)
            .ok()
            .and_then(|k| self.filters.get(&k))
        else {
            return RevocationStatus::NotRevoked;
        };
        for hash_type in HashType::ALL {
            let hash = hashes.of(hash_type);
            let partition = hash[0];
            let exact = key.exact[usize::from(partition / 64)] & (1 << (partition % 64)) != 0;
            if !exact && key.filter.may_contain(hash_type, &hash) {
                return RevocationStatus::PossiblyRevoked {
                    hash_type,
                    partition,
                    false_positive_rate: key.filter.false_positive_rate(),
                };
            }
        }
        RevocationStatus::NotRevoked
    }

    /// Adds one batch: `hashes` of `hash_type` for the signer `kid` (`None` for any signer).
    pub fn insert_batch(
        &mut self,
        source: RevocationSource,
        kid: Option<[u8; 8]>,
        hash_type: HashType,
        hashes: impl IntoIterator<Item = RevocationHash>,
    ) {
        let index = self.sources.len();
        self.sources.push(source);
        for hash in hashes {
            self.entries.entry((kid, hash_type, hash)).or_insert(index);
        }
    }

    /// Whether the certificate signed by `kid` with these hashes is revoked.
    pub fn lookup(&self, kid: &[u8], hashes: &CertificateHashes) -> Option<Revoked<'_>> {
        let kid: Option<[u8; 8]> = kid.try_into().ok();
        for hash_type in HashType::ALL {
            let hash = hashes.of(hash_type);
            for key in [kid, None] {
                if let Some(&index) = self.entries.get(&(key, hash_type, hash)) {
                    return Some(Revoked {
                        hash_type,
                        source: &self.sources[index],
                    });
                }
                if kid.is_none() {
                    break;
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The EU definition, checked against SHA-256 values computed independently
    /// (`printf 'URN:UVCI:01:AT:X' | sha256sum`, first 32 hex digits).
    #[test]
    fn hashes_follow_the_eu_definition() {
        let signature: Vec<u8> = (0u8..64).collect();
        let h = CertificateHashes::compute(&signature, true, "AT", "URN:UVCI:01:AT:X");
        assert_eq!(h.signature, truncated_sha256(&[&signature[..32]]));
        assert_eq!(
            h.country_code_uci,
            truncated_sha256(&[b"ATURN:UVCI:01:AT:X"])
        );
        assert_eq!(
            hex(&truncated_sha256(&[b"abc"])),
            "ba7816bf8f01cfea414140de5dae2223"
        );
        let rsa = CertificateHashes::compute(&signature, false, "AT", "x");
        assert_eq!(rsa.signature, truncated_sha256(&[&signature]));
        assert_eq!(
            HashType::parse("COUNTRYCODEUCI"),
            Some(HashType::CountryCodeUci)
        );
        assert_eq!(HashType::parse("uci"), None);
    }

    #[test]
    fn lookup_matches_the_kid_or_any_signer_only() {
        let a = CertificateHashes::compute(&[1; 64], true, "AT", "A");
        let b = CertificateHashes::compute(&[2; 64], true, "AT", "B");
        let c = CertificateHashes::compute(&[3; 64], true, "AT", "C");
        let mut list = RevocationList::new();
        let source = |id: &str| RevocationSource {
            country: "AT".into(),
            batch_id: id.into(),
        };
        list.insert_batch(source("1"), Some([1; 8]), HashType::Uci, [a.uci]);
        list.insert_batch(source("2"), None, HashType::Signature, [b.signature]);
        let hit = list.lookup(&[1; 8], &a).unwrap();
        assert_eq!(
            (hit.hash_type, hit.source.batch_id.as_str()),
            (HashType::Uci, "1")
        );
        assert_eq!(list.lookup(&[2; 8], &a), None, "another signer's batch");
        assert_eq!(list.lookup(&[2; 8], &b).unwrap().source.batch_id, "2");
        assert_eq!(list.lookup(&[1; 8], &c), None);
        // A hash of one type never matches another type's entry.
        let mut other = RevocationList::new();
        other.insert_batch(source("3"), None, HashType::CountryCodeUci, [a.uci]);
        assert_eq!(other.lookup(&[1; 8], &a), None);
        assert_eq!(list.len(), 2);
    }
}
