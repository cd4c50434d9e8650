//! `healthpass gateway bench`: the gateway at the size of a world network, on loopback.
//!
//! It builds a 2-of-3 network of N countries × M signer certificates (test PKIs), loads the
//! gateway through its own checks, and measures, in one run on this machine: durable uploads
//! per second (each acknowledged only after its commit), trust-list requests per second (a
//! `304` revalidation and a full download, on keep-alive connections), and the time of a full
//! `trust sync` (download + every chain checked) and of a delta sync after one change.
//! Bounded: it runs for a few seconds per phase and talks to 127.0.0.1 only.

use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use healthpass_client::http::{ClientTls, GatewayClient};
use healthpass_client::sync::sync;
use healthpass_gateway::server::{Gateway, router};
use healthpass_gateway::store::{ChangeKind, Store};
use healthpass_issue::pki::{TestPkiOptions, generate_test_pki};
use healthpass_network::cms::UploadSigner;
use healthpass_network::{GovernanceKey, Network, OnboardingRecord, SignedOnboarding};
use healthpass_trust::TrustStore;
use http_body_util::{BodyExt, Empty};
use jiff::{SignedDuration, Timestamp};
use rayon::prelude::*;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::outln;

#[derive(Args)]
pub struct GatewayBenchArgs {
    /// Countries in the network.
    #[arg(long, default_value_t = 200)]
    countries: usize,
    /// Signer certificates per country.
    #[arg(long, default_value_t = 50)]
    signers: usize,
    /// Seconds per read phase.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Concurrent keep-alive connections in the read phases.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Database URL (default: SQLite in a temporary folder).
    #[arg(long)]
    database: Option<String>,
}

/// A two-letter code for country `i` (AA, AB, …).
fn code(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    String::from_utf8(vec![letters[i / 26 % 26], letters[i % 26]]).expect("ASCII")
}

struct CountryLoad {
    code: String,
    onboarding: Vec<u8>,
    uploads: Vec<Vec<u8>>,
}

