//! `healthpass network`: create a test trust network, and make, sign and check onboarding
//! records.

use crate::{input, outln};
use anyhow::{Context, bail};
use clap::Subcommand;
use healthpass_network::{GovernanceKey, Network, OnboardingRecord, SignedOnboarding};
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
    /// Add one governance signature to an onboarding record (rewritten in place, atomically).
    SignOnboarding {
        /// The network definition.
        #[arg(long, value_name = "FILE")]
        network: PathBuf,
        /// The governance private key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The record.
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
        NetworkCommand::SignOnboarding {
            network,
            key,
            record,
        } => {
            let network = load_network(&network)?;
            let key = GovernanceKey::from_pkcs8_pem(&input::read_text(&key)?)
                .with_context(|| format!("{}", key.display()))?;
            let mut signed = load_record(&record)?;
            signed.sign(&key, &network)?;
            input::write_atomic(&record, signed.to_json().as_bytes())?;
            let status = match signed.verify(&network) {
                Ok(_) => "complete".to_owned(),
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
