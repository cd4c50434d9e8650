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
    /// Witness a gateway's log: fetch its newest checkpoint, check it is signed by the log key
    /// the network names and that it extends the checkpoint this witness saw before (a
    /// consistency proof), then co-sign it and hand the cosignature to the gateway. A fork, a
    /// rollback or a rewritten history is refused (exit 1), naming both checkpoints, and the
    /// witness keeps its state. The first run makes the witness key (give --name).
    Witness(WitnessArgs),
    /// Audit a gateway's whole log from scratch: fetch its newest believed checkpoint (and
    /// check it extends the one audited before, with --state), fetch every entry and every
    /// signed request (each must be the one its entry commits to and names), rebuild the tree
    /// to the checkpoint's root, replay every change through
    /// the gateway's own checks (governance signatures, CMS signatures, CSCA chains, replays),
    /// and compare the trust list and revocation filters the gateway serves with the replay.
    /// Exit 1 on any difference, naming it.
    Verify(AuditArgs),
}

#[derive(Args)]
pub struct AuditArgs {
    /// The gateway, `http://host:port` or `https://host:port`.
    #[arg(long, value_name = "URL", env = "HEALTHPASS_GATEWAY")]
    gateway: String,
    /// The network definition (its log settings say which checkpoints to believe).
    #[arg(long, value_name = "FILE", env = "HEALTHPASS_NETWORK")]
    network: PathBuf,
    /// Folder keeping the last audited checkpoint: the next audit accepts only a log that
    /// extends it.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// The CA certificate of an https:// gateway (PEM).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

const AUDIT_STATE: &str = "audited-checkpoint.txt";

#[derive(Args)]
pub struct WitnessArgs {
    /// The gateway, `http://host:port` or `https://host:port`.
    #[arg(long, value_name = "URL", env = "HEALTHPASS_GATEWAY")]
    gateway: String,
    /// The network definition: the log key checkpoints must be signed with (`log.key`).
    #[arg(long, value_name = "FILE", env = "HEALTHPASS_NETWORK")]
    network: PathBuf,
    /// Folder of the witness's key and of the last checkpoint it co-signed.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// The witness's name (its key name, e.g. `witness.example.org`); needed on the first run.
    #[arg(long)]
    name: Option<String>,
    /// Witness every N seconds, until stopped, instead of once.
    #[arg(long, value_name = "SECONDS")]
    interval: Option<u64>,
    /// The CA certificate of an https:// gateway (PEM).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

/// A witness's state file: its name and the last checkpoint it co-signed.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessState {
    name: String,
    /// The checkpoint note, as the gateway served it.
    checkpoint: Option<String>,
}

const WITNESS_KEY: &str = "witness-key.pem";
const WITNESS_STATE: &str = "witness.json";

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
        LogCommand::Witness(args) => witness(args),
        LogCommand::Verify(args) => audit(args),
    }
}

