//! The transparency log against a dishonest gateway (issue 6). Gateways here take changes
//! directly ([`Gateway::submit`], as the HTTP handlers do after mutual TLS) and serve the
//! public API on loopback. Verifiers sync with `trust sync`'s code and witnesses run
//! `log witness`'s steps (`advance` + `cosign`). Each dishonesty is caught, with a reason
//! naming the checkpoints, and the victim keeps its last good state:
//!
//! - two gateways under one log key serving two histories (a split view): a verifier and a
//!   witness that saw one refuse the other (a fork), and a verifier requiring a witness's
//!   cosignature never believes the history the witness refused;
//! - a rewritten old entry: the consistency proof from the held checkpoint fails;
//! - a withdrawn signer dropped from history: the witness and the verifier that saw the
//!   withdrawal refuse the rewritten log; and a list that hides a withdrawal the log holds is
//!   refused as contradicting the log, as is a revocation list that hides a logged batch;
//! - an entry served other than the one signed: the entries no longer give the checkpoint.
//!
//! And the commands, run as a user runs them: `log keygen --witness`, `log witness` and
//! `log verify` (the audit from scratch) against an honest gateway and a lying one.

use healthpass_client::http::{ClientTls, GatewayClient};
use healthpass_client::log::{LogFetchError, advance, cosign};
use healthpass_client::sync::{SyncError, TrustState, sync};
use healthpass_gateway::server::{Gateway, router};
use healthpass_gateway::store::{ChangeKind, Store};
use healthpass_issue::pki::{TestPki, TestPkiOptions, generate_test_pki};
use healthpass_network::cms::UploadSigner;
use healthpass_network::log::LogSettings;
use healthpass_network::{GovernanceKey, Network, OnboardingRecord, SignedOnboarding};
use healthpass_trust::TrustStore;
use healthpass_trust::tlog::{Checkpoint, LogError, LogPolicy, NoteKeyKind, NoteSigner};
use jiff::{SignedDuration, Timestamp};

use crate::common::healthpass;
use std::sync::Arc;

struct Setup {
    network: Network,
    keys: [GovernanceKey; 3],
    log_pem: String,
    witnesses: [NoteSigner; 2],
    pki: TestPki,
}

fn setup(quorum: usize) -> Setup {
    let keys = [(); 3].map(|()| GovernanceKey::generate().unwrap());
    let log = NoteSigner::generate("gateway.test/log", NoteKeyKind::Ed25519).unwrap();
    let witnesses = [1, 2].map(|i| {
        NoteSigner::generate(&format!("witness.test/w{i}"), NoteKeyKind::Cosignature).unwrap()
    });
    let mut network = Network::new(
        "log-net",
        2,
        keys.iter().map(GovernanceKey::public).collect(),
    )
    .unwrap();
    network.log = Some(LogSettings {
        key: log.verifier_key().to_vkey(),
        witnesses: witnesses
            .iter()
            .map(|w| w.verifier_key().to_vkey())
            .collect(),
        quorum,
    });
    let options = TestPkiOptions::new("AT", Timestamp::now() - SignedDuration::from_hours(24));
    Setup {
        network,
        keys,
        log_pem: log.to_pkcs8_pem(),
        witnesses,
        pki: generate_test_pki(&options).unwrap(),
    }
}

impl Setup {
    fn log_key(&self) -> NoteSigner {
        NoteSigner::from_pkcs8_pem("gateway.test/log", NoteKeyKind::Ed25519, &self.log_pem).unwrap()
    }

    /// AT's onboarding record, made at `made` (two gateways given records made at different
    /// times hold different histories).
    fn onboarding(&self, sequence: u64, made: Timestamp) -> Vec<u8> {
        let csca = TrustStore::parse_certificates(self.pki.csca_cert_pem.as_bytes());
        let record = OnboardingRecord::new(
            &self.network,
            "AT",
            sequence,
            made,
            &csca,
            std::slice::from_ref(&self.pki.upload_cert_der),
            std::slice::from_ref(&self.pki.auth_cert_der),
        )
        .unwrap();
        let mut signed = SignedOnboarding::unsigned(record);
        for key in &self.keys[..2] {
            signed.sign(key, &self.network).unwrap();
        }
        signed.to_json().into_bytes()
    }

