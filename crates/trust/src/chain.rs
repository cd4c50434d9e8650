//! Certificate chains: a country's CSCA signs its document signers (HCERT) or barcode signers
//! (ICAO), and SMART issuers' x5c chains link a leaf to its CAs. The signature is checked over
//! the `tbsCertificate` bytes exactly as received. Issuer keys: EC P-256, P-384 (`ring`),
//! P-521 (`p521`, which ring lacks; SMART chains and many CSCAs use it) and RSA.

use crate::signer::{PublicKey, SignerCertificate};
use der::Decode;
use der::asn1::ObjectIdentifier;
use ring::signature::{self, UnparsedPublicKey};
use thiserror::Error;
use x509_cert::Certificate;

const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
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
    verify_signed_by(
        issuer,
        &issuer_cert,
        cert.signature_algorithm().oid,
        tbs,
        cert.signature().raw_bytes(),
    )
}

/// Checks `sig`, made with `algorithm`, over `tbs` (a certificate's or a CRL's to-be-signed
/// bytes as received) with the key of `issuer` (`issuer_cert` is its parsed form).
pub(crate) fn verify_signed_by(
    issuer: &SignerCertificate,
    issuer_cert: &Certificate,
    algorithm: ObjectIdentifier,
    tbs: &[u8],
    sig: &[u8],
) -> Result<(), ChainError> {
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
        (_, PublicKey::Unsupported { .. }) => {
            // Curves the signer type does not keep a key for: read the issuer's SPKI.
            let spki = issuer_cert.tbs_certificate().subject_public_key_info();
            let curve = crate::signer::ec_curve(spki);
            let key = spki.subject_public_key.raw_bytes();
            match (curve, algorithm) {
                (Some(OID_P384), OID_ECDSA_SHA256) => {
                    UnparsedPublicKey::new(&signature::ECDSA_P384_SHA256_ASN1, key).verify(tbs, sig)
                }
                (Some(OID_P384), OID_ECDSA_SHA384) => {
                    UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_ASN1, key).verify(tbs, sig)
                }
                (Some(OID_P521), OID_ECDSA_SHA256 | OID_ECDSA_SHA384 | OID_ECDSA_SHA512) => {
                    let digest = match algorithm {
                        OID_ECDSA_SHA256 => &ring::digest::SHA256,
                        OID_ECDSA_SHA384 => &ring::digest::SHA384,
                        _ => &ring::digest::SHA512,
                    };
                    if crate::p521_ecdsa::verify(key, digest, tbs, sig) {
                        Ok(())
                    } else {
                        Err(ring::error::Unspecified)
                    }
                }
                _ => {
                    return Err(ChainError::Algorithm {
                        algorithm: algorithm.to_string(),
                        key: match curve {
                            Some(OID_P384) => "EC P-384".to_owned(),
                            Some(OID_P521) => "EC P-521".to_owned(),
                            _ => issuer.public_key().describe(),
                        },
                    });
                }
            }
        }
        _ => return Err(unsupported()),
    };
    verified.map_err(|_| ChainError::Signature)
}

/// The `tbsCertificate` TLV of a DER certificate, as received (re-encoding could differ for
/// the tolerated non-DER certificates).
pub(crate) fn raw_tbs(der: &[u8]) -> Option<&[u8]> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A CA on `ca_alg` and a P-256 signer it issues, as (signer DER, CA DER).
    fn pair(ca_alg: &'static rcgen::SignatureAlgorithm) -> (Vec<u8>, Vec<u8>) {
        let ca_key = rcgen::KeyPair::generate_for(ca_alg).unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Test CSCA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Test signer");
        let signer = params.signed_by(&key, &issuer).unwrap();
        (signer.der().to_vec(), ca.der().to_vec())
    }

    #[test]
    fn a_p384_ca_issues_and_a_changed_signature_fails() {
        // Many CSCAs are P-384; a barcode or document signer under one must chain.
        let (signer, ca) = pair(&rcgen::PKCS_ECDSA_P384_SHA384);
        let signer_cert = SignerCertificate::from_der(&signer).unwrap();
        let ca_cert = SignerCertificate::from_der(&ca).unwrap();
        assert_eq!(verify_issued_by(&signer_cert, &ca_cert), Ok(()));
        let mut forged = signer.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        let forged = SignerCertificate::from_der(&forged).unwrap();
        assert_eq!(
            verify_issued_by(&forged, &ca_cert),
            Err(ChainError::Signature)
        );
        // The CA is not issued by its signer.
        assert!(matches!(
            verify_issued_by(&ca_cert, &signer_cert),
            Err(ChainError::IssuerName { .. })
        ));
    }
}
