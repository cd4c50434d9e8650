//! Issue → QR PNG → scan → verify, and what tampering and foreign signers do to the verdict.

use healthpass_codec::cose::{CoseSign1, encode_sign1};
use healthpass_codec::{hc1, zlib};
use healthpass_issue::IssueError;
use healthpass_verify::{Outcome, ReasonCode, Verdict, verify};
use jiff::SignedDuration;

use crate::fixtures::*;

fn assert_round_trip(pki: &healthpass_issue::pki::TestPki) {
    let text = issue(pki, &vaccination());
    let png = healthpass_issue::qr::png(&text, 3).unwrap();
    let scanned = healthpass_scan::scan_image(&png).unwrap();
    assert_eq!(scanned, text);
    let report = verify(
        &scanned,
        t0() + SignedDuration::from_hours(1),
        &trust(&[pki]),
    );
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);
    assert!(report.checks.all_pass());
    assert_eq!(
        report.issuer_country.as_deref(),
        Some(&pki_country(pki)[..])
    );
    assert_eq!(report.certificate.unwrap().into_value(), vaccination());
}

fn pki_country(pki: &healthpass_issue::pki::TestPki) -> String {
    healthpass_trust::SignerCertificate::from_der(&pki.dsc_cert_der)
        .unwrap()
        .country()
        .unwrap()
        .to_owned()
}

#[test]
fn es256_issue_png_scan_verify_is_green() {
    assert_round_trip(at_es256());
}

#[test]
fn ps256_issue_png_scan_verify_is_green() {
    assert_round_trip(de_ps256());
}

#[test]
fn svg_is_a_qr_image() {
    let svg = healthpass_issue::qr::svg(&issue(at_es256(), &vaccination())).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
    assert!(svg.contains("<path"));
}

