//! `healthpass network`: create a test trust network, and make, sign and check onboarding
//! records and value-set releases.

use crate::{input, outln};
use anyhow::{Context, bail};
use clap::Subcommand;
use healthpass_network::{
    GovernanceKey, Network, OnboardingRecord, SignedOnboarding, SignedValueSets, ValueSetRelease,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Create a TEST network: N governance keys and the network definition (k of n).
    Init {
        /// Folder to write `network.json` and `governance-<id>.key.pem` files to.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The network's name.
        #[arg(long, default_value = "healthpass-test")]
        name: String,
        /// Number of governance keys (n).
        #[arg(long, default_value_t = 3)]
        keys: usize,
        /// Signatures an onboarding record needs (k).
        #[arg(long, default_value_t = 2)]
        threshold: usize,
    },
    /// Make an unsigned onboarding record for a country from its certificates.
    Onboarding {
        /// The network definition.
        #[arg(long, value_name = "FILE")]
        network: PathBuf,
        /// The country (ISO 3166-1 alpha-2).
        #[arg(long, value_name = "CC")]
        country: String,
        /// CSCA certificate files (PEM, DER or Base64); repeatable.
        #[arg(long, value_name = "FILE", required = true)]
        csca: Vec<PathBuf>,
        /// Upload certificate files; repeatable.
        #[arg(long, value_name = "FILE", required = true)]
        upload: Vec<PathBuf>,
        /// Authentication (TLS client) certificate files; repeatable.
        #[arg(long = "auth", value_name = "FILE", required = true)]
        authentication: Vec<PathBuf>,
        /// Must exceed the sequence of the country's previous record.
        #[arg(long, default_value_t = 1)]
        sequence: u64,
        /// Where to write the record.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Make an unsigned value-set release from EU value-set JSON (a file with one value set
    /// or an array of them, or a folder of such files).
    ValueSets {
        /// The network definition.
        #[arg(long, value_name = "FILE")]
        network: PathBuf,
        /// The value sets.
        #[arg(long, value_name = "PATH")]
        valuesets: PathBuf,
        /// Must exceed the sequence of the network's previous release.
        #[arg(long, default_value_t = 1)]
        sequence: u64,
        /// Where to write the release.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Add one governance signature to an onboarding record or a value-set release (rewritten
    /// in place, atomically).
    #[command(alias = "sign-onboarding")]
    Sign {
        /// The network definition.
        #[arg(long, value_name = "FILE")]
        network: PathBuf,
        /// The governance private key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The record or release.
        record: PathBuf,
    },
    /// Check onboarding records: for this network, well formed, k valid governance signatures.
    VerifyOnboarding {
        /// The network definition.
        #[arg(long, value_name = "FILE")]
        network: PathBuf,
        /// The records.
        #[arg(required = true)]
        records: Vec<PathBuf>,
    },
}

pub fn run(command: NetworkCommand) -> anyhow::Result<ExitCode> {
    match command {
        NetworkCommand::Init {
            out,
            name,
            keys,
            threshold,
        } => init(&out, &name, keys, threshold),
        NetworkCommand::Onboarding {
            network,
            country,
            csca,
            upload,
            authentication,
            sequence,
            out,
        } => {
            let network = load_network(&network)?;
            let certs = |files: &[PathBuf]| -> anyhow::Result<Vec<Vec<u8>>> {
                let mut ders = Vec::new();
                for file in files {
                    let found =
                        healthpass_trust::TrustStore::parse_certificates(&input::read_file(file)?);
                    if found.is_empty() {
                        bail!("{} holds no certificate", file.display());
                    }
                    ders.extend(found);
                }
                Ok(ders)
            };
            let record = OnboardingRecord::new(
                &network,
                &country.to_ascii_uppercase(),
                sequence,
                jiff::Timestamp::now(),
                &certs(&csca)?,
                &certs(&upload)?,
                &certs(&authentication)?,
            )?;
            input::write_atomic(
                &out,
                SignedOnboarding::unsigned(record).to_json().as_bytes(),
            )?;
            outln!(
                "Wrote an unsigned onboarding record for {} to {}",
                country.to_ascii_uppercase(),
                out.display()
            );
            outln!(
                "It needs {} of {} governance signatures: healthpass network sign-onboarding",
                network.threshold,
                network.governance_keys.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::ValueSets {
            network,
            valuesets,
            sequence,
            out,
        } => {
            let network = load_network(&network)?;
            let value_sets = read_value_sets(&valuesets)?;
            let count = value_sets.len();
            let release = ValueSetRelease {
                network: network.name.clone(),
                sequence,
                issued_at: jiff::Timestamp::now(),
                value_sets,
            };
            input::write_atomic(
                &out,
                SignedValueSets::unsigned(release).to_json().as_bytes(),
            )?;
            outln!(
                "Wrote an unsigned release of {count} value sets to {}; it needs {} of {} governance signatures: healthpass network sign",
                out.display(),
                network.threshold,
                network.governance_keys.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::Sign {
            network,
            key,
            record,
        } => {
            let network = load_network(&network)?;
            let key = GovernanceKey::from_pkcs8_pem(&input::read_text(&key)?)
                .with_context(|| format!("{}", key.display()))?;
            let text = input::read_text(&record)?;
            let (json, verified) = if let Ok(mut signed) = SignedValueSets::from_json(&text) {
                signed.sign(&key, &network)?;
                (signed.to_json(), signed.verify(&network).map(|_| ()))
            } else {
                let mut signed = load_record(&record)?;
                signed.sign(&key, &network)?;
                (signed.to_json(), signed.verify(&network).map(|_| ()))
            };
            input::write_atomic(&record, json.as_bytes())?;
            let status = match verified {
                Ok(()) => "complete".to_owned(),
                Err(e) => format!("not yet valid: {e}"),
            };
            outln!(
                "Signed {} with governance key {}; the record is {status}",
                record.display(),
                key.id()
            );
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::VerifyOnboarding { network, records } => {
            let network = load_network(&network)?;
            let mut all_good = true;
            for path in records {
                match load_record(&path).and_then(|r| Ok(r.verify(&network)?)) {
                    Ok(v) => outln!(
                        "ok   {} {} (sequence {}), signed by {}",
                        path.display(),
                        v.record.country,
                        v.record.sequence,
                        v.signed_by.join(", ")
                    ),
                    Err(e) => {
                        all_good = false;
                        outln!("FAIL {}: {e:#}", path.display());
                    }
                }
            }
            Ok(if all_good {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// EU value-set JSON by id, from a file (one value set, or an array) or a folder of files;
/// each must load as a value set.
fn read_value_sets(
    path: &Path,
) -> anyhow::Result<std::collections::BTreeMap<String, serde_json::Value>> {
    let files = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_owned()]
    };
    let mut sets = std::collections::BTreeMap::new();
    for file in files {
        let json: serde_json::Value = serde_json::from_slice(&input::read_file(&file)?)
            .with_context(|| format!("{}: not JSON", file.display()))?;
        let items = match json {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        for item in items {
            healthpass_rules::ValueSets::new()
                .add_json(&item)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let id = item["valueSetId"]
                .as_str()
                .with_context(|| format!("{}: a value set without valueSetId", file.display()))?
                .to_owned();
            sets.insert(id, item);
        }
    }
    if sets.is_empty() {
        bail!("{} holds no value set", path.display());
    }
    Ok(sets)
}

fn load_network(path: &Path) -> anyhow::Result<Network> {
    Network::from_json(&input::read_text(path)?).with_context(|| format!("{}", path.display()))
}

fn load_record(path: &Path) -> anyhow::Result<SignedOnboarding> {
    SignedOnboarding::from_json(&input::read_text(path)?)
        .with_context(|| format!("{}", path.display()))
}

fn init(out: &Path, name: &str, n: usize, threshold: usize) -> anyhow::Result<ExitCode> {
    let keys = (0..n)
        .map(|_| GovernanceKey::generate())
        .collect::<Result<Vec<_>, _>>()?;
    let network = Network::new(
        name,
        threshold,
        keys.iter().map(GovernanceKey::public).collect(),
    )?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let network_file = out.join("network.json");
    if network_file.exists() {
        bail!(
            "{} exists; refusing to replace a network definition",
            network_file.display()
        );
    }
    for key in &keys {
        input::write_secret_atomic(
            &out.join(format!("governance-{}.key.pem", key.id())),
            key.to_pkcs8_pem().as_bytes(),
        )?;
    }
    input::write_atomic(
        &network_file,
        (serde_json::to_string_pretty(&network)? + "\n").as_bytes(),
    )?;
    outln!(
        "Wrote a TEST network {name:?} to {}: {threshold} of {n} governance keys",
        out.display()
    );
    for key in &keys {
        outln!("  governance-{}.key.pem", key.id());
    }
    outln!("  network.json (hand this to every gateway and verifier)");
    outln!("In a real network each governance key is made and kept offline by a different member.");
    Ok(ExitCode::SUCCESS)
}
