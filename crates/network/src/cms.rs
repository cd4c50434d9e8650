//! Signed uploads in the EU gateway's `application/cms` format: a CMS SignedData (RFC 5652)
//! with exactly one signer, the signer's certificate included, SHA-256, and signed attributes
//! (content type, message digest). The content is encapsulated (an upload: a DSC, a rule, a
//! revocation batch) or detached (a trust-list entry's signature over a DSC).
//!
//! Parsing is strict (DER, no trailing bytes); the signature is checked over the signed
//! attributes as received. Which certificate may sign what is the caller's decision: this
//! module returns the signer, verified, and nothing else.

use crate::{GovernanceError, pem_body};
use cms::cert::CertificateChoices;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use healthpass_trust::{PublicKey, SignerCertificate};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, UnparsedPublicKey};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// `rsaEncryption` as a CMS signature algorithm means PKCS#1 v1.5 with the digest algorithm
/// (SHA-256 here); OpenSSL and Bouncy Castle write it so.
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");

/// The largest CMS message read (a DSC upload is a few KiB; a revocation batch is bigger).
pub const MAX_CMS_BYTES: usize = 8 << 20;

/// Why a CMS message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    /// Larger than [`MAX_CMS_BYTES`].
    #[error("CMS message of {0} bytes is larger than {MAX_CMS_BYTES}")]
    TooLarge(usize),
    /// Not DER, or not the structure expected.
    #[error("not a CMS SignedData: {0}")]
    Der(String),
    /// Not Base64 (the `application/cms` body).
    #[error("not Base64: {0}")]
    Base64(String),
    /// The content is not SignedData.
    #[error("the CMS content type is {0}, not SignedData")]
    NotSignedData(String),
    /// Not exactly one signer.
    #[error("the CMS message has {0} signers; exactly one is required")]
    SignerCount(usize),
    /// Content present where it must be detached, or missing where it must be encapsulated.
    #[error("{0}")]
    Content(&'static str),
    /// The signer's certificate is not in the message.
    #[error("the signer's certificate is not in the message")]
    NoSignerCertificate,
    /// The signer's certificate does not parse.
    #[error("the signer's certificate: {0}")]
    Certificate(String),
    /// A digest or signature algorithm that is not accepted.
    #[error("algorithm {0} is not accepted (SHA-256 with ECDSA P-256, RSA PKCS#1 v1.5 or RSA-PSS)")]
    Algorithm(String),
    /// Signed attributes missing, or without content type and message digest.
    #[error("signed attributes: {0}")]
    SignedAttributes(&'static str),
    /// The message digest attribute does not match the content.
    #[error("the content does not match the signed message digest")]
    DigestMismatch,
    /// The signature does not verify with the signer's certificate.
    #[error("the CMS signature does not verify with the signer's certificate")]
    BadSignature,
}

fn der_error(e: der::Error) -> CmsError {
    CmsError::Der(e.to_string())
}

/// An upload key: an ECDSA P-256 key with its (upload) certificate.
pub struct UploadSigner {
    key: EcdsaKeyPair,
    certificate: Certificate,
}

impl std::fmt::Debug for UploadSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UploadSigner")
    }
}

