//! The trust network end to end, over the wire: a 2-of-3 governance network; a gateway on
//! loopback with mutual TLS and its SQLite log; three countries onboarded, each uploading its
//! signer with its own authentication and upload certificates; a verifier that syncs and checks
//! every chain itself. A certificate of AT verifies green; a revocation batch makes another
//! red ("certificate revoked"); AT withdraws its signer and, after the next sync, the first is
//! red ("signer withdrawn"). Each attack the issue names is refused with its reason.

use healthpass_client::http::{ClientError, ClientTls, GatewayClient};
use healthpass_client::sync::{SyncError, TrustState, sync};
use healthpass_client::upload::{UploadError, UploadKind, upload};
use healthpass_gateway::server::{Gateway, router};
use healthpass_gateway::store::{Store, drop_test_database, test_database_urls};
use healthpass_gateway::tls;
use healthpass_issue::pki::{GatewayTls, TestPki, TestPkiOptions, generate_test_pki};
use healthpass_network::cms::UploadSigner;
use healthpass_network::revocation::RevocationBatch;
use healthpass_network::trustlist::TrustList;
use healthpass_network::{GovernanceKey, Network, OnboardingRecord, SignedOnboarding};
use healthpass_trust::revocation::{CertificateHashes, HashType};
use healthpass_trust::{SignerCertificate, TrustStore};
use healthpass_verify::{ReasonCode, TrustFreshness, Verdict, VerifyOptions};
use jiff::{SignedDuration, Timestamp};

use crate::fixtures::{issuer, vaccination};

struct Country {
    code: &'static str,
    pki: TestPki,
}

impl Country {
    /// A country whose certificates are valid now (the gateway checks TLS client
    /// certificates against the real clock).
    fn new(code: &'static str) -> Self {
        let options = TestPkiOptions::new(code, Timestamp::now() - SignedDuration::from_hours(24));
        Country {
            code,
            pki: generate_test_pki(&options).unwrap(),
        }
    }

    fn record(&self, network: &Network, keys: &[&GovernanceKey]) -> Vec<u8> {
        self.record_numbered(network, keys, 1)
    }

    fn record_numbered(
        &self,
        network: &Network,
        keys: &[&GovernanceKey],
        sequence: u64,
    ) -> Vec<u8> {
        let csca = TrustStore::parse_certificates(self.pki.csca_cert_pem.as_bytes());
        let record = OnboardingRecord::new(
            network,
            self.code,
            sequence,
            Timestamp::now(),
            &csca,
            std::slice::from_ref(&self.pki.upload_cert_der),
            std::slice::from_ref(&self.pki.auth_cert_der),
        )
        .unwrap();
        let mut signed = SignedOnboarding::unsigned(record);
        for key in keys {
            signed.sign(key, network).unwrap();
        }
        signed.to_json().into_bytes()
    }

    /// Signs `content` with the country's upload certificate, now.
    fn cms(&self, content: &[u8]) -> Vec<u8> {
        UploadSigner::new(&self.pki.upload_key_pem, &self.pki.upload_cert_der)
            .unwrap()
            .sign_at(content, false, Timestamp::now())
            .unwrap()
    }

    /// Uploads as the country, expecting a refusal; returns the problem.
    async fn refused(&self, wire: &Wire, kind: UploadKind, cms: &[u8]) -> String {
        refused(upload(&self.client(wire), kind, cms).await)
    }

    /// A mutual-TLS client with the country's authentication certificate.
    fn client(&self, gateway: &Wire) -> GatewayClient {
        gateway.client(Some((&self.pki.auth_cert_pem, &self.pki.auth_key_pem)))
    }
}

/// A running gateway.
struct Wire {
    url: String,
    db: String,
    tls: GatewayTls,
    _dir: tempfile::TempDir,
}