/// Re-encodes a certificate after `edit` changes its COSE message.
fn tamper(text: &str, edit: impl FnOnce(&mut Vec<u8>, &CoseSign1<'_>)) -> String {
    let cose = hc1::decode(text, zlib::DEFAULT_INFLATE_LIMIT).unwrap();
    let message = CoseSign1::decode(&cose).unwrap();
    let mut payload = message.payload.to_vec();
    edit(&mut payload, &message);
    hc1::encode(&encode_sign1(
        message.protected_bytes,
        &payload,
        message.signature,
    ))
}

#[test]
fn one_changed_payload_byte_is_red_with_bad_signature() {
    for pki in [at_es256(), de_ps256()] {
        let text = issue(pki, &vaccination());
        // Change the holder's name: "Musterfrau" → "Musterfrax".
        let forged = tamper(&text, |payload, _| {
            let at = payload
                .windows(10)
                .position(|w| w == b"Musterfrau")
                .unwrap();
            payload[at + 9] = b'x';
        });
        let report = verify(&forged, t0(), &trust(&[pki]));
        assert_eq!(report.verdict, Verdict::Red);
        assert_eq!(report.checks.signer, Outcome::Pass);
        assert_eq!(report.checks.signature, Outcome::Fail);
        assert!(
            report.has_reason(ReasonCode::SignatureInvalid),
            "{:?}",
            report.reasons
        );
        assert!(!report.has_reason(ReasonCode::SignerUnknown));
        // Independent checks still ran.
        assert_eq!(report.checks.schema, Outcome::Pass);
        assert_eq!(report.checks.validity_period, Outcome::Pass);
        assert_eq!(
            report.checks.key_usage,
            Outcome::Skipped,
            "no verified signer, no key usage"
        );
    }
}

#[test]
fn another_countrys_signer_is_red_with_unknown_signer() {
    let text = issue(at_es256(), &vaccination());
    let report = verify(&text, t0(), &trust(&[de_ps256(), fr_vaccination_only()]));
    assert_eq!(report.verdict, Verdict::Red);
    assert_eq!(report.checks.signer, Outcome::Fail);
    assert_eq!(report.checks.signature, Outcome::Skipped);
    assert!(report.has_reason(ReasonCode::SignerUnknown));
    assert!(!report.has_reason(ReasonCode::SignatureInvalid));
    assert_eq!(
        report.checks.schema,
        Outcome::Pass,
        "the payload is still checked"
    );
}

#[test]
fn expired_and_not_yet_valid_are_different_reasons() {
    let text = issue(at_es256(), &vaccination());
    let trust = trust(&[at_es256()]);
    let late = verify(&text, t0() + SignedDuration::from_hours(24 * 31), &trust);
    assert_eq!(late.checks.validity_period, Outcome::Fail);
    assert!(late.has_reason(ReasonCode::Expired));
    assert!(!late.has_reason(ReasonCode::NotYetValid));
    // An expired certificate still reports its signature, key usage and schema.
    assert_eq!(late.checks.signature, Outcome::Pass);
    assert_eq!(late.checks.key_usage, Outcome::Pass);
    assert_eq!(late.checks.schema, Outcome::Pass);

    let early = verify(&text, t0() - SignedDuration::from_hours(2), &trust);
    assert!(early.has_reason(ReasonCode::NotYetValid));
    assert!(!early.has_reason(ReasonCode::Expired));
    // Within the 5-minute clock skew allowance it is fine.
    let skewed = verify(&text, t0() - SignedDuration::from_mins(4), &trust);
    assert_eq!(skewed.verdict, Verdict::Green, "{:?}", skewed.reasons);
    // Before the signer certificate's validity.
    let ancient = verify(&text, t0() - SignedDuration::from_hours(24 * 400), &trust);
    assert!(ancient.has_reason(ReasonCode::SignerNotYetValid));
}

#[test]
fn key_usage_restricts_types_for_issuer_and_verifier() {
    let pki = fr_vaccination_only();
    // The issuer refuses to sign what the signer may not sign…
    let err = issuer(pki)
        .issue(&test_result(), t0(), t0() + SignedDuration::from_hours(48))
        .unwrap_err();
    assert_eq!(err, IssueError::KeyUsage { kind: "t" });
    // …and a verifier refuses it when someone signs it anyway. Swap a vaccination for a test
    // result by hand with the same key (the signature is valid, the key usage is not).
    let vacc = issue(pki, &vaccination());
    let text = tamper(&vacc, |payload, _| {
        let claims = healthpass_codec::cwt::HcertClaims::decode(payload).unwrap();
        *payload = healthpass_codec::cwt::encode_hcert_claims(
            claims.issuer,
            claims.issued_at.unwrap(),
            claims.expires_at.unwrap(),
            &test_result(),
        );
    });
    let resigned = resign(&text, pki);
    let report = verify(&resigned, t0(), &trust(&[pki]));
    assert_eq!(
        report.checks.signature,
        Outcome::Pass,
        "{:?}",
        report.reasons
    );
    assert_eq!(report.checks.key_usage, Outcome::Fail);
    assert!(report.has_reason(ReasonCode::KeyUsageMismatch));
    assert_eq!(report.verdict, Verdict::Red);
}

/// Signs the COSE payload of `text` again with the PKI's key.
fn resign(text: &str, pki: &healthpass_issue::pki::TestPki) -> String {
    let cose = hc1::decode(text, zlib::DEFAULT_INFLATE_LIMIT).unwrap();
    let message = CoseSign1::decode(&cose).unwrap();
    let key = healthpass_issue::SigningKey::from_pkcs8_pem(&pki.dsc_key_pem).unwrap();
    let signature = key.sign(&message.to_be_signed()).unwrap();
    hc1::encode(&encode_sign1(
        message.protected_bytes,
        message.payload,
        &signature,
    ))
}

#[test]
fn issuer_refuses_certificates_that_outlive_the_signer() {
    let issuer = issuer(at_es256());
    let err = issuer
        .issue(
            &vaccination(),
            t0(),
            t0() + SignedDuration::from_hours(24 * 3000),
        )
        .unwrap_err();
    assert!(matches!(err, IssueError::OutlivesSigner { .. }), "{err}");
    let err = issuer.issue(&vaccination(), t0(), t0()).unwrap_err();
    assert!(matches!(err, IssueError::EmptyValidity { .. }));
}

#[test]
fn key_and_certificate_must_match() {
    let key = healthpass_issue::SigningKey::from_pkcs8_pem(&at_es256().dsc_key_pem).unwrap();
    let other =
        healthpass_trust::SignerCertificate::from_der(&fr_vaccination_only().dsc_cert_der).unwrap();
    assert!(matches!(
        healthpass_issue::Hc1Issuer::new(key, other),
        Err(IssueError::KeyMismatch { .. })
    ));
}

#[test]
fn every_signer_with_the_kid_is_tried() {
    // Key ids are 8 bytes, so different signers can share one (HCERT 3.3.3): put another
    // country's signer under AT's kid first; the verifier must go on to the right one.
    let text = issue(at_es256(), &vaccination());
    let at = healthpass_trust::SignerCertificate::from_der(&at_es256().dsc_cert_der).unwrap();
    let fr =
        healthpass_trust::SignerCertificate::from_der(&fr_vaccination_only().dsc_cert_der).unwrap();
    let mut store = healthpass_trust::TrustStore::new();
    assert!(store.insert_with_kid(at.kid(), fr.clone()));
    let report = verify(&text, t0(), &store);
    assert_eq!(report.checks.signer, Outcome::Pass);
    assert!(report.has_reason(ReasonCode::SignatureInvalid));

    assert!(store.insert(at.clone()));
    assert!(
        !store.insert(at.clone()),
        "the same certificate is not added twice"
    );
    assert_eq!(store.signers(&at.kid()).len(), 2);
    let report = verify(&text, t0(), &store);
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);
    assert_eq!(report.signer.unwrap().country(), Some("AT"));
}

