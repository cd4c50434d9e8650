//! The gateway's transparency log from outside: fetch a checkpoint and believe it only as the
//! [`LogPolicy`] says, move from a held checkpoint to a newer one only with a consistency
//! proof, take entries only when they give a believed checkpoint's root, and co-sign as a
//! witness.
//!
//! Nothing here reads a clock or a file: `now` is passed in, and callers keep the
//! checkpoints (a verifier in its trust state, a witness in its state folder).

use crate::http::{ClientError, GatewayClient, HttpResponse};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_network::log::{
    Change, ConsistencyProof, InclusionProof, LogBodies, LogEntries, LogFrontier, LogRecord,
    decode_hashes,
};
use healthpass_trust::tlog::{
    Checkpoint, Frontier, LogError, LogPolicy, NoteSigner, SignedNote, VerifiedCheckpoint,
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

/// Entries `start..` of the tree `checkpoint` covers, all checked at once: the gateway's
/// frontier at `start` with the entries appended must give the checkpoint's root, and the
/// `held` checkpoint's root on the way when its size is inside the range (so the entries are
/// the log's, in order, with no proof each). Fetched in pages; `progress` gets the count.
pub async fn fetch_records(
    client: &GatewayClient,
    checkpoint: &Checkpoint,
    start: u64,
    held: Option<&Checkpoint>,
    mut progress: impl FnMut(u64),
) -> Result<Vec<LogRecord>, LogFetchError> {
    let size = checkpoint.size;
    if start > size {
        return Err(format_error(
            "/log/entries",
            format!("entries from {start} asked of a checkpoint of {size}"),
        ));
    }
    let path = format!("/log/frontier?size={start}");
    let response = get_ok(client, &path).await?;
    let served: LogFrontier =
        serde_json::from_slice(&response.body).map_err(|e| format_error(&path, e))?;
    let hashes = decode_hashes(&served.hashes)
        .ok_or_else(|| format_error(&path, "a hash is not 32 bytes"))?;
    if served.size != start {
        return Err(format_error(&path, "the frontier of another size"));
    }
    let mut frontier = Frontier::from_hashes(start, &hashes).map_err(|e| format_error(&path, e))?;
    let mut records = Vec::with_capacity(usize::try_from(size - start).unwrap_or(0).min(1 << 20));
    while frontier.size() < size {
        if let Some(held) = held
            && held.size == frontier.size()
        {
            held.check_frontier(start, &frontier)?;
        }
        let next = frontier.size();
        let path = format!("/log/entries?start={next}&end={size}");
        let response = get_ok(client, &path).await?;
        let page: LogEntries =
            serde_json::from_slice(&response.body).map_err(|e| format_error(&path, e))?;
        if page.start != next || page.entries.is_empty() {
            return Err(format_error(&path, "no entries, or entries from elsewhere"));
        }
        for entry in page.entries {
            if frontier.size() == size {
                break;
            }
            let record =
                LogRecord::from_bytes(entry.as_bytes()).map_err(|e| format_error(&path, e))?;
            if record.index() != frontier.size() {
                return Err(format_error(
                    &path,
                    format!(
                        "entry {} says it is version {}",
                        frontier.size(),
                        record.version
                    ),
                ));
            }
            frontier.push(entry.as_bytes());
            records.push(record);
            if let Some(held) = held
                && held.size == frontier.size()
            {
                held.check_frontier(start, &frontier)?;
            }
        }
        progress(frontier.size() - start);
    }
    checkpoint.check_frontier(start, &frontier)?;
    Ok(records)
}

/// The signed requests of `records` (consecutive entries, as [`fetch_records`] returns them),
/// each checked against the digest its entry commits to: the changes, for an auditor to
/// replay. Fetched in pages; `progress` gets the count.
pub async fn fetch_changes(
    client: &GatewayClient,
    records: &[LogRecord],
    mut progress: impl FnMut(u64),
) -> Result<Vec<Change>, LogFetchError> {
    let mut changes = Vec::with_capacity(records.len());
    while changes.len() < records.len() {
        let first = &records[changes.len()];
        let end = first.index() + (records.len() - changes.len()) as u64;
        let path = format!("/log/bodies?start={}&end={end}", first.index());
        let response = get_ok(client, &path).await?;
        let page: LogBodies =
            serde_json::from_slice(&response.body).map_err(|e| format_error(&path, e))?;
        if page.start != first.index() || page.bodies.is_empty() {
            return Err(format_error(
                &path,
                "no requests, or requests from elsewhere",
            ));
        }
        for body in page.bodies {
            let Some(record) = records.get(changes.len()) else {
                break;
            };
            let body = B64
                .decode(&body)
                .map_err(|_| format_error(&path, "a request is not Base64"))?;
            if !record.commits_to(&body) {
                return Err(format_error(
                    &path,
                    format!(
                        "the request served for entry {} is not the one it commits to",
                        record.index()
                    ),
                ));
            }
            changes.push(Change {
                version: record.version,
                kind: record.kind,
                country: record.country.clone(),
                accepted_at: record.accepted_at,
                body,
            });
        }
        progress(changes.len() as u64);
    }
    Ok(changes)
}

/// Entry `index` with its inclusion proof in `checkpoint`'s tree.
pub async fn fetch_proved_record(
    client: &GatewayClient,
    checkpoint: &VerifiedCheckpoint,
    index: u64,
) -> Result<LogRecord, LogFetchError> {
    let size = checkpoint.checkpoint.size;
    let path = format!("/log/inclusion?index={index}&size={size}");
    let response = get_ok(client, &path).await?;
    let proved: InclusionProof =
        serde_json::from_slice(&response.body).map_err(|e| format_error(&path, e))?;
    if (proved.index, proved.size) != (index, size) {
        return Err(format_error(&path, "a proof of another entry or size"));
    }
    let proof = decode_hashes(&proved.proof)
        .ok_or_else(|| format_error(&path, "a hash is not 32 bytes"))?;
    checkpoint.check_entry(index, proved.entry.as_bytes(), &proof)?;
    let record =
        LogRecord::from_bytes(proved.entry.as_bytes()).map_err(|e| format_error(&path, e))?;
    if record.index() != index {
        return Err(format_error(
            &path,
            format!("entry {index} says it is version {}", record.version),
        ));
    }
    Ok(record)
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
