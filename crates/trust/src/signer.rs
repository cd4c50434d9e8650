use std::fmt;

use der::Decode;
use der::asn1::{ObjectIdentifier, PrintableStringRef, Utf8StringRef};
use healthpass_codec::cose::Algorithm;
use healthpass_codec::dcc::CertificateType;
use jiff::Timestamp;
use ring::signature::{self, UnparsedPublicKey};
use thiserror::Error;
use x509_cert::Certificate;

const OID_COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

/// HCERT extended key usage OIDs (HCERT spec appendix A.4), current and legacy (before
/// 2021-05-07), each with the certificate type it allows.
const DCC_KEY_USAGE_OIDS: [(&str, CertificateType); 6] = [
    ("1.3.6.1.4.1.1847.2021.1.1", CertificateType::Test),
    ("1.3.6.1.4.1.1847.2021.1.2", CertificateType::Vaccination),
    ("1.3.6.1.4.1.1847.2021.1.3", CertificateType::Recovery),
    ("1.3.6.1.4.1.0.1847.2021.1.1", CertificateType::Test),
    ("1.3.6.1.4.1.0.1847.2021.1.2", CertificateType::Vaccination),
    ("1.3.6.1.4.1.0.1847.2021.1.3", CertificateType::Recovery),
];

/// The trust-list thumbprint of a certificate: SHA-256 over its DER, lowercase hex.
pub fn thumbprint_of(der: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// The HCERT key id of a certificate: the first 8 bytes of SHA-256 over its DER.
pub fn kid_of(der: &[u8]) -> [u8; 8] {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut kid = [0u8; 8];
    kid.copy_from_slice(&digest.as_ref()[..8]);
    kid
}

/// A signer's public key, prepared for verification.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// An EC P-256 key (uncompressed or compressed SEC1 point).
    EcP256(Vec<u8>),
    /// An RSA key (PKCS#1 `RSAPublicKey` DER) with its modulus size.
    Rsa {
        /// `RSAPublicKey` DER.
        pkcs1: Vec<u8>,
        /// Modulus size in bits.
        bits: usize,
    },
    /// A key this verifier cannot use (another curve or algorithm).
    Unsupported {
        /// A description, e.g. `EC 1.3.132.0.34`.
        algorithm: String,
    },
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl PublicKey {
    /// A short human description: `EC P-256`, `RSA-2048`, ….
    pub fn describe(&self) -> String {
        match self {
            Self::EcP256(_) => "EC P-256".to_owned(),
            Self::Rsa { bits, .. } => format!("RSA-{bits}"),
            Self::Unsupported { algorithm } => algorithm.clone(),
        }
    }
}

/// Which certificate types a signer may sign, from its extended key usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyUsage {
    /// No HCERT OID in the extended key usage (none, empty, or only foreign OIDs): any type.
    Any,
    /// Only these types.
    Only(Vec<CertificateType>),
    /// The extended key usage extension could not be read; no type is allowed.
    Unreadable,
}

impl KeyUsage {
    /// Whether a certificate of `ty` may be signed by this signer.
    pub fn permits(&self, ty: CertificateType) -> bool {
        match self {
            Self::Any => true,
            Self::Only(types) => types.contains(&ty),
            Self::Unreadable => false,
        }
    }
}

/// The validity window of a signer certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Not valid before.
    pub not_before: Timestamp,
    /// Not valid after.
    pub not_after: Timestamp,
}

/// A document signer certificate, parsed once and ready to verify.
#[derive(Clone)]
pub struct SignerCertificate {
    der: Vec<u8>,
    kid: [u8; 8],
    thumbprint: String,
    country: Option<String>,
    subject: String,
    validity: Validity,
    public_key: PublicKey,
    key_usage: KeyUsage,
    /// Read on first use: only seal signers need it, and a trust list holds thousands.
    barcode_profile: std::sync::OnceLock<crate::icao::BarcodeSignerProfile>,
    /// Its issuer's name (DER) and its serial number, read on first use: a CA revocation
    /// list names certificates by them, and only seal signers are looked up there.
    issuer_and_serial: std::sync::OnceLock<Option<IssuerAndSerial>>,
}

/// The issuer's name (DER) and the serial number (its content octets) of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerAndSerial {
    /// `tbsCertificate.issuer`, DER.
    pub issuer: Vec<u8>,
    /// `tbsCertificate.serialNumber`, its content octets.
    pub serial: Vec<u8>,
}

