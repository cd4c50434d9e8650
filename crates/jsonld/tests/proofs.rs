//! Linked Data proofs against the reference implementation (jsonld-signatures 6) and a real
//! CoWIN certificate, and every refusal.

use std::path::PathBuf;

use healthpass_jsonld::{
    LdError, MAX_BLANK_NODE_TWINS, MAX_QUADS, ProofInput, Suite, canonicalize, prepare, sign,
};
use healthpass_trust::divoc_keys::{DivocKey, DivocKeyError};
use ring::signature::KeyPair;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_fixture(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

fn key(name: &str) -> DivocKey {
    DivocKey::from_pem(None, &fixture(name)).unwrap()
}

/// Whether the proof verifies with `key` over one of its signing inputs.
fn verifies(input: &ProofInput, key: &DivocKey) -> bool {
    input.signing_inputs.iter().any(|m| {
        key.verify(input.suite.jws_alg(), m, &input.signature)
            .is_ok()
    })
}

/// The WHO ddcc-validator's DIVOC sample, or `None` without the corpus (a plain clone).
fn corpus_sample() -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/who-ddcc-validator/DIVOCQR1Unpacked.json");
    if !path.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing",
            path.display()
        );
        eprintln!("skipping: {} is absent", path.display());
        return None;
    }
    Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The gold test: CoWIN's sample canonicalises to the bytes jsonld-signatures 6 hashes
/// (SHA-256 of its N-Quads computed with jsonld.js 2.0.2 / rdf-canonize 1.2.0) and its
/// signature verifies with CoWIN's published did:india key.
#[test]
fn the_cowin_sample_verifies_with_the_did_india_key() {
    let Some(credential) = corpus_sample() else {
        return;
    };
    let mut document = credential.clone();
    document.as_object_mut().unwrap().remove("proof");
    let nquads = canonicalize(&document).unwrap();
    assert_eq!(nquads.lines().count(), 43);
    assert_eq!(
        hex(&Sha256::digest(nquads.as_bytes())),
        "d02f515f1490d11660b27c76881484b5c8b73b7d023c538f1301f59d02583151"
    );
    assert!(nquads.contains("_:c14n1 <vac:nonTransferable> \"true\" .\n"));

    let input = prepare(&credential).unwrap();
    assert_eq!(input.suite, Suite::RsaSignature2018);
    assert_eq!(input.verification_method, "did:india");
    assert_eq!(input.created.as_deref(), Some("2021-03-03T04:28:46Z"));
    // The proof options in the security v2 context, as jsonld-signatures 6 signs them.
    let first = &input.signing_inputs[0];
    let options_hash = &first[first.len() - 64..first.len() - 32];
    assert_eq!(
        hex(options_hash),
        "ab0706cbf444368a50c23a2037858e761264ece846fb366f8df051cc149092c4"
    );
    let india = key("divoc-india.pub.pem");
    assert_eq!(
        india.verify("PS256", &input.signing_inputs[0], &input.signature),
        Ok(())
    );

    // One changed letter of the name: the signature no longer verifies.
    let mut forged = credential.clone();
    forged["credentialSubject"]["name"] = json!("Third March User Two");
    assert!(!verifies(&prepare(&forged).unwrap(), &india));
    // Nor does a changed proof option.
    let mut forged = credential;
    forged["proof"]["created"] = json!("2021-03-03T04:28:47Z");
    assert!(!verifies(&prepare(&forged).unwrap(), &india));
}

#[test]
fn credentials_signed_by_jsonld_signatures_verify() {
    let mut document = json_fixture("reference-rsa.json");
    document.as_object_mut().unwrap().remove("proof");
    assert_eq!(canonicalize(&document).unwrap(), fixture("reference.nq"));

    let rsa = prepare(&json_fixture("reference-rsa.json")).unwrap();
    assert_eq!(rsa.suite, Suite::RsaSignature2018);
    assert!(verifies(&rsa, &key("reference-rsa.pub.pem")));
    assert!(!verifies(&rsa, &key("divoc-india.pub.pem")));

    let ed = prepare(&json_fixture("reference-ed25519.json")).unwrap();
    assert_eq!(ed.suite, Suite::Ed25519Signature2018);
    assert_eq!(ed.verification_method, "did:example:ed25519");
    let ed_key = key("reference-ed25519.pub.pem");
    assert_eq!(
        ed_key.verify("EdDSA", &ed.signing_inputs[0], &ed.signature),
        Ok(())
    );
    // An RSA key does not verify an Ed25519 proof.
    assert!(matches!(
        key("reference-rsa.pub.pem").verify("EdDSA", &ed.signing_inputs[0], &ed.signature),
        Err(DivocKeyError::AlgorithmMismatch { .. })
    ));

    let mut forged = json_fixture("reference-ed25519.json");
    forged["evidence"][0]["dose"] = json!(3);
    assert!(!verifies(&prepare(&forged).unwrap(), &ed_key));
}

