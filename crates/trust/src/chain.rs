//! Certificate chains of the HCERT PKI, which has two levels: a country's CSCA signs its
//! document signers (and, on the trust network, nothing else is needed). The signature is
//! checked over the `tbsCertificate` bytes exactly as received.

use crate::signer::{PublicKey, SignerCertificate};
use der::Decode;
use der::asn1::ObjectIdentifier;
use ring::signature::{self, UnparsedPublicKey};
use thiserror::Error;
use x509_cert::Certificate;

const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

/// Why a certificate is not issued by another.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The certificate does not parse (it did once; this is a re-read for its signature).
    #[error("the certificate does not parse: {0}")]
    Der(String),
    /// The certificate's issuer name is not the issuer's subject name.
    #[error("the certificate names another issuer ({issuer}) than {candidate}")]
    IssuerName {
        /// The issuer the certificate names.
        issuer: String,
        /// The subject of the would-be issuer.
        candidate: String,
    },
    /// A signature algorithm this verifier does not accept, or one that does not fit the
    /// issuer's key.
    #[error("signature algorithm {algorithm} with an issuer key {key} is not supported")]
    Algorithm {
        /// The algorithm's OID.
        algorithm: String,
        /// The issuer's key.
        key: String,
    },
    /// The signature does not verify with the issuer's key.
    #[error("the certificate's signature does not verify with the issuer's key")]
    Signature,
}

/// Checks that `child` was issued by `issuer`: the issuer name matches and the signature over
/// the child's `tbsCertificate`, as received, verifies with the issuer's public key.
pub fn verify_issued_by(
    child: &SignerCertificate,
    issuer: &SignerCertificate,
) -> Result<(), ChainError> {
    let der_error = |e: der::Error| ChainError::Der(e.to_string());
    let cert = Certificate::from_der(child.der()).map_err(der_error)?;
    let issuer_cert = Certificate::from_der(issuer.der()).map_err(der_error)?;
    if cert.tbs_certificate().issuer() != issuer_cert.tbs_certificate().subject() {
        return Err(ChainError::IssuerName {
            issuer: cert.tbs_certificate().issuer().to_string(),
            candidate: issuer.subject().to_owned(),
        });
    }
    let tbs = raw_tbs(child.der()).ok_or_else(|| ChainError::Der("no tbsCertificate".into()))?;
    let algorithm = cert.signature_algorithm().oid;
    let sig = cert.signature().raw_bytes();
    let unsupported = || ChainError::Algorithm {
        algorithm: algorithm.to_string(),
        key: issuer.public_key().describe(),
    };
    let verified = match (algorithm, issuer.public_key()) {
        (OID_ECDSA_SHA256, PublicKey::EcP256(point)) => {
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point).verify(tbs, sig)
        }
        (OID_ECDSA_SHA384, PublicKey::EcP256(point)) => {
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA384_ASN1, point).verify(tbs, sig)
        }
        (OID_RSA_SHA256, PublicKey::Rsa { pkcs1, .. }) => {
            UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, pkcs1).verify(tbs, sig)
        }
        (OID_RSA_SHA384, PublicKey::Rsa { pkcs1, .. }) => {
            UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA384, pkcs1).verify(tbs, sig)
        }
        (OID_RSA_SHA512, PublicKey::Rsa { pkcs1, .. }) => {
            UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA512, pkcs1).verify(tbs, sig)
        }
        // RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, as HCERT profiles it.
        (OID_RSA_PSS, PublicKey::Rsa { pkcs1, .. }) => {
            UnparsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA256, pkcs1).verify(tbs, sig)
        }
        _ => return Err(unsupported()),
    };
    verified.map_err(|_| ChainError::Signature)
}

/// The `tbsCertificate` TLV of a DER certificate, as received (re-encoding could differ for
/// the tolerated non-DER certificates).
fn raw_tbs(der: &[u8]) -> Option<&[u8]> {
    let (_, outer_value, _) = tlv(der)?;
    let (tbs, _, _) = tlv(outer_value)?;
    Some(tbs)
}

/// Splits one DER TLV off `bytes`: (the whole TLV, its value, the rest).
fn tlv(bytes: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (&first_len, _) = bytes.get(1..)?.split_first()?;
    let (len, header) = if first_len < 0x80 {
        (usize::from(first_len), 2)
    } else {
        let n = usize::from(first_len & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len = bytes
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = bytes.get(..end)?;
    Some((whole, &whole[header..], &bytes[end..]))
}