fn audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    use healthpass_client::log::{advance, fetch_changes, fetch_records};
    use healthpass_gateway::Registry;
    use healthpass_trust::tlog::{Checkpoint, hex};
    let network = Network::from_json(&input::read_text(&args.network)?)
        .with_context(|| args.network.display().to_string())?;
    let policy = network
        .log
        .as_ref()
        .context("the network definition names no log (`log`): nothing to audit")?
        .policy()?;
    let held = match args.state.as_ref().map(|d| d.join(AUDIT_STATE)) {
        Some(file) if file.exists() => {
            let note = input::read_text(&file)?;
            Some(
                Checkpoint::from_note(&note)
                    .with_context(|| format!("{}: not a checkpoint", file.display()))?,
            )
        }
        _ => None,
    };
    let tls = healthpass_client::ClientTls {
        ca_pem: args.ca.as_deref().map(input::read_file).transpose()?,
        identity: None,
    };
    let client = healthpass_client::GatewayClient::new(&args.gateway, &tls)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let now = jiff::Timestamp::now();
    let mut problems: Vec<String> = Vec::new();

    // The filters and the trust list first: the checkpoint fetched after them covers them
    // (asking for the filters may log them), unless witnesses lag.
    let response = runtime.block_on(client.get("/revocation/filters", None))?;
    let served_filters: healthpass_network::revocation::FilterList =
        serde_json::from_slice(&response.body)
            .context("/revocation/filters is not a filter list")?;
    let served_list = runtime.block_on(client.get("/trustList", None))?;
    let checkpoint = match runtime.block_on(advance(&client, &policy, held.as_ref(), now)) {
        Ok(checkpoint) => checkpoint,
        Err(e) => {
            eprintln!("refused: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let size = checkpoint.checkpoint.size;
    // From scratch: the entries alone must give the checkpoint's root (and the audited one's
    // on the way), and every request must be the one its entry commits to.
    let bar = input::progress_bar(Some(size), "entries");
    let records = runtime
        .block_on(fetch_records(
            &client,
            &checkpoint.checkpoint,
            0,
            held.as_ref(),
            |n| bar.set_position(n),
        ))
        .context("fetching the log's entries")?;
    bar.finish_and_clear();
    let bar = input::progress_bar(Some(size), "requests");
    let changes = runtime
        .block_on(fetch_changes(&client, &records, |n| bar.set_position(n)))
        .context("fetching the log's requests")?;
    bar.finish_and_clear();
    for (record, change) in records.iter().zip(&changes) {
        let subject = healthpass_network::log::subject(change.kind, &change.body);
        if subject != record.subject {
            problems.push(format!(
                "entry {} names {:?} but its request is of {subject:?}",
                record.index(),
                record.subject
            ));
        }
    }

    // Replay every change through the gateway's own checks, at the time it was accepted.
    let mut registry = Registry::new(network.clone());
    for change in &changes {
        // A filters statement must hold the filters of the batches in force before it.
        if change.kind == healthpass_network::log::ChangeKind::RevocationFilters
            && let Ok(logged) =
                healthpass_network::revocation::LoggedFilters::from_json(&change.body)
        {
            for problem in filter_problems(&registry, change.accepted_at, &logged.filters) {
                problems.push(format!("entry {}: {problem}", change.index()));
            }
        }
        match registry.apply(
            change.kind,
            &change.country,
            &change.body,
            change.accepted_at,
        ) {
            Ok(version) if version == change.version => {}
            Ok(version) => problems.push(format!(
                "entry {} says version {} but replays as version {version}",
                change.index(),
                change.version
            )),
            Err(e) => problems.push(format!(
                "entry {} ({} of {:?}, accepted {}) is refused on replay: {e}",
                change.index(),
                change.kind.as_str(),
                change.country,
                change.accepted_at
            )),
        }
    }

    // What the gateway serves must be what its log says.
    let list_compared = match serde_json::from_slice::<serde_json::Value>(&served_list.body) {
        Ok(served) if served["version"].as_u64() == Some(size) => {
            let replayed = serde_json::to_value(registry.trust_list())?;
            if served != replayed {
                problems.push(format!(
                    "the trust list served at version {size} differs from the replay of the log"
                ));
            }
            true
        }
        Ok(_) => false,
        Err(e) => {
            problems.push(format!("the served trust list is not JSON: {e}"));
            false
        }
    };
    let filters_compared = audit_filters(&served_filters, &registry, now, &mut problems);

    if let Some(dir) = &args.state
        && problems.is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        input::write_atomic(&dir.join(AUDIT_STATE), checkpoint.note.as_bytes())?;
    }
    outln!(
        "{} size {size} root {}{}: {} entries replayed ({} countries); trust list {}; {filters_compared} revocation filters match the replay",
        checkpoint.checkpoint.origin,
        hex(&checkpoint.checkpoint.root),
        held.map_or(String::new(), |h| format!(
            ", extends the audited size {}",
            h.size
        )),
        changes.len(),
        registry.countries().len(),
        if list_compared {
            "compared"
        } else {
            "not compared (newer than the believed checkpoint)"
        },
    );
    for problem in &problems {
        eprintln!("problem: {problem}");
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The revocation filters the gateway serves: each must hold exactly the replay's revoked
/// hashes of its signer key, and they must be the ones the log entry they name states.
/// Returns how many were compared.
fn audit_filters(
    served: &healthpass_network::revocation::FilterList,
    registry: &healthpass_gateway::Registry,
    now: jiff::Timestamp,
    problems: &mut Vec<String>,
) -> usize {
    for problem in filter_problems(registry, now, &served.filters) {
        problems.push(format!("the served {problem}"));
    }
    match (served.log_index, registry.logged_filters()) {
        (Some(index), Some((logged_index, logged))) if index == logged_index => {
            if logged.filters != served.filters {
                problems.push(format!(
                    "the served revocation filters are not those log entry {index} states"
                ));
            }
        }
        // Logged after the checkpoint audited: not compared.
        (Some(index), _) if index >= registry.version() => {}
        (index, _) => problems.push(format!(
            "the served revocation filters name log entry {index:?}, not the last statement of \
             the replayed log ({:?})",
            registry.logged_filters().map(|(i, _)| i)
        )),
    }
    served.filters.len()
}

/// How `filters` (a served list, or a log entry's statement) differs from the filters of the
/// revoked hashes `registry` holds in force at `now`, each rebuilt at its stated width.
fn filter_problems(
    registry: &healthpass_gateway::Registry,
    now: jiff::Timestamp,
    filters: &[healthpass_network::revocation::FilterInfo],
) -> Vec<String> {
    use healthpass_trust::revocation_filter::RevocationFilter;
    let mut problems = Vec::new();
    let mut replayed = registry.revoked_hashes(now);
    for info in filters {
        let hashes = replayed.remove(&info.kid).unwrap_or_default();
        let rebuilt = RevocationFilter::from_entries(&hashes, info.universe_bits);
        let digest = rebuilt.digest_hex();
        if digest != info.digest || rebuilt.len() != info.count {
            problems.push(format!(
                "revocation filter of signer {} holds {} hashes (digest {}), the replay {} (digest {digest})",
                info.kid, info.count, info.digest, rebuilt.len()
            ));
        }
    }
    for (kid, hashes) in replayed {
        problems.push(format!(
            "revocation filters leave out signer {kid}, whose {} revoked hashes are in force",
            hashes.len()
        ));
    }
    problems
}

fn witness(args: WitnessArgs) -> anyhow::Result<ExitCode> {
    use healthpass_client::log::{advance, cosign};
    use healthpass_trust::tlog::{Checkpoint, LogPolicy};
    let network = Network::from_json(&input::read_text(&args.network)?)
        .with_context(|| args.network.display().to_string())?;
    let settings = network
        .log
        .as_ref()
        .context("the network definition names no log key (`log.key`): nothing to witness")?;
    // The witness checks the log's own signature; other witnesses' cosignatures are theirs.
    let policy = LogPolicy::new(settings.policy()?.log_key().clone(), Vec::new(), 0)?;
    std::fs::create_dir_all(&args.state)
        .with_context(|| format!("cannot create {}", args.state.display()))?;
    let state_file = args.state.join(WITNESS_STATE);
    let key_file = args.state.join(WITNESS_KEY);
    let mut state: WitnessState = if state_file.exists() {
        serde_json::from_str(&input::read_text(&state_file)?)
            .with_context(|| format!("{}: not a witness state", state_file.display()))?
    } else {
        let name = args
            .name
            .clone()
            .context("this folder has no witness yet: give its name with --name")?;
        WitnessState {
            name,
            checkpoint: None,
        }
    };
    if let Some(name) = &args.name {
        anyhow::ensure!(
            *name == state.name,
            "this folder is witness {:?}, not {name:?}",
            state.name
        );
    }
    let signer = if key_file.exists() {
        NoteSigner::from_pkcs8_pem(
            &state.name,
            NoteKeyKind::Cosignature,
            &input::read_text(&key_file)?,
        )?
    } else {
        let key = NoteSigner::generate(&state.name, NoteKeyKind::Cosignature)?;
        input::write_secret_atomic(&key_file, key.to_pkcs8_pem().as_bytes())?;
        input::write_atomic(
            &state_file,
            serde_json::to_string_pretty(&state)?.as_bytes(),
        )?;
        eprintln!(
            "made witness key {}: ask the network's governance to add it to log.witnesses",
            key.verifier_key().to_vkey()
        );
        key
    };
    let tls = healthpass_client::ClientTls {
        ca_pem: args.ca.as_deref().map(input::read_file).transpose()?,
        identity: None,
    };
    let client = healthpass_client::GatewayClient::new(&args.gateway, &tls)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    loop {
        let held = match &state.checkpoint {
            Some(note) => Some(
                Checkpoint::from_note(note)
                    .with_context(|| format!("{}: the held checkpoint", state_file.display()))?,
            ),
            None => None,
        };
        let now = jiff::Timestamp::now();
        let checked = runtime.block_on(advance(&client, &policy, held.as_ref(), now));
        let verified = match checked {
            Ok(verified) => verified,
            Err(e) => {
                eprintln!("refused: {e}");
                eprintln!(
                    "the witness keeps checkpoint {} and co-signs nothing",
                    held.map_or(0, |h| h.size)
                );
                return Ok(ExitCode::from(1));
            }
        };
        // Kept before co-signing: once this witness has seen a checkpoint, it never signs a
        // history that does not extend it, even if handing in the cosignature fails.
        state.checkpoint = Some(verified.note.clone());
        input::write_atomic(
            &state_file,
            serde_json::to_string_pretty(&state)?.as_bytes(),
        )?;
        runtime
            .block_on(cosign(&client, &signer, &verified, now))
            .context("the gateway did not take the cosignature")?;
        let cp = &verified.checkpoint;
        outln!(
            "co-signed {} size {} root {}",
            cp.origin,
            cp.size,
            healthpass_trust::tlog::hex(&cp.root)
        );
        match args.interval {
            Some(seconds) => std::thread::sleep(std::time::Duration::from_secs(seconds.max(1))),
            None => return Ok(ExitCode::SUCCESS),
        }
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
