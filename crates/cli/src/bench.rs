//! `healthpass bench`: throughput measured as ratios within one run.
//!
//! These machines are shared and their speed drifts, so every figure that matters is a ratio
//! of two measurements taken in the same round: full verify against a raw ECDSA P-256 verify
//! with the same library (ring), issuance against a raw signature, two threads against one.
//! Rounds interleave the cases; the report gives the median ratio and its interquartile range.

use crate::outln;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use healthpass_codec::cose::CoseSign1;
use healthpass_issue::Hc1Issuer;
use healthpass_issue::pki::{SignerAlgorithm, TestPkiOptions, generate_test_pki};
use healthpass_trust::{SignerCertificate, TrustStore};
use jiff::{SignedDuration, Timestamp};
use rayon::prelude::*;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// Without one: verification and issuance against raw signatures.
    #[command(subcommand)]
    what: Option<BenchWhat>,
    /// Interleaved rounds.
    #[arg(long, default_value_t = 15)]
    rounds: usize,
    /// Milliseconds per case per round.
    #[arg(long, default_value_t = 150)]
    millis: u64,
    /// Also measure business rules: a rule folder (e.g.
    /// ../shared/corpus/eu-dcc-business-rules).
    #[arg(long, value_name = "DIR")]
    rules: Option<std::path::PathBuf>,
    /// Value sets for the rules.
    #[arg(long, value_name = "PATH", requires = "rules")]
    valuesets: Option<std::path::PathBuf>,
    /// The country whose rules to measure (default: the one with the most rules).
    #[arg(long, value_name = "CC", requires = "rules")]
    country: Option<String>,
    /// Instead of timing, run one case this many times and stop: for an instruction counter
    /// (`valgrind --tool=callgrind`), whose counts do not depend on what else the machine
    /// does. Run it once per case and compare the totals.
    #[arg(long, value_name = "CASE")]
    profile: Option<ProfileCase>,
    /// Calls of the profiled case.
    #[arg(long, default_value_t = 1000, requires = "profile")]
    iterations: u64,
}

/// The other benchmarks.
#[derive(clap::Subcommand)]
enum BenchWhat {
    /// The revocation filter at scale: build, size per entry, measured false positives,
    /// lookup against one ES256 verification, delta after more revocations.
    Revocation(crate::scale_bench::RevocationBenchArgs),
    /// The transparency log at scale: append, inclusion and consistency proofs.
    Log(crate::scale_bench::LogBenchArgs),
}

/// The cases `--profile` runs.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ProfileCase {
    /// ring's ECDSA P-256 verify alone, the reference.
    RawEs256,
    /// Full verify of the HC1 ES256 fixture.
    Hc1,
    /// Full verify of the SMART Health Card fixture.
    Shc,
    /// Full verify of the VDS-NC fixture, signer pinned.
    Vds,
    /// Nothing after the set-up: the baseline to subtract.
    None,
}

/// The rules part of the benchmark: one country's whole rule set on the fixture certificate.
struct RulesFixture {
    /// A certificate every rule of the country passes (a recent full course), so the figures
    /// are those of the common case, not of the look-ahead a failing certificate triggers.
    text: String,
    payload: serde_json::Value,
    country: String,
    all: Vec<std::sync::Arc<healthpass_rules::Rule>>,
    options: healthpass_verify::VerifyOptions,
}

