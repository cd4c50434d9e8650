//! Revocation filters for verifiers that do not keep every revoked hash (phones, kiosks):
//! each signer key's filter is fetched whole once, then moved forward by deltas, and every
//! result is checked against the digest the gateway lists (a delta applied gives byte for byte
//! the gateway's filter, or it is refused and fetched whole). A filter hit is settled by the
//! exact hashes of one partition (the hash's first byte), fetched only when needed: the gateway
//! learns one byte of one hash, never a certificate. With a transparency log, the list of
//! filters must be the one a log entry in a believed checkpoint states ([`FilterLog`]).

use crate::http::{GatewayClient, HttpResponse};
use crate::sync::SyncError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_network::log::ChangeKind;
use healthpass_network::revocation::{FilterList, LoggedFilters, PartitionHashes, kid_to_path};
use healthpass_trust::revocation::{HashType, RevocationHash};
use healthpass_trust::revocation_filter::{FilterDelta, RevocationFilter};
use healthpass_trust::tlog::{Checkpoint, LogPolicy};
use hyper::http::StatusCode;
use jiff::Timestamp;
use std::collections::BTreeMap;

/// How a filter was brought up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// The held filter is the gateway's.
    Unchanged,
    /// Moved forward by a delta of this many bytes.
    Delta(usize),
    /// Fetched whole: this many bytes.
    Whole(usize),
}

/// One signer key's filter after a sync.
#[derive(Debug, Clone)]
pub struct SyncedFilter {
    /// Lowercase hex SHA-256 of its encoding, as the gateway lists it.
    pub digest: String,
    /// The filter.
    pub filter: RevocationFilter,
    /// How it was fetched.
    pub fetched: Fetched,
}

/// The filters of every signer key with revocations in force, by kid (Base64).
#[derive(Debug, Clone, Default)]
pub struct FilterSync {
    /// The gateway version they were built at.
    pub version: u64,
    /// The filters.
    pub filters: BTreeMap<String, SyncedFilter>,
    /// With a log: the checkpoint (signed note) the filters were checked against, newer than
    /// or the one held; to keep in the trust state.
    pub log_checkpoint: Option<String>,
}

/// The transparency log the filters are held to: the network's policy and the checkpoint the
/// trust state holds (signed note).
#[derive(Debug, Clone, Copy)]
pub struct FilterLog<'a> {
    /// The network's log policy.
    pub policy: &'a LogPolicy,
    /// The checkpoint held (`TrustState::log_checkpoint`).
    pub held: &'a str,
    /// Now, for the checkpoint's cosignatures.
    pub now: Timestamp,
}

/// Checks that the filters listed are the ones the log's entry `log_index` states, in a
/// checkpoint the policy believes (the held one, or a newer one that extends it). Returns
/// that checkpoint's note.
async fn check_logged(
    client: &GatewayClient,
    log: FilterLog<'_>,
    list: &FilterList,
) -> Result<String, SyncError> {
    let index = list.log_index.ok_or_else(|| {
        SyncError::LogMismatch("the gateway serves revocation filters its log does not hold".into())
    })?;
    let held = Checkpoint::from_note(log.held)
        .map_err(|e| SyncError::State(format!("the held log checkpoint: {e}")))?;
    let verified = crate::log::advance(client, log.policy, Some(&held), log.now).await?;
    if index >= verified.checkpoint.size {
        return Err(SyncError::FiltersNotYetLogged {
            index,
            size: verified.checkpoint.size,
        });
    }
    let record = crate::log::fetch_proved_record(client, &verified, index).await?;
    let changes = crate::log::fetch_changes(client, std::slice::from_ref(&record), |_| {}).await?;
    let logged = match record.kind {
        ChangeKind::RevocationFilters => LoggedFilters::from_json(&changes[0].body).ok(),
        _ => None,
    };
    match logged {
        Some(logged) if logged.filters == list.filters => Ok(verified.note),
        _ => Err(SyncError::LogMismatch(format!(
            "log entry {index} does not state the revocation filters the gateway serves"
        ))),
    }
}

async fn get(client: &GatewayClient, path: &str) -> Result<HttpResponse, SyncError> {
    Ok(client.get(path, None).await?)
}

fn status_error(path: &str, response: &HttpResponse) -> SyncError {
    SyncError::Status {
        path: path.to_owned(),
        problem: response.problem(),
    }
}

fn format_error(path: &str, problem: impl ToString) -> SyncError {
    SyncError::Format {
        path: path.to_owned(),
        problem: problem.to_string(),
    }
}

