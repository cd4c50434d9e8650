//! Revocation at scale, end to end (issue 6): AT issues 1,000 certificates and revokes one;
//! the gateway builds its signer key's filter from the batch; a verifier holding only the
//! filter sees exactly that certificate as "possibly revoked" (yellow, never a guess in red or
//! green) and the 999 others green; with the exact hashes of the hit's partition it is red
//! ("certificate revoked") and the others stay green. As more are revoked, a filter that
//! outgrows its width is fetched whole, and one that keeps it is updated by a delta that
//! reproduces the gateway's new filter byte for byte.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_gateway::server::{Gateway, router};
use healthpass_gateway::store::{ChangeKind, Store};
use healthpass_issue::pki::{TestPkiOptions, generate_test_pki};
use healthpass_network::cms::UploadSigner;
use healthpass_network::revocation::{FilterList, PartitionHashes, RevocationBatch, kid_to_path};
use healthpass_network::{GovernanceKey, Network, OnboardingRecord, SignedOnboarding};
use healthpass_trust::revocation::{CertificateHashes, HashType, RevocationSource};
use healthpass_trust::revocation_filter::{FilterDelta, RevocationFilter};
use healthpass_trust::tlog::{NoteKeyKind, NoteSigner};
use healthpass_trust::{SignerCertificate, TrustStore};
use healthpass_verify::{ReasonCode, Verdict};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use tower::ServiceExt;

use crate::common::healthpass;
use crate::fixtures::{issuer, vaccination};

