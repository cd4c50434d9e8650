//! The gateway's transparency log from outside: fetch a checkpoint and believe it only as the
//! [`LogPolicy`] says, move from a held checkpoint to a newer one only with a consistency
//! proof, fetch entries only with inclusion proofs, and co-sign as a witness.
//!
//! Nothing here reads a clock or a file: `now` is passed in, and callers keep the
//! checkpoints (a verifier in its trust state, a witness in its state folder).

use crate::http::{ClientError, GatewayClient, HttpResponse};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_network::log::{Change, ConsistencyProof, LogEntries, decode_hashes};
use healthpass_trust::tlog::{
    Checkpoint, LogError, LogPolicy, NoteSigner, SignedNote, VerifiedCheckpoint,
};
use hyper::http::StatusCode;
use jiff::Timestamp;

/// Why the log could not be followed. The caller keeps what it held.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogFetchError {
    /// Talking to the gateway failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The gateway answered with an error.
    #[error("the gateway answered {path} with {problem}")]
    Status {
        /// The path requested.
        path: String,
        /// Its problem report, or the status.
        problem: String,
    },
    /// A response is not what the API describes.
    #[error("{path}: {problem}")]
    Format {
        /// The path.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The log's own checks failed: a bad or missing signature, too few witnesses, a fork,
    /// a rollback, a rewritten history, an entry not in the tree.
    #[error(transparent)]
    Log(#[from] LogError),
}

async fn get_ok(client: &GatewayClient, path: &str) -> Result<HttpResponse, LogFetchError> {
    let response = client.get(path, None).await?;
    if response.status == StatusCode::OK {
        Ok(response)
    } else {
        Err(LogFetchError::Status {
            path: path.to_owned(),
            problem: response.problem(),
        })
    }
}

fn format_error(path: &str, problem: impl ToString) -> LogFetchError {
    LogFetchError::Format {
        path: path.to_owned(),
        problem: problem.to_string(),
    }
}

/// The newest checkpoint the policy believes: with a witness quorum, the newest one that many
/// witnesses co-signed.
pub async fn fetch_checkpoint(
    client: &GatewayClient,
    policy: &LogPolicy,
    now: Timestamp,
) -> Result<VerifiedCheckpoint, LogFetchError> {
    let path = match policy.quorum() {
        0 => "/log/checkpoint".to_owned(),
        k => format!("/log/checkpoint?witnessed={k}"),
    };
    let response = get_ok(client, &path).await?;
    let note = std::str::from_utf8(&response.body).map_err(|_| format_error(&path, "not UTF-8"))?;
    Ok(policy.verify(note, now)?)
}

/// The consistency proof from size `from` to size `to`.
pub async fn fetch_consistency(
    client: &GatewayClient,
    from: u64,
    to: u64,
) -> Result<Vec<[u8; 32]>, LogFetchError> {
    let path = format!("/log/consistency?from={from}&to={to}");
    let response = get_ok(client, &path).await?;
    let proof: ConsistencyProof =
        serde_json::from_slice(&response.body).map_err(|e| format_error(&path, e))?;
    if (proof.from, proof.to) != (from, to) {
        return Err(format_error(&path, "a proof between other sizes"));
    }
    decode_hashes(&proof.proof).ok_or_else(|| format_error(&path, "a hash is not 32 bytes"))
}

/// Fetches the newest believed checkpoint and checks that it extends `held` (when given):
/// the step every client and witness takes. A fork, a rollback or a rewritten history is a
/// [`LogError`] naming both checkpoints.
pub async fn advance(
    client: &GatewayClient,
    policy: &LogPolicy,
    held: Option<&Checkpoint>,
    now: Timestamp,
) -> Result<VerifiedCheckpoint, LogFetchError> {
    let served = fetch_checkpoint(client, policy, now).await?;
    if let Some(held) = held {
        let proof = if served.checkpoint.size > held.size && held.size > 0 {
            fetch_consistency(client, held.size, served.checkpoint.size).await?
        } else {
            Vec::new()
        };
        served.check_extends(held, &proof)?;
    }
    Ok(served)
}

/// Entries `start..end` of the tree `checkpoint` covers, each checked against it with its
/// inclusion proof; fetched in pages. An entry that does not read, or is at another index
/// than its proof, is refused.
pub async fn fetch_entries(
    client: &GatewayClient,
    checkpoint: &VerifiedCheckpoint,
    start: u64,
    end: u64,
    mut progress: impl FnMut(u64),
) -> Result<Vec<Change>, LogFetchError> {
    let size = checkpoint.checkpoint.size;
    let end = end.min(size);
    let mut changes = Vec::with_capacity(usize::try_from(end.saturating_sub(start)).unwrap_or(0));
    let mut next = start;
    while next < end {
        let path = format!("/log/entries?start={next}&end={end}&size={size}");
        let response = get_ok(client, &path).await?;
        let page: LogEntries =
            serde_json::from_slice(&response.body).map_err(|e| format_error(&path, e))?;
        if page.size != size || page.entries.is_empty() {
            return Err(format_error(
                &path,
                "no entries, or proofs for another size",
            ));
        }
        for entry in page.entries {
            if entry.index != next {
                return Err(format_error(
                    &path,
                    format!("entry {} where {next} was due", entry.index),
                ));
            }
            let bytes = B64
                .decode(&entry.entry)
                .map_err(|_| format_error(&path, "an entry is not Base64"))?;
            let proof = decode_hashes(&entry.proof)
                .ok_or_else(|| format_error(&path, "a hash is not 32 bytes"))?;
            checkpoint.check_entry(entry.index, &bytes, &proof)?;
            let change = Change::from_entry_bytes(&bytes).map_err(|e| format_error(&path, e))?;
            if change.index() != entry.index {
                return Err(format_error(
                    &path,
                    format!(
                        "entry {} says it is version {}",
                        entry.index, change.version
                    ),
                ));
            }
            changes.push(change);
            next += 1;
            progress(next - start);
            if next == end {
                break;
            }
        }
    }
    Ok(changes)
}

/// A witness's cosignature on a checkpoint it checked: signs it at `now` and hands it to the
/// gateway, which serves it to verifiers from then on. Returns the note with the cosignature.
pub async fn cosign(
    client: &GatewayClient,
    witness: &NoteSigner,
    checkpoint: &VerifiedCheckpoint,
    now: Timestamp,
) -> Result<String, LogFetchError> {
    let mut note = SignedNote::parse(&checkpoint.note).map_err(LogError::from)?;
    let time = u64::try_from(now.as_second()).unwrap_or(0);
    note.add_signature(witness.sign(&note.text, time));
    let text = note.to_text();
    let path = "/log/cosignature";
    let response = client
        .post(path, "text/plain; charset=utf-8", text.clone().into_bytes())
        .await?;
    if response.status != StatusCode::OK {
        return Err(LogFetchError::Status {
            path: path.into(),
            problem: response.problem(),
        });
    }
    Ok(text)
}
