//! DIVOC linked-data proofs: `healthpass_jsonld::prepare` and `canonicalize` on any JSON, the
//! input packed as a DIVOC QR text through `healthpass_verify::verify` against an empty trust
//! store, and a sign → verify round trip with a fixed Ed25519 key on the input with its proof
//! removed: through `prepare` and the trust store's DIVOC key (what the verifier runs), through
//! the whole verifier, and with one value of the signed credential changed. Contexts are the
//! bundled ones only (nothing is fetched: the target has no network).
#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use healthpass_codec::{divoc, json};
use healthpass_jsonld::{LdError, Suite};
use healthpass_trust::TrustStore;
use healthpass_trust::divoc_keys::DivocKey;
use healthpass_verify::{Outcome, VerificationReport, verify};
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::Value;

/// The `verificationMethod` the fixed key signs as, and is trusted for.
const METHOD: &str = "did:example:fuzz#key-1";
const CREATED: &str = "2021-01-01T00:00:00Z";

static NOW: LazyLock<Timestamp> =
    LazyLock::new(|| "2026-01-01T00:00:00Z".parse().expect("fixed timestamp"));
static EMPTY: LazyLock<TrustStore> = LazyLock::new(TrustStore::new);
/// A fixed Ed25519 PKCS#8 v1 key (RFC 8410 layout, seed 0x2a × 32).
static KEY: LazyLock<Ed25519KeyPair> = LazyLock::new(|| {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[0x2a; 32]);
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).expect("a valid key")
});
/// A trust store holding the fixed key's public half (a SubjectPublicKeyInfo), for [`METHOD`].
static TRUSTED: LazyLock<TrustStore> = LazyLock::new(|| {
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(KEY.public_key().as_ref());
    let mut store = TrustStore::new();
    let key = DivocKey::from_spki_der(Some(METHOD), &spki).expect("an Ed25519 SPKI");
    assert!(store.add_divoc_key(key));
    store
});

/// The credential as a DIVOC QR text: `B64:` and a ZIP holding it as `certificate.json`.
fn qr_text(certificate_json: &[u8]) -> String {
    let zip = healthpass_fuzz::divoc_zip(certificate_json, false);
    format!("B64:{}", STANDARD.encode(zip))
}

/// Whether the trust store's key for [`METHOD`] verifies `signature` over one of `inputs`, as
/// the verifier checks it.
fn trusted_key_verifies(inputs: &[Vec<u8>], signature: &[u8]) -> bool {
    TRUSTED.divoc_keys_for(METHOD).any(|key| {
        inputs
            .iter()
            .any(|message| key.verify("EdDSA", message, signature).is_ok())
    })
}

/// Every `@context` URL of a document that canonicalised is a bundled one.
fn contexts_bundled(document: &Value) -> bool {
    match document.get("@context") {
        None => true,
        Some(Value::String(url)) => healthpass_jsonld::context(url).is_some(),
        Some(Value::Array(urls)) => urls
            .iter()
            .all(|url| url.as_str().and_then(healthpass_jsonld::context).is_some()),
        Some(_) => false,
    }
}

/// Whether changing `value` must change what is signed: strings (blank node labels aside:
/// renaming `_:b0` changes nothing signed), numbers and booleans.
fn changeable(value: &Value) -> bool {
    match value {
        Value::String(s) => !s.starts_with("_:"),
        Value::Number(_) | Value::Bool(_) => true,
        _ => false,
    }
}

/// How many changeable values `value` holds outside `@context` (and, at the top, `proof`).
fn count(value: &Value, top: bool) -> usize {
    match value {
        Value::Object(fields) => fields
            .iter()
            .filter(|(k, _)| *k != "@context" && !(top && *k == "proof"))
            .map(|(_, v)| count(v, false))
            .sum(),
        Value::Array(items) => items.iter().map(|v| count(v, false)).sum(),
        v => usize::from(changeable(v)),
    }
}

/// Changes the `k`-th changeable value (in [`count`]'s order): a string gains an `x`, a number
/// moves by one within ±2^53, a boolean flips. Returns its JSON pointer.
fn change(value: &mut Value, k: &mut usize, top: bool, at: String) -> Option<String> {
    match value {
        Value::Object(fields) => {
            for (key, v) in fields.iter_mut() {
                if key == "@context" || (top && key == "proof") {
                    continue;
                }
                if let Some(path) = change(v, k, false, format!("{at}/{key}")) {
                    return Some(path);
                }
            }
            None
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                if let Some(path) = change(v, k, false, format!("{at}/{i}")) {
                    return Some(path);
                }
            }
            None
        }
        v if changeable(v) => {
            if *k > 0 {
                *k -= 1;
                return None;
            }
            *v = match &*v {
                Value::String(s) => Value::String(format!("{s}x")),
                Value::Bool(b) => Value::Bool(!b),
                Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) if i < 0 => Value::from(i + 1),
                    (_, Some(0)) => Value::from(1),
                    (_, Some(u)) => Value::from(u - 1),
                    // Not a safe integer: signing refused it already.
                    _ => return None,
                },
                _ => unreachable!(),
            };
            Some(at)
        }
        _ => None,
    }
}