    /// The DSC signed by AT's upload key: an upload, or (signed later) its withdrawal.
    fn dsc_cms(&self) -> Vec<u8> {
        self.dsc_cms_at(Timestamp::now() - SignedDuration::from_secs(10))
    }

    fn withdrawal_cms(&self) -> Vec<u8> {
        self.dsc_cms_at(Timestamp::now() - SignedDuration::from_secs(5))
    }

    fn dsc_cms_at(&self, signed_at: Timestamp) -> Vec<u8> {
        UploadSigner::new(&self.pki.upload_key_pem, &self.pki.upload_cert_der)
            .unwrap()
            .sign_at(&self.pki.dsc_cert_der, false, signed_at)
            .unwrap()
    }

    /// AT revokes `hashes` (UCI) of its signer, in one batch.
    fn batch_cms(&self, hashes: &[[u8; 16]]) -> Vec<u8> {
        use healthpass_network::revocation::RevocationBatch;
        use healthpass_trust::revocation::HashType;
        let batch = RevocationBatch::new(
            "AT",
            Timestamp::now() + SignedDuration::from_hours(24 * 30),
            Some(healthpass_trust::kid_of(&self.pki.dsc_cert_der)),
            HashType::Uci,
            hashes,
        )
        .to_json();
        UploadSigner::new(&self.pki.upload_key_pem, &self.pki.upload_cert_der)
            .unwrap()
            .sign_at(
                &batch,
                false,
                Timestamp::now() - SignedDuration::from_secs(1),
            )
            .unwrap()
    }

    fn thumbprint(&self) -> String {
        healthpass_trust::thumbprint_of(&self.pki.dsc_cert_der)
    }

    /// A gateway on its own SQLite database, under the network's log key.
    async fn gateway(&self, dir: &tempfile::TempDir, name: &str) -> Arc<Gateway> {
        let url = format!("sqlite://{}", dir.path().join(name).display());
        Gateway::open(
            self.network.clone(),
            Store::open(&url).await.unwrap(),
            self.log_key(),
        )
        .await
        .unwrap()
    }

    /// AT onboarded (record made now) and its signer uploaded.
    async fn onboard_and_upload(&self, gateway: &Gateway) {
        submit(
            gateway,
            ChangeKind::Onboarding,
            "",
            self.onboarding(1, Timestamp::now()),
        )
        .await;
        submit(gateway, ChangeKind::Upload, "AT", self.dsc_cms()).await;
    }

    /// A witness's `log witness` step on `gateway` from its `held` checkpoint: on success the
    /// new held checkpoint (co-signed and handed in).
    async fn witness(
        &self,
        which: usize,
        gateway: &GatewayClient,
        held: Option<&Checkpoint>,
    ) -> Result<Checkpoint, LogFetchError> {
        let policy = LogPolicy::new(self.log_key().verifier_key().clone(), vec![], 0).unwrap();
        let now = Timestamp::now();
        let verified = advance(gateway, &policy, held, now).await?;
        cosign(gateway, &self.witnesses[which], &verified, now).await?;
        Ok(verified.checkpoint)
    }
}

async fn submit(gateway: &Gateway, kind: ChangeKind, country: &str, body: Vec<u8>) {
    gateway
        .submit(kind, country, body, Timestamp::now())
        .await
        .unwrap();
}

/// Serves `router` on loopback (plain HTTP: these tests read only public endpoints); its URL.
async fn serve_url(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://127.0.0.1:{port}")
}

/// A client of `router` served on loopback.
async fn serve(router: axum::Router) -> GatewayClient {
    GatewayClient::new(&serve_url(router).await, &ClientTls::default()).unwrap()
}

async fn sync_now(
    client: &GatewayClient,
    network: &Network,
    previous: Option<&TrustState>,
) -> Result<TrustState, SyncError> {
    Ok(sync(client, network, previous, Timestamp::now())
        .await?
        .state)
}

fn held(state: &TrustState) -> Checkpoint {
    Checkpoint::from_note(state.log_checkpoint.as_deref().unwrap()).unwrap()
}

