//! `healthpass bench revocation` and `healthpass bench log`: the trust network at world scale.
//!
//! Revocation: a filter of N generated revoked hashes (uniform 16-byte values, as SHA-256
//! output is) is built, encoded and read back as a verifier would sync it; its size per entry,
//! its measured false-positive rate over Q hashes that were never revoked, the time of one
//! lookup (in a filter this size, mostly cache misses) as a ratio to one raw ES256
//! verification timed in the same rounds, and the delta after revoking M more. Binary fuse
//! filters (xorf) are built on the same keys for comparison.
//!
//! Log: N entries appended to the RFC 9162 tree, then inclusion and consistency proofs at
//! random points, and checkpoint signing; rates per second, with one ES256 verification as
//! the yardstick.

use crate::outln;
use clap::Args;
use healthpass_trust::revocation::HashType;
use healthpass_trust::revocation_filter::{RevocationFilter, filter_key, universe_bits_for};
use healthpass_trust::tlog::{MemoryTree, NoteKeyKind, NoteSigner};
use std::hint::black_box;

/// The generated revocations are all by UCI hash (as an issuer's usually are): a certificate
/// then costs one lookup.
const UCI_ONLY: u8 = 2;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use xorf::Filter as _;

#[derive(Args)]
pub struct RevocationBenchArgs {
    /// Revoked hashes in the filter.
    #[arg(long, default_value_t = 100_000_000)]
    entries: u64,
    /// Hashes never revoked, looked up to measure the false-positive rate.
    #[arg(long, default_value_t = 100_000_000)]
    queries: u64,
    /// Revocations after the first build, for the delta.
    #[arg(long, default_value_t = 10_000)]
    more: u64,
    /// Interleaved rounds of the lookup timing.
    #[arg(long, default_value_t = 9)]
    rounds: usize,
    /// Also build binary fuse filters (8, 16 and 32-bit) of the same keys.
    #[arg(long)]
    compare: bool,
}

#[derive(Args)]
pub struct LogBenchArgs {
    /// Entries appended to the tree.
    #[arg(long, default_value_t = 10_000_000)]
    entries: u64,
    /// Proofs of each kind generated (and checked).
    #[arg(long, default_value_t = 100_000)]
    proofs: u64,
}

/// splitmix64: fast, deterministic, uniform 64-bit values.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn hash(&mut self) -> [u8; 16] {
        let mut h = [0u8; 16];
        h[..8].copy_from_slice(&self.next().to_be_bytes());
        h[8..].copy_from_slice(&self.next().to_be_bytes());
        h
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// One raw ES256 verification (ring), the yardstick: nanoseconds per call, over `budget`.
struct Es256 {
    key: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
}

impl Es256 {
    fn new() -> anyhow::Result<Self> {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("key generation failed"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| anyhow::anyhow!("key parsing failed"))?;
        let message = vec![0x42; 300];
        let signature = pair
            .sign(&rng, &message)
            .map_err(|_| anyhow::anyhow!("signing failed"))?
            .as_ref()
            .to_vec();
        Ok(Self {
            key: pair.public_key().as_ref().to_vec(),
            message,
            signature,
        })
    }

    fn nanos_per_call(&self, budget: Duration) -> f64 {
        let key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            &self.key,
        );
        let start = Instant::now();
        let mut calls = 0u64;
        while start.elapsed() < budget {
            for _ in 0..16 {
                black_box(key.verify(black_box(&self.message), black_box(&self.signature)))
                    .expect("a valid signature");
            }
            calls += 16;
        }
        start.elapsed().as_nanos() as f64 / calls as f64
    }
}

fn median(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let q = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
    (q(0.5), q(0.25), q(0.75))
}

