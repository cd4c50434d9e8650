//! DIVOC linked-data proofs: `healthpass_jsonld::prepare` and `canonicalize` on any JSON, and a
//! sign → prepare → verify round trip with a fixed Ed25519 key on the input with its proof
//! removed. Contexts are the bundled ones only (nothing is fetched: the target has no network).
#![no_main]

use healthpass_jsonld::Suite;
use libfuzzer_sys::fuzz_target;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde_json::Value;

/// A fixed Ed25519 PKCS#8 v1 key (RFC 8410 layout, seed 0x2a × 32).
fn key() -> Ed25519KeyPair {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[0x2a; 32]);
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).expect("a valid key")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    // Canonicalisation is a function: the same document, the same N-Quads (or the same error).
    let first = healthpass_jsonld::canonicalize(&value);
    assert_eq!(first, healthpass_jsonld::canonicalize(&value));

    // What a proof signs: the JWS header, a dot, and two SHA-256 digests.
    if let Ok(input) = healthpass_jsonld::prepare(&value) {
        let header = input.suite.encoded_header();
        assert!(!input.signing_inputs.is_empty());
        for signed in &input.signing_inputs {
            assert_eq!(signed.len(), header.len() + 1 + 64);
            assert!(signed.starts_with(header.as_bytes()));
        }
    }

    // Signed here, the credential verifies; one changed byte of the signature does not.
    let Value::Object(mut fields) = value else {
        return;
    };
    fields.remove("proof");
    let document = Value::Object(fields);
    let pair = key();
    let Ok(signed) = healthpass_jsonld::sign(
        &document,
        Suite::Ed25519Signature2018,
        "did:example:fuzz#key-1",
        "2021-01-01T00:00:00Z",
        |bytes| pair.sign(bytes).as_ref().to_vec(),
    ) else {
        // Signing canonicalises the document: it fails exactly where canonicalisation does.
        assert!(healthpass_jsonld::canonicalize(&document).is_err());
        return;
    };
    let input = healthpass_jsonld::prepare(&signed).expect("a credential signed here prepares");
    assert_eq!(input.suite, Suite::Ed25519Signature2018);
    assert_eq!(input.verification_method, "did:example:fuzz#key-1");
    let public = UnparsedPublicKey::new(&ED25519, pair.public_key().as_ref().to_vec());
    assert!(
        input
            .signing_inputs
            .iter()
            .any(|bytes| public.verify(bytes, &input.signature).is_ok())
    );
    let mut wrong = input.signature.clone();
    wrong[0] ^= 1;
    assert!(
        !input
            .signing_inputs
            .iter()
            .any(|bytes| public.verify(bytes, &wrong).is_ok())
    );
});