pub fn run(args: GatewayBenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        (1..=676).contains(&args.countries) && args.signers >= 2,
        "--countries must be 1 to 676 and --signers at least 2"
    );
    let now = Timestamp::now();
    let keys = [(); 3].map(|()| GovernanceKey::generate().expect("key generation"));
    let network = Network::new(
        "bench-net",
        2,
        keys.iter().map(GovernanceKey::public).collect(),
    )?;
    let started = Instant::now();
    let validity = (
        now - SignedDuration::from_hours(24),
        now + SignedDuration::from_hours(24 * 365),
    );
    let loads: Vec<CountryLoad> = (0..args.countries)
        .into_par_iter()
        .map(|i| -> anyhow::Result<CountryLoad> {
            let code = code(i);
            let pki = generate_test_pki(&TestPkiOptions::new(&code, validity.0))?;
            let csca = TrustStore::parse_certificates(pki.csca_cert_pem.as_bytes());
            let record = OnboardingRecord::new(
                &network,
                &code,
                1,
                now,
                &csca,
                std::slice::from_ref(&pki.upload_cert_der),
                std::slice::from_ref(&pki.auth_cert_der),
            )?;
            let mut signed = SignedOnboarding::unsigned(record);
            signed.sign(&keys[i % 3], &network)?;
            signed.sign(&keys[(i + 1) % 3], &network)?;
            let signer = UploadSigner::new(&pki.upload_key_pem, &pki.upload_cert_der)?;
            let mut uploads = vec![signer.sign_at(&pki.dsc_cert_der, false, now)?];
            for n in 1..args.signers {
                let (der, _) = pki.issue_dsc(&code, &n.to_string(), validity)?;
                uploads.push(signer.sign_at(&der, false, now)?);
            }
            Ok(CountryLoad {
                code,
                onboarding: signed.to_json().into_bytes(),
                uploads,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let total = args.countries * args.signers;
    outln!(
        "network: {} countries x {} signers = {total} DSCs, made in {:.1} s",
        args.countries,
        args.signers,
        started.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(measure(args, network, loads, total))
}

async fn measure(
    args: GatewayBenchArgs,
    network: Network,
    loads: Vec<CountryLoad>,
    total: usize,
) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let url = args
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let log_key = healthpass_trust::tlog::NoteSigner::generate(
        "bench.healthpass/log",
        healthpass_trust::tlog::NoteKeyKind::Ed25519,
    )?;
    let gateway = Gateway::open(network.clone(), Store::open(&url).await?, log_key).await?;
    let now = Timestamp::now();
    for load in &loads {
        gateway
            .submit(ChangeKind::Onboarding, "", load.onboarding.clone(), now)
            .await?;
    }

    // Durable uploads: each goes through every check and is committed before the next. The
    // last one is kept back for the delta sync.
    let (held_country, held) = (&loads[0].code, loads[0].uploads.last().cloned());
    let total = total - 1;
    let started = Instant::now();
    for (i, load) in loads.iter().enumerate() {
        let keep = usize::from(i == 0);
        for cms in &load.uploads[..load.uploads.len() - keep] {
            gateway
                .submit(ChangeKind::Upload, &load.code, cms.clone(), now)
                .await?;
        }
    }
    let upload_seconds = started.elapsed().as_secs_f64();
    outln!(
        "uploads (checked, durable commit each): {total} in {upload_seconds:.2} s = {:.0}/s on {}",
        total as f64 / upload_seconds,
        if url.starts_with("sqlite") {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = router(gateway.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = GatewayClient::new(&format!("http://{address}"), &ClientTls::default())?;
    let full = client.get("/trustList", None).await?;
    let etag = full.etag.clone().context("the trust list has no ETag")?;
    outln!(
        "trust list: {:.1} MB, version {}",
        full.body.len() as f64 / 1e6,
        etag
    );

    let seconds = Duration::from_secs(args.seconds);
    let (n304, _) = load(address, Some(&etag), args.connections, seconds, 304).await?;
    let (nfull, bytes) = load(address, None, args.connections, seconds, 200).await?;
    let s = seconds.as_secs_f64();
    outln!(
        "GET /trustList, {} keep-alive connections, {} s each, server and load on the same 2 cores:",
        args.connections,
        args.seconds
    );
    outln!("  304 revalidation: {:.0}/s", n304 as f64 / s);
    outln!(
        "  full download:    {:.1}/s ({:.0} MB/s)",
        nfull as f64 / s,
        bytes as f64 / s / 1e6
    );

    let started = Instant::now();
    let first = sync(&client, &network, None, Timestamp::now()).await?;
    let full_sync = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        first.state.signers.len() == total && first.state.rejected.is_empty(),
        "sync trusted {} of {total} signers ({} refused)",
        first.state.signers.len(),
        first.state.rejected.len()
    );
    let started = Instant::now();
    let again = sync(&client, &network, Some(&first.state), Timestamp::now()).await?;
    let unchanged_sync = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        again.unchanged,
        "nothing changed, yet the sync was not a 304"
    );
    // One more signer, then a delta sync (the merged list is checked as a whole).
    let held = held.context("no upload held back")?;
    gateway
        .submit(ChangeKind::Upload, held_country, held, Timestamp::now())
        .await?;
    let started = Instant::now();
    let delta = sync(&client, &network, Some(&first.state), Timestamp::now()).await?;
    let delta_sync = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        delta.state.signers.len() == total + 1,
        "the delta sync trusted {} signers",
        delta.state.signers.len()
    );
    outln!(
        "trust sync: full {full_sync:.2} s ({total} signers, every chain and CMS checked); \
         unchanged (304) {:.1} ms; delta after one upload {delta_sync:.2} s",
        unchanged_sync * 1000.0
    );
    Ok(ExitCode::SUCCESS)
}

/// Requests `GET /trustList` on `connections` keep-alive connections for `duration`; returns
/// the responses with `expect` status and the body bytes read.
async fn load(
    address: std::net::SocketAddr,
    etag: Option<&str>,
    connections: usize,
    duration: Duration,
    expect: u16,
) -> anyhow::Result<(u64, u64)> {
    let count = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (count, bytes) = (count.clone(), bytes.clone());
        let etag = etag.map(str::to_owned);
        tasks.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(address).await?;
            tcp.set_nodelay(true)?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await?;
            tokio::spawn(connection);
            while Instant::now() < deadline {
                let mut request = hyper::Request::get("/trustList").header("host", "bench");
                if let Some(etag) = &etag {
                    request = request.header("if-none-match", etag.as_str());
                }
                let response = sender
                    .send_request(request.body(Empty::<Bytes>::new())?)
                    .await?;
                anyhow::ensure!(
                    response.status().as_u16() == expect,
                    "status {}",
                    response.status()
                );
                let body = response.into_body().collect().await?.to_bytes();
                bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                count.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((count.load(Ordering::Relaxed), bytes.load(Ordering::Relaxed)))
}
