//! X.509 certificate revocation lists (RFC 5280 section 5) of the CAs a verifier trusts: a
//! country signing CA lists the barcode or document signers it revoked (ICAO publishes CSCA
//! CRLs through the PKD; Doc 9303 part 12). A list is accepted only when its CA signed it, over
//! the `tbsCertList` bytes as received; it then says, by issuer name and serial number,
//! whether a signer is revoked and since when.

use std::collections::BTreeMap;

use der::{Decode, Encode};
use jiff::Timestamp;
use thiserror::Error;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use crate::SignerCertificate;
use crate::chain::{ChainError, raw_tbs, verify_signed_by};

/// Why a revocation list is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CrlError {
    /// Not a DER `CertificateList`.
    #[error("not an X.509 CRL: {0}")]
    Der(String),
    /// The list names another issuer than the CA it is checked against.
    #[error("the CRL is issued by {issuer}, not by {ca}")]
    IssuerName {
        /// The issuer the list names.
        issuer: String,
        /// The CA's subject.
        ca: String,
    },
    /// The algorithm inside the signed part differs from the one outside (RFC 5280 5.1.1.2).
    #[error("the CRL's signature algorithm differs inside ({inner}) and outside ({outer})")]
    AlgorithmMismatch {
        /// `tbsCertList.signature`.
        inner: String,
        /// `signatureAlgorithm`.
        outer: String,
    },
    /// The CA's signature does not hold.
    #[error("the CRL's signature: {0}")]
    Signature(ChainError),
    /// No CA is trusted to check the list against.
    #[error("no CSCA is trusted, so no revocation list can be checked (add the CSCAs first)")]
    NoCertificateAuthority,
    /// `thisUpdate` lies after the time of the check.
    #[error("the CRL is dated {this_update}, after now ({now})")]
    FromTheFuture {
        /// `thisUpdate`.
        this_update: Timestamp,
        /// The time of the check.
        now: Timestamp,
    },
}

/// A CA's revocation list, verified.
#[derive(Debug, Clone)]
pub struct CaRevocationList {
    /// The issuer's name, DER-encoded (how signers name their issuer).
    issuer: Vec<u8>,
    issuer_text: String,
    this_update: Timestamp,
    next_update: Option<Timestamp>,
    /// Serial number (DER content octets) → revocation date.
    revoked: BTreeMap<Vec<u8>, Timestamp>,
}

fn timestamp(time: &x509_cert::time::Time) -> Timestamp {
    let seconds = time.to_unix_duration().as_secs();
    Timestamp::from_second(i64::try_from(seconds).unwrap_or(i64::MAX)).unwrap_or(Timestamp::MAX)
}