pub fn revocation(args: RevocationBenchArgs) -> anyhow::Result<ExitCode> {
    warn_if_debug();
    let n = args.entries;
    outln!("revocation filter: {n} revoked hashes (generated), one signer key");
    let mut rng = SplitMix(1);
    let started = Instant::now();
    let keys: Vec<u64> = (0..n)
        .map(|_| filter_key(HashType::Uci, &rng.hash()))
        .collect();
    outln!("  generated keys: {}", secs(started.elapsed()));

    let started = Instant::now();
    let filter = RevocationFilter::from_keys(keys.clone(), universe_bits_for(n), UCI_ONLY);
    let build = started.elapsed();
    let bytes = filter.to_bytes();
    let started = Instant::now();
    let synced = RevocationFilter::from_bytes(&bytes)?;
    let read = started.elapsed();
    anyhow::ensure!(
        synced.digest() == filter.digest(),
        "the filter did not read back"
    );
    outln!(
        "  build {}, encoded {} bytes = {:.3} bytes per entry, read back (strict) {}",
        secs(build),
        bytes.len(),
        bytes.len() as f64 / n as f64,
        secs(read)
    );
    outln!(
        "  fingerprint {} bits; stated false-positive rate n/2^u = {:.3e}",
        filter.universe_bits(),
        filter.false_positive_rate()
    );

    // Measured false positives: hashes from another stream, never revoked.
    let mut other = SplitMix(0x005e_ed0f_07e4);
    let started = Instant::now();
    let mut hits = 0u64;
    for _ in 0..args.queries {
        if synced.may_contain(HashType::Uci, &other.hash()) {
            hits += 1;
        }
    }
    let query_time = started.elapsed();
    let measured = hits as f64 / args.queries as f64;
    let sigma = (filter.false_positive_rate() / args.queries as f64).sqrt();
    outln!(
        "  measured false-positive rate: {hits} of {} = {measured:.3e} (stated {:.3e} ± {sigma:.1e}); {:.0} ns per lookup over the run",
        args.queries,
        filter.false_positive_rate(),
        query_time.as_nanos() as f64 / args.queries as f64
    );

    // Lookup time against one ES256 verification, interleaved.
    let es256 = Es256::new()?;
    let probes: Vec<[u8; 16]> = (0..1 << 16).map(|_| other.hash()).collect();
    let mut ratios = Vec::with_capacity(args.rounds);
    let mut lookup_ns = Vec::with_capacity(args.rounds);
    let mut es_ns = Vec::with_capacity(args.rounds);
    for _ in 0..args.rounds {
        let es = es256.nanos_per_call(Duration::from_millis(200));
        let start = Instant::now();
        let mut calls = 0u64;
        while start.elapsed() < Duration::from_millis(200) {
            for probe in &probes {
                black_box(synced.may_contain(HashType::Uci, black_box(probe)));
            }
            calls += probes.len() as u64;
        }
        let lookup = start.elapsed().as_nanos() as f64 / calls as f64;
        ratios.push(lookup / es);
        lookup_ns.push(lookup);
        es_ns.push(es);
    }
    let (ratio, lo, hi) = median(&mut ratios);
    let (lookup, _, _) = median(&mut lookup_ns);
    let (es, _, _) = median(&mut es_ns);
    outln!(
        "  one lookup = {lookup:.0} ns; one ES256 verification = {es:.0} ns; lookup / ES256 = {:.3} % [{:.3}–{:.3} %] ({} rounds)",
        ratio * 100.0,
        lo * 100.0,
        hi * 100.0,
        args.rounds
    );

    // A delta: M more revoked.
    if args.compare {
        compare_fuse(&keys, args.queries.min(10_000_000))?;
    }

    let mut more = keys;
    more.extend((0..args.more).map(|_| filter_key(HashType::Uci, &rng.hash())));
    let started = Instant::now();
    let newer = RevocationFilter::from_keys(more, filter.universe_bits(), UCI_ONLY);
    let rebuild = started.elapsed();
    let delta = filter.delta_to(&newer)?;
    let delta_bytes = delta.to_bytes();
    let started = Instant::now();
    let applied = synced
        .apply(&healthpass_trust::revocation_filter::FilterDelta::from_bytes(&delta_bytes)?)?;
    let apply = started.elapsed();
    anyhow::ensure!(
        applied.digest() == newer.digest(),
        "the delta did not apply"
    );
    outln!(
        "  after {} more: delta {} bytes ({:.2} bytes per added entry), applied by the verifier in {} (gateway rebuild {}); digests equal",
        args.more,
        delta_bytes.len(),
        delta_bytes.len() as f64 / args.more as f64,
        secs(apply),
        secs(rebuild)
    );

    Ok(ExitCode::SUCCESS)
}

/// Binary fuse filters (xorf) of the same keys: size per entry, measured false positives and
/// lookup time.
fn compare_fuse(keys: &[u64], queries: u64) -> anyhow::Result<()> {
    let n = keys.len() as f64;
    macro_rules! one {
        ($name:literal, $ty:ty, $width:expr) => {{
            let started = Instant::now();
            let fuse = <$ty>::try_from(keys).map_err(|e| anyhow::anyhow!("{}: {e}", $name))?;
            let build = started.elapsed();
            let mut other = SplitMix(0x005e_ed0f_07e4);
            let started = Instant::now();
            let hits = (0..queries)
                .filter(|_| fuse.contains(&filter_key(HashType::Uci, &other.hash())))
                .count();
            let per = started.elapsed().as_nanos() as f64 / queries as f64;
            outln!(
                "  {}: {:.3} bytes per entry, measured false-positive rate {:.3e} ({hits} of {queries}), {per:.0} ns per lookup, build {} (static: a revocation means a rebuild)",
                $name,
                fuse.len() as f64 * $width / n,
                hits as f64 / queries as f64,
                secs(build)
            );
        }};
    }
    one!("binary fuse 8", xorf::BinaryFuse8, 1.0);
    one!("binary fuse 16", xorf::BinaryFuse16, 2.0);
    one!("binary fuse 32", xorf::BinaryFuse32, 4.0);
    Ok(())
}