impl UploadSigner {
    /// From a PKCS#8 PEM private key (EC P-256) and its certificate (DER); the key must be
    /// the certificate's.
    pub fn new(key_pem: &str, certificate_der: &[u8]) -> Result<Self, GovernanceError> {
        let der = pem_body(key_pem, "PRIVATE KEY")?;
        let key = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &der,
            &SystemRandom::new(),
        )
        .map_err(|e| GovernanceError::Key(format!("not an EC P-256 PKCS#8 key: {e}")))?;
        let certificate = Certificate::from_der(certificate_der)
            .map_err(|e| GovernanceError::Key(e.to_string()))?;
        let spki_key = certificate
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes();
        if spki_key != signature::KeyPair::public_key(&key).as_ref() {
            return Err(GovernanceError::Key(
                "the key does not belong to the certificate".into(),
            ));
        }
        Ok(Self { key, certificate })
    }

    /// Signs `content` as a CMS SignedData, DER; the content is encapsulated unless
    /// `detached`. No signing time: see [`Self::sign_at`].
    pub fn sign(&self, content: &[u8], detached: bool) -> Result<Vec<u8>, CmsError> {
        self.sign_with(content, detached, None)
    }

    /// Signs with a signing-time attribute: the gateway orders a country's uploads by it, so a
    /// replayed or out-of-order upload is refused.
    pub fn sign_at(
        &self,
        content: &[u8],
        detached: bool,
        signing_time: jiff::Timestamp,
    ) -> Result<Vec<u8>, CmsError> {
        self.sign_with(content, detached, Some(signing_time))
    }

    fn sign_with(
        &self,
        content: &[u8],
        detached: bool,
        signing_time: Option<jiff::Timestamp>,
    ) -> Result<Vec<u8>, CmsError> {
        let sha256 = || AlgorithmIdentifierOwned {
            oid: OID_SHA256,
            parameters: None,
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, content);
        let attribute = |oid, value: Any| -> Result<Attribute, CmsError> {
            Ok(Attribute {
                oid,
                values: SetOfVec::try_from(vec![value]).map_err(der_error)?,
            })
        };
        let mut attrs = vec![
            attribute(
                OID_CONTENT_TYPE,
                Any::encode_from(&OID_DATA).map_err(der_error)?,
            )?,
            attribute(
                OID_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(digest.as_ref()).map_err(der_error)?)
                    .map_err(der_error)?,
            )?,
        ];
        if let Some(time) = signing_time {
            let since_epoch = std::time::Duration::from_secs(
                u64::try_from(time.as_second())
                    .map_err(|_| CmsError::Der("signing time before 1970".into()))?,
            );
            // RFC 5652 section 11.3: UTCTime up to 2049, GeneralizedTime after.
            let value = match der::asn1::UtcTime::from_unix_duration(since_epoch) {
                Ok(utc) => x509_cert::time::Time::UtcTime(utc),
                Err(_) => x509_cert::time::Time::GeneralTime(
                    der::asn1::GeneralizedTime::from_unix_duration(since_epoch)
                        .map_err(der_error)?,
                ),
            };
            attrs.push(attribute(
                OID_SIGNING_TIME,
                Any::encode_from(&value).map_err(der_error)?,
            )?);
        }
        let signed_attrs = SetOfVec::try_from(attrs).map_err(der_error)?;
        let to_sign = signed_attrs.to_der().map_err(der_error)?;
        let sig = self
            .key
            .sign(&SystemRandom::new(), &to_sign)
            .map_err(|_| CmsError::Der("signing failed".into()))?;
        let tbs = self.certificate.tbs_certificate();
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
            digest_alg: sha256(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: OID_ECDSA_SHA256,
                parameters: None,
            },
            signature: OctetString::new(sig.as_ref()).map_err(der_error)?,
            unsigned_attrs: None,
        };
        let econtent = if detached {
            None
        } else {
            Some(
                Any::encode_from(&OctetString::new(content).map_err(der_error)?)
                    .map_err(der_error)?,
            )
        };
        let signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![sha256()]).map_err(der_error)?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: OID_DATA,
                econtent,
            },
            certificates: Some(CertificateSet(
                SetOfVec::try_from(vec![CertificateChoices::Certificate(
                    self.certificate.clone(),
                )])
                .map_err(der_error)?,
            )),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(der_error)?),
        };
        let info = ContentInfo {
            content_type: OID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).map_err(der_error)?,
        };
        info.to_der().map_err(der_error)
    }
}

