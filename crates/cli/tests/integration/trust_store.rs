//! Loading signer certificates: formats, folders, key ids and key usage of real DSCs.

use base64::Engine;
use healthpass_codec::dcc::CertificateType;
use healthpass_trust::{KeyUsage, PublicKey, SignerCertificate, TrustStore, kid_of};
use serde_json::Value;

use crate::common::corpus_dir;
use crate::fixtures::*;

fn corpus_signer(file: &str) -> Option<SignerCertificate> {
    let dir = corpus_dir("eu-dcc-testdata")?;
    let record: Value = serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(record["TESTCTX"]["CERTIFICATE"].as_str().unwrap())
        .unwrap();
    Some(SignerCertificate::from_der(&der).unwrap())
}

#[test]
fn kid_is_the_first_8_bytes_of_the_certificate_hash() {
    // HCERT appendix A.1; the AT vector's kid is d919375fc1e7b6b2 (its COSE header says so).
    let Some(at) = corpus_signer("AT/2DCode/raw/1.json") else {
        return;
    };
    assert_eq!(at.kid(), [0xd9, 0x19, 0x37, 0x5f, 0xc1, 0xe7, 0xb6, 0xb2]);
    assert_eq!(at.kid(), kid_of(at.der()));
    assert!(at.thumbprint().starts_with("d919375fc1e7b6b2"));
    assert_eq!(at.country(), Some("AT"));
    assert!(matches!(at.public_key(), PublicKey::EcP256(_)));
}

#[test]
fn key_usage_of_real_signers() {
    let Some(test_only) = corpus_signer("common/2DCode/raw/CO6.json") else {
        return;
    };
    // CO6: "OID for Test present, but DGC for vacc".
    assert!(test_only.key_usage().permits(CertificateType::Test));
    assert!(!test_only.key_usage().permits(CertificateType::Vaccination));
    // CO15: an empty extended key usage restricts nothing.
    let empty = corpus_signer("common/2DCode/raw/CO15.json").unwrap();
    assert_eq!(empty.key_usage(), &KeyUsage::Any);
    // CO1 and CO2: RSA-2048 and RSA-3072 signers for PS256.
    let rsa2048 = corpus_signer("common/2DCode/raw/CO1.json").unwrap();
    assert!(matches!(
        rsa2048.public_key(),
        PublicKey::Rsa { bits: 2048, .. }
    ));
    let rsa3072 = corpus_signer("common/2DCode/raw/CO2.json").unwrap();
    assert!(matches!(
        rsa3072.public_key(),
        PublicKey::Rsa { bits: 3072, .. }
    ));
}

#[test]
fn loads_pem_der_base64_files_and_folders() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("nested")).unwrap();
    // One PEM with two certificates, one DER, one Base64 body, one unrelated file.
    std::fs::write(
        d.join("two.pem"),
        format!("{}\n{}", at_es256().dsc_cert_pem, at_es256().csca_cert_pem),
    )
    .unwrap();
    std::fs::write(d.join("nested/fr.der"), &fr_vaccination_only().dsc_cert_der).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&de_ps256().dsc_cert_der);
    std::fs::write(d.join("de.b64"), b64).unwrap();
    std::fs::write(d.join("notes.txt"), "not a certificate").unwrap();
    let mut store = TrustStore::new();
    assert_eq!(store.load_path(d).unwrap(), 4);
    assert_eq!(store.len(), 4);
    assert_eq!(store.load_path(d).unwrap(), 0, "loading twice adds nothing");
    let kid = SignerCertificate::from_der(&de_ps256().dsc_cert_der)
        .unwrap()
        .kid();
    assert_eq!(store.signers(&kid).len(), 1);
    assert!(
        store.signers(b"foo").is_empty(),
        "a kid of the wrong length finds nothing"
    );

    std::fs::write(
        d.join("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = TrustStore::new().load_path(d).unwrap_err().to_string();
    assert!(
        err.contains("broken.pem") && err.contains("certificate 1"),
        "{err}"
    );
    let err = TrustStore::new()
        .load_path(&d.join("notes.txt"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no certificate found"), "{err}");
    let err = TrustStore::new()
        .load_path(&d.join("missing.pem"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.pem"), "{err}");
}

#[test]
fn certificates_with_trailing_bytes_are_refused() {
    let mut der = at_es256().dsc_cert_der.clone();
    der.push(0);
    assert!(matches!(
        SignerCertificate::from_der(&der),
        Err(healthpass_trust::CertificateError::TrailingBytes { extra: 1 })
    ));
    assert!(SignerCertificate::from_der(&der[..100]).is_err());
}