fn rules_fixture(
    args: &BenchArgs,
    issuer: &Hc1Issuer,
    now: Timestamp,
) -> anyhow::Result<Option<RulesFixture>> {
    let Some(dir) = &args.rules else {
        return Ok(None);
    };
    let (rules, value_sets) =
        crate::input::rules_and_value_sets(Some(dir), args.valuesets.as_deref(), None)?;
    let country = match &args.country {
        Some(c) => c.to_ascii_uppercase(),
        None => rules
            .countries()
            .into_iter()
            .max_by_key(|c| rules.rules().iter().filter(|r| r.country == *c).count())
            .ok_or_else(|| anyhow::anyhow!("no rules under {}", dir.display()))?
            .to_owned(),
    };
    let all: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| r.country == country)
        .cloned()
        .collect();
    let options = healthpass_verify::VerifyOptions {
        policy: Some(healthpass_verify::Policy {
            rules: std::sync::Arc::new(rules),
            value_sets: std::sync::Arc::new(value_sets),
            country: country.clone(),
            region: None,
            language: None,
        }),
        ..Default::default()
    };
    let mut payload: serde_json::Value = serde_json::from_str(crate::demo::SAMPLE_PAYLOAD)?;
    let vaccinated = now - SignedDuration::from_hours(24 * 30);
    payload["v"][0]["dt"] = vaccinated.strftime("%Y-%m-%d").to_string().into();
    let text = issuer.issue(&payload, now, now + SignedDuration::from_hours(24 * 30))?;
    Ok(Some(RulesFixture {
        text,
        payload,
        country,
        all,
        options,
    }))
}

struct Fixture {
    issuer: Hc1Issuer,
    trust: TrustStore,
    text: String,
    tbs: Vec<u8>,
    signature: Vec<u8>,
    public_key: Vec<u8>,
}

fn fixture(algorithm: SignerAlgorithm, now: Timestamp) -> anyhow::Result<Fixture> {
    let mut options = TestPkiOptions::new("XA", now - SignedDuration::from_hours(1));
    options.algorithm = algorithm;
    let pki = generate_test_pki(&options)?;
    let key = healthpass_issue::SigningKey::from_pkcs8_pem(&pki.dsc_key_pem)?;
    let signer = SignerCertificate::from_der(&pki.dsc_cert_der)?;
    let issuer = Hc1Issuer::new(key, signer.clone())?;
    let payload: serde_json::Value = serde_json::from_str(crate::demo::SAMPLE_PAYLOAD)?;
    let text = issuer.issue(&payload, now, now + SignedDuration::from_hours(24 * 30))?;
    let cose = healthpass_codec::hc1::decode(&text, healthpass_codec::zlib::DEFAULT_INFLATE_LIMIT)?;
    let message = CoseSign1::decode(&cose)?;
    let public_key = match signer.public_key() {
        healthpass_trust::PublicKey::EcP256(p) => p.clone(),
        healthpass_trust::PublicKey::Rsa { pkcs1, .. } => pkcs1.clone(),
        other => anyhow::bail!("unexpected key {other:?}"),
    };
    let mut trust = TrustStore::new();
    trust.insert(signer);
    Ok(Fixture {
        tbs: message.to_be_signed(),
        signature: message.signature.to_vec(),
        issuer,
        trust,
        text,
        public_key,
    })
}

/// Runs `op` repeatedly for about `budget` and returns nanoseconds per call.
/// A SMART Health Card of two vaccinations, and a store trusting its issuer.
fn shc_fixture(now: Timestamp) -> anyhow::Result<(String, healthpass_trust::TrustStore)> {
    let (key, _) = healthpass_issue::SigningKey::generate_es256()?;
    let jwk = anyhow::Context::context(key.public_jwk(), "an ES256 key has a JWK")?;
    let iss = "https://bench.example/issuer";
    let issuer = healthpass_issue::ShcIssuer::new(key, iss)?;
    let bundle = serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "resource:0", "resource": {"resourceType": "Patient", "name": [{"family": "Anyperson", "given": ["John", "B."]}], "birthDate": "1951-01-20"}},
        {"fullUrl": "resource:1", "resource": {"resourceType": "Immunization", "status": "completed", "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "207"}]}, "patient": {"reference": "resource:0"}, "occurrenceDateTime": "2021-01-01", "performer": [{"actor": {"display": "ABC General Hospital"}}], "lotNumber": "0000001"}},
        {"fullUrl": "resource:2", "resource": {"resourceType": "Immunization", "status": "completed", "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "207"}]}, "patient": {"reference": "resource:0"}, "occurrenceDateTime": "2021-01-29", "performer": [{"actor": {"display": "ABC General Hospital"}}], "lotNumber": "0000007"}}
    ]});
    let jws = issuer.issue(
        &bundle,
        now - SignedDuration::from_hours(1),
        None,
        Some("MKyCxh7p6uQ"),
    )?;
    let mut trust = healthpass_trust::TrustStore::new();
    trust.add_shc_issuer(
        iss,
        None,
        [healthpass_trust::jwk::IssuerKey::from_jwk(&jwk)?],
    );
    Ok((healthpass_issue::shc::qr_text(&jws), trust))
}