impl Wire {
    /// Starts a gateway on the `index`th test database (SQLite; PostgreSQL when
    /// `HEALTHPASS_TEST_POSTGRES` is set).
    async fn start(network: &Network, index: usize) -> Wire {
        let dir = tempfile::tempdir().unwrap();
        let db = test_database_urls(dir.path()).swap_remove(index);
        let log_key = healthpass_trust::tlog::NoteSigner::generate(
            "gateway.test/log",
            healthpass_trust::tlog::NoteKeyKind::Ed25519,
        )
        .unwrap();
        let gateway = Gateway::open(network.clone(), Store::open(&db).await.unwrap(), log_key)
            .await
            .unwrap();
        let tls = healthpass_issue::pki::generate_gateway_tls(
            &["localhost".into()],
            Timestamp::now() - SignedDuration::from_hours(1),
            2,
        )
        .unwrap();
        let acceptor = tls::acceptor(tls.cert_pem.as_bytes(), tls.key_pem.as_bytes()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(tls::serve(
            listener,
            acceptor,
            router(gateway),
            std::future::pending(),
        ));
        Wire {
            url: format!("https://localhost:{port}"),
            db,
            tls,
            _dir: dir,
        }
    }

    /// Every test database, in turn.
    fn backends() -> std::ops::Range<usize> {
        0..test_database_urls(std::path::Path::new(".")).len()
    }

    fn client(&self, identity: Option<(&str, &str)>) -> GatewayClient {
        let tls = ClientTls {
            ca_pem: Some(self.tls.ca_cert_pem.clone().into_bytes()),
            identity: identity.map(|(c, k)| (c.as_bytes().to_vec(), k.as_bytes().to_vec())),
        };
        GatewayClient::new(&self.url, &tls).unwrap()
    }
}

fn refused(result: Result<serde_json::Value, UploadError>) -> String {
    match result {
        Err(UploadError::Refused(problem)) => problem,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn network() -> (Network, [GovernanceKey; 3]) {
    let keys = [(); 3].map(|()| GovernanceKey::generate().unwrap());
    let network = Network::new(
        "test-net",
        2,
        keys.iter().map(GovernanceKey::public).collect(),
    )
    .unwrap();
    (network, keys)
}

fn verify(text: &str, state: &TrustState, now: Timestamp) -> healthpass_verify::VerificationReport {
    let options = VerifyOptions {
        trust_freshness: Some(TrustFreshness {
            fetched_at: state.fetched_at,
            max_age: SignedDuration::from_hours(24),
        }),
        ..VerifyOptions::default()
    };
    healthpass_verify::verify_with(text, now, &state.to_trust_store().unwrap(), &options)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboard_upload_sync_verify_revoke_withdraw_over_mutual_tls() {
    for backend in Wire::backends() {
        let (network, keys) = network();
        let wire = Wire::start(&network, backend).await;
        onboard_upload_sync_verify_revoke_withdraw_over_mutual_tls_on(&network, &keys, &wire).await;
        drop_test_database(&wire.db).await;
    }
}

async fn onboard_upload_sync_verify_revoke_withdraw_over_mutual_tls_on(
    network: &Network,
    keys: &[GovernanceKey; 3],
    wire: &Wire,
) {
    let public = wire.client(None);
    let countries = [Country::new("AT"), Country::new("DE"), Country::new("FR")];

    // Onboarding: one governance signature of three is refused; two (a different pair for
    // each country) are enough.
    let response = public
        .post(
            "/onboarding",
            "application/json",
            countries[0].record(network, &[&keys[0]]),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 400);
    assert!(
        response.problem().contains("onboarding_invalid"),
        "{}",
        response.problem()
    );
    let mut accepted = Vec::new();
    for (i, c) in countries.iter().enumerate() {
        let signers = [&keys[i % 3], &keys[(i + 1) % 3]];
        let response = public
            .post(
                "/onboarding",
                "application/json",
                c.record(network, &signers),
            )
            .await
            .unwrap();
        assert_eq!(response.status, 201, "{}", response.problem());
        let cms = c.cms(&c.pki.dsc_cert_der);
        let answer = upload(&c.client(wire), UploadKind::Signer, &cms)
            .await
            .unwrap();
        assert!(answer["version"].as_u64().is_some(), "{answer}");
        accepted.push(cms);
    }
    let [at, de, fr] = &countries;
    let at_accepted = accepted.swap_remove(0);
    let at_dsc = SignerCertificate::from_der(&at.pki.dsc_cert_der).unwrap();

    // Attacks on uploads, each refused with its reason.
    let at_cms = at.cms(&at.pki.dsc_cert_der);
    // No client certificate; one of no onboarded country.
    let anonymous = refused(upload(&public, UploadKind::Signer, &at_cms).await);
    assert!(anonymous.starts_with("401 unauthenticated"), "{anonymous}");
    let stranger = Country::new("AT");
    let unknown = stranger.refused(wire, UploadKind::Signer, &at_cms).await;
    assert!(
        unknown.starts_with("401 client_certificate_unknown"),
        "{unknown}"
    );
    // DE's connection uploading AT's CMS (for another country), or AT's DSC under DE's
    // upload signature.
    let for_at = de.refused(wire, UploadKind::Signer, &at_cms).await;
    assert!(for_at.contains("upload_not_signed_by_country"), "{for_at}");
    let as_de = de
        .refused(wire, UploadKind::Signer, &de.cms(&at.pki.dsc_cert_der))
        .await;
    assert!(as_de.contains("wrong_country"), "{as_de}");
    // A DSC that AT's CSCA did not issue.
    let rogue = at
        .refused(
            wire,
            UploadKind::Signer,
            &at.cms(&stranger.pki.dsc_cert_der),
        )
        .await;
    assert!(rogue.contains("not_issued_by_csca"), "{rogue}");
    // Signed by the wrong key; not signed at all.
    let wrong_key = UploadSigner::new(&at.pki.dsc_key_pem, &at.pki.dsc_cert_der)
        .unwrap()
        .sign_at(&at.pki.dsc_cert_der, false, Timestamp::now())
        .unwrap();
    let wrong = at.refused(wire, UploadKind::Signer, &wrong_key).await;
    assert!(wrong.contains("upload_not_signed_by_country"), "{wrong}");
    let unsigned = at
        .refused(wire, UploadKind::Signer, &at.pki.dsc_cert_der)
        .await;
    assert!(unsigned.contains("cms_invalid"), "{unsigned}");
    // An expired TLS client certificate fails the handshake itself.
    let mut old = TestPkiOptions::new("AT", Timestamp::now() - SignedDuration::from_hours(24 * 10));
    old.dsc_days = 1;
    let expired = generate_test_pki(&old).unwrap();
    let client = wire.client(Some((&expired.auth_cert_pem, &expired.auth_key_pem)));
    match upload(&client, UploadKind::Signer, &at_cms).await {
        Err(UploadError::Client(ClientError::Http(_) | ClientError::Tls { .. })) => {}
        other => panic!("an expired client certificate got through: {other:?}"),
    }

    // A verifier syncs: three signers, each chain checked.
    let mut state = sync(&public, network, None, Timestamp::now())
        .await
        .unwrap()
        .state;
    assert_eq!(state.signers.len(), 3);
    assert!(state.rejected.is_empty(), "{:?}", state.rejected);
    let again = sync(&public, network, Some(&state), Timestamp::now())
        .await
        .unwrap();
    assert!(again.unchanged, "a second sync with nothing new is a 304");

    let issued = Timestamp::now();
    let until = issued + SignedDuration::from_hours(24 * 30);
    let first = issuer(&at.pki)
        .issue(&vaccination(), issued, until)
        .unwrap();
    let mut second_payload = vaccination();
    second_payload["v"][0]["ci"] = "URN:UVCI:01:AT:00000000000000000000000000000002#4".into();
    let second = issuer(&at.pki)
        .issue(&second_payload, issued, until)
        .unwrap();
    let now = issued + SignedDuration::from_mins(1);
    for text in [&first, &second] {
        let report = verify(text, &state, now);
        assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);
    }

    // AT revokes the second certificate by its UCI hash.
    let hash = CertificateHashes::compute(
        &[0; 64],
        true,
        "AT",
        second_payload["v"][0]["ci"].as_str().unwrap(),
    )
    .uci;
    let batch = RevocationBatch::new("AT", until, Some(at_dsc.kid()), HashType::Uci, &[hash]);
    let answer = upload(
        &at.client(wire),
        UploadKind::RevocationBatch,
        &at.cms(&batch.to_json()),
    )
    .await
    .unwrap();
    assert_eq!(
        answer["batchId"].as_str().map(str::len),
        Some(32),
        "{answer}"
    );
    state = sync(&public, network, Some(&state), Timestamp::now())
        .await
        .unwrap()
        .state;
    assert_eq!(state.revocations.len(), 1);
    assert_eq!(verify(&first, &state, now).verdict, Verdict::Green);
    let report = verify(&second, &state, now);
    assert_eq!(report.verdict, Verdict::Red);
    assert_eq!(report.reasons.len(), 1, "{:?}", report.reasons);
    assert_eq!(report.reasons[0].code, ReasonCode::CertificateRevoked);

    // DE publishes an acceptance rule (at least 48 hours ahead, as on the EU gateway): after
    // the next sync, a verifier in DE applies it from the synced state.
    let starts = Timestamp::now() + SignedDuration::from_hours(49);
    let rule = serde_json::json!({
        "Identifier": "VR-DE-0001", "Type": "Acceptance", "Country": "DE", "Version": "1.0.0",
        "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC", "EngineVersion": "1.0.0",
        "CertificateType": "Vaccination",
        "Description": [{"lang": "en", "desc": "The vaccination course must have three doses."}],
        "ValidFrom": starts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "ValidTo": (starts + SignedDuration::from_hours(24 * 30)).strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "AffectedFields": ["v.0.dn"],
        "Logic": {">=": [{"var": "payload.v.0.dn"}, 3]}
    });
    let early = rule.clone();
    let mut too_early = early;
    too_early["ValidFrom"] = Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
        .into();
    let refused_rule = de
        .refused(
            wire,
            UploadKind::Rule,
            &de.cms(too_early.to_string().as_bytes()),
        )
        .await;
    assert!(refused_rule.contains("rule_timing"), "{refused_rule}");
    upload(
        &de.client(wire),
        UploadKind::Rule,
        &de.cms(rule.to_string().as_bytes()),
    )
    .await
    .unwrap();
    state = sync(&public, network, Some(&state), Timestamp::now())
        .await
        .unwrap()
        .state;
    assert_eq!(state.rules.len(), 1);
    let in_de = VerifyOptions {
        policy: Some(healthpass_verify::Policy {
            rules: std::sync::Arc::new(state.rule_set().unwrap()),
            value_sets: std::sync::Arc::new(healthpass_rules::ValueSets::new()),
            country: "DE".into(),
            region: None,
            language: None,
        }),
        ..VerifyOptions::default()
    };
    let report = healthpass_verify::verify_with(
        &first,
        starts + SignedDuration::from_hours(1),
        &state.to_trust_store().unwrap(),
        &in_de,
    );
    assert_eq!(report.verdict, Verdict::Red, "{:?}", report.reasons);
    assert_eq!(report.reasons[0].code, ReasonCode::RuleFailed);

    // AT withdraws its signer; after the next sync the first certificate is red too.
    // Same content as the upload: it must be signed at a later second to be another signed
    // statement (the same one again is refused as a replay).
    crate::common::wait_for_next_second();
    let withdrawal = at.cms(&at.pki.dsc_cert_der);
    upload(&at.client(wire), UploadKind::WithdrawSigner, &withdrawal)
        .await
        .unwrap();
    state = sync(&public, network, Some(&state), Timestamp::now())
        .await
        .unwrap()
        .state;
    assert_eq!(state.signers.len(), 2);
    // FR renews its onboarding record: the next delta checks FR's signer again.
    let response = public
        .post(
            "/onboarding",
            "application/json",
            fr.record_numbered(network, &[&keys[0], &keys[1]], 2),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 201, "{}", response.problem());
    state = sync(&public, network, Some(&state), Timestamp::now())
        .await
        .unwrap()
        .state;
    assert_eq!((state.signers.len(), state.sequences["FR"]), (2, 2));
    // The syncs after the first took deltas; they add up to what a full sync gives.
    let fresh = sync(&public, network, None, Timestamp::now())
        .await
        .unwrap()
        .state;
    assert_eq!(
        (
            &fresh.onboardings,
            &fresh.signers,
            &fresh.withdrawn,
            &fresh.revocations
        ),
        (
            &state.onboardings,
            &state.signers,
            &state.withdrawn,
            &state.revocations
        )
    );
    assert_eq!(
        (fresh.version, &fresh.sequences),
        (state.version, &state.sequences)
    );
    let report = verify(&first, &state, now);
    assert_eq!(report.verdict, Verdict::Red);
    assert_eq!(
        report.reasons[0].code,
        ReasonCode::SignerWithdrawn,
        "{:?}",
        report.reasons
    );
    assert!(report.reasons[0].message.contains("withdrawn by AT"));

    // Replaying the accepted upload after the withdrawal is refused, and so is a fresh upload
    // of the withdrawn signer.
    let replay = at.refused(wire, UploadKind::Signer, &at_accepted).await;
    assert!(replay.starts_with("409 replayed"), "{replay}");
    crate::common::wait_for_next_second();
    let back = at
        .refused(wire, UploadKind::Signer, &at.cms(&at.pki.dsc_cert_der))
        .await;
    assert!(back.starts_with("410 signer_withdrawn"), "{back}");

    // Trust data older than its allowed age: yellow, not a silent green.
    let de_text = issuer(&de.pki)
        .issue(&vaccination(), issued, until)
        .unwrap();
    assert_eq!(verify(&de_text, &state, now).verdict, Verdict::Green);
    let late = state.fetched_at + SignedDuration::from_hours(25);
    let report = verify(&de_text, &state, late);
    assert_eq!(report.verdict, Verdict::Yellow, "{:?}", report.reasons);
    assert_eq!(report.reasons[0].code, ReasonCode::TrustDataStale);
}

/// A gateway (or anything between it and the verifier) that changes what it serves: a DSC
/// swapped in a row, or an older list served again. `trust sync` finds both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_rejects_a_tampered_or_rolled_back_list() {
    for backend in Wire::backends() {
        let (network, keys) = network();
        let wire = Wire::start(&network, backend).await;
        sync_rejects_a_tampered_or_rolled_back_list_on(&network, &keys, &wire).await;
        drop_test_database(&wire.db).await;
    }
}

async fn sync_rejects_a_tampered_or_rolled_back_list_on(
    network: &Network,
    keys: &[GovernanceKey; 3],
    wire: &Wire,
) {
    let public = wire.client(None);
    let (at, de) = (Country::new("AT"), Country::new("DE"));
    for c in [&at, &de] {
        let response = public
            .post(
                "/onboarding",
                "application/json",
                c.record(network, &[&keys[0], &keys[2]]),
            )
            .await
            .unwrap();
        assert_eq!(response.status, 201);
        upload(
            &c.client(wire),
            UploadKind::Signer,
            &c.cms(&c.pki.dsc_cert_der),
        )
        .await
        .unwrap();
    }
    let served = public.get("/trustList", None).await.unwrap();
    let honest = TrustList::from_json(std::str::from_utf8(&served.body).unwrap()).unwrap();
    let state = sync(&public, network, None, Timestamp::now())
        .await
        .unwrap()
        .state;
    assert_eq!(state.signers.len(), 2);

    // A state of another network is no base for this one.
    let other = TrustState {
        network: "other-net".into(),
        ..state.clone()
    };
    let err = sync(&public, network, Some(&other), Timestamp::now())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::State(_)), "{err}");

