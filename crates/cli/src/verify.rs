//! `healthpass verify`.

use crate::{out, outln};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use healthpass_verify::{Policy, TrustFreshness, Verdict, VerificationReport, VerifyOptions};
use std::sync::Arc;

use crate::input;

#[derive(Args)]
pub struct VerifyArgs {
    /// A signer certificate (PEM, DER or Base64 DER) or a folder of them; repeatable. Or the
    /// folder of a synced trust state (`healthpass trust sync --state DIR`), alone.
    /// Default: data/trust, if it exists.
    #[arg(long = "trust", value_name = "PATH")]
    trust: Vec<PathBuf>,
    /// Trust a SMART Health Card issuer: its `iss` URL and its keys, as a JWKS file or a
    /// folder laid out like the issuer's site (`.well-known/jwks.json`, and
    /// `.well-known/crl/<kid>.json` revocation lists); repeatable.
    #[arg(long = "shc-issuer", value_name = "ISS=PATH")]
    shc_issuers: Vec<String>,
    /// Trust the SMART Health Card issuers of a VCI directory snapshot (`vci_snapshot.json`;
    /// its signature is read from the same path with the extension `.sig` and must verify).
    /// The snapshot's time counts as when this trust data was fetched (see --trust-max-age).
    #[arg(long = "shc-directory", value_name = "SNAPSHOT")]
    shc_directory: Option<PathBuf>,
    /// The certificate whose key signs the snapshots. Default: VCI's (vci_snapshot.crt, CN=vci.org).
    #[arg(
        long = "shc-directory-cert",
        value_name = "PEM",
        requires = "shc_directory"
    )]
    shc_directory_cert: Option<PathBuf>,
    /// Country signing CA certificates (a file or a folder) that anchor ICAO VDS-NC barcode
    /// signers; repeatable. A barcode signer certificate given with --trust is trusted as is.
    #[arg(long = "csca", value_name = "PATH")]
    cscas: Vec<PathBuf>,
    /// Revocation lists (X.509 CRL, DER or PEM; a file or a folder) of those CSCAs: a barcode
    /// signer they list is red (`signer_revoked`). Each must be signed by a --csca.
    #[arg(long = "csca-crl", value_name = "PATH", requires = "cscas")]
    csca_crls: Vec<PathBuf>,
    /// Trust a DIVOC signing key (PEM public key, RSA or Ed25519), for proofs whose
    /// `verificationMethod` is ID (`did:india=cowin.pem`) or, without ID=, for any; repeatable.
    #[arg(long = "divoc-key", value_name = "[ID=]PATH")]
    divoc_keys: Vec<String>,
    /// How old synced trust data may be before the verdict is at best yellow
    /// (`trust_data_stale`): e.g. 24h, 90m, 2h30m.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    trust_max_age: jiff::SignedDuration,
    /// Check validity at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Show every check, the signer and the full payload (default: verdict, name, date of birth).
    #[arg(long)]
    details: bool,
    /// Verify one QR text per line of FILE (`-` for stdin); writes one JSON report per line, in
    /// input order.
    #[arg(long, value_name = "FILE", conflicts_with = "input")]
    batch: Option<String>,
    /// Accept texts whose `HC1:` prefix was dropped (some wallets did this).
    #[arg(long)]
    accept_missing_prefix: bool,
    /// Accept certificates whose COSE message is not zlib-compressed (as the EU apps do).
    #[arg(long)]
    accept_uncompressed: bool,
    /// Apply the business rules of this arrival country (ISO 3166-1 alpha-2): green only if
    /// every rule passes.
    #[arg(long, value_name = "CC")]
    country: Option<String>,
    /// A region of the arrival country whose rules differ.
    #[arg(long, value_name = "R", requires = "country")]
    region: Option<String>,
    /// Rules: a folder laid out like the EU business rules (`<CC>/<ID>/rule.json`) or a file
    /// of rules. Default: the synced state's rules with `--trust STATE_DIR`, else data/rules.
    #[arg(long, value_name = "DIR", requires = "country")]
    rules: Option<PathBuf>,
    /// Value sets the rules consult: an EU value-set file or folder, or the compressed map.
    /// Default: data/valuesets.
    #[arg(long, value_name = "PATH", requires = "country")]
    valuesets: Option<PathBuf>,
    /// Language of rule descriptions (ISO 639-1: de, fr, …); English where a rule has none.
    #[arg(long, value_name = "LANG", requires = "country")]
    lang: Option<String>,
    /// Threads for --batch (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// When a revocation filter matches (yellow `possibly_revoked`), settle it at this
    /// gateway: fetch the exact revoked hashes of the matching partitions (the gateway learns
    /// the first byte of the certificate's hashes, nothing else) and verify again.
    #[arg(long, value_name = "URL")]
    confirm_online: Option<String>,
    /// The CA certificate of an https:// gateway for --confirm-online (PEM).
    #[arg(long, value_name = "FILE", requires = "confirm_online")]
    gateway_ca: Option<PathBuf>,
    /// The QR text, `@FILE` to read it from a file, or `-` for stdin.
    #[arg(required_unless_present = "batch")]
    input: Option<String>,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let now = input::time_or_now(args.at.as_deref())?;
    let input::Trust {
        store: mut trust,
        mut fetched_at,
        rules: synced_rules,
    } = input::trust_store(
        &args.trust,
        args.shc_issuers.is_empty()
            && args.cscas.is_empty()
            && args.shc_directory.is_none()
            && args.divoc_keys.is_empty(),
    )?;
    for spec in &args.divoc_keys {
        add_divoc_key(&mut trust, spec)?;
    }
    if let Some(snapshot) = &args.shc_directory {
        let taken = input::add_shc_directory(
            &mut trust,
            snapshot,
            args.shc_directory_cert.as_deref(),
            now,
        )?;
        // Trust data is as old as its oldest part.
        fetched_at = Some(fetched_at.map_or(taken, |f| f.min(taken)));
    }
    for spec in &args.shc_issuers {
        input::add_shc_issuer(&mut trust, spec)?;
    }
    for path in &args.cscas {
        input::add_cscas(&mut trust, path)?;
    }
    for path in &args.csca_crls {
        input::add_csca_crls(&mut trust, path, now)?;
    }
    let policy = match &args.country {
        Some(country) => {
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
                anyhow::bail!("--country {country:?} is not a two-letter country code (DE, FR, …)");
            }
            let (rules, value_sets) = input::rules_and_value_sets(
                args.rules.as_deref(),
                args.valuesets.as_deref(),
                synced_rules,
            )?;
            Some(Policy {
                rules: Arc::new(rules),
                value_sets: Arc::new(value_sets),
                country: country.to_ascii_uppercase(),
                region: args.region.clone(),
                language: args.lang.as_deref().map(Into::into),
            })
        }
        None => None,
    };
    let options = VerifyOptions {
        accept_missing_prefix: args.accept_missing_prefix,
        accept_uncompressed: args.accept_uncompressed,
        policy,
        trust_freshness: fetched_at.map(|fetched_at| TrustFreshness {
            fetched_at,
            max_age: args.trust_max_age,
        }),
        ..VerifyOptions::default()
    };
    if let Some(batch) = &args.batch {
        return run_batch(batch, args.threads, now, &trust, &options);
    }
    let text = input::qr_text(args.input.as_deref().unwrap_or("-"))?;
    // A SMART Health Card file may hold several cards: one report each.
    let credentials = healthpass_verify::split_credentials(&text);
    let mut reports: Vec<VerificationReport> = credentials
        .iter()
        .map(|credential| healthpass_verify::verify_with(credential, now, &trust, &options))
        .collect();
    if let Some(url) = &args.confirm_online {
        for (credential, report) in credentials.iter().zip(reports.iter_mut()) {
            let possibly = report
                .reasons
                .iter()
                .any(|r| r.code == healthpass_verify::ReasonCode::PossiblyRevoked);
            if possibly {
                confirm_online(url, args.gateway_ca.as_deref(), credential, &mut trust)?;
                *report = healthpass_verify::verify_with(credential, now, &trust, &options);
            }
        }
    }
    for report in &reports {
        if args.json {
            outln!("{}", serde_json::to_string_pretty(report)?);
        } else {
            out!("{}", crate::render::human(report, args.details));
        }
    }
    Ok(if reports.iter().all(|r| r.verdict == Verdict::Green) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Fetches the exact revoked hashes of the partitions the certificate's hashes fall in, for
/// its signer, and adds them to `trust` as settled.
fn confirm_online(
    url: &str,
    ca: Option<&std::path::Path>,
    credential: &str,
    trust: &mut healthpass_trust::TrustStore,
) -> anyhow::Result<()> {
    use healthpass_trust::revocation::{HashType, RevocationSource};
    let (Some(kid), hashes) = crate::revoke::certificate_hashes(credential)? else {
        return Ok(());
    };
    let tls = healthpass_client::ClientTls {
        ca_pem: ca.map(input::read_file).transpose()?,
        identity: None,
    };
    let client = healthpass_client::GatewayClient::new(url, &tls)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let kid_b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, kid);
    let mut partitions: Vec<u8> = HashType::ALL.iter().map(|t| hashes.of(*t)[0]).collect();
    partitions.sort_unstable();
    partitions.dedup();
    for partition in partitions {
        let exact = runtime
            .block_on(healthpass_client::filters::fetch_partition(
                &client, &kid_b64, partition,
            ))
            .with_context(|| format!("cannot confirm at {url}"))?;
        for hash_type in HashType::ALL {
            let of_type = exact
                .iter()
                .filter(|(t, _)| *t == hash_type)
                .map(|(_, h)| *h);
            trust.revocations_mut().insert_batch(
                RevocationSource {
                    country: "its issuer (confirmed online)".into(),
                    batch_id: format!("partition {partition:02x}"),
                },
                Some(kid),
                hash_type,
                of_type,
            );
        }
        trust.revocations_mut().mark_exact(kid, partition);
    }
    Ok(())
}

