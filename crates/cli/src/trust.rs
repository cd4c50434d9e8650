//! `healthpass trust sync`: fetch the trust network's list, check every chain, keep it for
//! offline verification.

use anyhow::Context;
use clap::{Args, Subcommand};
use healthpass_client::http::{ClientTls, GatewayClient};
use healthpass_client::sync::{STATE_FILE, SyncOptions, TrustState, sync_with};
use healthpass_network::Network;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::{input, outln};

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Download the trust list and revocation batches from a gateway, check every signature
    /// chain (governance k of n → country → CSCA → DSC, and the country's CMS signatures), and
    /// write the verified state that `healthpass verify --trust DIR` uses offline. Exit 1 when
    /// the gateway served entries that fail those checks (they are left out and listed).
    Sync(SyncArgs),
}

#[derive(Args)]
pub struct SyncArgs {
    /// The gateway, `http://host:port` or `https://host:port`.
    #[arg(long, value_name = "URL", env = "HEALTHPASS_GATEWAY")]
    gateway: String,
    /// The network definition (governance keys and threshold), obtained out of band.
    #[arg(long, value_name = "FILE", env = "HEALTHPASS_NETWORK")]
    network: PathBuf,
    /// Folder of the trust state (created if needed; the previous state there guards against
    /// rollbacks).
    #[arg(long, value_name = "DIR", default_value = "data/trust-state")]
    state: PathBuf,
    /// The CA certificate of an https:// gateway (PEM).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// How revocations are kept: `exact` (every batch's hashes) or `filters` (each signer
    /// key's compact filter, about 3 bytes per revoked certificate, moved forward by deltas;
    /// a hit is yellow unless settled online with `verify --confirm-online`).
    #[arg(long, value_enum, default_value = "exact")]
    revocation: RevocationMode,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RevocationMode {
    Exact,
    Filters,
}

/// The folder of a state's revocation filters, one file per signer key.
pub const FILTERS_DIR: &str = "filters";

/// A filter's file name: the kid in Base64url.
fn filter_file(kid: &str) -> String {
    format!("{}.hprf", healthpass_network::revocation::kid_to_path(kid))
}

/// The revocation filters kept in a state folder, by kid (Base64).
pub fn load_filters(
    dir: &Path,
) -> anyhow::Result<
    std::collections::BTreeMap<String, healthpass_trust::revocation_filter::RevocationFilter>,
> {
    let mut filters = std::collections::BTreeMap::new();
    let folder = dir.join(FILTERS_DIR);
    if !folder.is_dir() {
        return Ok(filters);
    }
    for entry in std::fs::read_dir(&folder).with_context(|| folder.display().to_string())? {
        let path = entry?.path();
        let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".hprf"))
        else {
            continue;
        };
        let filter = healthpass_trust::revocation_filter::RevocationFilter::from_bytes(
            &input::read_file(&path)?,
        )
        .with_context(|| format!("{}: not a revocation filter", path.display()))?;
        filters.insert(healthpass_network::revocation::kid_from_path(stem), filter);
    }
    Ok(filters)
}

pub fn run(command: TrustCommand) -> anyhow::Result<ExitCode> {
    let TrustCommand::Sync(args) = command;
    let network = Network::from_json(&input::read_text(&args.network)?)
        .with_context(|| args.network.display().to_string())?;
    let previous = load_state(&args.state)?;
    let tls = ClientTls {
        ca_pem: args.ca.as_deref().map(input::read_file).transpose()?,
        identity: None,
    };
    let client = GatewayClient::new(&args.gateway, &tls)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let options = SyncOptions {
        exact_revocations: args.revocation == RevocationMode::Exact,
    };
    let outcome = runtime
        .block_on(sync_with(
            &client,
            &network,
            previous.as_ref(),
            jiff::Timestamp::now(),
            options,
        ))
        .context("sync failed; the previous trust state is kept")?;
    let mut state = outcome.state;
    let folder = args.state.join(FILTERS_DIR);
    let filters = if args.revocation == RevocationMode::Filters {
        let held = load_filters(&args.state)?;
        let policy = network.log.as_ref().map(|l| l.policy()).transpose()?;
        let log = match (&policy, &state.log_checkpoint) {
            (Some(policy), Some(held)) => Some(healthpass_client::filters::FilterLog {
                policy,
                held,
                now: jiff::Timestamp::now(),
            }),
            _ => None,
        };
        let synced = runtime
            .block_on(healthpass_client::filters::sync_filters(
                &client, &held, log,
            ))
            .context("revocation filters: sync failed; the previous trust state is kept")?;
        if let Some(note) = &synced.log_checkpoint {
            state.log_checkpoint = Some(note.clone());
        }
        // Files first (each atomic), then the state: a crash between leaves new filters
        // beside the old state, which the next sync brings level.
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        let (mut whole, mut delta, mut bytes) = (0, 0, 0);
        for (kid, f) in &synced.filters {
            match f.fetched {
                healthpass_client::filters::Fetched::Unchanged => continue,
                healthpass_client::filters::Fetched::Delta(n) => {
                    (delta, bytes) = (delta + 1, bytes + n)
                }
                healthpass_client::filters::Fetched::Whole(n) => {
                    (whole, bytes) = (whole + 1, bytes + n)
                }
            }
            input::write_atomic(&folder.join(filter_file(kid)), &f.filter.to_bytes())?;
        }
        for kid in held.keys().filter(|k| !synced.filters.contains_key(*k)) {
            let _ = std::fs::remove_file(folder.join(filter_file(kid)));
        }
        let revoked: u64 = synced.filters.values().map(|f| f.filter.len()).sum();
        Some(format!(
            "{} revocation filters ({revoked} revoked hashes): {whole} fetched whole, {delta} by delta, {bytes} bytes",
            synced.filters.len()
        ))
    } else {
        // Exact hashes now: filters kept from an earlier mode would only add yellow.
        if folder.is_dir() {
            std::fs::remove_dir_all(&folder)
                .with_context(|| format!("cannot remove {}", folder.display()))?;
        }
        None
    };
    input::write_atomic(&args.state.join(STATE_FILE), state.to_json().as_bytes())?;
    let (countries, batches) = (state.sequences.len(), state.revocations.len());
    outln!(
        "{} version {} from {}: {countries} countries, {} signers, {} withdrawn, {batches} revocation batches",
        if outcome.unchanged {
            "unchanged:"
        } else {
            "synced"
        },
        state.version,
        args.gateway,
        state.signers.len(),
        state.withdrawn.len(),
    );
    if let Some(filters) = filters {
        outln!("  {filters}");
    }
    for why in &state.rejected {
        eprintln!("refused: {why}");
    }
    Ok(if state.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The trust state in `dir`, if one was written there.
pub fn load_state(dir: &Path) -> anyhow::Result<Option<TrustState>> {
    let path = dir.join(STATE_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let state = TrustState::from_json(&input::read_text(&path)?)
        .with_context(|| path.display().to_string())?;
    Ok(Some(state))
}