/// The honest path: every sync is checked against a checkpoint both witnesses co-signed, and
/// advances it with a consistency proof; a withdrawal in the log reaches the verifier.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_log_is_witnessed_and_synced() {
    let s = setup(2);
    let dir = tempfile::tempdir().unwrap();
    let gateway = s.gateway(&dir, "a.db").await;
    let client = serve(router(gateway.clone())).await;
    s.onboard_and_upload(&gateway).await;

    // Not yet witnessed: a verifier requiring two cosignatures believes nothing.
    let err = sync_now(&client, &s.network, None).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Log(LogFetchError::Status { ref problem, .. }) if problem.contains("not_witnessed")),
        "{err}"
    );
    let w0 = s.witness(0, &client, None).await.unwrap();
    let w1 = s.witness(1, &client, None).await.unwrap();
    assert_eq!((w0.size, w1.size), (2, 2));
    let state = sync_now(&client, &s.network, None).await.unwrap();
    assert_eq!(state.signers.len(), 1, "{:?}", state.rejected);
    assert!(state.rejected.is_empty(), "{:?}", state.rejected);
    assert_eq!(held(&state).size, 2);

    // AT withdraws its signer; the witnesses move on (consistency 2 → 3), and so does the
    // verifier.
    submit(&gateway, ChangeKind::Withdrawal, "AT", s.withdrawal_cms()).await;
    s.witness(0, &client, Some(&w0)).await.unwrap();
    s.witness(1, &client, Some(&w1)).await.unwrap();
    let state = sync_now(&client, &s.network, Some(&state)).await.unwrap();
    assert_eq!(held(&state).size, 3);
    assert!(state.signers.is_empty());
    assert_eq!(state.withdrawn.len(), 1);
    assert_eq!(state.withdrawn[0].thumbprint, s.thumbprint());
}

/// A split view: two gateways under the same log key, with two histories. What saw one
/// refuses the other, naming both checkpoints; a verifier that needs a witness never believes
/// the history the witness refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_view_is_refused_by_witness_and_verifier() {
    let s = setup(1);
    let dir = tempfile::tempdir().unwrap();
    let a = s.gateway(&dir, "a.db").await;
    let b = s.gateway(&dir, "b.db").await;
    let t = Timestamp::now();
    submit(&a, ChangeKind::Onboarding, "", s.onboarding(1, t)).await;
    submit(
        &b,
        ChangeKind::Onboarding,
        "",
        s.onboarding(1, t - SignedDuration::from_secs(60)),
    )
    .await;
    let (client_a, client_b) = (
        serve(router(a.clone())).await,
        serve(router(b.clone())).await,
    );

    let seen = s.witness(0, &client_a, None).await.unwrap();
    let state_a = sync_now(&client_a, &s.network, None).await.unwrap();

    // The witness that saw A is shown B: same size, another root.
    let err = s.witness(0, &client_b, Some(&seen)).await.unwrap_err();
    let LogFetchError::Log(LogError::Fork {
        size: 1,
        seen: ref held_root,
        ref served,
    }) = err
    else {
        panic!("expected a fork, got {err}");
    };
    assert_eq!(*held_root, healthpass_trust::tlog::hex(&seen.root));
    assert_ne!(held_root, served);
    assert!(err.to_string().contains("forked"), "{err}");

    // B has no cosignature from a witness, so a verifier requiring one refuses it...
    let err = sync_now(&client_b, &s.network, None).await.unwrap_err();
    assert!(err.to_string().contains("not_witnessed"), "{err}");
    // ...and the verifier that synced from A, pointed at B, sees the fork and keeps A's state.
    let mut lenient = s.network.clone();
    lenient.log.as_mut().unwrap().quorum = 0;
    let err = sync_now(&client_b, &lenient, Some(&state_a))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Log(LogFetchError::Log(LogError::Fork { size: 1, .. }))
        ),
        "{err}"
    );
    // Refused, the verifier's last good state still works: it syncs from A as before.
    let again = sync_now(&client_a, &lenient, Some(&state_a)).await.unwrap();
    assert_eq!(held(&again), held(&state_a));
}