fn unsigned_credential() -> Value {
    let mut credential = json_fixture("reference-rsa.json");
    credential.as_object_mut().unwrap().remove("proof");
    credential
}

#[test]
fn a_credential_signed_here_with_ed25519_verifies() {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let signed = sign(
        &unsigned_credential(),
        Suite::Ed25519Signature2018,
        "did:example:issuer",
        "2024-01-01T00:00:00Z",
        |m| pair.sign(m).as_ref().to_vec(),
    )
    .unwrap();
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(pair.public_key().as_ref());
    let key = DivocKey::from_spki_der(Some("did:example:issuer"), &spki).unwrap();
    let input = prepare(&signed).unwrap();
    // Credentials v1 defines the 2018 proof terms as security v2 does: the proof options in
    // the document's context (jsonld-signatures 7 and later) give the same bytes.
    assert_eq!(input.signing_inputs.len(), 1);
    assert!(verifies(&input, &key));
    assert!(
        signed["proof"]["jws"]
            .as_str()
            .unwrap()
            .starts_with("eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19..")
    );
    let mut forged = signed;
    forged["credentialSubject"]["dob"] = json!("1980-03-01");
    assert!(!verifies(&prepare(&forged).unwrap(), &key));
}

#[test]
fn a_credential_signed_here_with_rsa_pss_verifies() {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let private = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
    let pkcs8 = private.to_pkcs8_der().unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let signed = sign(
        &unsigned_credential(),
        Suite::RsaSignature2018,
        "did:example:rsa",
        "2024-01-01T00:00:00Z",
        |m| {
            let mut signature = vec![0; pair.public().modulus_len()];
            pair.sign(&ring::signature::RSA_PSS_SHA256, &rng, m, &mut signature)
                .unwrap();
            signature
        },
    )
    .unwrap();
    let public = private.to_public_key().to_public_key_der().unwrap();
    let key = DivocKey::from_spki_der(None, public.as_bytes()).unwrap();
    assert!(verifies(&prepare(&signed).unwrap(), &key));
    let mut forged = signed;
    forged["issuer"] = json!("https://example.com/");
    assert!(!verifies(&prepare(&forged).unwrap(), &key));
}

fn signed_reference() -> Value {
    json_fixture("reference-rsa.json")
}