impl CaRevocationList {
    /// Reads a DER (or PEM `X509 CRL`) list and checks that `ca` signed it, and that it is not
    /// dated after `now`. A list past its `nextUpdate` is still accepted (revocations do not
    /// expire); [`CaRevocationList::is_current`] tells.
    pub fn verify(
        bytes: &[u8],
        ca: &SignerCertificate,
        now: Timestamp,
    ) -> Result<CaRevocationList, CrlError> {
        let der = pem_or_der(bytes);
        let der_error = |e: der::Error| CrlError::Der(e.to_string());
        let list = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&der)
            .map_err(der_error)?;
        let ca_cert = Certificate::from_der(ca.der()).map_err(der_error)?;
        let tbs = &list.tbs_cert_list;
        if &tbs.issuer != ca_cert.tbs_certificate().subject() {
            return Err(CrlError::IssuerName {
                issuer: tbs.issuer.to_string(),
                ca: ca.subject().to_owned(),
            });
        }
        if tbs.signature != list.signature_algorithm {
            return Err(CrlError::AlgorithmMismatch {
                inner: tbs.signature.oid.to_string(),
                outer: list.signature_algorithm.oid.to_string(),
            });
        }
        let signed = raw_tbs(&der).ok_or_else(|| CrlError::Der("no tbsCertList".to_owned()))?;
        verify_signed_by(
            ca,
            &ca_cert,
            list.signature_algorithm.oid,
            signed,
            list.signature.raw_bytes(),
        )
        .map_err(CrlError::Signature)?;
        let this_update = timestamp(&tbs.this_update);
        if this_update > now {
            return Err(CrlError::FromTheFuture { this_update, now });
        }
        let revoked = tbs
            .revoked_certificates
            .iter()
            .flatten()
            .map(|entry| {
                (
                    entry.serial_number.as_bytes().to_vec(),
                    timestamp(&entry.revocation_date),
                )
            })
            .collect();
        Ok(CaRevocationList {
            issuer: tbs.issuer.to_der().map_err(der_error)?,
            issuer_text: tbs.issuer.to_string(),
            this_update,
            next_update: tbs.next_update.as_ref().map(timestamp),
            revoked,
        })
    }

    /// The issuing CA's name.
    pub fn issuer(&self) -> &str {
        &self.issuer_text
    }

    /// When the list was issued.
    pub fn this_update(&self) -> Timestamp {
        self.this_update
    }

    /// Whether `now` is before the list's `nextUpdate` (a list without one is current).
    pub fn is_current(&self, now: Timestamp) -> bool {
        self.next_update.is_none_or(|next| now <= next)
    }

    /// How many certificates the list revokes.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    /// Whether the list revokes nothing.
    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }

    /// When `signer` was revoked, if this list (of its issuer) revokes it.
    pub fn revoked_at(&self, signer: &SignerCertificate) -> Option<Timestamp> {
        self.status(signer).flatten()
    }

    /// `None` when this list is not its issuer's (it says nothing about `signer`), else
    /// whether and when it revokes `signer`.
    pub fn status(&self, signer: &SignerCertificate) -> Option<Option<Timestamp>> {
        let id = signer.issuer_and_serial()?;
        if id.issuer != self.issuer {
            return None;
        }
        Some(self.revoked.get(id.serial.as_slice()).copied())
    }
}