/// The operator rewrites an old entry (here: the onboarding record) and grows the log on top:
/// the consistency proof from the checkpoint a verifier and a witness hold fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_entry_fails_the_consistency_proof() {
    let s = setup(0);
    let dir = tempfile::tempdir().unwrap();
    let honest = s.gateway(&dir, "honest.db").await;
    let t = Timestamp::now();
    submit(&honest, ChangeKind::Onboarding, "", s.onboarding(1, t)).await;
    submit(&honest, ChangeKind::Upload, "AT", s.dsc_cms()).await;
    let client = serve(router(honest.clone())).await;
    let state = sync_now(&client, &s.network, None).await.unwrap();
    let seen = s.witness(0, &client, None).await.unwrap();
    assert_eq!(seen.size, 2);

    // The same log key, a history whose entry 0 differs, and one more entry.
    let rewritten = s.gateway(&dir, "rewritten.db").await;
    submit(
        &rewritten,
        ChangeKind::Onboarding,
        "",
        s.onboarding(1, t - SignedDuration::from_secs(3600)),
    )
    .await;
    submit(&rewritten, ChangeKind::Upload, "AT", s.dsc_cms()).await;
    submit(&rewritten, ChangeKind::Withdrawal, "AT", s.withdrawal_cms()).await;
    let client = serve(router(rewritten)).await;

    let err = sync_now(&client, &s.network, Some(&state))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            SyncError::Log(LogFetchError::Log(LogError::Inconsistent {
                from_size: 2,
                to_size: 3,
                ..
            }))
        ),
        "{message}"
    );
    assert!(
        message.contains("does not extend checkpoint 2"),
        "{message}"
    );
    let err = s.witness(0, &client, Some(&seen)).await.unwrap_err();
    assert!(
        matches!(err, LogFetchError::Log(LogError::Inconsistent { .. })),
        "{err}"
    );
}

/// A withdrawn signer dropped from history: the log rewritten without the withdrawal is
/// refused by the witness and the verifier that saw it; and a gateway that keeps the log but
/// hides the withdrawal from its list is refused as contradicting its own log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_withdrawal_is_detected() {
    let s = setup(0);
    let dir = tempfile::tempdir().unwrap();
    let t = Timestamp::now();
    let honest = s.gateway(&dir, "honest.db").await;
    submit(&honest, ChangeKind::Onboarding, "", s.onboarding(1, t)).await;
    submit(&honest, ChangeKind::Upload, "AT", s.dsc_cms()).await;
    let client = serve(router(honest.clone())).await;
    let before = sync_now(&client, &s.network, None).await.unwrap();
    submit(&honest, ChangeKind::Withdrawal, "AT", s.withdrawal_cms()).await;
    let seen = s.witness(0, &client, None).await.unwrap();
    let state = sync_now(&client, &s.network, Some(&before)).await.unwrap();
    assert_eq!(state.withdrawn.len(), 1);

    // A history without the withdrawal: AT onboarded and its signer uploaded, then another
    // change in the withdrawal's place (AT's next onboarding record), so the signer would be
    // trusted again.
    let dropped = s.gateway(&dir, "dropped.db").await;
    submit(&dropped, ChangeKind::Onboarding, "", s.onboarding(1, t)).await;
    submit(&dropped, ChangeKind::Upload, "AT", s.dsc_cms()).await;
    submit(&dropped, ChangeKind::Onboarding, "", s.onboarding(2, t)).await;
    let dropped_client = serve(router(dropped)).await;
    let err = s
        .witness(0, &dropped_client, Some(&seen))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LogFetchError::Log(LogError::Fork { size: 3, .. })),
        "{err}"
    );
    let err = sync_now(&dropped_client, &s.network, Some(&state))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Log(LogFetchError::Log(LogError::Fork { size: 3, .. }))
        ),
        "{err}"
    );

    // The log kept, the list lying: a proxy that serves the honest gateway but removes the
    // withdrawal from the trust list.
    let lying_client = lying(&honest, "/trustList", |json| {
        json["withdrawn"] = serde_json::json!([]);
    })
    .await;
    let err = sync_now(&lying_client, &s.network, Some(&before))
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::LogMismatch(_)), "{err}");
    assert!(err.to_string().contains(&s.thumbprint()), "{err}");
    assert!(err.to_string().contains("log entry 2 withdraws"), "{err}");
}

/// Paths a proxy was asked for (with their queries).
type Seen = Arc<std::sync::Mutex<Vec<String>>>;

