//! `healthpass log`: the gateway's transparency log — keys, witnessing, auditing.

use anyhow::Context;
use clap::{Args, Subcommand};
use healthpass_network::Network;
use healthpass_trust::tlog::{NoteKeyKind, NoteSigner};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::{input, outln};

#[derive(Subcommand)]
pub enum LogCommand {
    /// Make a log or witness key: writes the private key (PEM, readable by you only) and
    /// prints its verifier key (`name+id+base64`) to put in the network definition.
    Keygen(KeygenArgs),
}

#[derive(Args)]
pub struct KeygenArgs {
    /// The key's name: for a gateway, the log's origin (e.g. `gateway.example.org/log`); for
    /// a witness, its own name (e.g. `witness.example.org`). No spaces or '+'.
    #[arg(long)]
    name: String,
    /// A witness's cosigning key (type 0x04) instead of a log key (type 0x01).
    #[arg(long)]
    witness: bool,
    /// Where to write the private key.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(command: LogCommand) -> anyhow::Result<ExitCode> {
    match command {
        LogCommand::Keygen(args) => keygen(args),
    }
}

fn keygen(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let kind = if args.witness {
        NoteKeyKind::Cosignature
    } else {
        NoteKeyKind::Ed25519
    };
    anyhow::ensure!(
        !args.out.exists(),
        "{} exists already: a key is made once (remove the file to replace it)",
        args.out.display()
    );
    let key = NoteSigner::generate(&args.name, kind)?;
    input::write_secret_atomic(&args.out, key.to_pkcs8_pem().as_bytes())?;
    outln!("{}", key.verifier_key().to_vkey());
    Ok(ExitCode::SUCCESS)
}

/// The log's origin when the network definition names no log key: the network's name, made
/// into a key name (no spaces or '+').
fn default_origin(network: &Network) -> String {
    let name: String = network
        .name
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '+' {
                '-'
            } else {
                c
            }
        })
        .collect();
    format!("{name}/log")
}

/// The gateway's checkpoint key: read from `file`, or made there on first start (then its
/// verifier key is logged, to put into the network definition). Its name is the origin the
/// network definition gives, if any.
pub fn load_or_make_log_key(file: &Path, network: &Network) -> anyhow::Result<NoteSigner> {
    let origin = match &network.log {
        Some(settings) => settings
            .policy()
            .context("the network definition's log settings")?
            .origin()
            .to_owned(),
        None => default_origin(network),
    };
    if file.exists() {
        return NoteSigner::from_pkcs8_pem(&origin, NoteKeyKind::Ed25519, &input::read_text(file)?)
            .with_context(|| format!("{}: not a log key", file.display()));
    }
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let key = NoteSigner::generate(&origin, NoteKeyKind::Ed25519)?;
    input::write_secret_atomic(file, key.to_pkcs8_pem().as_bytes())?;
    tracing::warn!(
        file = %file.display(),
        key = %key.verifier_key().to_vkey(),
        "made a new transparency-log key: put its verifier key in the network definition (log.key) so verifiers check checkpoints"
    );
    Ok(key)
}
