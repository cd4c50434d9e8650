//! Signer certificates, key usage, the trust store and signature verification.
//!
//! A [`TrustStore`] holds the document signer certificates (DSCs) a verifier accepts, indexed
//! by their HCERT key id (the first 8 bytes of SHA-256 over the certificate's DER). Each
//! [`SignerCertificate`] is parsed once, tolerantly (v1 certificates, explicit DEFAULT values,
//! empty extended key usage), and keeps its public key ready for [`ring`]'s verifier, so a
//! lookup and a signature check are all the hot path pays.
//!
//! This crate reads no clock: validity is checked against a time the caller passes in.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod chain;
pub mod crl;
pub mod divoc_keys;
pub mod icao;
pub mod jwk;
mod p521_ecdsa;
pub mod revocation;
pub mod revocation_filter;
pub mod shc_crl;
mod signer;
mod store;
pub mod tlog;
pub mod vci;

pub use chain::{ChainError, verify_issued_by};
pub use revocation::{HashType, RevocationList};
pub use signer::{
    CertificateError, IssuerAndSerial, KeyUsage, PublicKey, SignatureError, SignerCertificate,
    Validity, kid_of, thumbprint_of,
};
pub use store::{LoadError, ShcIssuer, TrustStore, WithdrawnSigner};

#[cfg(test)]
mod test_corpus {
    use std::path::Path;

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

    /// A corpus file, or `None` (with a message) when the corpus folder is absent, as in a
    /// plain clone. When the folder is there, a missing file is a test failure, not a skip.
    pub(crate) fn corpus(name: &str) -> Option<Vec<u8>> {
        if !Path::new(CORPUS).is_dir() {
            eprintln!("skipping: ../shared/corpus is not there (needed for {name})");
            return None;
        }
        let path = format!("{CORPUS}/{name}");
        Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
    }
}
