//! Crash safety: `kill -9` the gateway process during a burst of uploads, start it again on
//! the same database, and find every acknowledged upload there and nothing half-written (the
//! gateway replays every stored change through all its checks on start, so a torn row would
//! stop it from starting). On SQLite, and on PostgreSQL when `HEALTHPASS_TEST_POSTGRES` is set.

use healthpass_client::http::{ClientTls, GatewayClient};
use healthpass_client::upload::{UploadKind, upload};
use healthpass_gateway::store::{drop_test_database, test_database_urls};
use healthpass_issue::pki::{TestPkiOptions, generate_gateway_tls, generate_test_pki};
use healthpass_network::cms::UploadSigner;
use healthpass_network::trustlist::TrustList;
use healthpass_network::{GovernanceKey, Network, OnboardingRecord, SignedOnboarding};
use healthpass_trust::{SignerCertificate, TrustStore};
use jiff::{SignedDuration, Timestamp};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Uploads in the burst, and how many acknowledgements to wait for before the kill.
const BURST: usize = 60;
const KILL_AFTER: usize = 15;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path, port: u16, database: &str) -> Server {
    Server(
        Command::new(env!("CARGO_BIN_EXE_healthpass"))
            .args([
                "gateway",
                "serve",
                "--network",
                "network.json",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--tls-cert",
                "gateway.crt.pem",
                "--tls-key",
                "gateway.key.pem",
                "--database",
                database,
            ])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Waits until the gateway answers; returns its trust list.
async fn trust_list(client: &GatewayClient) -> TrustList {
    for _ in 0..200 {
        if let Ok(response) = client.get("/trustList", None).await {
            assert_eq!(response.status, 200);
            return TrustList::from_json(std::str::from_utf8(&response.body).unwrap()).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway did not come up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_upload_survives_kill_9() {
    let probe = tempfile::tempdir().unwrap();
    for index in 0..test_database_urls(probe.path()).len() {
        let dir = tempfile::tempdir().unwrap();
        let database = test_database_urls(dir.path()).swap_remove(index);
        crash_and_restart(dir.path(), &database).await;
        drop_test_database(&database).await;
    }
}

async fn crash_and_restart(dir: &Path, database: &str) {
    let now = Timestamp::now();
    let keys = [(); 3].map(|()| GovernanceKey::generate().unwrap());
    let network = Network::new(
        "crash-net",
        2,
        keys.iter().map(GovernanceKey::public).collect(),
    )
    .unwrap();
    std::fs::write(
        dir.join("network.json"),
        serde_json::to_string(&network).unwrap(),
    )
    .unwrap();
    let tls = generate_gateway_tls(
        &["localhost".into()],
        now - SignedDuration::from_hours(1),
        1,
    )
    .unwrap();
    std::fs::write(dir.join("gateway.crt.pem"), &tls.cert_pem).unwrap();
    std::fs::write(dir.join("gateway.key.pem"), &tls.key_pem).unwrap();
    let pki = generate_test_pki(&TestPkiOptions::new(
        "AT",
        now - SignedDuration::from_hours(24),
    ))
    .unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://localhost:{port}");
    let client = |identity: Option<(&str, &str)>| {
        let tls = ClientTls {
            ca_pem: Some(tls.ca_cert_pem.clone().into_bytes()),
            identity: identity.map(|(c, k)| (c.as_bytes().to_vec(), k.as_bytes().to_vec())),
        };
        GatewayClient::new(&url, &tls).unwrap()
    };
    let public = client(None);
    let country = Arc::new(client(Some((&pki.auth_cert_pem, &pki.auth_key_pem))));

    let mut server = serve(dir, port, database);
    assert_eq!(trust_list(&public).await.version, 0);
    let csca = TrustStore::parse_certificates(pki.csca_cert_pem.as_bytes());
    let record = OnboardingRecord::new(
        &network,
        "AT",
        1,
        now,
        &csca,
        std::slice::from_ref(&pki.upload_cert_der),
        std::slice::from_ref(&pki.auth_cert_der),
    )
    .unwrap();
    let mut signed = SignedOnboarding::unsigned(record);
    signed.sign(&keys[0], &network).unwrap();
    signed.sign(&keys[1], &network).unwrap();
    let response = public
        .post(
            "/onboarding",
            "application/json",
            signed.to_json().into_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 201, "{}", response.problem());

    // Many DSCs of AT's CSCA, each in its own CMS (one signing time: a burst may share one).
    let signer = UploadSigner::new(&pki.upload_key_pem, &pki.upload_cert_der).unwrap();
    let validity = (
        now - SignedDuration::from_hours(1),
        now + SignedDuration::from_hours(24),
    );
    let uploads: Vec<(String, Vec<u8>)> = (0..BURST)
        .map(|i| {
            let (der, _) = pki.issue_dsc("AT", &i.to_string(), validity).unwrap();
            let thumbprint = SignerCertificate::from_der(&der)
                .unwrap()
                .thumbprint()
                .to_owned();
            (thumbprint, signer.sign_at(&der, false, now).unwrap())
        })
        .collect();

    // The burst, four at a time; the process is killed once KILL_AFTER were acknowledged.
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let queue = Arc::new(std::sync::Mutex::new(uploads.into_iter()));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (queue, country, acknowledged, count) = (
            queue.clone(),
            country.clone(),
            acknowledged.clone(),
            count.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().unwrap().next();
                let Some((thumbprint, cms)) = next else { break };
                match upload(&country, UploadKind::Signer, &cms).await {
                    Ok(_) => {
                        acknowledged.lock().unwrap().push(thumbprint);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    // After the kill: connection refused or reset.
                    Err(_) => break,
                }
            }
        }));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while count.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            std::time::Instant::now() < deadline,
            "{database}: only {} uploads acknowledged",
            count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= KILL_AFTER);
    assert!(
        acknowledged.len() < BURST,
        "the kill came after the burst ended; nothing was tested"
    );

    // Restarted on the same database: it replays every row through the checks, and every
    // acknowledged upload is on the list.
    let _server = serve(dir, port, database);
    let list = trust_list(&public).await;
    let on_list: std::collections::BTreeSet<&str> =
        list.signers.iter().map(|e| e.thumbprint.as_str()).collect();
    for thumbprint in &acknowledged {
        assert!(
            on_list.contains(thumbprint.as_str()),
            "{database}: lost {thumbprint}"
        );
    }
    // Acknowledged, or committed just before the kill and not yet answered: never more.
    assert!(list.signers.len() >= acknowledged.len());
    assert_eq!(list.version as usize, 1 + list.signers.len(), "{database}");
    let verified = list.verify(&network, &Default::default()).unwrap();
    assert!(verified.rejected.is_empty(), "{:?}", verified.rejected);
}
