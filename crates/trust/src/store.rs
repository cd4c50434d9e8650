use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use thiserror::Error;

use crate::signer::{CertificateError, SignerCertificate};

/// How many trailing DER bytes index a certificate in [`TrustStore::signer_with_der`].
const DER_TAIL: usize = 16;

fn der_tail(der: &[u8]) -> [u8; DER_TAIL] {
    let mut tail = [0; DER_TAIL];
    let take = der.len().min(DER_TAIL);
    tail[DER_TAIL - take..].copy_from_slice(&der[der.len() - take..]);
    tail
}

/// The signer certificates a verifier trusts, indexed by HCERT key id.
///
/// Several certificates may share a key id (it is only 8 bytes); a verifier must try each
/// (HCERT spec section 3.3.3), so a lookup returns all of them.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    by_kid: HashMap<[u8; 8], Vec<Arc<SignerCertificate>>>,
    /// The same certificates by the last bytes of their DER (inside the signature, so they
    /// differ between certificates): a carrier that holds the whole certificate (an ICAO
    /// seal) finds its signer without hashing a kilobyte of DER. The full DER is compared.
    by_der_tail: HashMap<[u8; DER_TAIL], Vec<Arc<SignerCertificate>>>,
    len: usize,
    /// Signers their country withdrew, so a verifier can say so instead of "unknown".
    withdrawn: HashMap<[u8; 8], WithdrawnSigner>,
    /// Certificates their issuers revoked, by hash.
    revocations: crate::RevocationList,
    /// SMART Health Card issuers, by `iss`.
    shc_issuers: HashMap<String, ShcIssuer>,
    /// Country signing CA certificates that anchor ICAO VDS-NC barcode signers.
    cscas: Vec<Arc<SignerCertificate>>,
    /// Revocation lists of those CAs, each verified against its CA.
    ca_revocation_lists: Vec<Arc<crate::crl::CaRevocationList>>,
    /// DIVOC signing keys (`divoc_keys.rs`).
    pub(crate) divoc_keys: Vec<crate::divoc_keys::DivocKey>,
}

/// A SMART Health Card issuer the verifier trusts: its keys, and the revocation lists of the
/// keys that have them.
#[derive(Debug, Clone, Default)]
pub struct ShcIssuer {
    /// The issuer's display name, when a directory gives one.
    pub name: Option<String>,
    keys: HashMap<String, Arc<crate::jwk::IssuerKey>>,
    crls: HashMap<String, crate::shc_crl::ShcCrl>,
}

impl ShcIssuer {
    /// The key with this `kid`.
    pub fn key(&self, kid: &str) -> Option<&Arc<crate::jwk::IssuerKey>> {
        self.keys.get(kid)
    }

    /// The revocation list of the key with this `kid`, when one was loaded.
    pub fn crl(&self, kid: &str) -> Option<&crate::shc_crl::ShcCrl> {
        self.crls.get(kid)
    }

    /// How many keys.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }
}

/// A signer its country withdrew from the trust network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawnSigner {
    /// The country.
    pub country: String,
    /// When the gateway accepted the withdrawal.
    pub withdrawn_at: jiff::Timestamp,
}

/// Why trust material could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A certificate in the file is not valid.
    #[error("{path}: certificate {index}: {source}")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// 1-based position of the certificate in the file.
        index: usize,
        /// What was wrong.
        source: CertificateError,
    },
    /// The file holds no certificate (no PEM block, not DER, not Base64 DER).
    #[error("{path}: no certificate found (expected PEM, DER or Base64 DER)")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
}

/// File extensions read when loading a folder.
const CERT_EXTENSIONS: [&str; 5] = ["pem", "crt", "cer", "der", "b64"];