fn run_batch(
    source: &str,
    threads: Option<usize>,
    now: jiff::Timestamp,
    trust: &healthpass_trust::TrustStore,
    options: &VerifyOptions,
) -> anyhow::Result<ExitCode> {
    let (reader, total) = crate::batch::open(source)?;
    let pool = crate::batch::pool(threads)?;
    let progress = crate::input::progress_bar(total, "verifying");
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut all_green = true;
    crate::batch::map_lines(
        reader,
        source,
        &pool,
        &progress,
        |_, line| {
            let report = healthpass_verify::verify_with(line.trim(), now, trust, options);
            let json =
                serde_json::to_string(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
            (report.verdict == Verdict::Green, json)
        },
        |(green, json)| {
            all_green &= green;
            writeln!(out, "{json}").context("cannot write to standard output")
        },
    )?;
    out.flush().context("cannot write to standard output")?;
    progress.finish_and_clear();
    Ok(if all_green {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `--divoc-key [ID=]PATH`.
fn add_divoc_key(trust: &mut healthpass_trust::TrustStore, spec: &str) -> anyhow::Result<()> {
    use healthpass_trust::divoc_keys::DivocKey;
    let (id, path) = match spec.split_once('=') {
        Some((id, path)) if !id.is_empty() => (Some(id), path),
        _ => (None, spec),
    };
    let pem = std::fs::read_to_string(path).with_context(|| format!("--divoc-key {path}"))?;
    let key = DivocKey::from_pem(id, &pem).with_context(|| format!("--divoc-key {path}"))?;
    trust.add_divoc_key(key);
    Ok(())
}