pub fn log(args: LogBenchArgs) -> anyhow::Result<ExitCode> {
    warn_if_debug();
    let n = args.entries;
    outln!("transparency log: {n} entries (RFC 9162 tree, in memory)");
    let mut tree = MemoryTree::new();
    let mut entry = vec![0u8; 256];
    let started = Instant::now();
    for i in 0..n {
        entry[..8].copy_from_slice(&i.to_be_bytes());
        tree.push(&entry);
    }
    let append = started.elapsed();
    outln!(
        "  append: {:.0} entries/s ({} for {n}; leaf hash of a 256-byte entry included)",
        n as f64 / append.as_secs_f64(),
        secs(append)
    );
    let started = Instant::now();
    let root = tree.root();
    outln!(
        "  root of {n}: {:.1} µs",
        started.elapsed().as_secs_f64() * 1e6
    );

    let mut rng = SplitMix(7);
    let mut check = 0u64;
    let started = Instant::now();
    for _ in 0..args.proofs {
        let index = rng.next() % n;
        let proof = tree.prove_inclusion(index, n)?;
        check += proof.len() as u64;
    }
    let inclusion = started.elapsed();
    let started = Instant::now();
    for _ in 0..args.proofs {
        let old = 1 + rng.next() % n;
        let proof = tree.prove_consistency(old, n)?;
        check += proof.len() as u64;
    }
    let consistency = started.elapsed();
    black_box(check);
    // Spot-check that the proofs are the real thing.
    entry[..8].copy_from_slice(&(n / 3).to_be_bytes());
    healthpass_trust::tlog::check_inclusion(
        &tree.prove_inclusion(n / 3, n)?,
        n / 3,
        healthpass_trust::tlog::leaf_hash(&entry),
        n,
        root,
    )?;
    // A verifier's sync: the frontier at the held size, then every entry since appended and
    // the root compared with the checkpoint's (no proof per entry).
    let half = n / 2;
    let started = Instant::now();
    let mut frontier = tree.frontier(half)?;
    for i in half..n {
        entry[..8].copy_from_slice(&i.to_be_bytes());
        frontier.push(&entry);
    }
    let checked = started.elapsed();
    anyhow::ensure!(
        frontier.root() == root,
        "the frontier's root is not the tree's"
    );
    let record = healthpass_network::log::LogRecord {
        version: n,
        kind: healthpass_network::log::ChangeKind::RevocationBatch,
        country: "AT".into(),
        accepted_at: jiff::Timestamp::from_second(1_800_000_000)?,
        subject: "0123456789abcdef0123456789abcdef".into(),
        body_sha256: [0xab; 32],
    };
    outln!(
        "  a verifier's check of the {} entries since size {half}: {:.0} entries/s ({}); a revocation-batch entry is {} bytes",
        n - half,
        (n - half) as f64 / checked.as_secs_f64(),
        secs(checked),
        record.to_bytes().len()
    );
    let signer = NoteSigner::generate("bench.example/log", NoteKeyKind::Ed25519)?;
    let text = healthpass_trust::tlog::Checkpoint {
        origin: "bench.example/log".into(),
        size: n,
        root,
    }
    .to_text();
    let started = Instant::now();
    let signs = 20_000;
    for _ in 0..signs {
        black_box(signer.sign(black_box(&text), 0));
    }
    let sign = started.elapsed();
    let es = Es256::new()?.nanos_per_call(Duration::from_millis(300));
    outln!(
        "  inclusion proofs: {:.0}/s; consistency proofs: {:.0}/s; checkpoint signatures: {:.0}/s; (one ES256 verification: {es:.0} ns)",
        args.proofs as f64 / inclusion.as_secs_f64(),
        args.proofs as f64 / consistency.as_secs_f64(),
        signs as f64 / sign.as_secs_f64()
    );
    outln!(
        "  memory: {} stored hashes ({:.0} MB)",
        2 * n,
        (2 * n * 32) as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

fn warn_if_debug() {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -p healthpass -- bench …` for real figures"
        );
    }
}
