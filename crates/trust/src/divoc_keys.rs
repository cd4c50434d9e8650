//! DIVOC signing keys: bare public keys (DIVOC publishes no certificates), RSA for
//! `RsaSignature2018` (RSASSA-PSS, SHA-256) or Ed25519 for `Ed25519Signature2018`, each
//! trusted for one `verificationMethod` (`did:india`, …) or, unbound, for any.

use der::Decode;
use thiserror::Error;
use x509_cert::spki::SubjectPublicKeyInfoRef;

use crate::TrustStore;

/// rsaEncryption.
const RSA_OID: &str = "1.2.840.113549.1.1.1";
/// id-Ed25519.
const ED25519_OID: &str = "1.3.101.112";

/// The kind of a DIVOC key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DivocKeyType {
    /// RSA, for `RsaSignature2018` (JWS `PS256`).
    Rsa,
    /// Ed25519, for `Ed25519Signature2018` (JWS `EdDSA`).
    Ed25519,
}

/// A trusted DIVOC public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivocKey {
    verification_method: Option<String>,
    key_type: DivocKeyType,
    /// PKCS#1 RSAPublicKey (RSA) or the 32 raw bytes (Ed25519), as ring takes them.
    public_key: Vec<u8>,
}

/// Why a DIVOC key could not be read, or a signature did not verify with it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DivocKeyError {
    /// No `-----BEGIN PUBLIC KEY-----` block.
    #[error("no PEM public key (-----BEGIN PUBLIC KEY-----) found")]
    NoPem,
    /// The block is not a SubjectPublicKeyInfo.
    #[error("the public key is not a valid SubjectPublicKeyInfo")]
    Malformed,
    /// Neither RSA nor Ed25519.
    #[error("the key algorithm {0} is neither RSA nor Ed25519")]
    Unsupported(String),
    /// The proof's algorithm does not fit the key.
    #[error("a {key:?} key cannot verify a {alg} signature")]
    AlgorithmMismatch {
        /// The key's type.
        key: DivocKeyType,
        /// The proof's JWS `alg`.
        alg: String,
    },
    /// The signature does not verify.
    #[error("the signature does not verify with the key")]
    BadSignature,
}

impl DivocKey {
    /// Reads a PEM SubjectPublicKeyInfo (text around the block is ignored), trusted for
    /// `verification_method` only, or for any when `None`.
    pub fn from_pem(verification_method: Option<&str>, pem: &str) -> Result<Self, DivocKeyError> {
        let der = healthpass_codec::pem::first(pem, "PUBLIC KEY")
            .ok_or(DivocKeyError::NoPem)?
            .map_err(|_| DivocKeyError::Malformed)?;
        Self::from_spki_der(verification_method, &der)
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(
        verification_method: Option<&str>,
        der: &[u8],
    ) -> Result<Self, DivocKeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| DivocKeyError::Malformed)?;
        let oid = spki.algorithm.oid.to_string();
        let key_type = match oid.as_str() {
            RSA_OID => DivocKeyType::Rsa,
            ED25519_OID => DivocKeyType::Ed25519,
            _ => return Err(DivocKeyError::Unsupported(oid)),
        };
        let public_key = spki
            .subject_public_key
            .as_bytes()
            .ok_or(DivocKeyError::Malformed)?
            .to_vec();
        if key_type == DivocKeyType::Ed25519 && public_key.len() != 32 {
            return Err(DivocKeyError::Malformed);
        }
        Ok(Self {
            verification_method: verification_method.map(str::to_owned),
            key_type,
            public_key,
        })
    }

    /// The `verificationMethod` the key is bound to, if any.
    pub fn verification_method(&self) -> Option<&str> {
        self.verification_method.as_deref()
    }

    /// RSA or Ed25519.
    pub fn key_type(&self) -> DivocKeyType {
        self.key_type
    }

    /// Whether the key may verify a proof naming `verification_method`.
    pub fn serves(&self, verification_method: &str) -> bool {
        self.verification_method
            .as_deref()
            .is_none_or(|bound| bound == verification_method)
    }

    /// Checks a JWS signature: `alg` `PS256` with an RSA key (2048 to 8192 bits), `EdDSA`
    /// with an Ed25519 key.
    pub fn verify(&self, alg: &str, message: &[u8], signature: &[u8]) -> Result<(), DivocKeyError> {
        use ring::signature::{ED25519, RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};
        let algorithm: &dyn ring::signature::VerificationAlgorithm = match (self.key_type, alg) {
            (DivocKeyType::Rsa, "PS256") => &RSA_PSS_2048_8192_SHA256,
            (DivocKeyType::Ed25519, "EdDSA") => &ED25519,
            (key, alg) => {
                return Err(DivocKeyError::AlgorithmMismatch {
                    key,
                    alg: alg.to_owned(),
                });
            }
        };
        UnparsedPublicKey::new(algorithm, &self.public_key)
            .verify(message, signature)
            .map_err(|_| DivocKeyError::BadSignature)
    }
}