/// A CMS message whose signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedCms {
    /// The signed content (encapsulated, or the detached content given).
    pub content: Vec<u8>,
    /// The signer's certificate, from the message.
    pub signer: SignerCertificate,
    /// The signing-time attribute, when the message has one.
    pub signing_time: Option<jiff::Timestamp>,
    /// SHA-256 over the signer's certificate and the signed attributes: what the signer
    /// signed (content digest, content type, signing time). Two messages with the same value
    /// are the same signed statement, however their unsigned envelopes differ (CMS leaves the
    /// version, the certificate set and the signature's encoding open to change), so this, not
    /// a hash of the message bytes, identifies a message for replay checks.
    pub signed_digest: [u8; 32],
}

/// Decodes the Base64 body of an `application/cms` request.
pub fn from_base64(body: &[u8]) -> Result<Vec<u8>, CmsError> {
    use base64::Engine;
    let text: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if text.len() > MAX_CMS_BYTES / 3 * 4 + 4 {
        return Err(CmsError::TooLarge(text.len() / 4 * 3));
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| CmsError::Base64(e.to_string()))
}

/// Verifies a CMS SignedData (DER). With `detached` the message must not carry the content
/// and the signature must cover `detached`; without, the content must be encapsulated.
pub fn verify(message: &[u8], detached: Option<&[u8]>) -> Result<VerifiedCms, CmsError> {
    if message.len() > MAX_CMS_BYTES {
        return Err(CmsError::TooLarge(message.len()));
    }
    let info = ContentInfo::from_der(message).map_err(der_error)?;
    if info.content_type != OID_SIGNED_DATA {
        return Err(CmsError::NotSignedData(info.content_type.to_string()));
    }
    let signed_data: SignedData = info.content.decode_as().map_err(der_error)?;
    let signers = signed_data.signer_infos.0.as_slice();
    let [signer_info] = signers else {
        return Err(CmsError::SignerCount(signers.len()));
    };
    let encap = &signed_data.encap_content_info;
    if encap.econtent_type != OID_DATA {
        return Err(CmsError::Content(
            "the encapsulated content type is not id-data",
        ));
    }
    let content = match (&encap.econtent, detached) {
        (Some(any), None) => any
            .decode_as::<OctetString>()
            .map_err(der_error)?
            .into_bytes()
            .into_vec(),
        (None, Some(content)) => content.to_vec(),
        (Some(_), Some(_)) => {
            return Err(CmsError::Content(
                "content is encapsulated where a detached signature was expected",
            ));
        }
        (None, None) => return Err(CmsError::Content("the message carries no content")),
    };
    let certificate = signed_data
        .certificates
        .as_ref()
        .and_then(|set| {
            set.0.iter().find_map(|choice| match choice {
                CertificateChoices::Certificate(cert)
                    if SignerIdentifier::from(cert) == signer_info.sid
                        || matches_issuer_serial(cert, &signer_info.sid) =>
                {
                    Some(cert)
                }
                _ => None,
            })
        })
        .ok_or(CmsError::NoSignerCertificate)?;
    let signer = SignerCertificate::from_der(&certificate.to_der().map_err(der_error)?)
        .map_err(|e| CmsError::Certificate(e.to_string()))?;
    if signer_info.digest_alg.oid != OID_SHA256 {
        return Err(CmsError::Algorithm(signer_info.digest_alg.oid.to_string()));
    }
    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or(CmsError::SignedAttributes("missing"))?;
    let single = |oid| -> Result<&Any, CmsError> {
        let mut found = attrs.iter().filter(|a| a.oid == oid);
        match (found.next(), found.next()) {
            (Some(a), None) if a.values.len() == 1 => Ok(a.values.get(0).expect("one value")),
            _ => Err(CmsError::SignedAttributes(
                "content type and message digest must each appear once",
            )),
        }
    };
    let content_type: ObjectIdentifier =
        single(OID_CONTENT_TYPE)?.decode_as().map_err(der_error)?;
    if content_type != encap.econtent_type {
        return Err(CmsError::SignedAttributes(
            "the content type attribute does not match the content",
        ));
    }
    let digest: OctetString = single(OID_MESSAGE_DIGEST)?.decode_as().map_err(der_error)?;
    if digest.as_bytes() != ring::digest::digest(&ring::digest::SHA256, &content).as_ref() {
        return Err(CmsError::DigestMismatch);
    }
    let signing_time = match attrs.iter().filter(|a| a.oid == OID_SIGNING_TIME).count() {
        0 => None,
        1 => {
            let time: x509_cert::time::Time =
                single(OID_SIGNING_TIME)?.decode_as().map_err(der_error)?;
            let secs = i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
            Some(
                jiff::Timestamp::from_second(secs)
                    .map_err(|_| CmsError::SignedAttributes("signing time out of range"))?,
            )
        }
        _ => {
            return Err(CmsError::SignedAttributes(
                "signing time appears more than once",
            ));
        }
    };
    let signed = attrs.to_der().map_err(der_error)?;
    let sig = signer_info.signature.as_bytes();
    let ok = match (signer_info.signature_algorithm.oid, signer.public_key()) {
        (OID_ECDSA_SHA256, PublicKey::EcP256(point)) => {
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point)
                .verify(&signed, sig)
                .is_ok()
        }
        (OID_RSA_SHA256 | OID_RSA, PublicKey::Rsa { pkcs1, .. }) => {
            UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, pkcs1)
                .verify(&signed, sig)
                .is_ok()
        }
        (OID_RSA_PSS, PublicKey::Rsa { pkcs1, .. }) => {
            UnparsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA256, pkcs1)
                .verify(&signed, sig)
                .is_ok()
        }
        (oid, _) => return Err(CmsError::Algorithm(oid.to_string())),
    };
    if !ok {
        return Err(CmsError::BadSignature);
    }
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(signer.der());
    context.update(&signed);
    let mut signed_digest = [0; 32];
    signed_digest.copy_from_slice(context.finish().as_ref());
    Ok(VerifiedCms {
        content,
        signer,
        signing_time,
        signed_digest,
    })
}

