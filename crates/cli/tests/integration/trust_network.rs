//! The trust network end to end, without the wire (HTTP and mutual TLS come on top of this):
//! a 2-of-3 governance network, three countries onboarded, each uploading its signer through
//! the gateway's checks; a verifier that checks the published list itself and verifies a
//! certificate green; the signer withdrawn, and the same certificate red for that reason.

use healthpass_gateway::Registry;
use healthpass_issue::pki::{TestPki, TestPkiOptions, generate_test_pki};
use healthpass_network::cms::UploadSigner;
use healthpass_network::trustlist::TrustList;
use healthpass_network::{GovernanceKey, Network, OnboardingRecord, SignedOnboarding};
use healthpass_trust::TrustStore;
use healthpass_verify::{ReasonCode, Verdict};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

use crate::fixtures::{issuer, t0, vaccination};

struct Country {
    code: &'static str,
    /// CSCA and the DSC that signs health certificates.
    pki: TestPki,
}

fn country(code: &'static str) -> Country {
    let make = || {
        generate_test_pki(&TestPkiOptions::new(
            code,
            t0() - SignedDuration::from_hours(24),
        ))
        .unwrap()
    };
    Country { code, pki: make() }
}

/// What a verifier does on sync: read the list as it came over the wire and check every
/// chain against the network definition it holds.
fn sync(gateway: &Registry, network: &Network) -> TrustStore {
    let wire = serde_json::to_string(&gateway.trust_list()).unwrap();
    let list = TrustList::from_json(&wire)
        .unwrap()
        .verify(network, &BTreeMap::new())
        .unwrap();
    assert!(list.rejected.is_empty(), "{:?}", list.rejected);
    list.to_trust_store()
}

#[test]
fn onboard_upload_verify_withdraw_verify_again() {
    let keys = [(); 3].map(|()| GovernanceKey::generate().unwrap());
    let network = Network::new(
        "test-net",
        2,
        keys.iter().map(GovernanceKey::public).collect(),
    )
    .unwrap();
    let countries = [country("AT"), country("DE"), country("FR")];
    let mut gateway = Registry::new(network.clone());
    for (i, c) in countries.iter().enumerate() {
        let csca = TrustStore::parse_certificates(c.pki.csca_cert_pem.as_bytes());
        let upload = std::slice::from_ref(&c.pki.upload_cert_der);
        let record =
            OnboardingRecord::new(&network, c.code, 1, t0(), &csca, upload, upload).unwrap();
        let mut signed = SignedOnboarding::unsigned(record);
        // Different pairs of governance members sign for different countries.
        signed.sign(&keys[i % 3], &network).unwrap();
        signed.sign(&keys[(i + 1) % 3], &network).unwrap();
        gateway.onboard(signed).unwrap();
        let signer = UploadSigner::new(&c.pki.upload_key_pem, &c.pki.upload_cert_der).unwrap();
        let cms = signer.sign_at(&c.pki.dsc_cert_der, false, t0()).unwrap();
        gateway.upload_signer(c.code, &cms, t0()).unwrap();
    }
    assert_eq!(gateway.countries(), ["AT", "DE", "FR"]);

    let at = &countries[0];
    let text = issuer(&at.pki)
        .issue(
            &vaccination(),
            t0(),
            t0() + SignedDuration::from_hours(24 * 30),
        )
        .unwrap();
    let now: Timestamp = t0() + SignedDuration::from_hours(1);
    let trust = sync(&gateway, &network);
    assert_eq!(trust.len(), 3);
    let report = healthpass_verify::verify(&text, now, &trust);
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);

    // AT withdraws that signer; the verifier syncs again.
    let signer = UploadSigner::new(&at.pki.upload_key_pem, &at.pki.upload_cert_der).unwrap();
    let withdrawal = signer
        .sign_at(
            &at.pki.dsc_cert_der,
            false,
            t0() + SignedDuration::from_mins(1),
        )
        .unwrap();
    gateway.withdraw_signer("AT", &withdrawal, now).unwrap();
    let trust = sync(&gateway, &network);
    assert_eq!(trust.len(), 2);
    let report = healthpass_verify::verify(&text, now, &trust);
    assert_eq!(report.verdict, Verdict::Red);
    assert!(
        report.has_reason(ReasonCode::SignerWithdrawn),
        "{:?}",
        report.reasons
    );
    assert!(
        report.reasons[0].message.contains("withdrawn by AT"),
        "{}",
        report.reasons[0].message
    );
}