/// A proxy in front of `inner` that records every path asked for in `seen` and passes each
/// JSON answer through `edit` (given the path without its query): a gateway that lies in
/// what it serves while keeping its log.
fn edited(
    inner: axum::Router,
    seen: Seen,
    edit: impl Fn(&str, serde_json::Value) -> serde_json::Value + Clone + Send + Sync + 'static,
) -> axum::Router {
    axum::Router::new().fallback(move |request: axum::extract::Request| {
        let (inner, seen, edit) = (inner.clone(), seen.clone(), edit.clone());
        async move {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let path = request.uri().path().to_owned();
            seen.lock()
                .unwrap()
                .push(request.uri().path_and_query().unwrap().to_string());
            let response = inner.oneshot(request).await.unwrap();
            let (mut parts, body) = response.into_parts();
            let bytes = body.collect().await.unwrap().to_bytes();
            let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(json) => serde_json::to_vec(&edit(&path, json)).unwrap(),
                Err(_) => bytes.to_vec(),
            };
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            axum::response::Response::from_parts(parts, axum::body::Body::from(body))
        }
    })
}

/// A gateway that lies in one JSON answer (the one at `path`, edited by `edit`) and keeps its
/// log: a client of it.
async fn lying(
    gateway: &Arc<Gateway>,
    path: &'static str,
    edit: impl Fn(&mut serde_json::Value) + Clone + Send + Sync + 'static,
) -> GatewayClient {
    serve(edited(
        router(gateway.clone()),
        Seen::default(),
        move |at, mut json| {
            if at == path {
                edit(&mut json);
            }
            json
        },
    ))
    .await
}

/// Revocation through the log, and two more lies. A verifier syncs every entry since its
/// state (a few hundred bytes each, checked at once against the checkpoint's root) and no
/// request body: filters-mode sync fetches no batch at all, exact mode only the batches it
/// applies. A gateway that hides a logged batch from its revocation list is refused as
/// contradicting its log; one that serves an entry other than the one it signed fails the
/// root, naming the checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_batches_are_held_to_the_log() {
    use healthpass_client::sync::{SyncOptions, sync_with};
    let s = setup(0);
    let dir = tempfile::tempdir().unwrap();
    let gateway = s.gateway(&dir, "a.db").await;
    s.onboard_and_upload(&gateway).await;
    let honest = serve(router(gateway.clone())).await;
    let before = sync_now(&honest, &s.network, None).await.unwrap();
    submit(
        &gateway,
        ChangeKind::RevocationBatch,
        "AT",
        s.batch_cms(&[[7; 16]]),
    )
    .await;

    // Honest, exact: the batch is applied; the log is read as entries, never as bodies.
    let seen = Seen::default();
    let counted = serve(edited(router(gateway.clone()), seen.clone(), |_, j| j)).await;
    let exact = sync_now(&counted, &s.network, Some(&before)).await.unwrap();
    assert_eq!(exact.revocations.len(), 1, "{:?}", exact.rejected);
    assert_eq!(held(&exact).size, 3);
    let asked = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        asked.iter().any(|p| p == "/log/entries?start=2&end=3"),
        "{asked:?}"
    );
    assert!(
        !asked.iter().any(|p| p.starts_with("/log/bodies")),
        "{asked:?}"
    );
    assert_eq!(
        asked
            .iter()
            .filter(|p| p.starts_with("/revocation-list/"))
            .count(),
        1,
        "{asked:?}"
    );
    // Filters mode, from scratch: every entry, and no batch.
    let options = SyncOptions {
        exact_revocations: false,
    };
    let filters = sync_with(&counted, &s.network, None, Timestamp::now(), options)
        .await
        .unwrap()
        .state;
    assert!(filters.revocations.is_empty());
    assert_eq!(filters.signers.len(), 1, "{:?}", filters.rejected);
    let asked = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        asked.iter().any(|p| p == "/log/entries?start=0&end=3"),
        "{asked:?}"
    );
    assert!(
        !asked
            .iter()
            .any(|p| p.starts_with("/revocation-list") || p.starts_with("/log/bodies")),
        "{asked:?}"
    );

    // The batch hidden from the revocation list: refused, naming the entry.
    let hiding = lying(&gateway, "/revocation-list", |json| {
        json["batches"] = serde_json::json!([]);
    })
    .await;
    let err = sync_now(&hiding, &s.network, Some(&before))
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::LogMismatch(_)), "{err}");
    assert!(
        err.to_string()
            .contains("log entry 2 adds revocation batch"),
        "{err}"
    );

    // An entry served other than signed (the upload naming another signer): the entries no
    // longer give the checkpoint's root.
    let forging = lying(&gateway, "/log/entries", |json| {
        let entry = json["entries"][1].as_str().unwrap().to_owned();
        let mut lines: Vec<String> = entry.split('\n').map(str::to_owned).collect();
        lines[5] = lines[5].chars().rev().collect();
        json["entries"][1] = lines.join("\n").into();
    })
    .await;
    let err = sync_now(&forging, &s.network, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Log(LogFetchError::Log(LogError::EntriesDoNotMatch {
                start: 0,
                size: 3,
                ..
            }))
        ),
        "{err}"
    );
    assert!(err.to_string().contains("checkpoint 3"), "{err}");
}