impl fmt::Debug for SignerCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerCertificate")
            .field("kid", &hex(&self.kid))
            .field("subject", &self.subject)
            .field("validity", &self.validity)
            .field("public_key", &self.public_key)
            .field("key_usage", &self.key_usage)
            .finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why bytes are not a usable signer certificate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// Not a DER X.509 certificate.
    #[error("not an X.509 certificate: {detail}")]
    Der {
        /// What the DER decoder reported.
        detail: String,
    },
    /// Bytes follow the certificate.
    #[error("{extra} bytes follow the certificate")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The message names no algorithm.
    #[error("the message names no signature algorithm")]
    MissingAlgorithm,
    /// An algorithm HCERT does not allow.
    #[error("{alg} is not allowed; HCERT uses ES256 or PS256")]
    UnsupportedAlgorithm {
        /// The algorithm named.
        alg: String,
    },
    /// The algorithm does not fit the signer's key.
    #[error("the message says {alg} but the signer's key is {key}")]
    AlgorithmKeyMismatch {
        /// The algorithm named.
        alg: String,
        /// The key.
        key: String,
    },
    /// An ES256 signature that is not 64 bytes of `r‖s`.
    #[error("an ES256 signature is 64 bytes (r‖s); this one has {len}")]
    BadLength {
        /// Its length.
        len: usize,
    },
    /// The signature does not match.
    #[error("the signature does not match the signed data")]
    Invalid,
    /// An ECDSA `r‖s` signature of the wrong length for its algorithm (ES384: 96, ES512: 132).
    #[error("an {alg} signature is {expected} bytes (r‖s); this one has {len}")]
    WrongLength {
        /// The algorithm.
        alg: &'static str,
        /// The length it requires.
        expected: usize,
        /// The length found.
        len: usize,
    },
}

impl SignerCertificate {
    /// Parses a DER certificate. Keys of unsupported types are kept (so the signer is still
    /// found by its key id) but cannot verify.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let (cert, rest) =
            Certificate::from_der_partial(der).map_err(|e| CertificateError::Der {
                detail: e.to_string(),
            })?;
        if !rest.is_empty() {
            return Err(CertificateError::TrailingBytes { extra: rest.len() });
        }
        let der = &der[..der.len() - rest.len()];
        let tbs = cert.tbs_certificate();
        let validity = tbs.validity();
        let to_ts = |t: x509_cert::time::Time| {
            Timestamp::from_second(t.to_unix_duration().as_secs() as i64).unwrap_or(Timestamp::MAX)
        };
        let validity = Validity {
            not_before: to_ts(validity.not_before),
            not_after: to_ts(validity.not_after),
        };
        let country = tbs
            .subject()
            .iter()
            .filter(|atv| atv.oid == OID_COUNTRY)
            .find_map(|atv| {
                atv.value
                    .decode_as::<PrintableStringRef<'_>>()
                    .map(|s| s.as_str().to_owned())
                    .or_else(|_| {
                        atv.value
                            .decode_as::<Utf8StringRef<'_>>()
                            .map(|s| s.as_str().to_owned())
                    })
                    .ok()
            });
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut kid = [0u8; 8];
        kid.copy_from_slice(&digest.as_ref()[..8]);
        Ok(Self {
            der: der.to_vec(),
            kid,
            thumbprint: thumbprint_of(der),
            country,
            subject: tbs.subject().to_string(),
            validity,
            public_key: public_key(tbs.subject_public_key_info()),
            key_usage: key_usage(tbs.extensions()),
            barcode_profile: std::sync::OnceLock::new(),
            issuer_and_serial: std::sync::OnceLock::new(),
        })
    }

    /// Its issuer's name and serial number, read once per certificate (`None` only if the
    /// issuer name does not re-encode, which a parsed certificate's does).
    pub fn issuer_and_serial(&self) -> Option<&IssuerAndSerial> {
        self.issuer_and_serial
            .get_or_init(|| {
                let cert = Certificate::from_der(&self.der).ok()?;
                let tbs = cert.tbs_certificate();
                Some(IssuerAndSerial {
                    issuer: der::Encode::to_der(tbs.issuer()).ok()?,
                    serial: tbs.serial_number().as_bytes().to_vec(),
                })
            })
            .as_ref()
    }

    /// The certificate as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Its ICAO barcode signer profile, read once per certificate.
    pub fn barcode_profile(&self) -> &crate::icao::BarcodeSignerProfile {
        self.barcode_profile
            .get_or_init(|| crate::icao::BarcodeSignerProfile::read(self))
    }

    /// The HCERT key id.
    pub fn kid(&self) -> [u8; 8] {
        self.kid
    }

    /// The subject's country (`C`), if present.
    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }

    /// The subject distinguished name, RFC 4514 style.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The validity window.
    pub fn validity(&self) -> Validity {
        self.validity
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// Which certificate types this signer may sign.
    pub fn key_usage(&self) -> &KeyUsage {
        &self.key_usage
    }

    /// SHA-256 of the DER, lowercase hex (the trust-list thumbprint).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// Verifies `signature` over `message` with `alg`, which must match the key type:
    /// ES256 needs an EC P-256 key and a 64-byte `r‖s` signature, PS256 an RSA key.
    pub fn verify(
        &self,
        alg: Option<&Algorithm>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let alg = alg.ok_or(SignatureError::MissingAlgorithm)?;
        let mismatch = || SignatureError::AlgorithmKeyMismatch {
            alg: alg.to_string(),
            key: self.public_key.describe(),
        };
        let result = match (alg, &self.public_key) {
            (Algorithm::Es256, PublicKey::EcP256(point)) => {
                if signature.len() != 64 {
                    return Err(SignatureError::BadLength {
                        len: signature.len(),
                    });
                }
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
            }
            (Algorithm::Ps256, PublicKey::Rsa { pkcs1, .. }) => {
                UnparsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA256, pkcs1)
                    .verify(message, signature)
            }
            (Algorithm::Es256 | Algorithm::Ps256, _) => return Err(mismatch()),
            (other, _) => {
                return Err(SignatureError::UnsupportedAlgorithm {
                    alg: other.to_string(),
                });
            }
        };
        result.map_err(|_| SignatureError::Invalid)
    }
}

