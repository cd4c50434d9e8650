//! `healthpass trust sync`: fetch the trust network's list, check every chain, keep it for
//! offline verification.

use anyhow::Context;
use clap::{Args, Subcommand};
use healthpass_client::http::{ClientTls, GatewayClient};
use healthpass_client::sync::{STATE_FILE, TrustState, sync};
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
    let outcome = runtime
        .block_on(sync(
            &client,
            &network,
            previous.as_ref(),
            jiff::Timestamp::now(),
        ))
        .context("sync failed; the previous trust state is kept")?;
    let state = &outcome.state;
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