impl TrustStore {
    /// Trusts a DIVOC key. Returns false if the same key with the same binding is there.
    pub fn add_divoc_key(&mut self, key: DivocKey) -> bool {
        if self.divoc_keys.contains(&key) {
            return false;
        }
        self.divoc_keys.push(key);
        true
    }

    /// The trusted DIVOC keys that may verify a proof naming `verification_method`: those
    /// bound to it, then the unbound ones.
    pub fn divoc_keys_for<'a>(
        &'a self,
        verification_method: &'a str,
    ) -> impl Iterator<Item = &'a DivocKey> + 'a {
        let bound = self
            .divoc_keys
            .iter()
            .filter(move |k| k.verification_method() == Some(verification_method));
        let unbound = self
            .divoc_keys
            .iter()
            .filter(|k| k.verification_method().is_none());
        bound.chain(unbound)
    }

    /// How many DIVOC keys are trusted.
    pub fn divoc_key_count(&self) -> usize {
        self.divoc_keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use ring::signature::KeyPair;

    fn pem(der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        format!("a comment\n-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n")
    }

    /// SubjectPublicKeyInfo of an Ed25519 key.
    fn ed25519_spki(raw: &[u8]) -> Vec<u8> {
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(raw);
        der
    }

    #[test]
    fn an_ed25519_key_verifies_eddsa_only_and_binds_its_method() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let key = DivocKey::from_pem(
            Some("did:example:1"),
            &pem(&ed25519_spki(pair.public_key().as_ref())),
        )
        .unwrap();
        assert_eq!(key.key_type(), DivocKeyType::Ed25519);
        let signature = pair.sign(b"message");
        assert_eq!(key.verify("EdDSA", b"message", signature.as_ref()), Ok(()));
        assert_eq!(
            key.verify("EdDSA", b"massage", signature.as_ref()),
            Err(DivocKeyError::BadSignature)
        );
        assert_eq!(
            key.verify("PS256", b"message", signature.as_ref()),
            Err(DivocKeyError::AlgorithmMismatch {
                key: DivocKeyType::Ed25519,
                alg: "PS256".into()
            })
        );
        let mut store = TrustStore::new();
        assert!(store.add_divoc_key(key.clone()));
        assert!(!store.add_divoc_key(key));
        assert_eq!(store.divoc_keys_for("did:example:1").count(), 1);
        assert_eq!(store.divoc_keys_for("did:example:2").count(), 0);
    }

    #[test]
    fn keys_that_are_not_rsa_or_ed25519_spki_are_refused() {
        assert_eq!(
            DivocKey::from_pem(None, "no pem"),
            Err(DivocKeyError::NoPem)
        );
        assert_eq!(
            DivocKey::from_pem(None, &pem(&[0x30, 0x00])),
            Err(DivocKeyError::Malformed)
        );
        // An Ed25519 key with 31 bytes.
        let mut short = ed25519_spki(&[7; 32]);
        short[1] = 0x29;
        short[10] = 0x20;
        short.pop();
        assert_eq!(
            DivocKey::from_spki_der(None, &short),
            Err(DivocKeyError::Malformed)
        );
        // A P-256 key (id-ecPublicKey).
        let p256 = [
            0x30, 0x13, 0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x03,
            0x06, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04,
        ];
        assert!(matches!(
            DivocKey::from_spki_der(None, &p256),
            Err(DivocKeyError::Malformed | DivocKeyError::Unsupported(_))
        ));
    }
}