impl SignerCertificate {
    /// Verifies a JOSE-style ECDSA signature (`r‖s`) made with ES384 (P-384, SHA-384) or ES512
    /// (P-521, SHA-512), as ICAO seals may carry; HCERT allows neither, so [`Self::verify`]
    /// does not take them. The key is read from the certificate on each call (such signers are
    /// rare; ES256, the common case, keeps its parsed key).
    pub fn verify_es384_es512(
        &self,
        alg: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let cert = Certificate::from_der(&self.der).map_err(|_| SignatureError::Invalid)?;
        let spki = cert.tbs_certificate().subject_public_key_info();
        let curve = ec_curve(spki);
        let point = spki.subject_public_key.raw_bytes();
        let length = |alg: &'static str, expected: usize| {
            if signature.len() == expected {
                Ok(())
            } else {
                Err(SignatureError::WrongLength {
                    alg,
                    expected,
                    len: signature.len(),
                })
            }
        };
        let valid = match (alg, curve) {
            ("ES384", Some(OID_P384)) => {
                length("ES384", 96)?;
                UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            ("ES512", Some(OID_P521)) => {
                length("ES512", 132)?;
                crate::p521_ecdsa::verify_fixed(point, &ring::digest::SHA512, message, signature)
            }
            ("ES384" | "ES512", _) => {
                return Err(SignatureError::AlgorithmKeyMismatch {
                    alg: alg.to_owned(),
                    key: match curve {
                        Some(OID_P384) => "EC P-384".to_owned(),
                        Some(OID_P521) => "EC P-521".to_owned(),
                        _ => self.public_key.describe(),
                    },
                });
            }
            _ => {
                return Err(SignatureError::UnsupportedAlgorithm {
                    alg: alg.to_owned(),
                });
            }
        };
        if valid {
            Ok(())
        } else {
            Err(SignatureError::Invalid)
        }
    }
}

/// The named curve of an EC key (`None` for any other key, or an EC key without one).
pub(crate) fn ec_curve(
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
) -> Option<ObjectIdentifier> {
    spki.algorithm
        .parameters
        .as_ref()
        .filter(|_| spki.algorithm.oid == OID_EC_PUBLIC_KEY)
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
}

fn public_key(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> PublicKey {
    let key_bytes = spki.subject_public_key.raw_bytes();
    let oid = spki.algorithm.oid;
    if oid == OID_EC_PUBLIC_KEY {
        match ec_curve(spki) {
            Some(c) if c == OID_P256 => PublicKey::EcP256(key_bytes.to_vec()),
            Some(c) => PublicKey::Unsupported {
                algorithm: format!("EC {c}"),
            },
            None => PublicKey::Unsupported {
                algorithm: "EC (unnamed curve)".to_owned(),
            },
        }
    } else if oid == OID_RSA || oid == OID_RSA_PSS {
        PublicKey::Rsa {
            pkcs1: key_bytes.to_vec(),
            bits: rsa_modulus_bits(key_bytes).unwrap_or(0),
        }
    } else {
        PublicKey::Unsupported {
            algorithm: format!("key algorithm {oid}"),
        }
    }
}

/// Reads the modulus size from `RSAPublicKey ::= SEQUENCE { modulus INTEGER, … }`.
fn rsa_modulus_bits(pkcs1: &[u8]) -> Option<usize> {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        #[allow(dead_code)]
        exponent: der::asn1::UintRef<'a>,
    }
    let key = RsaPublicKey::from_der(pkcs1).ok()?;
    let bytes = key.modulus.as_bytes();
    let first = *bytes.first()?;
    Some(bytes.len() * 8 - first.leading_zeros() as usize)
}