    // The row of AT's signer now holds another certificate of AT (same country, valid form).
    let mut tampered = honest.clone();
    let rogue = Country::new("AT");
    let entry = tampered
        .signers
        .iter_mut()
        .find(|e| e.country == "AT")
        .unwrap();
    *entry = healthpass_network::trustlist::TrustListEntry::new(
        &rogue.pki.dsc_cert_der,
        "AT",
        &healthpass_network::cms::detach(&at.cms(&at.pki.dsc_cert_der)).unwrap(),
        entry.timestamp,
    )
    .unwrap();
    // And a withdrawal of DE's signer that DE never asked for (AT's request stands in).
    let de_dsc = SignerCertificate::from_der(&de.pki.dsc_cert_der).unwrap();
    tampered
        .withdrawn
        .push(healthpass_network::trustlist::WithdrawnEntry {
            kid: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, de_dsc.kid()),
            thumbprint: de_dsc.thumbprint().to_owned(),
            country: "DE".into(),
            withdrawn_at: Timestamp::now(),
            signature: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                at.cms(&de.pki.dsc_cert_der),
            ),
        });
    tampered.version += 1;
    let older = TrustList {
        version: honest.version - 1,
        ..honest.clone()
    };
    let courier = courier(vec![tampered, older]).await;

    let first = sync(&courier, network, Some(&state), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(first.state.signers.len(), 1, "only DE's signer is left");
    assert_eq!(first.state.rejected.len(), 2, "{:?}", first.state.rejected);
    assert!(
        first.state.rejected[0].contains("not issued by any of its CSCAs"),
        "{}",
        first.state.rejected[0]
    );
    assert!(
        first.state.rejected[1].starts_with("withdrawal of")
            && first.state.rejected[1].contains("not by an upload certificate of the country"),
        "{}",
        first.state.rejected[1]
    );
    assert!(first.state.withdrawn.is_empty());
    let err = sync(&courier, network, Some(&first.state), Timestamp::now())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Rollback { .. }), "{err}");
}