/// Revocation filters are held to the log too. Asked for its filters, the gateway logs their
/// digests (a `revocation_filters` entry) before serving them; a phone applies filters only
/// when a believed checkpoint includes the entry that states them, moving its checkpoint on
/// to it. A list the log does not state (a filter without a logged revocation) or one that
/// names no entry is refused, and the held filters stay. An operator that logs a false
/// statement is caught by `log verify`, which rebuilds each statement's filters from the
/// batches before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_filters_are_held_to_the_log() {
    use healthpass_client::filters::{FilterLog, sync_filters};
    use healthpass_client::sync::{SyncOptions, sync_with};
    use healthpass_network::revocation::LoggedFilters;
    use healthpass_trust::revocation::HashType;
    let s = setup(0);
    let dir = tempfile::tempdir().unwrap();
    let gateway = s.gateway(&dir, "a.db").await;
    s.onboard_and_upload(&gateway).await;
    submit(
        &gateway,
        ChangeKind::RevocationBatch,
        "AT",
        s.batch_cms(&[[7; 16]]),
    )
    .await;
    let honest_url = serve_url(router(gateway.clone())).await;
    let honest = GatewayClient::new(&honest_url, &ClientTls::default()).unwrap();
    let options = SyncOptions {
        exact_revocations: false,
    };
    let state = sync_with(&honest, &s.network, None, Timestamp::now(), options)
        .await
        .unwrap()
        .state;
    assert_eq!(held(&state).size, 3);
    let policy = s.network.log.as_ref().unwrap().policy().unwrap();
    let note = state.log_checkpoint.clone().unwrap();
    let log = FilterLog {
        policy: &policy,
        held: &note,
        now: Timestamp::now(),
    };
    let none = std::collections::BTreeMap::new();
    let synced = sync_filters(&honest, &none, Some(log)).await.unwrap();
    assert_eq!(synced.filters.len(), 1);
    let filter = &synced.filters.values().next().unwrap().filter;
    assert!(filter.may_contain(HashType::Uci, &[7; 16]));
    // The statement is entry 3, past the held checkpoint: the phone moved on to one with it.
    let moved = Checkpoint::from_note(synced.log_checkpoint.as_deref().unwrap()).unwrap();
    assert_eq!(moved.size, 4);
    assert_eq!(gateway.checkpoint().0, 4);

    // A list claiming the signer's filter is empty (the revocation left out): not the one
    // the log states.
    let hiding = lying(&gateway, "/revocation/filters", |json| {
        let bits = json["filters"][0]["universeBits"].as_u64().unwrap() as u8;
        let empty = healthpass_trust::revocation_filter::RevocationFilter::from_entries(&[], bits);
        json["filters"][0]["count"] = 0.into();
        json["filters"][0]["digest"] = empty.digest_hex().into();
    })
    .await;
    let err = sync_filters(&hiding, &none, Some(log)).await.unwrap_err();
    assert!(matches!(err, SyncError::LogMismatch(_)), "{err}");
    assert!(
        err.to_string()
            .contains("log entry 3 does not state the revocation filters"),
        "{err}"
    );
    // A list naming no entry.
    let unlogged = lying(&gateway, "/revocation/filters", |json| {
        json.as_object_mut().unwrap().remove("logIndex");
    })
    .await;
    let err = sync_filters(&unlogged, &none, Some(log)).await.unwrap_err();
    assert!(err.to_string().contains("its log does not hold"), "{err}");
    // Asked again with nothing changed, the gateway logs nothing new.
    sync_filters(&honest, &none, Some(log)).await.unwrap();
    assert_eq!(gateway.checkpoint().0, 4);

    // A dishonest operator logs a statement leaving the revoked hash out: the audit rebuilds
    // the filters of the batches before it and names the entry.
    let lie = LoggedFilters { filters: vec![] }.to_json();
    submit(&gateway, ChangeKind::RevocationFilters, "", lie).await;
    let network_file = dir.path().join("network.json");
    std::fs::write(&network_file, serde_json::to_string(&s.network).unwrap()).unwrap();
    let args: Vec<String> = [
        "log",
        "verify",
        "--gateway",
        &honest_url,
        "--network",
        network_file.to_str().unwrap(),
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        healthpass(&args)
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("entry 4: revocation filters leave out signer"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("entry 3:"),
        "the honest statement is not blamed: {stderr}"
    );
}