/// An ICAO vaccination seal, a store pinning its signer and one trusting its CSCA.
fn seal_fixture(
    now: Timestamp,
) -> anyhow::Result<(
    String,
    healthpass_trust::TrustStore,
    healthpass_trust::TrustStore,
)> {
    use healthpass_trust::{SignerCertificate, TrustStore};
    let pki = healthpass_issue::pki::generate_icao_test_pki(
        "AU",
        now - SignedDuration::from_hours(1),
        30,
        &["NV"],
    )?;
    let bsc = SignerCertificate::from_der(&pki.bsc_cert_der)?;
    let sealer = healthpass_issue::SealIssuer::new(
        healthpass_issue::SigningKey::from_pkcs8_pem(&pki.bsc_key_pem)?,
        bsc.clone(),
    )?;
    let data = serde_json::json!({"hdr": {"t": "icao.vacc", "v": 1, "is": "AUS"}, "msg": {"uvci": "VB0009990012", "pid": {"n": "CITIZEN  JANE SUE", "dob": "1961-05-15", "sex": "F", "i": "PA0941262"}, "ve": [{"des": "XM68M6", "nam": "AstraZeneca Vaxzevria", "dis": "RA01.0", "vd": [{"dvc": "2021-09-15", "seq": 1, "ctr": "AUS", "adm": "General Practitioner", "lot": "300157P"}]}]}});
    let seal = sealer.issue(&data)?;
    let mut pinned = TrustStore::new();
    pinned.insert(bsc);
    let mut csca = TrustStore::new();
    for der in TrustStore::parse_certificates(pki.csca_cert_pem.as_bytes()) {
        csca.add_csca(SignerCertificate::from_der(&der)?);
    }
    Ok((seal, pinned, csca))
}

fn time_per_op(budget: Duration, mut op: impl FnMut()) -> f64 {
    // Calibrate: double the batch until it takes a measurable time.
    let mut batch = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            op();
        }
        if start.elapsed() >= budget / 20 || batch >= 1 << 24 {
            break;
        }
        batch *= 2;
    }
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < budget {
        for _ in 0..batch {
            op();
        }
        calls += batch;
    }
    start.elapsed().as_nanos() as f64 / calls as f64
}