impl TrustStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the signer with `kid` was withdrawn. A certificate with that kid still in
    /// the store (a key id shared by another signer) stays usable.
    pub fn insert_withdrawn(&mut self, kid: [u8; 8], signer: WithdrawnSigner) {
        self.withdrawn.insert(kid, signer);
    }

    /// The withdrawal of the signer with `kid`, if one was recorded.
    pub fn withdrawn(&self, kid: &[u8]) -> Option<&WithdrawnSigner> {
        let kid: [u8; 8] = kid.try_into().ok()?;
        self.withdrawn.get(&kid)
    }

    /// The revoked certificates.
    pub fn revocations(&self) -> &crate::RevocationList {
        &self.revocations
    }

    /// The revoked certificates, to add batches.
    pub fn revocations_mut(&mut self) -> &mut crate::RevocationList {
        &mut self.revocations
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the store is empty: no signer, no SMART Health Card issuer, no CSCA.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && self.shc_issuers.is_empty() && self.cscas.is_empty()
    }

    /// Trusts `keys` for SMART Health Cards whose `iss` is exactly `iss` (the spec binds a
    /// key to the issuer that publishes it at `iss/.well-known/jwks.json`). Adds to keys
    /// already trusted for `iss`; returns how many keys are new.
    pub fn add_shc_issuer(
        &mut self,
        iss: &str,
        name: Option<String>,
        keys: impl IntoIterator<Item = crate::jwk::IssuerKey>,
    ) -> usize {
        let issuer = self.shc_issuers.entry(iss.to_owned()).or_default();
        if name.is_some() {
            issuer.name = name;
        }
        let before = issuer.keys.len();
        for key in keys {
            issuer.keys.insert(key.kid().to_owned(), Arc::new(key));
        }
        issuer.keys.len() - before
    }

    /// Adds the revocation list of one of `iss`'s keys. Returns false (and keeps nothing)
    /// when that issuer or key is not trusted.
    pub fn add_shc_crl(&mut self, iss: &str, crl: crate::shc_crl::ShcCrl) -> bool {
        match self.shc_issuers.get_mut(iss) {
            Some(issuer) if issuer.keys.contains_key(crl.kid()) => {
                issuer.crls.insert(crl.kid().to_owned(), crl);
                true
            }
            _ => false,
        }
    }

    /// The trusted SMART Health Card issuer with this `iss`.
    pub fn shc_issuer(&self, iss: &str) -> Option<&ShcIssuer> {
        self.shc_issuers.get(iss)
    }

    /// Every trusted SMART Health Card issuer's `iss`.
    pub fn shc_issuer_urls(&self) -> impl Iterator<Item = &str> {
        self.shc_issuers.keys().map(String::as_str)
    }

    /// Adds the revocation list of a trusted CA: `bytes` (DER or PEM) must be signed by one of
    /// the CSCAs already added, valid at `now`. Returns the list's issuer, or why no CSCA
    /// signed it (the error for the CSCA whose name it carries, if one does).
    pub fn add_csca_revocation_list(
        &mut self,
        bytes: &[u8],
        now: jiff::Timestamp,
    ) -> Result<Arc<crate::crl::CaRevocationList>, crate::crl::CrlError> {
        let mut last = None;
        for csca in &self.cscas {
            match crate::crl::CaRevocationList::verify(bytes, csca, now) {
                Ok(list) => {
                    let list = Arc::new(list);
                    self.ca_revocation_lists.push(Arc::clone(&list));
                    return Ok(list);
                }
                // Prefer the error of a CA whose name the list carries.
                Err(e @ crate::crl::CrlError::IssuerName { .. }) => {
                    last.get_or_insert(e);
                }
                Err(other) => last = Some(other),
            }
        }
        Err(last.unwrap_or(crate::crl::CrlError::NoCertificateAuthority))
    }

    /// The loaded revocation list of `signer`'s issuer, if any, with whether and when it
    /// revokes `signer`.
    pub fn ca_revocation(
        &self,
        signer: &SignerCertificate,
    ) -> Option<(&crate::crl::CaRevocationList, Option<jiff::Timestamp>)> {
        self.ca_revocation_lists
            .iter()
            .find_map(|list| list.status(signer).map(|status| (list.as_ref(), status)))
    }

    /// Trusts a country signing CA for ICAO VDS-NC seals: a seal's barcode signer must be
    /// issued by one.
    pub fn add_csca(&mut self, csca: SignerCertificate) {
        if !self.cscas.iter().any(|c| c.der() == csca.der()) {
            self.cscas.push(Arc::new(csca));
        }
    }

    /// The trusted country signing CAs.
    pub fn cscas(&self) -> &[Arc<SignerCertificate>] {
        &self.cscas
    }

    /// Adds a certificate; returns false if the same certificate (same DER) is already there.
    pub fn insert(&mut self, cert: SignerCertificate) -> bool {
        self.insert_with_kid(cert.kid(), cert)
    }

    /// Adds a certificate under the key id a trust list gives for it (the EU gateway and the
    /// national lists publish `kid` beside each certificate). Normally this is the computed
    /// key id; a list may differ, and then the verifier must still try this certificate for
    /// that kid. Returns false if the same certificate is already there under this kid.
    pub fn insert_with_kid(&mut self, kid: [u8; 8], cert: SignerCertificate) -> bool {
        let bucket = self.by_kid.entry(kid).or_default();
        if bucket.iter().any(|c| c.der() == cert.der()) {
            return false;
        }
        let cert = Arc::new(cert);
        let same_der = self.by_der_tail.entry(der_tail(cert.der())).or_default();
        if !same_der.iter().any(|c| c.der() == cert.der()) {
            same_der.push(cert.clone());
        }
        bucket.push(cert);
        self.len += 1;
        true
    }

    /// The trusted certificate with exactly this DER, if any (whatever kid it is filed
    /// under).
    pub fn signer_with_der(&self, der: &[u8]) -> Option<&Arc<SignerCertificate>> {
        self.by_der_tail
            .get(&der_tail(der))?
            .iter()
            .find(|c| c.der() == der)
    }

    /// Parses and adds a DER certificate.
    pub fn insert_der(&mut self, der: &[u8]) -> Result<bool, CertificateError> {
        Ok(self.insert(SignerCertificate::from_der(der)?))
    }

    /// Every certificate with this key id (empty if none).
    pub fn signers(&self, kid: &[u8]) -> &[Arc<SignerCertificate>] {
        <[u8; 8]>::try_from(kid)
            .ok()
            .and_then(|kid| self.by_kid.get(&kid))
            .map_or(&[], Vec::as_slice)
    }

    /// Every certificate, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<SignerCertificate>> {
        self.by_kid.values().flatten()
    }

    /// Loads certificates from bytes: one or more PEM blocks, DER, or Base64 DER (as in the
    /// EU test data). Returns the DER of each certificate found.
    pub fn parse_certificates(bytes: &[u8]) -> Vec<Vec<u8>> {
        if bytes.first() == Some(&0x30) {
            return vec![bytes.to_vec()];
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Vec::new();
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut found: Vec<Vec<u8>> = healthpass_codec::pem::blocks(text, "CERTIFICATE")
            .map(Result::unwrap_or_default)
            .collect();
        if found.is_empty() && !text.contains("-----BEGIN") {
            let body: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            if let Ok(der) = b64.decode(body) {
                found.push(der);
            }
        }
        found
    }

    /// Loads every certificate in a file (PEM, DER or Base64 DER) or, for a folder, in every
    /// `.pem`, `.crt`, `.cer`, `.der` and `.b64` file below it (files in a folder that hold no
    /// certificate, such as private keys, are skipped). Returns how many were added.
    pub fn load_path(&mut self, path: &Path) -> Result<usize, LoadError> {
        let io = |source| LoadError::Io {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()
                .map_err(io)?;
            entries.sort();
            let mut added = 0;
            for entry in entries {
                let is_cert = entry
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| CERT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
                if entry.is_dir() || is_cert {
                    match self.load_path(&entry) {
                        Ok(n) => added += n,
                        // A folder may hold other PEM files too (private keys, CSRs): skip them.
                        Err(LoadError::NoCertificate { .. }) => {}
                        Err(err) => return Err(err),
                    }
                }
            }
            return Ok(added);
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let ders = Self::parse_certificates(&bytes);
        if ders.is_empty() {
            return Err(LoadError::NoCertificate {
                path: path.to_owned(),
            });
        }
        let mut added = 0;
        for (i, der) in ders.iter().enumerate() {
            let fresh = self
                .insert_der(der)
                .map_err(|source| LoadError::Certificate {
                    path: path.to_owned(),
                    index: i + 1,
                    source,
                })?;
            added += usize::from(fresh);
        }
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_certificates_reads_pem_der_and_base64() {
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x01];
        assert_eq!(TrustStore::parse_certificates(&der), vec![der.clone()]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let pem = format!(
            "junk\n-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n\
             -----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n"
        );
        assert_eq!(
            TrustStore::parse_certificates(pem.as_bytes()),
            vec![der.clone(), der.clone()]
        );
        assert_eq!(
            TrustStore::parse_certificates(b64.as_bytes()),
            vec![der.clone()]
        );
        assert!(TrustStore::parse_certificates(b"-----BEGIN PRIVATE KEY-----\nAAAA\n").is_empty());
        assert!(TrustStore::parse_certificates(&[0xFF, 0xFE]).is_empty());
    }

    #[test]
    fn signer_with_der_finds_exactly_that_certificate() {
        let issuer = include_bytes!("../testdata/ca-crl-issuer.der");
        let revoked = include_bytes!("../testdata/ca-crl-revoked.der");
        let mut store = TrustStore::new();
        assert!(store.signer_with_der(issuer).is_none());
        // Filed under a kid other than its own, and under its own: found once either way.
        assert!(store.insert_with_kid([7; 8], SignerCertificate::from_der(issuer).unwrap()));
        assert!(store.insert_der(issuer).unwrap());
        let found = store.signer_with_der(issuer).expect("trusted");
        assert_eq!(found.der(), issuer.as_slice());
        assert_eq!(found.kid(), crate::kid_of(issuer));
        assert!(store.signer_with_der(revoked).is_none());
        // The same last bytes, another certificate: the full DER decides.
        let mut forged = issuer.to_vec();
        forged[10] ^= 1;
        assert!(store.signer_with_der(&forged).is_none());
        assert!(store.signer_with_der(&issuer[issuer.len() - 5..]).is_none());
        assert!(store.signer_with_der(&[]).is_none());
    }

    #[test]
    fn an_empty_store_finds_nothing() {
        let store = TrustStore::new();
        assert!(store.is_empty());
        assert!(store.signers(&[0; 8]).is_empty());
        assert_eq!(store.iter().count(), 0);
    }
}
