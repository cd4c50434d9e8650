//! DIVOC signatures through the whole pipeline: CoWIN's certificate with CoWIN's key, forged
//! and self-made credentials, what cannot be checked, and `healthpass verify --divoc-key`.

use std::io::{Cursor, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine;
use healthpass_jsonld::Suite;
use healthpass_trust::TrustStore;
use healthpass_trust::divoc_keys::DivocKey;
use healthpass_verify::{Format, Outcome, ReasonCode, Verdict, VerificationReport, verify};
use jiff::Timestamp;
use ring::signature::KeyPair;
use serde_json::{Value, json};

use crate::common::corpus_dir;

const AT: &str = "2021-04-01T00:00:00Z";

fn at() -> Timestamp {
    AT.parse().unwrap()
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../jsonld/tests/fixtures")
        .join(name)
}

/// CoWIN's `did:india` key (sources in the fixture file).
fn india_trust() -> TrustStore {
    let pem = std::fs::read_to_string(fixture_path("divoc-india.pub.pem")).unwrap();
    let mut trust = TrustStore::new();
    assert!(trust.add_divoc_key(DivocKey::from_pem(Some("did:india"), &pem).unwrap()));
    trust
}

/// The WHO ddcc-validator's CoWIN certificate: its QR text and its credential.
fn sample() -> Option<(String, Value)> {
    let dir = corpus_dir("who-ddcc-validator")?;
    let text = std::fs::read_to_string(dir.join("DIVOCQR1Contents.txt")).unwrap();
    let credential =
        serde_json::from_str(&std::fs::read_to_string(dir.join("DIVOCQR1Unpacked.json")).unwrap())
            .unwrap();
    Some((text.trim().to_owned(), credential))
}

/// A DIVOC QR text: `B64:` and the ZIP with `certificate.json`.
fn pack(credential: &Value) -> String {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("certificate.json", options).unwrap();
    writer
        .write_all(serde_json::to_string(credential).unwrap().as_bytes())
        .unwrap();
    let zip = writer.finish().unwrap().into_inner();
    format!(
        "B64:{}",
        base64::engine::general_purpose::STANDARD.encode(zip)
    )
}

fn codes(report: &VerificationReport) -> Vec<ReasonCode> {
    report.reasons.iter().map(|r| r.code).collect()
}

#[test]
fn the_cowin_sample_is_green_with_cowins_key() {
    let Some((text, _)) = sample() else {
        return;
    };
    let report = verify(&text, at(), &india_trust());
    assert_eq!(report.format, Format::Divoc);
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);
    assert!(report.reasons.is_empty());
    assert_eq!(report.checks.signer, Outcome::Pass);
    assert_eq!(report.checks.signature, Outcome::Pass);
    assert_eq!(report.kid.as_deref(), Some("did:india"));
    assert_eq!(report.issuer.as_deref(), Some("https://cowin.gov.in/"));
    let credential = report.credential.as_ref().unwrap();
    assert_eq!(
        credential.holder.name.as_deref(),
        Some("Third March User One")
    );
    assert_eq!(credential.events[0].dose, Some(1));

    // The key is bound to did:india: the same key under another method is not used.
    let pem = std::fs::read_to_string(fixture_path("divoc-india.pub.pem")).unwrap();
    let mut other = TrustStore::new();
    other.add_divoc_key(DivocKey::from_pem(Some("did:srilanka:moh"), &pem).unwrap());
    let report = verify(&text, at(), &other);
    assert_eq!(report.verdict, Verdict::Red);
    assert_eq!(codes(&report), [ReasonCode::SignerUnknown]);
}

#[test]
fn a_changed_cowin_certificate_is_red_signature_invalid() {
    let Some((_, credential)) = sample() else {
        return;
    };
    // Repacked unchanged, it still verifies: the signature is over the RDF, not the bytes.
    let report = verify(&pack(&credential), at(), &india_trust());
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);

    for (path, value) in [
        ("/credentialSubject/name", json!("Third March User Two")),
        ("/evidence/0/dose", json!(2)),
        ("/evidence/0/vaccine", json!("COVAXIN")),
        ("/issuanceDate", json!("2021-03-04T04:28:46.012Z")),
    ] {
        let mut forged = credential.clone();
        *forged.pointer_mut(path).unwrap() = value;
        let report = verify(&pack(&forged), at(), &india_trust());
        assert_eq!(report.verdict, Verdict::Red, "{path}");
        assert_eq!(codes(&report), [ReasonCode::SignatureInvalid], "{path}");
        assert_eq!(report.checks.signature, Outcome::Fail, "{path}");
    }

    // A field the contexts do not define would go unsigned: refused, not shown as signed.
    let mut extra = credential.clone();
    extra["credentialSubject"]["dob"] = json!("1956-01-01");
    let report = verify(&pack(&extra), at(), &india_trust());
    assert_eq!(report.verdict, Verdict::Red);
    assert_eq!(codes(&report), [ReasonCode::PayloadInvalid]);
    assert!(report.reasons[0].message.contains("\"dob\""));
}