/// Serves the given trust lists one after another on plain HTTP (and no revocations or rules).
async fn courier(lists: Vec<TrustList>) -> GatewayClient {
    use axum::routing::get;
    use std::sync::{Arc, Mutex};
    let lists = Arc::new(Mutex::new(lists.into_iter()));
    let app = axum::Router::new()
        .route(
            "/trustList",
            get(move || {
                let next = lists.lock().unwrap().next().unwrap();
                async move { axum::Json(next) }
            }),
        )
        .route(
            "/revocation-list",
            get(|| async { axum::Json(serde_json::json!({"more": false, "batches": []})) }),
        )
        .route(
            "/rules",
            get(|| async { axum::Json(serde_json::json!({})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    GatewayClient::new(&format!("http://127.0.0.1:{port}"), &ClientTls::default()).unwrap()
}

/// `healthpass revoke` as an issuer runs it: 2,500 UVCIs from a file become three CMS-signed
/// batches (1,000 + 1,000 + 500) over mutual TLS; the gateway's filter for the signer then
/// holds 2,500 hashes, and none of the UVCIs appears in what was sent or printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_command_sends_batches_of_hashes() {
    let (network, keys) = network();
    let wire = Wire::start(&network, 0).await;
    let at = Country::new("AT");
    let public = wire.client(None);
    let response = public
        .post(
            "/onboarding",
            "application/json",
            at.record(&network, &[&keys[0], &keys[1]]),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 201, "{}", response.problem());
    upload(
        &at.client(&wire),
        UploadKind::Signer,
        &at.cms(&at.pki.dsc_cert_der),
    )
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, content: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let uvcis: String = (0..2500)
        .map(|i| format!("URN:UVCI:01:AT:REVOKE{i:08}#Q\n"))
        .collect();
    let args = [
        "revoke".to_owned(),
        "--gateway".into(),
        wire.url.clone(),
        "--key".into(),
        file("dsc.pem", &at.pki.dsc_cert_pem),
        "--hash-type".into(),
        "uci".into(),
        "--from".into(),
        file("uvcis.txt", &format!("# to revoke\n{uvcis}\n")),
        "--ca".into(),
        file("ca.pem", &wire.tls.ca_cert_pem),
        "--auth-cert".into(),
        file("auth.pem", &at.pki.auth_cert_pem),
        "--auth-key".into(),
        file("auth-key.pem", &at.pki.auth_key_pem),
        "--upload-cert".into(),
        file("upload.pem", &at.pki.upload_cert_pem),
        "--upload-key".into(),
        file("upload-key.pem", &at.pki.upload_key_pem),
    ];
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_healthpass"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("revoked 2500 certificates"), "{stdout}");
    assert!(stdout.contains("in 3 batches"), "{stdout}");
    assert!(!stdout.contains("URN:UVCI") && !stderr.contains("URN:UVCI"));

    let listed = public.get("/revocation-list", None).await.unwrap();
    let batches: healthpass_network::revocation::BatchList =
        serde_json::from_slice(&listed.body).unwrap();
    assert_eq!(batches.batches.len(), 3);
    let filters = public.get("/revocation/filters", None).await.unwrap();
    let filters: healthpass_network::revocation::FilterList =
        serde_json::from_slice(&filters.body).unwrap();
    assert_eq!(filters.filters.len(), 1);
    assert_eq!(filters.filters[0].count, 2500);
    // A verifier's filter finds a revoked UVCI's hash.
    let path = format!(
        "/revocation/filters/{}",
        healthpass_network::revocation::kid_to_path(&filters.filters[0].kid)
    );
    let bytes = public.get(&path, None).await.unwrap().body;
    let filter = healthpass_trust::revocation_filter::RevocationFilter::from_bytes(&bytes).unwrap();
    let hash = CertificateHashes::compute(&[], false, "AT", "URN:UVCI:01:AT:REVOKE00001234#Q").uci;
    assert!(filter.may_contain(HashType::Uci, &hash));
    drop_test_database(&wire.db).await;
}