/// The DER of a PEM `X509 CRL` block, or the bytes as they are.
fn pem_or_der(bytes: &[u8]) -> Vec<u8> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| healthpass_codec::pem::first(text, "X509 CRL"))
        .and_then(Result::ok)
        .unwrap_or_else(|| bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pki {
        ca: SignerCertificate,
        issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
        signers: Vec<SignerCertificate>,
    }

    /// A P-384 CSCA that may sign CRLs, and two P-256 signers with serials 0x11 and 0x22.
    fn make_pki(name: &str) -> Pki {
        let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let ca = params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(params, ca_key);
        let signers = [0x11u8, 0x22]
            .iter()
            .map(|serial| {
                let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
                let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
                params.serial_number = Some(rcgen::SerialNumber::from(vec![*serial]));
                params
                    .distinguished_name
                    .push(rcgen::DnType::CommonName, "Barcode signer");
                let cert = params.signed_by(&key, &issuer).unwrap();
                SignerCertificate::from_der(cert.der()).unwrap()
            })
            .collect();
        Pki {
            ca: SignerCertificate::from_der(ca.der()).unwrap(),
            issuer,
            signers,
        }
    }

    /// A CRL of `issuer` revoking serial 0x11 on 2026-06-01, valid 2026-11-01 → 2026-12-01.
    fn crl(issuer: &rcgen::Issuer<'_, rcgen::KeyPair>) -> Vec<u8> {
        rcgen::CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(2026, 11, 1),
            next_update: rcgen::date_time_ymd(2026, 12, 1),
            crl_number: rcgen::SerialNumber::from(vec![1]),
            issuing_distribution_point: None,
            revoked_certs: vec![rcgen::RevokedCertParams {
                serial_number: rcgen::SerialNumber::from(vec![0x11]),
                revocation_time: rcgen::date_time_ymd(2026, 6, 1),
                reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                invalidity_date: None,
            }],
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        }
        .signed_by(issuer)
        .unwrap()
        .der()
        .to_vec()
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_signed_list_revokes_by_serial_and_issuer() {
        let pki = make_pki("Test CSCA");
        let now = ts("2026-11-28T00:00:00Z");
        let list = CaRevocationList::verify(&crl(&pki.issuer), &pki.ca, now).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list.this_update(), ts("2026-11-01T00:00:00Z"));
        assert!(list.is_current(now));
        assert!(!list.is_current(ts("2026-12-02T00:00:00Z")));
        assert_eq!(
            list.revoked_at(&pki.signers[0]),
            Some(ts("2026-06-01T00:00:00Z"))
        );
        assert_eq!(list.revoked_at(&pki.signers[1]), None);
        // The same serial under another CA's name is another certificate. (Under the same
        // name it is the same one: a CA that renewed its key keeps its name and its list
        // covers what it issued before, RFC 5280 5.1.2.3.)
        let other = make_pki("Other CSCA");
        assert_eq!(list.revoked_at(&other.signers[0]), None);
        // PEM works too.
        use base64::Engine;
        let pem = format!(
            "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
            base64::engine::general_purpose::STANDARD.encode(crl(&pki.issuer))
        );
        assert!(CaRevocationList::verify(pem.as_bytes(), &pki.ca, now).is_ok());
    }

    /// A CRL made by OpenSSL (`openssl ca -gencrl`) with a P-521 CA: an independent vector.
    #[test]
    fn an_openssl_crl_of_a_p521_ca() {
        let ca =
            SignerCertificate::from_der(include_bytes!("../testdata/ca-crl-issuer.der")).unwrap();
        let revoked =
            SignerCertificate::from_der(include_bytes!("../testdata/ca-crl-revoked.der")).unwrap();
        let now = ts("2026-12-01T00:00:00Z");
        let list =
            CaRevocationList::verify(include_bytes!("../testdata/ca-crl.der"), &ca, now).unwrap();
        assert_eq!(list.issuer(), "CN=healthpass test VCI snapshot signer");
        assert_eq!(list.this_update(), ts("2026-11-28T01:17:24Z"));
        assert!(list.is_current(now));
        assert!(!list.is_current(ts("2026-12-29T00:00:00Z")));
        assert_eq!(list.revoked_at(&revoked), Some(ts("2026-11-28T01:17:24Z")));
        // The CA itself (serial 01 of its own name) is not listed.
        assert_eq!(list.status(&ca), Some(None));
    }

    #[test]
    fn a_list_not_signed_by_the_ca_is_refused() {
        let pki = make_pki("Test CSCA");
        let now = ts("2026-11-28T00:00:00Z");
        // Another CA of the same name signed it: the names match, the signature does not.
        let impostor = make_pki("Test CSCA");
        assert_eq!(
            CaRevocationList::verify(&crl(&impostor.issuer), &pki.ca, now).unwrap_err(),
            CrlError::Signature(ChainError::Signature)
        );
        // Another CA's name.
        let other = make_pki("Other CSCA");
        assert!(matches!(
            CaRevocationList::verify(&crl(&other.issuer), &pki.ca, now),
            Err(CrlError::IssuerName { .. })
        ));
        // One changed bit in the signed part.
        let mut changed = crl(&pki.issuer);
        let i = changed.len() / 3;
        changed[i] ^= 1;
        assert!(CaRevocationList::verify(&changed, &pki.ca, now).is_err());
        assert!(matches!(
            CaRevocationList::verify(b"not a crl", &pki.ca, now),
            Err(CrlError::Der(_))
        ));
        assert_eq!(
            CaRevocationList::verify(&crl(&pki.issuer), &pki.ca, ts("2026-10-01T00:00:00Z"))
                .unwrap_err(),
            CrlError::FromTheFuture {
                this_update: ts("2026-11-01T00:00:00Z"),
                now: ts("2026-10-01T00:00:00Z"),
            }
        );
    }
}
