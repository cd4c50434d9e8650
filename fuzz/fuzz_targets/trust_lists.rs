//! Trust lists a verifier loads: a VCI directory snapshot (signed here with a fixed P-521 key,
//! so every input reaches the snapshot reader) and a CA's X.509 revocation list (checked
//! against the OpenSSL-made P-521 CA of `crates/trust/testdata`). Neither panics; a snapshot
//! that loads keeps only keys that pass the SMART key rules, and trusts exactly those; a CRL
//! that loads was signed by the CA, so a changed byte of its signed part is refused.
#![no_main]

use std::sync::LazyLock;

use healthpass_trust::crl::CaRevocationList;
use healthpass_trust::vci::{DirectorySnapshot, SnapshotSigner};
use healthpass_trust::{SignerCertificate, TrustStore};
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use p521::ecdsa::SigningKey;
use p521::ecdsa::signature::hazmat::PrehashSigner;

const CA_DER: &[u8] = include_bytes!("../../crates/trust/testdata/ca-crl-issuer.der");

static NOW: LazyLock<Timestamp> =
    LazyLock::new(|| "2026-12-01T00:00:00Z".parse().expect("fixed timestamp"));
static KEY: LazyLock<SigningKey> = LazyLock::new(|| {
    let mut scalar = [0u8; 66];
    scalar[65] = 9;
    SigningKey::from_slice(&scalar).expect("a valid scalar")
});
static SIGNER: LazyLock<SnapshotSigner> = LazyLock::new(|| {
    let point = KEY.verifying_key().to_sec1_point(false);
    SnapshotSigner::from_p521_point(point.as_ref()).expect("a P-521 point")
});
static CA: LazyLock<SignerCertificate> =
    LazyLock::new(|| SignerCertificate::from_der(CA_DER).expect("the test CA parses"));

/// DER `ECDSA-Sig-Value` of `message` under the fixed key.
fn sign(message: &[u8]) -> Vec<u8> {
    let prehash = ring::digest::digest(&ring::digest::SHA512, message);
    let signature: p521::ecdsa::Signature = KEY.sign_prehash(prehash.as_ref()).expect("signs");
    let bytes = signature.to_bytes();
    let int = |half: &[u8]| {
        let trimmed: Vec<u8> = half.iter().copied().skip_while(|b| *b == 0).collect();
        let mut content = if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
            vec![0]
        } else {
            Vec::new()
        };
        content.extend(if trimmed.is_empty() { vec![0] } else { trimmed });
        let mut out = vec![0x02, content.len() as u8];
        out.extend(content);
        out
    };
    let (r, s) = bytes.split_at(66);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30];
    if body.len() >= 0x80 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend(body);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    if selector & 1 == 0 {
        snapshot(input);
    } else {
        revocation_list(input);
    }
});

fn snapshot(input: &[u8]) {
    match DirectorySnapshot::verify(input, &sign(input), &SIGNER, *NOW) {
        Ok(snapshot) => {
            assert!(snapshot.time <= *NOW);
            let mut store = TrustStore::new();
            snapshot.add_to(&mut store);
            for issuer in &snapshot.issuers {
                for key in &issuer.keys {
                    assert!(!key.kid().is_empty());
                    let trusted = store.shc_issuer(&issuer.iss).expect("an issuer with keys");
                    assert!(trusted.key(key.kid()).is_some());
                }
                for crl in &issuer.crls {
                    assert!(issuer.keys.iter().any(|k| k.kid() == crl.kid()));
                }
            }
            // A signature over other bytes is refused.
            let mut other = input.to_vec();
            other.push(b' ');
            assert!(DirectorySnapshot::verify(&other, &sign(input), &SIGNER, *NOW).is_err());
        }
        Err(_) => {}
    }
}

fn revocation_list(input: &[u8]) {
    let Ok(list) = CaRevocationList::verify(input, &CA, *NOW) else {
        return;
    };
    assert!(list.this_update() <= *NOW);
    assert!(
        list.status(&CA).is_some(),
        "the CA's own list covers its name"
    );
    // Flip a byte inside the signed part (after the outer and inner headers): refused.
    if input.len() > 16 {
        let mut changed = input.to_vec();
        changed[12] ^= 0x01;
        assert!(CaRevocationList::verify(&changed, &CA, *NOW).is_err());
    }
}