/// Brings `held` (kid → filter) to the gateway's filters: unchanged ones kept, others moved by
/// a delta when the gateway has one from the held filter, else fetched whole; each checked
/// against the listed digest. With a `log`, the list itself must be the one a log entry
/// states, in a believed checkpoint (else nothing is applied): so a gateway cannot serve a
/// phone a filter without a revocation it logged, unseen by witnesses and auditors.
pub async fn sync_filters(
    client: &GatewayClient,
    held: &BTreeMap<String, RevocationFilter>,
    log: Option<FilterLog<'_>>,
) -> Result<FilterSync, SyncError> {
    let path = "/revocation/filters";
    let response = get(client, path).await?;
    if response.status != StatusCode::OK {
        return Err(status_error(path, &response));
    }
    let list: FilterList =
        serde_json::from_slice(&response.body).map_err(|e| format_error(path, e))?;
    let log_checkpoint = match log {
        Some(log) => Some(check_logged(client, log, &list).await?),
        None => None,
    };
    let mut filters = BTreeMap::new();
    for info in list.filters {
        let base = format!("/revocation/filters/{}", kid_to_path(&info.kid));
        let held = held.get(&info.kid);
        let mut synced = None;
        if let Some(held) = held {
            let digest = held.digest_hex();
            if digest == info.digest {
                synced = Some(SyncedFilter {
                    digest,
                    filter: held.clone(),
                    fetched: Fetched::Unchanged,
                });
            } else {
                let path = format!("{base}?from={digest}");
                let response = get(client, &path).await?;
                if response.status == StatusCode::OK {
                    let delta = FilterDelta::from_bytes(&response.body)
                        .map_err(|e| format_error(&path, e))?;
                    // A delta that does not give the listed filter is a gateway error: the
                    // whole filter is fetched instead.
                    if let Ok(filter) = held.apply(&delta)
                        && filter.digest_hex() == info.digest
                    {
                        synced = Some(SyncedFilter {
                            digest: info.digest.clone(),
                            filter,
                            fetched: Fetched::Delta(response.body.len()),
                        });
                    }
                } else if response.status != StatusCode::NOT_FOUND {
                    return Err(status_error(&path, &response));
                }
            }
        }
        let synced = match synced {
            Some(synced) => synced,
            None => {
                let response = get(client, &base).await?;
                if response.status != StatusCode::OK {
                    return Err(status_error(&base, &response));
                }
                let filter = RevocationFilter::from_bytes(&response.body)
                    .map_err(|e| format_error(&base, e))?;
                let digest = filter.digest_hex();
                if digest != info.digest {
                    return Err(format_error(
                        &base,
                        format!(
                            "the filter's digest is {digest}, the list says {}",
                            info.digest
                        ),
                    ));
                }
                SyncedFilter {
                    digest,
                    filter,
                    fetched: Fetched::Whole(response.body.len()),
                }
            }
        };
        filters.insert(info.kid, synced);
    }
    Ok(FilterSync {
        version: list.version,
        filters,
        log_checkpoint,
    })
}

/// The exact revoked hashes of signer `kid` (Base64) whose first byte is `partition`.
pub async fn fetch_partition(
    client: &GatewayClient,
    kid: &str,
    partition: u8,
) -> Result<Vec<(HashType, RevocationHash)>, SyncError> {
    let path = format!(
        "/revocation/partitions/{}/{partition:02x}",
        kid_to_path(kid)
    );
    let response = get(client, &path).await?;
    if response.status != StatusCode::OK {
        return Err(status_error(&path, &response));
    }
    let hashes: PartitionHashes =
        serde_json::from_slice(&response.body).map_err(|e| format_error(&path, e))?;
    if hashes.kid != kid || hashes.partition != partition {
        return Err(format_error(&path, "another key's or partition's hashes"));
    }
    hashes
        .hashes
        .iter()
        .map(|h| {
            let hash_type = HashType::parse(&h.hash_type)
                .ok_or_else(|| format_error(&path, "an unknown hash type"))?;
            let hash: RevocationHash = B64
                .decode(&h.hash)
                .ok()
                .and_then(|raw| raw.try_into().ok())
                .ok_or_else(|| format_error(&path, "a hash is not 16 bytes of Base64"))?;
            if hash[0] != partition {
                return Err(format_error(&path, "a hash outside the partition"));
            }
            Ok((hash_type, hash))
        })
        .collect()
}