/// A revocation by any of the three EU hash types turns exactly that certificate red; a
/// batch for another signer, or an unsigned copy, does not match.
#[test]
fn a_revoked_certificate_is_red_by_each_hash_type() {
    use healthpass_trust::revocation::{CertificateHashes, HashType, RevocationSource};
    let pki = at_es256();
    let text = issue(pki, &vaccination());
    let mut other = vaccination();
    other["v"][0]["ci"] = "URN:UVCI:01:AT:00000000000000000000000000000001#B".into();
    let other_text = issue(pki, &other);
    let cose = hc1::decode(&text, zlib::DEFAULT_INFLATE_LIMIT).unwrap();
    let message = CoseSign1::decode(&cose).unwrap();
    let ci = vaccination()["v"][0]["ci"].as_str().unwrap().to_owned();
    let hashes = CertificateHashes::compute(message.signature, true, "AT", &ci);
    let kid: [u8; 8] = message.kid().unwrap().try_into().unwrap();
    let at = t0() + SignedDuration::from_hours(1);
    for hash_type in HashType::ALL {
        for (batch_kid, revoked) in [(Some(kid), true), (None, true), (Some([0; 8]), false)] {
            let mut store = trust(&[pki]);
            store.revocations_mut().insert_batch(
                RevocationSource {
                    country: "AT".into(),
                    batch_id: "b-1".into(),
                },
                batch_kid,
                hash_type,
                [hashes.of(hash_type)],
            );
            let report = verify(&text, at, &store);
            let case = format!("{hash_type} for {batch_kid:?}");
            if revoked {
                assert_eq!(report.verdict, Verdict::Red, "{case}");
                assert_eq!(report.checks.revocation, Outcome::Fail, "{case}");
                assert_eq!(report.reasons.len(), 1, "{case}");
                assert_eq!(report.reasons[0].code, ReasonCode::CertificateRevoked);
                assert!(
                    report.reasons[0]
                        .message
                        .contains(&format!("{hash_type} hash")),
                    "{}",
                    report.reasons[0].message
                );
            } else {
                assert_eq!(report.verdict, Verdict::Green, "{case}");
            }
            // The other certificate of the same signer stays green.
            assert_eq!(verify(&other_text, at, &store).verdict, Verdict::Green);
        }
    }
}