/// The same message without its encapsulated content: a detached signature over that content
/// (the signature covers the signed attributes, whose message digest covers the content, so it
/// still verifies). The gateway publishes a country's upload this way beside the DSC.
pub fn detach(message: &[u8]) -> Result<Vec<u8>, CmsError> {
    let info = ContentInfo::from_der(message).map_err(der_error)?;
    if info.content_type != OID_SIGNED_DATA {
        return Err(CmsError::NotSignedData(info.content_type.to_string()));
    }
    let mut signed_data: SignedData = info.content.decode_as().map_err(der_error)?;
    signed_data.encap_content_info.econtent = None;
    let info = ContentInfo {
        content_type: OID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(der_error)?,
    };
    info.to_der().map_err(der_error)
}

fn matches_issuer_serial(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    let tbs = cert.tbs_certificate();
    matches!(sid, SignerIdentifier::IssuerAndSerialNumber(isn)
        if isn.issuer == *tbs.issuer() && isn.serial_number == *tbs.serial_number())
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthpass_issue::pki::{TestPkiOptions, generate_test_pki};

    fn signer(country: &str) -> (UploadSigner, Vec<u8>) {
        let t: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let pki = generate_test_pki(&TestPkiOptions::new(country, t)).unwrap();
        (
            UploadSigner::new(&pki.dsc_key_pem, &pki.dsc_cert_der).unwrap(),
            pki.dsc_cert_der,
        )
    }

    #[test]
    fn encapsulated_and_detached_round_trip() {
        let (upload, cert) = signer("AT");
        let content = b"the DSC or rule being uploaded";
        let message = upload.sign(content, false).unwrap();
        let verified = verify(&message, None).unwrap();
        assert_eq!(verified.content, content);
        assert_eq!(verified.signer.der(), cert.as_slice());
        assert_eq!(verified.signing_time, None);
        for at in ["2026-11-27T10:11:12Z", "2051-01-01T00:00:00Z"] {
            let at: jiff::Timestamp = at.parse().unwrap();
            let timed = verify(&upload.sign_at(content, false, at).unwrap(), None).unwrap();
            assert_eq!(
                timed.signing_time,
                Some(at),
                "UTCTime, then GeneralizedTime"
            );
        }
        assert_eq!(verified.signer.country(), Some("AT"));

        let detached = upload.sign(content, true).unwrap();
        assert_eq!(verify(&detached, Some(content)).unwrap().content, content);
        // Detaching an upload keeps its signature valid over the content.
        let stripped = detach(&message).unwrap();
        assert_eq!(
            verify(&stripped, Some(content)).unwrap().signer.der(),
            cert.as_slice()
        );
        assert_eq!(
            verify(&stripped, Some(b"x")).unwrap_err(),
            CmsError::DigestMismatch
        );
        assert_eq!(
            verify(&detached, None).unwrap_err(),
            CmsError::Content("the message carries no content")
        );
        assert!(matches!(
            verify(&message, Some(content)),
            Err(CmsError::Content(_))
        ));
        assert_eq!(
            verify(&detached, Some(b"other content")).unwrap_err(),
            CmsError::DigestMismatch
        );
        // The Base64 body of application/cms.
        use base64::Engine;
        let body = base64::engine::general_purpose::STANDARD.encode(&message);
        assert_eq!(from_base64(body.as_bytes()).unwrap(), message);
        assert!(matches!(
            from_base64(b"not base64!"),
            Err(CmsError::Base64(_))
        ));
    }

    #[test]
    fn tampering_is_refused_with_the_reason() {
        let (upload, _) = signer("FR");
        let content = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let message = upload.sign(content, false).unwrap();
        // Change one content byte: the digest no longer matches.
        let at = message
            .windows(content.len())
            .position(|w| w == content)
            .unwrap();
        let mut changed = message.clone();
        changed[at] ^= 1;
        assert_eq!(
            verify(&changed, None).unwrap_err(),
            CmsError::DigestMismatch
        );
        // Change the signature's last byte.
        let mut bad_sig = message.clone();
        let last = bad_sig.len() - 1;
        bad_sig[last] ^= 1;
        assert!(matches!(
            verify(&bad_sig, None),
            Err(CmsError::BadSignature | CmsError::Der(_))
        ));
        // Trailing bytes and truncation are DER errors, never panics.
        let mut trailing = message.clone();
        trailing.push(0);
        assert!(matches!(verify(&trailing, None), Err(CmsError::Der(_))));
        for cut in [1, 10, message.len() / 2] {
            assert!(verify(&message[..message.len() - cut], None).is_err());
        }
        assert!(matches!(verify(b"", None), Err(CmsError::Der(_))));
    }

    /// Messages OpenSSL 3.0 made (`openssl cms -sign -binary -md sha256 [-nodetach]`, with
    /// signing time and S/MIME capabilities attributes, RSA as `rsaEncryption`) verify.
    #[test]
    fn openssl_messages_verify() {
        let content = include_bytes!("../fixtures/content.txt");
        for (message, country) in [
            (&include_bytes!("../fixtures/ec.cms.der")[..], "DE"),
            (&include_bytes!("../fixtures/rsa.cms.der")[..], "NL"),
        ] {
            let verified = verify(message, None).unwrap();
            assert_eq!(verified.content, content);
            assert_eq!(verified.signer.country(), Some(country));
            assert!(verified.signing_time.is_some(), "OpenSSL adds signingTime");
        }
        let detached = include_bytes!("../fixtures/ec-detached.cms.der");
        assert_eq!(
            verify(detached, Some(content)).unwrap().signer.country(),
            Some("DE")
        );
        assert_eq!(
            verify(detached, Some(b"changed")).unwrap_err(),
            CmsError::DigestMismatch
        );
    }

    #[test]
    fn a_key_must_belong_to_its_certificate() {
        let t: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let a = generate_test_pki(&TestPkiOptions::new("AT", t)).unwrap();
        let b = generate_test_pki(&TestPkiOptions::new("AT", t)).unwrap();
        assert!(UploadSigner::new(&a.dsc_key_pem, &b.dsc_cert_der).is_err());
    }
}
