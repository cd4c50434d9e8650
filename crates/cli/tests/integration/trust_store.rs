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
    // A private key beside the certificates (as `keys test-pki` writes them) is skipped.
    std::fs::write(d.join("dsc.key.pem"), &at_es256().dsc_key_pem).unwrap();
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

/// A minimal DER rewriter for building oddly-encoded certificates from a good one.
mod der {
    /// Splits a DER element into (tag, content, total length).
    pub fn element(bytes: &[u8]) -> (u8, &[u8], usize) {
        let tag = bytes[0];
        let (len, header) = match bytes[1] {
            n if n < 0x80 => (n as usize, 2),
            0x81 => (bytes[2] as usize, 3),
            0x82 => ((bytes[2] as usize) << 8 | bytes[3] as usize, 4),
            n => panic!("length form {n:#x} not needed here"),
        };
        (tag, &bytes[header..header + len], header + len)
    }

    /// The children of a constructed element's content.
    pub fn children(mut content: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while !content.is_empty() {
            let (_, _, total) = element(content);
            out.push(content[..total].to_vec());
            content = &content[total..];
        }
        out
    }

    pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend_from_slice(&[0x81, n as u8]),
            n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(content);
        out
    }

    /// Rebuilds a certificate with `edit` applied to the children of its TBSCertificate.
    pub fn edit_tbs(cert: &[u8], edit: impl FnOnce(Vec<Vec<u8>>) -> Vec<Vec<u8>>) -> Vec<u8> {
        let (_, cert_content, _) = element(cert);
        let mut parts = children(cert_content);
        let (tbs_tag, tbs_content, _) = element(&parts[0]);
        let tbs = edit(children(tbs_content)).concat();
        parts[0] = encode(tbs_tag, &tbs);
        encode(0x30, &parts.concat())
    }
}

#[test]
fn tolerates_v1_certificates_and_explicit_defaults() {
    let original = &at_es256().dsc_cert_der;
    let good = SignerCertificate::from_der(original).unwrap();

    // X.509 v1: no version field ([0]) and no extensions ([3]), as three real Spanish DSCs.
    let v1 = der::edit_tbs(original, |fields| {
        fields
            .into_iter()
            .filter(|f| f[0] != 0xA0 && f[0] != 0xA3)
            .collect()
    });
    let parsed = SignerCertificate::from_der(&v1).unwrap();
    assert_eq!(
        parsed.key_usage(),
        &KeyUsage::Any,
        "no extensions: no restriction"
    );
    assert_eq!(parsed.country(), Some("AT"));
    assert_eq!(parsed.public_key(), good.public_key());
    assert_eq!(
        parsed.kid(),
        kid_of(&v1),
        "the kid is computed over the bytes received"
    );

    // Every extension with `critical FALSE` written out, which DER forbids but real DSCs do.
    let explicit = der::edit_tbs(original, |fields| {
        fields
            .into_iter()
            .map(|field| {
                if field[0] != 0xA3 {
                    return field;
                }
                let (_, wrapper, _) = der::element(&field);
                let (_, list, _) = der::element(wrapper);
                let extensions: Vec<Vec<u8>> = der::children(list)
                    .into_iter()
                    .map(|ext| {
                        let (_, content, _) = der::element(&ext);
                        let mut parts = der::children(content);
                        if parts[1][0] != 0x01 {
                            parts.insert(1, vec![0x01, 0x01, 0x00]);
                        }
                        der::encode(0x30, &parts.concat())
                    })
                    .collect();
                der::encode(0xA3, &der::encode(0x30, &extensions.concat()))
            })
            .collect()
    });
    assert_ne!(&explicit, original);
    let parsed = SignerCertificate::from_der(&explicit).unwrap();
    assert_eq!(
        parsed.key_usage(),
        good.key_usage(),
        "the extended key usage still reads"
    );
    assert_eq!(parsed.validity(), good.validity());
}

fn csca_of(pki: &healthpass_issue::pki::TestPki) -> SignerCertificate {
    let der = TrustStore::parse_certificates(pki.csca_cert_pem.as_bytes()).remove(0);
    SignerCertificate::from_der(&der).unwrap()
}

/// HCERT's two-level PKI: a DSC is accepted from a country only if one of its CSCAs signed
/// it (EU gateway upload check; the sync client repeats it). ECDSA and RSA-PSS chains.
#[test]
fn a_dsc_is_issued_by_its_csca_and_no_other() {
    use healthpass_trust::{ChainError, verify_issued_by};
    for pki in [at_es256(), de_ps256()] {
        let dsc = SignerCertificate::from_der(&pki.dsc_cert_der).unwrap();
        let csca = csca_of(pki);
        assert_eq!(verify_issued_by(&dsc, &csca), Ok(()), "{}", dsc.subject());
        assert_eq!(
            verify_issued_by(&csca, &csca),
            Ok(()),
            "a CSCA signs itself"
        );
        // The DSC cannot have issued the CSCA.
        assert!(matches!(
            verify_issued_by(&csca, &dsc),
            Err(ChainError::IssuerName { .. })
        ));
    }
    // Another country's CSCA: another name.
    let at_dsc = SignerCertificate::from_der(&at_es256().dsc_cert_der).unwrap();
    let err = verify_issued_by(&at_dsc, &csca_of(de_ps256())).unwrap_err();
    assert!(matches!(err, ChainError::IssuerName { .. }), "{err}");
    // Same name, other key: a CSCA made again for AT does not verify AT's DSC.
    let other_at =
        healthpass_issue::pki::generate_test_pki(&healthpass_issue::pki::TestPkiOptions::new(
            "AT",
            t0() - jiff::SignedDuration::from_hours(24),
        ))
        .unwrap();
    let impostor = csca_of(&other_at);
    assert_eq!(impostor.subject(), csca_of(at_es256()).subject());
    assert_eq!(
        verify_issued_by(&at_dsc, &impostor),
        Err(ChainError::Signature)
    );
}