fn key_usage(extensions: Option<&x509_cert::ext::Extensions>) -> KeyUsage {
    let Some(eku) = extensions
        .into_iter()
        .flatten()
        .find(|e| e.extn_id == OID_EXT_KEY_USAGE)
    else {
        return KeyUsage::Any;
    };
    // An empty SEQUENCE is not valid per RFC 5280 (SIZE 1..MAX) but is seen in real DSCs
    // (EU test data CO15) and means "no restriction".
    let Ok(oids) = Vec::<ObjectIdentifier>::from_der(eku.extn_value.as_bytes()) else {
        return KeyUsage::Unreadable;
    };
    let mut types: Vec<CertificateType> = oids
        .iter()
        .filter_map(|oid| {
            DCC_KEY_USAGE_OIDS
                .iter()
                .find(|(text, _)| ObjectIdentifier::new(text).is_ok_and(|o| o == *oid))
                .map(|(_, ty)| *ty)
        })
        .collect();
    types.sort_by_key(|t| t.key());
    types.dedup();
    if types.is_empty() {
        KeyUsage::Any
    } else {
        KeyUsage::Only(types)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_usage_permits() {
        assert!(KeyUsage::Any.permits(CertificateType::Recovery));
        let tests_only = KeyUsage::Only(vec![CertificateType::Test]);
        assert!(tests_only.permits(CertificateType::Test));
        assert!(!tests_only.permits(CertificateType::Vaccination));
        assert!(!KeyUsage::Unreadable.permits(CertificateType::Test));
    }

    fn eku(value: Vec<u8>) -> x509_cert::ext::Extensions {
        vec![x509_cert::ext::Extension {
            extn_id: OID_EXT_KEY_USAGE,
            critical: false,
            extn_value: der::asn1::OctetString::new(value).unwrap(),
        }]
    }

    fn eku_of(oid: ObjectIdentifier) -> x509_cert::ext::Extensions {
        let mut value = Vec::new();
        der::Encode::encode_to_vec(&vec![oid], &mut value).unwrap();
        eku(value)
    }

    #[test]
    fn both_oid_families_restrict() {
        for (text, ty) in DCC_KEY_USAGE_OIDS {
            let oid = ObjectIdentifier::new(text).unwrap();
            assert_eq!(
                key_usage(Some(&eku_of(oid))),
                KeyUsage::Only(vec![ty]),
                "{text}"
            );
        }
    }

    #[test]
    fn foreign_or_unreadable_extended_key_usage() {
        let client_auth = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
        assert_eq!(key_usage(Some(&eku_of(client_auth))), KeyUsage::Any);
        assert_eq!(
            key_usage(Some(&eku(vec![0x04, 0x00]))),
            KeyUsage::Unreadable
        );
        assert_eq!(key_usage(None), KeyUsage::Any);
    }

    #[test]
    fn es384_seals_verify_with_a_p384_signer() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let cert = rcgen::CertificateParams::new(Vec::new())
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let signer = SignerCertificate::from_der(cert.der()).unwrap();
        let ring_key = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            &key.serialize_der(),
            &ring::rand::SystemRandom::new(),
        )
        .unwrap();
        let signature = ring_key
            .sign(&ring::rand::SystemRandom::new(), b"data")
            .unwrap();
        assert_eq!(
            signer.verify_es384_es512("ES384", b"data", signature.as_ref()),
            Ok(())
        );
        assert_eq!(
            signer.verify_es384_es512("ES384", b"datA", signature.as_ref()),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            signer.verify_es384_es512("ES384", b"data", &signature.as_ref()[..95]),
            Err(SignatureError::WrongLength {
                alg: "ES384",
                expected: 96,
                len: 95
            })
        );
        assert_eq!(
            signer.verify_es384_es512("ES512", b"data", signature.as_ref()),
            Err(SignatureError::AlgorithmKeyMismatch {
                alg: "ES512".to_owned(),
                key: "EC P-384".to_owned()
            })
        );
        // HCERT's verify does not take ES384 at all.
        assert!(
            signer
                .verify(Some(&Algorithm::from_id(-35)), b"data", signature.as_ref())
                .is_err()
        );
    }

    #[test]
    fn rsa_modulus_size() {
        // RSAPublicKey { modulus 0xC1 (with its DER sign byte 00: 8 bits), exponent 3 }
        assert_eq!(
            rsa_modulus_bits(&[0x30, 0x07, 0x02, 0x02, 0x00, 0xC1, 0x02, 0x01, 0x03]),
            Some(8)
        );
        assert_eq!(rsa_modulus_bits(&[0x30, 0x00]), None);
    }
}