fn quartiles(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.what {
        Some(BenchWhat::Revocation(args)) => return crate::scale_bench::revocation(args),
        Some(BenchWhat::Log(args)) => return crate::scale_bench::log(args),
        None => {}
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -p healthpass -- bench` for real figures"
        );
    }
    let now = Timestamp::now();
    let es = fixture(SignerAlgorithm::Es256, now)?;
    let ps = fixture(SignerAlgorithm::Ps256, now)?;
    // Warm up (schemas compile on first use).
    for f in [&es, &ps] {
        let report = healthpass_verify::verify(&f.text, now, &f.trust);
        anyhow::ensure!(
            report.verdict == healthpass_verify::Verdict::Green,
            "fixture is not green: {:?}",
            report.reasons
        );
    }
    let batch_texts: Vec<&str> = std::iter::repeat_n(es.text.as_str(), 512).collect();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let all = rayon::ThreadPoolBuilder::new().num_threads(cores).build()?;
    let budget = Duration::from_millis(args.millis);
    let raw_es = ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_FIXED,
        &es.public_key,
    );
    let raw_ps = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PSS_2048_8192_SHA256,
        &ps.public_key,
    );
    let es_key = healthpass_issue::SigningKey::from_pkcs8_pem(
        &generate_test_pki(&TestPkiOptions::new("XA", now))?.dsc_key_pem,
    )?;
    let payload: serde_json::Value = serde_json::from_str(crate::demo::SAMPLE_PAYLOAD)?;
    let later = now + SignedDuration::from_hours(24);
    let rules = rules_fixture(&args, &es.issuer, now)?;
    let empty = serde_json::Value::Null;
    let rules_context = healthpass_rules::CertificateContext {
        payload: rules.as_ref().map_or(&empty, |r| &r.payload),
        certificate_type: healthpass_rules::CertificateType::Vaccination,
        issuer_country: "XA",
        issued_at: Some(now),
        expires_at: Some(now + SignedDuration::from_hours(24 * 30)),
        kid: Some("AAAAAAAAAAA="),
    };
    if let Some(r) = &rules {
        let with_rules = healthpass_verify::verify_with(&r.text, now, &es.trust, &r.options);
        let policy = with_rules.policy.as_ref();
        eprintln!(
            "rules of {}: {} in the set, {} applied by verify; verdict with rules: {:?}",
            r.country,
            r.all.len(),
            policy.map_or(0, |p| p.rules.len()),
            with_rules.verdict
        );
    }

    let (shc_text, shc_trust) = shc_fixture(now)?;
    let (seal_text, seal_pinned, seal_csca) = seal_fixture(now)?;
    for (text, trust) in [
        (&shc_text, &shc_trust),
        (&seal_text, &seal_pinned),
        (&seal_text, &seal_csca),
    ] {
        let report = healthpass_verify::verify(text, now, trust);
        anyhow::ensure!(
            report.verdict == healthpass_verify::Verdict::Green,
            "{:?} fixture is not green: {:?}",
            report.format,
            report.reasons
        );
    }

    if let Some(case) = args.profile {
        for _ in 0..args.iterations {
            match case {
                ProfileCase::RawEs256 => {
                    black_box(raw_es.verify(black_box(&es.tbs), black_box(&es.signature))).ok();
                }
                ProfileCase::Hc1 => {
                    black_box(healthpass_verify::verify(
                        black_box(&es.text),
                        now,
                        &es.trust,
                    ));
                }
                ProfileCase::Shc => {
                    black_box(healthpass_verify::verify(
                        black_box(&shc_text),
                        now,
                        &shc_trust,
                    ));
                }
                ProfileCase::Vds => {
                    black_box(healthpass_verify::verify(
                        black_box(&seal_text),
                        now,
                        &seal_pinned,
                    ));
                }
                ProfileCase::None => {}
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let mut names = vec![
        "raw ES256 verify (ring)",
        "full verify, HC1 ES256",
        "raw PS256 verify (ring, RSA-2048)",
        "full verify, HC1 PS256",
        "raw ES256 sign (ring)",
        "issue HC1 ES256",
        "batch verify, 1 thread (per cert)",
        "batch verify, all cores (per cert)",
        "full verify, SMART Health Card",
        "full verify, VDS-NC, signer pinned",
        "full verify, VDS-NC, via its CSCA",
    ];
    if let Some(r) = &rules {
        names.push("rules: whole rule set of one country");
        names.push("full verify + rules, HC1 ES256");
        names.push("full verify, same certificate, no rules");
        eprintln!("rules: {} ({} rules)", r.country, r.all.len());
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    eprintln!(
        "{} rounds of {} ms per case, {} cores",
        args.rounds, args.millis, cores
    );
    for round in 0..args.rounds {
        samples[0].push(time_per_op(budget, || {
            black_box(raw_es.verify(black_box(&es.tbs), black_box(&es.signature))).ok();
        }));
        samples[1].push(time_per_op(budget, || {
            black_box(healthpass_verify::verify(
                black_box(&es.text),
                now,
                &es.trust,
            ));
        }));
        samples[2].push(time_per_op(budget, || {
            black_box(raw_ps.verify(black_box(&ps.tbs), black_box(&ps.signature))).ok();
        }));
        samples[3].push(time_per_op(budget, || {
            black_box(healthpass_verify::verify(
                black_box(&ps.text),
                now,
                &ps.trust,
            ));
        }));
        samples[4].push(time_per_op(budget, || {
            black_box(es_key.sign(black_box(&es.tbs))).ok();
        }));
        samples[5].push(time_per_op(budget, || {
            black_box(es.issuer.issue(black_box(&payload), now, later)).ok();
        }));
        for (slot, pool) in [(6, &one), (7, &all)] {
            let per_batch = time_per_op(budget, || {
                pool.install(|| {
                    batch_texts.par_iter().for_each(|t| {
                        black_box(healthpass_verify::verify(t, now, &es.trust));
                    })
                })
            });
            samples[slot].push(per_batch / batch_texts.len() as f64);
        }
        for (slot, text, trust) in [
            (8, &shc_text, &shc_trust),
            (9, &seal_text, &seal_pinned),
            (10, &seal_text, &seal_csca),
        ] {
            samples[slot].push(time_per_op(budget, || {
                black_box(healthpass_verify::verify(black_box(text), now, trust));
            }));
        }
        if let Some(r) = &rules {
            let selection = healthpass_rules::Selection {
                country: &r.country,
                region: None,
                clock: now,
            };
            let value_sets = &r.options.policy.as_ref().expect("policy").value_sets;
            samples[11].push(time_per_op(budget, || {
                black_box(healthpass_rules::evaluate_rules(
                    black_box(&r.all),
                    &rules_context,
                    &selection,
                    value_sets,
                ));
            }));
            samples[12].push(time_per_op(budget, || {
                black_box(healthpass_verify::verify_with(
                    black_box(&r.text),
                    now,
                    &es.trust,
                    &r.options,
                ));
            }));
            samples[13].push(time_per_op(budget, || {
                black_box(healthpass_verify::verify(
                    black_box(&r.text),
                    now,
                    &es.trust,
                ));
            }));
        }
        eprint!("\rround {}/{}", round + 1, args.rounds);
    }
    eprintln!();
    outln!("{:<38} {:>12} {:>10}", "case", "ns/op", "ops/s");
    for (name, s) in names.iter().zip(&samples) {
        let (_, median, _) = quartiles(s.clone());
        outln!("{name:<38} {median:>12.0} {:>10.0}", 1e9 / median);
    }
    let ratio = |num: usize, den: usize| -> (f64, f64, f64) {
        quartiles(
            samples[num]
                .iter()
                .zip(&samples[den])
                .map(|(n, d)| d / n)
                .collect(),
        )
    };
    outln!("\nratios within each round (median, interquartile range):");
    let mut lines = vec![
        (
            "full ES256 verify / raw ES256 verify, ops/s (target >= 0.9)",
            ratio(1, 0),
        ),
        ("full PS256 verify / raw PS256 verify, ops/s", ratio(3, 2)),
        ("full PS256 verify / raw ES256 verify, ops/s", ratio(3, 0)),
        ("HC1 issuance / raw ES256 sign, ops/s", ratio(5, 4)),
        (
            "batch verify speed-up, all cores / 1 thread (target >= 1.8 on 2)",
            ratio(7, 6),
        ),
        (
            "full SHC verify / raw ES256 verify, ops/s (target >= 0.9)",
            ratio(8, 0),
        ),
        (
            "full VDS-NC verify, signer pinned / raw ES256 verify, ops/s (target >= 0.9)",
            ratio(9, 0),
        ),
        (
            "full VDS-NC verify, via CSCA / raw ES256 verify, ops/s (two signatures)",
            ratio(10, 0),
        ),
    ];
    if rules.is_some() {
        // Time ratios (smaller is better): the rules' cost as a share of a signature check.
        // `ratio(a, b)` is time(b) / time(a).
        lines.push((
            "whole rule set / raw ES256 verify, time (target < 0.10)",
            ratio(0, 11),
        ));
        lines.push((
            "full verify + rules / full verify, time (target < 1.10)",
            ratio(13, 12),
        ));
    }
    for (label, (p25, median, p75)) in lines {
        outln!("  {label:<66} {median:.3}  [{p25:.3}-{p75:.3}]");
    }
    Ok(ExitCode::SUCCESS)
}