/// Whole-verifier report on a credential signed with the fixed key (or changed after).
fn verify_trusted(credential: &Value) -> Option<VerificationReport> {
    let bytes = serde_json::to_vec(credential).expect("a Value serialises");
    let text = qr_text(&bytes);
    // Only what the DIVOC reader takes: a QR-sized text of strict JSON (nesting ≤ 64).
    if text.len() > divoc::MAX_INPUT || json::parse_strict(&bytes).is_err() {
        return None;
    }
    let report = verify(&text, *NOW, &TRUSTED);
    healthpass_fuzz::assert_verdict_explained(&report);
    Some(report)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The input as scanned: untrusted, whatever its proof says.
    if data.len() <= divoc::MAX_INPUT {
        let report = verify(&qr_text(data), *NOW, &EMPTY);
        healthpass_fuzz::assert_untrusted(&report);
    }
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    // Canonicalisation is a function: the same document, the same N-Quads (or the same error).
    let first = healthpass_jsonld::canonicalize(&value);
    assert_eq!(first, healthpass_jsonld::canonicalize(&value));
    // Contexts are never fetched: a document that canonicalises uses bundled contexts only, and
    // an unknown context is one that is not bundled.
    match &first {
        Ok(_) => assert!(contexts_bundled(&value), "{value}"),
        Err(LdError::ContextUnknown(url)) => assert!(healthpass_jsonld::context(url).is_none()),
        Err(_) => {}
    }

    // What a proof signs: the JWS header, a dot, and two SHA-256 digests.
    if let Ok(input) = healthpass_jsonld::prepare(&value) {
        let header = input.suite.encoded_header();
        assert!((1..=2).contains(&input.signing_inputs.len()));
        for signed in &input.signing_inputs {
            assert_eq!(signed.len(), header.len() + 1 + 64);
            assert!(signed.starts_with(header.as_bytes()));
        }
        assert_eq!(
            Some(input.verification_method.as_str()),
            value["proof"]["verificationMethod"].as_str()
        );
    }

    // Signed here, the credential verifies; one changed byte of the signature does not.
    let Value::Object(mut fields) = value else {
        return;
    };
    fields.remove("proof");
    let document = Value::Object(fields);
    let Ok(signed) = healthpass_jsonld::sign(
        &document,
        Suite::Ed25519Signature2018,
        METHOD,
        CREATED,
        |bytes| KEY.sign(bytes).as_ref().to_vec(),
    ) else {
        // Signing canonicalises the document: it fails exactly where canonicalisation does.
        assert!(healthpass_jsonld::canonicalize(&document).is_err());
        return;
    };
    let input = healthpass_jsonld::prepare(&signed).expect("a credential signed here prepares");
    assert_eq!(input.suite, Suite::Ed25519Signature2018);
    assert_eq!(input.verification_method, METHOD);
    assert_eq!(input.created.as_deref(), Some(CREATED));
    assert!(trusted_key_verifies(
        &input.signing_inputs,
        &input.signature
    ));
    let mut wrong = input.signature.clone();
    wrong[0] ^= 1;
    assert!(!trusted_key_verifies(&input.signing_inputs, &wrong));

    // Through the whole verifier: the signature passes, under the key's method.
    let Some(report) = verify_trusted(&signed) else {
        return;
    };
    assert_eq!(report.checks.signer, Outcome::Pass, "{report:?}");
    assert_eq!(report.checks.signature, Outcome::Pass, "{report:?}");
    assert_eq!(report.kid.as_deref(), Some(METHOD));

    // Every value of the credential is signed: change one (which one follows the input's
    // length) and the signature no longer passes.
    let n = count(&signed, true);
    if n == 0 {
        return;
    }
    let mut changed = signed.clone();
    let path = change(&mut changed, &mut (data.len() % n), true, String::new());
    let Some(path) = path else {
        return;
    };
    if let Some(report) = verify_trusted(&changed) {
        assert_ne!(
            report.checks.signature,
            Outcome::Pass,
            "{path} changed, still verified: {changed}"
        );
    }
});