#[test]
fn what_this_verifier_cannot_check_is_yellow_and_says_why() {
    let Some((_, credential)) = sample() else {
        return;
    };
    let mut context = credential.clone();
    context["@context"][1] = json!("https://divoc.prod/vaccine/credentials/vaccination/v1");
    let report = verify(&pack(&context), at(), &india_trust());
    assert_eq!(report.verdict, Verdict::Yellow);
    assert_eq!(codes(&report), [ReasonCode::ContextUnknown]);
    assert!(
        report.reasons[0]
            .message
            .contains("https://divoc.prod/vaccine/credentials/vaccination/v1")
    );

    let mut suite = credential.clone();
    suite["proof"]["type"] = json!("JsonWebSignature2020");
    let report = verify(&pack(&suite), at(), &india_trust());
    assert_eq!(report.verdict, Verdict::Yellow);
    assert_eq!(codes(&report), [ReasonCode::SignatureNotChecked]);

    let mut twins = credential;
    let address = twins["credentialSubject"]["address"].clone();
    twins["credentialSubject"]["address"] = Value::Array(vec![address; 7]);
    let report = verify(&pack(&twins), at(), &india_trust());
    assert_eq!(report.verdict, Verdict::Red);
    assert_eq!(codes(&report), [ReasonCode::CredentialTooComplex]);
}

/// A credential signed here with a fresh Ed25519 key, as a DIVOC deployment would.
fn self_signed() -> (DivocKey, Value) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let mut unsigned: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_path("reference-ed25519.json")).unwrap(),
    )
    .unwrap();
    unsigned.as_object_mut().unwrap().remove("proof");
    let signed = healthpass_jsonld::sign(
        &unsigned,
        Suite::Ed25519Signature2018,
        "did:example:moh",
        "2021-08-01T10:00:00Z",
        |m| pair.sign(m).as_ref().to_vec(),
    )
    .unwrap();
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(pair.public_key().as_ref());
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&spki)
    );
    (DivocKey::from_pem(None, &pem).unwrap(), signed)
}

#[test]
fn a_self_signed_ed25519_credential_round_trips() {
    let (key, signed) = self_signed();
    let mut trust = TrustStore::new();
    trust.add_divoc_key(key);
    let report = verify(
        &pack(&signed),
        "2021-09-01T00:00:00Z".parse().unwrap(),
        &trust,
    );
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);
    assert_eq!(report.kid.as_deref(), Some("did:example:moh"));
    assert_eq!(
        report
            .credential
            .as_ref()
            .unwrap()
            .holder
            .birth_date
            .as_deref(),
        Some("1980-02-29")
    );

    // CoWIN's RSA key cannot verify an Ed25519 proof.
    let report = verify(&pack(&signed), at(), &india_trust_unbound());
    assert_eq!(codes(&report), [ReasonCode::AlgorithmNotAllowed]);

    let mut forged = signed.clone();
    forged["credentialSubject"]["dob"] = json!("1990-02-28");
    let report = verify(&pack(&forged), at(), &trust);
    assert_eq!(codes(&report), [ReasonCode::SignatureInvalid]);
    // Another Ed25519 key: invalid too.
    let mut other = TrustStore::new();
    other.add_divoc_key(self_signed().0);
    let report = verify(&pack(&signed), at(), &other);
    assert_eq!(codes(&report), [ReasonCode::SignatureInvalid]);
}

fn india_trust_unbound() -> TrustStore {
    let pem = std::fs::read_to_string(fixture_path("divoc-india.pub.pem")).unwrap();
    let mut trust = TrustStore::new();
    trust.add_divoc_key(DivocKey::from_pem(None, &pem).unwrap());
    trust
}

#[test]
fn verify_divoc_key_trusts_a_key_for_its_method() {
    let Some((text, _)) = sample() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.txt"), &text).unwrap();
    let key = fixture_path("divoc-india.pub.pem");
    let run = |key_arg: String| {
        let out = Command::new(env!("CARGO_BIN_EXE_healthpass"))
            .args([
                "verify",
                "--json",
                "--at",
                AT,
                "--divoc-key",
                &key_arg,
                "@cert.txt",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    };
    let (code, report) = run(format!("did:india={}", key.display()));
    assert_eq!(report["verdict"], "green", "{report}");
    assert_eq!(code, Some(0));
    let (code, report) = run(format!("did:other={}", key.display()));
    assert_eq!(report["verdict"], "red");
    assert_eq!(report["reasons"][0]["code"], "signer_unknown");
    assert_ne!(code, Some(0));
    let (_, report) = run(key.display().to_string());
    assert_eq!(report["verdict"], "green");
}