#[test]
fn what_cannot_be_canonicalised_soundly_is_refused_by_name() {
    let mut unknown = signed_reference();
    unknown["@context"][1] = json!("https://divoc.lgcc.gov.lk/credentials/vaccination/v1");
    assert_eq!(
        prepare(&unknown).unwrap_err(),
        LdError::ContextUnknown("https://divoc.lgcc.gov.lk/credentials/vaccination/v1".into())
    );

    let mut undefined = signed_reference();
    undefined["credentialSubject"]["passport"] = json!("Z1234567");
    assert_eq!(
        prepare(&undefined).unwrap_err(),
        LdError::TermUndefined("passport".into())
    );

    let mut inline = signed_reference();
    inline["@context"] = json!([
        "https://www.w3.org/2018/credentials/v1",
        {"name": "https://schema.org/gender"}
    ]);
    assert!(matches!(prepare(&inline), Err(LdError::Invalid(_))));
    let mut nested = signed_reference();
    nested["credentialSubject"]["@context"] = json!("https://w3id.org/security/v2");
    assert!(matches!(prepare(&nested), Err(LdError::Invalid(_))));

    let mut float = signed_reference();
    float["evidence"][0]["dose"] = json!(1.5);
    assert_eq!(
        prepare(&float).unwrap_err(),
        LdError::ValueUnsupported("the number 1.5".into())
    );
    let mut big = signed_reference();
    big["credentialSubject"]["address"]["postalCode"] = json!(1u64 << 60);
    assert!(matches!(prepare(&big), Err(LdError::ValueUnsupported(_))));
    // Content the RDF drops, so no signature covers it (fuzz/fixtures/
    // divoc-proof-unsigned-index.json): refused, not shown as signed.
    for (key, value) in [
        ("@index", json!("NOT SIGNED: any text")),
        ("@direction", json!("rtl")),
        ("@included", json!([{"id": "did:example:unsigned"}])),
    ] {
        let mut unsigned = signed_reference();
        unsigned["credentialSubject"][key] = value;
        assert_eq!(
            prepare(&unsigned).unwrap_err(),
            LdError::Unsigned(key.into()),
            "{key}"
        );
    }
    let fixture: Value = serde_json::from_str(include_str!(
        "../../../fuzz/fixtures/divoc-proof-unsigned-index.json"
    ))
    .unwrap();
    assert_eq!(
        canonicalize(&fixture).unwrap_err(),
        LdError::Unsigned("@index".into())
    );
    let mut tab = signed_reference();
    tab["credentialSubject"]["name"] = json!("A\tB");
    assert!(matches!(prepare(&tab), Err(LdError::ValueUnsupported(_))));
}

#[test]
fn proofs_that_are_not_detached_2018_jws_are_refused() {
    let mut no_proof = signed_reference();
    no_proof.as_object_mut().unwrap().remove("proof");
    assert_eq!(prepare(&no_proof).unwrap_err(), LdError::ProofMissing);

    let mut other = signed_reference();
    other["proof"]["type"] = json!("BbsBlsSignature2020");
    assert_eq!(
        prepare(&other).unwrap_err(),
        LdError::ProofTypeUnsupported("BbsBlsSignature2020".into())
    );

    let mut purpose = signed_reference();
    purpose["proof"]["proofPurpose"] = json!("authentication");
    assert!(matches!(prepare(&purpose), Err(LdError::ProofInvalid(_))));

    // The Ed25519 header on an RSA proof.
    let mut header = signed_reference();
    let jws = header["proof"]["jws"].as_str().unwrap().to_owned();
    let signature = jws.split("..").nth(1).unwrap();
    header["proof"]["jws"] = json!(format!(
        "{}..{signature}",
        Suite::Ed25519Signature2018.encoded_header()
    ));
    assert!(matches!(prepare(&header), Err(LdError::ProofInvalid(_))));

    // An attached (non-detached) JWS.
    let mut attached = signed_reference();
    attached["proof"]["jws"] = json!(format!(
        "{}.e30.{signature}",
        Suite::RsaSignature2018.encoded_header()
    ));
    assert!(matches!(prepare(&attached), Err(LdError::ProofInvalid(_))));
}

#[test]
fn canonicalisation_is_bounded() {
    // Identical anonymous nodes: URDNA2015 would try every permutation of them.
    let mut twins = signed_reference();
    let address = twins["credentialSubject"]["address"].clone();
    twins["credentialSubject"]["address"] = Value::Array(vec![address; MAX_BLANK_NODE_TWINS + 1]);
    assert_eq!(prepare(&twins).unwrap_err(), LdError::BlankNodeTwins);
    // At the limit it is fine (and fast).
    let mut pairs = signed_reference();
    let address = pairs["credentialSubject"]["address"].clone();
    pairs["credentialSubject"]["address"] = Value::Array(vec![address; MAX_BLANK_NODE_TWINS]);
    assert!(prepare(&pairs).is_ok());

    let mut many = signed_reference();
    many["credentialSubject"]["name"] =
        Value::Array((0..=MAX_QUADS).map(|i| json!(format!("n{i}"))).collect());
    assert_eq!(prepare(&many).unwrap_err(), LdError::TooManyQuads);

    let mut nodes = signed_reference();
    nodes["credentialSubject"]["address"] = Value::Array(
        (0..300)
            .map(|i| json!({"district": format!("d{i}")}))
            .collect(),
    );
    assert_eq!(prepare(&nodes).unwrap_err(), LdError::TooManyBlankNodes);
}