async fn get(router: &axum::Router, path: &str) -> (StatusCode, Vec<u8>) {
    let response = router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    (
        status,
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

fn ci(i: usize) -> String {
    format!("URN:UVCI:01:AT:{i:032}#A")
}

/// A gateway with AT onboarded and its signer uploaded, and what AT needs to revoke.
struct Issuing {
    network: Network,
    pki: healthpass_issue::pki::TestPki,
    gateway: Arc<Gateway>,
    upload: UploadSigner,
    kid: [u8; 8],
    /// The signing time of the first upload; later ones are signed after it.
    t: Timestamp,
    issued: Timestamp,
    until: Timestamp,
    _dir: tempfile::TempDir,
}

impl Issuing {
    async fn new() -> Self {
        let keys = [(); 3].map(|()| GovernanceKey::generate().unwrap());
        let mut network = Network::new(
            "filter-net",
            2,
            keys.iter().map(GovernanceKey::public).collect(),
        )
        .unwrap();
        // With a log: verifiers hold the list and the filters to it.
        let log_key = NoteSigner::generate("filter.test/log", NoteKeyKind::Ed25519).unwrap();
        network.log = Some(healthpass_network::log::LogSettings {
            key: log_key.verifier_key().to_vkey(),
            witnesses: Vec::new(),
            quorum: 0,
        });
        let pki = generate_test_pki(&TestPkiOptions::new(
            "AT",
            Timestamp::now() - SignedDuration::from_hours(24),
        ))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let gateway = Gateway::open(network.clone(), Store::open(&url).await.unwrap(), log_key)
            .await
            .unwrap();
        let csca = TrustStore::parse_certificates(pki.csca_cert_pem.as_bytes());
        let record = OnboardingRecord::new(
            &network,
            "AT",
            1,
            Timestamp::now(),
            &csca,
            std::slice::from_ref(&pki.upload_cert_der),
            std::slice::from_ref(&pki.auth_cert_der),
        )
        .unwrap();
        let mut signed = SignedOnboarding::unsigned(record);
        for key in &keys[..2] {
            signed.sign(key, &network).unwrap();
        }
        let upload = UploadSigner::new(&pki.upload_key_pem, &pki.upload_cert_der).unwrap();
        let t = Timestamp::now() - SignedDuration::from_secs(60);
        let issued = Timestamp::now();
        let world = Self {
            kid: SignerCertificate::from_der(&pki.dsc_cert_der)
                .unwrap()
                .kid(),
            upload,
            gateway,
            network,
            t,
            issued,
            until: issued + SignedDuration::from_hours(24 * 30),
            pki,
            _dir: dir,
        };
        world
            .submit(ChangeKind::Onboarding, signed.to_json().into_bytes())
            .await;
        let dsc = world
            .upload
            .sign_at(&world.pki.dsc_cert_der, false, t)
            .unwrap();
        world.submit(ChangeKind::Upload, dsc).await;
        world
    }

    async fn submit(&self, kind: ChangeKind, body: Vec<u8>) {
        self.gateway
            .submit(kind, "AT", body, Timestamp::now())
            .await
            .unwrap();
    }

    /// AT revokes the certificates `from..to` by UCI hash, in one batch signed `second`s after
    /// the upload.
    async fn revoke(&self, from: usize, to: usize, second: i64) {
        let hashes: Vec<[u8; 16]> = (from..to).map(hash_of).collect();
        let json = RevocationBatch::new("AT", self.until, Some(self.kid), HashType::Uci, &hashes)
            .to_json();
        let cms = self
            .upload
            .sign_at(&json, false, self.t + SignedDuration::from_secs(second))
            .unwrap();
        self.submit(ChangeKind::RevocationBatch, cms).await;
    }

    /// Certificate `i` of AT (UVCI `ci(i)`).
    fn certificate(&self, i: usize) -> String {
        let mut payload = vaccination();
        payload["v"][0]["ci"] = ci(i).into();
        issuer(&self.pki)
            .issue(&payload, self.issued, self.until)
            .unwrap()
    }
}

fn hash_of(i: usize) -> [u8; 16] {
    CertificateHashes::compute(&[0; 64], true, "AT", &ci(i)).uci
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_a_thousand_revoked_through_the_filter() {
    let w = Issuing::new().await;
    let (kid, pki, gateway) = (w.kid, &w.pki, &w.gateway);
    // 1,000 certificates; AT revokes number 417 by its UCI hash.
    let texts: Vec<String> = (0..1000).map(|i| w.certificate(i)).collect();
    let revoked = 417;
    w.revoke(revoked, revoked + 1, 1).await;

    // The verifier syncs the filter list and the filter.
    let app = router(gateway.clone());
    let (status, body) = get(&app, "/revocation/filters").await;
    assert_eq!(status, StatusCode::OK);
    let list: FilterList = serde_json::from_slice(&body).unwrap();
    assert_eq!(list.filters.len(), 1);
    assert_eq!(list.filters[0].kid, B64.encode(kid));
    assert_eq!(list.filters[0].count, 1);
    let path = format!("/revocation/filters/{}", kid_to_path(&list.filters[0].kid));
    let (status, bytes) = get(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    let filter = RevocationFilter::from_bytes(&bytes).unwrap();
    let hex = filter.digest_hex();
    assert_eq!(hex, list.filters[0].digest);

    let mut trust = TrustStore::new();
    trust.insert_der(&pki.dsc_cert_der).unwrap();
    trust
        .revocations_mut()
        .set_filter(kid, Arc::new(filter.clone()));
    let now = w.issued + SignedDuration::from_mins(1);
    let verdicts = |trust: &TrustStore| -> Vec<(usize, Verdict, Vec<ReasonCode>)> {
        texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let report = healthpass_verify::verify(text, now, trust);
                (
                    i,
                    report.verdict,
                    report.reasons.iter().map(|r| r.code).collect(),
                )
            })
            .filter(|(_, verdict, _)| *verdict != Verdict::Green)
            .collect()
    };
    // Only the filter: exactly the revoked one is not green, and it is yellow.
    assert_eq!(
        verdicts(&trust),
        [(revoked, Verdict::Yellow, vec![ReasonCode::PossiblyRevoked])]
    );

    // Settled online: the exact hashes of the hit's partition (one byte of the hash is all
    // the gateway learns).
    let partition = hash_of(revoked)[0];
    let (status, body) = get(
        &app,
        &format!(
            "/revocation/partitions/{}/{partition:02x}",
            kid_to_path(&B64.encode(kid))
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let exact: PartitionHashes = serde_json::from_slice(&body).unwrap();
    assert_eq!(exact.hashes.len(), 1);
    let hashes: Vec<[u8; 16]> = exact
        .hashes
        .iter()
        .map(|h| B64.decode(&h.hash).unwrap().try_into().unwrap())
        .collect();
    trust.revocations_mut().insert_batch(
        RevocationSource {
            country: "AT".into(),
            batch_id: "partition".into(),
        },
        Some(kid),
        HashType::Uci,
        hashes,
    );
    trust.revocations_mut().mark_exact(kid, partition);
    assert_eq!(
        verdicts(&trust),
        [(revoked, Verdict::Red, vec![ReasonCode::CertificateRevoked])]
    );

    // Ten more revoked: the filter grows from 1 to 11 entries, past what its width allows
    // (a rate above 2^-20), so the gateway starts a wider one and has no delta from the old:
    // the verifier fetches it whole.
    w.revoke(0, 10, 2).await;
    let (_, body) = get(&app, "/revocation/filters").await;
    let list: FilterList = serde_json::from_slice(&body).unwrap();
    assert_eq!(list.filters[0].count, 11);
    assert_ne!(list.filters[0].digest, hex);
    let (status, _) = get(&app, &format!("{path}?from={hex}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another width: no delta");
    let (_, bytes) = get(&app, &path).await;
    let eleven = RevocationFilter::from_bytes(&bytes).unwrap();
    let eleven_hex = eleven.digest_hex();
    assert_eq!(eleven_hex, list.filters[0].digest);

    // Ten more again: the width holds (21 entries), and the verifier moves on by a delta that
    // gives byte for byte the gateway's filter.
    w.revoke(10, 20, 3).await;
    let (_, body) = get(&app, "/revocation/filters").await;
    let list: FilterList = serde_json::from_slice(&body).unwrap();
    assert_eq!(list.filters[0].count, 21);
    assert_eq!(list.filters[0].universe_bits, eleven.universe_bits());
    let (status, delta) = get(&app, &format!("{path}?from={eleven_hex}")).await;
    assert_eq!(status, StatusCode::OK);
    let delta = FilterDelta::from_bytes(&delta).unwrap();
    assert_eq!((delta.added.len(), delta.removed.len()), (10, 0));
    let newer = eleven.apply(&delta).unwrap();
    let newer_hex = newer.digest_hex();
    assert_eq!(newer_hex, list.filters[0].digest);
    let mut trust = TrustStore::new();
    trust.insert_der(&pki.dsc_cert_der).unwrap();
    trust.revocations_mut().set_filter(kid, Arc::new(newer));
    let yellow: Vec<usize> = verdicts(&trust).into_iter().map(|(i, _, _)| i).collect();
    let expected: Vec<usize> = (0..20).chain([revoked]).collect();
    assert_eq!(yellow, expected);
    // A delta from a filter the gateway never had is refused; the verifier fetches it whole.
    let (status, _) = get(&app, &format!("{path}?from={}", "00".repeat(32))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The commands a phone-sized verifier runs: `trust sync --revocation filters` keeps one filter
/// file per signer key (whole the first time, by delta after); `verify --trust` is yellow
/// `possibly_revoked` on a hit and green otherwise; `--confirm-online` settles the hit red
/// with one partition's exact hashes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_sync_and_confirm_online_commands() {
    let w = Issuing::new().await;
    let (network, gateway) = (&w.network, &w.gateway);
    // 20 revoked (0..20); certificate 5 is one of them, 500 is not.
    w.revoke(0, 20, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, router(gateway.clone())).into_future());

    let network_file = dir.path().join("network.json");
    std::fs::write(&network_file, serde_json::to_string(&network).unwrap()).unwrap();
    let state = dir.path().join("state");
    let cert = |i: usize| {
        let path = dir.path().join(format!("cert-{i}.txt"));
        std::fs::write(&path, w.certificate(i)).unwrap();
        format!("@{}", path.display())
    };
    let (revoked, valid) = (cert(5), cert(500));
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            healthpass(&args)
        })
    };
    let sync_args = vec![
        "trust".to_owned(),
        "sync".into(),
        "--gateway".into(),
        gateway_url.clone(),
        "--network".into(),
        network_file.display().to_string(),
        "--state".into(),
        state.display().to_string(),
        "--revocation".into(),
        "filters".into(),
    ];
    let out = run(sync_args.clone()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 revocation filters (20 revoked hashes): 1 fetched whole, 0 by delta"),
        "{stdout}"
    );
    // The filters were checked against the entry stating them: the state keeps the checkpoint
    // that includes it (the gateway logged it when asked, after the list's checkpoint).
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("trust-state.json")).unwrap())
            .unwrap();
    let note = kept["log_checkpoint"].as_str().unwrap();
    let checkpoint = healthpass_trust::tlog::Checkpoint::from_note(note).unwrap();
    assert_eq!(checkpoint.size, gateway.checkpoint().0);
    assert_eq!(kept["version"].as_u64().unwrap() + 1, checkpoint.size);
    let verify = |text: &str, online: bool| {
        let mut args = vec![
            "verify".to_owned(),
            "--json".into(),
            "--trust".into(),
            state.display().to_string(),
            text.to_owned(),
        ];
        if online {
            args.extend(["--confirm-online".to_owned(), gateway_url.clone()]);
        }
        run(args)
    };
    let verdict = |out: std::process::Output| -> (String, Vec<String>) {
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        (
            report["verdict"].as_str().unwrap().to_owned(),
            report["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap().to_owned())
                .collect(),
        )
    };
    assert_eq!(
        verdict(verify(&revoked, false).await.unwrap()),
        ("yellow".to_owned(), vec!["possibly_revoked".to_owned()])
    );
    assert_eq!(
        verdict(verify(&valid, false).await.unwrap()),
        ("green".to_owned(), vec![])
    );
    assert_eq!(
        verdict(verify(&revoked, true).await.unwrap()),
        ("red".to_owned(), vec!["certificate_revoked".to_owned()])
    );
    assert_eq!(
        verdict(verify(&valid, true).await.unwrap()),
        ("green".to_owned(), vec![])
    );

    // Ten more revoked: the next sync moves the filter by a delta.
    w.revoke(500, 510, 2).await;
    let out = run(sync_args).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("1 revocation filters (30 revoked hashes): 0 fetched whole, 1 by delta"),
        "{stdout}"
    );
    assert_eq!(
        verdict(verify(&valid, false).await.unwrap()),
        ("yellow".to_owned(), vec!["possibly_revoked".to_owned()])
    );
}
