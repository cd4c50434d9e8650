//! ECDSA on P-521, which `ring` does not implement: the CA keys of SMART Health Card x5c
//! chains and the key that signs the VCI directory snapshot (`vci_snapshot.crt`). Verification
//! only, through RustCrypto's `p521`; the message is hashed with `ring` (the certificate's or
//! the snapshot's hash, which need not be SHA-512) and checked as a prehash.

use der::Decode;
use der::asn1::UintRef;
use p521::ecdsa::signature::hazmat::PrehashVerifier;
use p521::ecdsa::{Signature, VerifyingKey};

/// Length of a P-521 scalar in bytes.
const SCALAR_LEN: usize = 66;

/// Whether `der_signature` (an ASN.1 DER `ECDSA-Sig-Value`) is a valid signature of `message`
/// hashed with `digest`, by the SEC1 point `public_key`.
pub(crate) fn verify(
    public_key: &[u8],
    digest: &'static ring::digest::Algorithm,
    message: &[u8],
    der_signature: &[u8],
) -> bool {
    let Ok(key) = VerifyingKey::from_sec1_bytes(public_key) else {
        return false;
    };
    let Some(signature) = fixed_signature(der_signature) else {
        return false;
    };
    let prehash = ring::digest::digest(digest, message);
    key.verify_prehash(prehash.as_ref(), &signature).is_ok()
}

/// Whether `signature` (raw `r‖s`, 132 bytes, as JOSE and ICAO seals write ES512) is a valid
/// signature of `message` hashed with `digest`, by the SEC1 point `public_key`.
pub(crate) fn verify_fixed(
    public_key: &[u8],
    digest: &'static ring::digest::Algorithm,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let (Ok(key), Ok(signature)) = (
        VerifyingKey::from_sec1_bytes(public_key),
        Signature::from_slice(signature),
    ) else {
        return false;
    };
    let prehash = ring::digest::digest(digest, message);
    key.verify_prehash(prehash.as_ref(), &signature).is_ok()
}

/// `r‖s`, each left-padded to 66 bytes, from a strict DER `SEQUENCE { r INTEGER, s INTEGER }`.
fn fixed_signature(der_signature: &[u8]) -> Option<Signature> {
    #[derive(der::Sequence)]
    struct EcdsaSigValue<'a> {
        r: UintRef<'a>,
        s: UintRef<'a>,
    }
    let value = EcdsaSigValue::from_der(der_signature).ok()?;
    let (r, s) = (value.r.as_bytes(), value.s.as_bytes());
    if r.len() > SCALAR_LEN || s.len() > SCALAR_LEN {
        return None;
    }
    let mut fixed = [0u8; 2 * SCALAR_LEN];
    fixed[SCALAR_LEN - r.len()..SCALAR_LEN].copy_from_slice(r);
    fixed[2 * SCALAR_LEN - s.len()..].copy_from_slice(s);
    // Zero scalars and values at or above the group order are refused here.
    Signature::from_slice(&fixed).ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use der::Encode;
    use p521::ecdsa::SigningKey;
    use p521::ecdsa::signature::hazmat::PrehashSigner;

    /// A fixed test key (any scalar below the group order).
    pub(crate) fn test_key() -> SigningKey {
        let mut scalar = [0u8; SCALAR_LEN];
        scalar[SCALAR_LEN - 1] = 7;
        scalar[10] = 0x5a;
        SigningKey::from_slice(&scalar).expect("a valid scalar")
    }

    pub(crate) fn sign_der(
        key: &SigningKey,
        digest: &'static ring::digest::Algorithm,
        message: &[u8],
    ) -> Vec<u8> {
        let prehash = ring::digest::digest(digest, message);
        let signature: Signature = key.sign_prehash(prehash.as_ref()).expect("signs");
        let bytes = signature.to_bytes();
        let (r, s) = bytes.split_at(SCALAR_LEN);
        #[derive(der::Sequence)]
        struct EcdsaSigValue<'a> {
            r: UintRef<'a>,
            s: UintRef<'a>,
        }
        EcdsaSigValue {
            r: UintRef::new(r).expect("r"),
            s: UintRef::new(s).expect("s"),
        }
        .to_der()
        .expect("encodes")
    }

    #[test]
    fn a_signature_verifies_over_its_message_only() {
        let key = test_key();
        let point = key.verifying_key().to_sec1_point(false);
        let signature = sign_der(&key, &ring::digest::SHA512, b"snapshot");
        assert!(verify(
            point.as_ref(),
            &ring::digest::SHA512,
            b"snapshot",
            &signature
        ));
        assert!(!verify(
            point.as_ref(),
            &ring::digest::SHA512,
            b"snapshoT",
            &signature
        ));
        // The same signature under another hash is another message.
        assert!(!verify(
            point.as_ref(),
            &ring::digest::SHA256,
            b"snapshot",
            &signature
        ));
        // SHA-256 prehash (ecdsa-with-SHA256 under a P-521 CA) works as well.
        let signature = sign_der(&key, &ring::digest::SHA256, b"tbs");
        assert!(verify(
            point.as_ref(),
            &ring::digest::SHA256,
            b"tbs",
            &signature
        ));
    }

    #[test]
    fn raw_signatures_verify_as_es512() {
        let key = test_key();
        let point = key.verifying_key().to_sec1_point(false);
        let prehash = ring::digest::digest(&ring::digest::SHA512, b"seal data");
        let signature: Signature = key.sign_prehash(prehash.as_ref()).expect("signs");
        let raw = signature.to_bytes();
        assert_eq!(raw.len(), 132);
        assert!(verify_fixed(
            point.as_ref(),
            &ring::digest::SHA512,
            b"seal data",
            &raw
        ));
        assert!(!verify_fixed(
            point.as_ref(),
            &ring::digest::SHA512,
            b"seal datA",
            &raw
        ));
        assert!(!verify_fixed(
            point.as_ref(),
            &ring::digest::SHA512,
            b"seal data",
            &raw[..131]
        ));
    }

    #[test]
    fn malformed_signatures_and_keys_are_refused() {
        let key = test_key();
        let point = key.verifying_key().to_sec1_point(false);
        let signature = sign_der(&key, &ring::digest::SHA512, b"m");
        // Trailing bytes, truncation, a raw r‖s and an empty input are not DER signatures.
        let mut trailing = signature.clone();
        trailing.push(0);
        for bad in [
            &trailing[..],
            &signature[..signature.len() - 1],
            &[0u8; 132][..],
            &[][..],
        ] {
            assert!(!verify(point.as_ref(), &ring::digest::SHA512, b"m", bad));
        }
        assert!(!verify(
            &point.as_ref()[..60],
            &ring::digest::SHA512,
            b"m",
            &signature
        ));
    }
}