/// The commands: a witness made with `log keygen --witness`, named in the network; `log
/// witness` co-signs; `log verify` audits the whole log (entries, root, replay, served list
/// and filters) and passes; against a proxy whose list hides the withdrawal, the audit fails
/// naming the difference, and keeps the audited checkpoint as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witness_and_audit_commands() {
    let dir = tempfile::tempdir().unwrap();
    let witness_dir = dir.path().join("witness");
    std::fs::create_dir_all(&witness_dir).unwrap();
    let key_file = witness_dir.join("witness-key.pem");
    let out = healthpass(&[
        "log",
        "keygen",
        "--witness",
        "--name",
        "witness.test/cli",
        "--out",
        key_file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vkey = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(vkey.starts_with("witness.test/cli+"), "{vkey}");

    let mut s = setup(1);
    s.network.log.as_mut().unwrap().witnesses = vec![vkey];
    let network_file = dir.path().join("network.json");
    std::fs::write(&network_file, serde_json::to_string(&s.network).unwrap()).unwrap();
    let gateway = s.gateway(&dir, "g.db").await;
    s.onboard_and_upload(&gateway).await;
    submit(&gateway, ChangeKind::Withdrawal, "AT", s.withdrawal_cms()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(gateway)).await.unwrap() });
    // Asked for its revocation filters, the gateway logs them (entry 3: none), before the
    // witness co-signs.
    let client = GatewayClient::new(&url, &ClientTls::default()).unwrap();
    let filters = client.get("/revocation/filters", None).await.unwrap();
    let filters: serde_json::Value = serde_json::from_slice(&filters.body).unwrap();
    assert_eq!(filters["logIndex"], 3, "{filters}");

    let network = network_file.to_str().unwrap();
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            healthpass(&args)
        })
    };
    let args = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let out = run(args(&[
        "log",
        "witness",
        "--gateway",
        &url,
        "--network",
        network,
        "--state",
        witness_dir.to_str().unwrap(),
        "--name",
        "witness.test/cli",
    ]))
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("co-signed gateway.test/log size 4"));

    let audit_dir = dir.path().join("audit");
    let audit = |url: String| {
        run(args(&[
            "log",
            "verify",
            "--gateway",
            &url,
            "--network",
            network,
            "--state",
            audit_dir.to_str().unwrap(),
        ]))
    };
    let out = audit(url.clone()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("size 4"), "{stdout}");
    assert!(
        stdout.contains("4 entries replayed (1 countries); trust list compared"),
        "{stdout}"
    );
    let audited = std::fs::read_to_string(audit_dir.join("audited-checkpoint.txt")).unwrap();

    // A proxy serving the same log and a list without the withdrawal.
    let inner = url.clone();
    let lying = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let inner = inner.clone();
        async move {
            let path = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default();
            let client = GatewayClient::new(&inner, &ClientTls::default()).unwrap();
            let response = client.get(&path, None).await.unwrap();
            let mut body = response.body.to_vec();
            if path == "/trustList" {
                let mut list: serde_json::Value = serde_json::from_slice(&body).unwrap();
                list["withdrawn"] = serde_json::json!([]);
                body = serde_json::to_vec(&list).unwrap();
            }
            axum::response::Response::builder()
                .status(response.status)
                .body(axum::body::Body::from(body))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lying_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, lying).await.unwrap() });
    let out = audit(lying_url).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("differs from the replay of the log"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(audit_dir.join("audited-checkpoint.txt")).unwrap(),
        audited
    );
}
