//! `trust sync`: what a verifier downloads, checks and keeps.
//!
//! The gateway is a courier. Every signer the state holds passed the whole chain here
//! (governance k of n → the country's onboarding record → its CSCA → the DSC, and the
//! country's CMS upload signature over the DSC); every revocation batch carries the country's
//! CMS signature, checked here. What fails is left out and reported, never trusted. A list
//! older than the one synced before (a lower version, or a country's onboarding rolled back)
//! is refused as a whole, and the previous state stays.

use crate::http::{ClientError, GatewayClient};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_network::revocation::{BatchList, verify_batch};
use healthpass_network::trustlist::{TrustList, TrustListEntry, TrustListError, WithdrawnEntry};
use healthpass_network::{Network, SignedOnboarding};
use healthpass_trust::revocation::{HashType, RevocationSource};
use healthpass_trust::{SignerCertificate, TrustStore, WithdrawnSigner};
use hyper::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state file's format version.
pub const STATE_FORMAT: u32 = 1;

/// The file name of the state in its folder.
pub const STATE_FILE: &str = "trust-state.json";

/// What a verifier keeps between syncs: the verified trust data and what protects it from a
/// rollback. It holds no personal data (signer certificates, hashes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustState {
    /// [`STATE_FORMAT`].
    pub format: u32,
    /// The network's name.
    pub network: String,
    /// When the data was last confirmed current by the gateway.
    pub fetched_at: Timestamp,
    /// The trust list's version.
    pub version: u64,
    /// The trust list's `ETag`, for `If-None-Match`.
    pub etag: Option<String>,
    /// The highest onboarding sequence seen per country (a lower one later is a rollback).
    pub sequences: BTreeMap<String, u64>,
    /// The onboarding records that verified (k of n governance signatures), as received.
    pub onboardings: Vec<SignedOnboarding>,
    /// The signer entries that verified (every chain), as received.
    pub signers: Vec<TrustListEntry>,
    /// Withdrawn signers.
    pub withdrawn: Vec<WithdrawnEntry>,
    /// Verified revocation batches, by id.
    pub revocations: BTreeMap<String, StoredBatch>,
    /// The value-set release, verified (k of n governance signatures).
    pub value_sets: Option<healthpass_network::SignedValueSets>,
    /// Verified rules in force or to come (the EU rule JSON of each version), as signed by
    /// their countries.
    pub rules: Vec<String>,
    /// What the last sync refused, and why (for the operator).
    pub rejected: Vec<String>,
    /// The last transparency-log checkpoint this state was checked against (signed note), when
    /// the network has a log: the next sync accepts only a log that extends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_checkpoint: Option<String>,
}

/// A verified revocation batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoredBatch {
    /// The revoking country.
    pub country: String,
    /// The signer's kid, Base64, or `UNKNOWN_KID`.
    pub kid: String,
    /// The hash type.
    pub hash_type: String,
    /// The hashes, Base64.
    pub hashes: Vec<String>,
}

/// Why a sync failed; the previous state stays in force.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
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
    /// The trust list is refused as a whole (another network, not JSON).
    #[error(transparent)]
    TrustList(#[from] TrustListError),
    /// The gateway served an older list than the one synced before.
    #[error(
        "the gateway's trust list has version {got}, older than version {had} synced before: refusing a rollback"
    )]
    Rollback {
        /// The version served.
        got: u64,
        /// The version held.
        had: u64,
    },
    /// The gateway served an older value-set release than the one synced before.
    #[error(
        "the gateway's value-set release {got} is older than release {had} synced before: refusing a rollback"
    )]
    ValueSetsRollback {
        /// The release served.
        got: u64,
        /// The release held.
        had: u64,
    },
    /// A response is not what the gateway's API describes.
    #[error("{path}: {problem}")]
    Format {
        /// The path.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The state file is not usable.
    #[error("the trust state is not usable: {0}")]
    State(String),
    /// The transparency log does not hold: a bad checkpoint signature, too few witnesses, a
    /// fork, a rollback, a rewritten history, an entry not in the tree.
    #[error("transparency log: {0}")]
    Log(#[from] crate::log::LogFetchError),
    /// The trust list is newer than the newest checkpoint the log policy believes (witnesses
    /// have not co-signed it yet): nothing in it can be proven, so nothing is applied.
    #[error(
        "the trust list has version {version} but the newest believed checkpoint covers {size}: \
         wait for the witnesses and sync again"
    )]
    NotYetLogged {
        /// The list's version.
        version: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The revocation filters are logged at an entry past the newest believed checkpoint
    /// (witnesses have not co-signed it yet): the held filters stay.
    #[error(
        "the revocation filters are logged at entry {index}, but the newest believed checkpoint \
         covers {size} entries: wait for the witnesses and sync again"
    )]
    FiltersNotYetLogged {
        /// The entry's index.
        index: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The gateway's list contradicts its own log (it hides a change the log holds).
    #[error("the trust list contradicts the transparency log: {0}")]
    LogMismatch(String),
}

/// The result of a sync.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    /// The new state, to store.
    pub state: TrustState,
    /// Whether the gateway said nothing changed (`304`).
    pub unchanged: bool,
}

impl TrustState {
    /// Reads a state file's content.
    pub fn from_json(text: &str) -> Result<Self, SyncError> {
        let state: Self =
            serde_json::from_str(text).map_err(|e| SyncError::State(e.to_string()))?;
        if state.format != STATE_FORMAT {
            return Err(SyncError::State(format!(
                "format {} is not {STATE_FORMAT}",
                state.format
            )));
        }
        Ok(state)
    }

    /// The state file's content.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the state serializes")
    }

    /// The value sets, ready for a policy (empty without a release).
    pub fn value_set_collection(&self) -> Result<healthpass_rules::ValueSets, SyncError> {
        let mut sets = healthpass_rules::ValueSets::new();
        if let Some(signed) = &self.value_sets {
            for (id, json) in &signed.release.value_sets {
                sets.add_json(json)
                    .map_err(|e| SyncError::State(format!("value set {id}: {e}")))?;
            }
        }
        Ok(sets)
    }

    /// The rules, ready for a policy.
    pub fn rule_set(&self) -> Result<healthpass_rules::RuleSet, SyncError> {
        let mut set = healthpass_rules::RuleSet::new();
        for text in &self.rules {
            let rule = healthpass_rules::Rule::from_json_str(text)
                .map_err(|e| SyncError::State(format!("a rule is not valid: {e}")))?;
            set.insert(rule);
        }
        Ok(set)
    }

    /// The trust store a verifier uses: the signers, the withdrawn ones, the revocations.
    pub fn to_trust_store(&self) -> Result<TrustStore, SyncError> {
        let mut store = TrustStore::new();
        let bad = |what: &str| SyncError::State(format!("{what} is not valid"));
        for signer in &self.signers {
            let der = B64.decode(&signer.raw_data).map_err(|_| bad("a signer"))?;
            let cert = SignerCertificate::from_der(&der).map_err(|_| bad("a signer"))?;
            store.insert(cert);
        }
        for w in &self.withdrawn {
            if let Some(kid) = decode_kid(&w.kid) {
                store.insert_withdrawn(
                    kid,
                    WithdrawnSigner {
                        country: w.country.clone(),
                        withdrawn_at: w.withdrawn_at,
                    },
                );
            }
        }
        for (id, batch) in &self.revocations {
            let hash_type = HashType::parse(&batch.hash_type).ok_or_else(|| bad("a batch"))?;
            let hashes = batch
                .hashes
                .iter()
                .map(|h| {
                    B64.decode(h)
                        .ok()
                        .and_then(|h| <[u8; 16]>::try_from(h).ok())
                        .ok_or_else(|| bad("a revocation hash"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            store.revocations_mut().insert_batch(
                RevocationSource {
                    country: batch.country.clone(),
                    batch_id: id.clone(),
                },
                decode_kid(&batch.kid),
                hash_type,
                hashes,
            );
        }
        Ok(store)
    }
}

fn decode_kid(kid: &str) -> Option<[u8; 8]> {
    B64.decode(kid).ok().and_then(|k| k.try_into().ok())
}

async fn get_ok(
    client: &GatewayClient,
    path: &str,
    etag: Option<&str>,
) -> Result<crate::http::HttpResponse, SyncError> {
    let response = client.get(path, etag).await?;
    if response.status.is_success() || response.status == StatusCode::NOT_MODIFIED {
        Ok(response)
    } else {
        Err(SyncError::Status {
            path: path.to_owned(),
            problem: response.problem(),
        })
    }
}

/// What a sync fetches besides the trust list, rules and value sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOptions {
    /// Every revocation batch (the exact hashes): what a verifier with room keeps. Without
    /// them, the caller syncs the compact filters instead ([`crate::filters`]).
    pub exact_revocations: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            exact_revocations: true,
        }
    }
}

/// Syncs from the gateway at `client`: returns the new state, or an error and the caller
/// keeps `previous`. `now` is recorded as the fetch time.
pub async fn sync(
    client: &GatewayClient,
    network: &Network,
    previous: Option<&TrustState>,
    now: Timestamp,
) -> Result<SyncOutcome, SyncError> {
    sync_with(client, network, previous, now, SyncOptions::default()).await
}

/// [`sync`] with options.
pub async fn sync_with(
    client: &GatewayClient,
    network: &Network,
    previous: Option<&TrustState>,
    now: Timestamp,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    if let Some(p) = previous
        && p.network != network.name
    {
        return Err(SyncError::State(format!(
            "it is for network {:?}, not {:?}: keep each network's state in its own folder",
            p.network, network.name
        )));
    }
    // With a previous state, ask only for what changed since.
    let base = previous;
    let etag = base.and_then(|p| p.etag.as_deref());
    let path = match base {
        Some(p) => format!("/trustList?since={}", p.version),
        None => "/trustList".to_owned(),
    };
    let response = get_ok(client, &path, etag).await?;
    if response.status == StatusCode::NOT_MODIFIED
        && let Some(base) = base
    {
        let mut state = base.clone();
        state.fetched_at = now;
        // The list is as held, but the log is still followed: a gateway showing another
        // history of the same size (a split view) is found here too.
        if let Some(policy) = log_policy(network)? {
            let held = base
                .log_checkpoint
                .as_deref()
                .map(held_checkpoint)
                .transpose()?;
            let verified = crate::log::advance(client, &policy, held.as_ref(), now).await?;
            state.log_checkpoint = Some(verified.note);
        }
        return Ok(SyncOutcome {
            state,
            unchanged: true,
        });
    }
    let text = std::str::from_utf8(&response.body).map_err(|_| SyncError::Format {
        path: path.clone(),
        problem: "not UTF-8".into(),
    })?;
    let mut list = TrustList::from_json(text)?;
    if let Some(previous) = previous
        && list.version < previous.version
    {
        return Err(SyncError::Rollback {
            got: list.version,
            had: previous.version,
        });
    }
    // With a transparency log: the list must be covered by a checkpoint the policy believes,
    // which extends the one held, and what it adds must be in the log's entries since then.
    let mut log_rejected = Vec::new();
    let log_checkpoint = match log_policy(network)? {
        Some(policy) => {
            let held = previous
                .and_then(|p| p.log_checkpoint.as_deref())
                .map(held_checkpoint)
                .transpose()?;
            let verified = crate::log::advance(client, &policy, held.as_ref(), now).await?;
            if list.version > verified.checkpoint.size {
                return Err(SyncError::NotYetLogged {
                    version: list.version,
                    size: verified.checkpoint.size,
                });
            }
            // Every entry since the list the state holds (a few hundred bytes each, no
            // request bodies), all checked by computing the checkpoint's root from them.
            let from = list.since.unwrap_or(0);
            let records = crate::log::fetch_records(
                client,
                &verified.checkpoint,
                from,
                held.as_ref(),
                |_| {},
            )
            .await?;
            // What the list covers: the entries up to its version.
            let covered = usize::try_from(list.version.saturating_sub(from)).unwrap_or(0);
            let logged = LoggedChanges::of(&records[..covered.min(records.len())]);
            logged.bind(&mut list, &mut log_rejected)?;
            Some((verified.note, logged))
        }
        None => None,
    };
    // Entries of the held state that a delta leaves as they were: checked when they came,
    // they are carried over without checking them again.
    let mut carried = Carried::default();
    match (list.since, base) {
        (None, _) => {}
        (Some(since), Some(base)) if since == base.version => {
            (list, carried) = merge(base, list);
        }
        (Some(since), _) => {
            return Err(SyncError::Format {
                path,
                problem: format!("a delta since version {since} was not asked for"),
            });
        }
    }
    let empty = BTreeMap::new();
    let known = previous.map_or(&empty, |p| &p.sequences);
    let verified = list.verify(network, known)?;
    let mut rejected: Vec<String> = verified.rejected.iter().map(ToString::to_string).collect();
    rejected.append(&mut log_rejected);
    let mut sequences = known.clone();
    for (country, onboarding) in &verified.countries {
        let seq = sequences.entry(country.clone()).or_default();
        *seq = (*seq).max(onboarding.record.sequence);
    }

    // Revocation batches: the changes since the version synced before (none at all when the
    // caller keeps filters instead).
    let since = previous.map_or(0, |p| p.version);
    let mut revocations = if options.exact_revocations {
        previous.map(|p| p.revocations.clone()).unwrap_or_default()
    } else {
        BTreeMap::new()
    };
    let batches: BatchList = if options.exact_revocations {
        let path = format!("/revocation-list?since={since}");
        let listed = get_ok(client, &path, None).await?;
        serde_json::from_slice(&listed.body).map_err(|e| SyncError::Format {
            path: path.clone(),
            problem: e.to_string(),
        })?
    } else {
        BatchList {
            more: false,
            batches: Vec::new(),
        }
    };
    if let Some((_, logged)) = &log_checkpoint
        && options.exact_revocations
    {
        logged.check_batches(&batches)?;
    }
    for item in &batches.batches {
        revocations.remove(&item.batch_id);
        if item.deleted {
            continue;
        }
        if let Some((_, logged)) = &log_checkpoint
            && item.version <= list.version
            && !logged.batches.contains_key(&item.batch_id)
        {
            rejected.push(format!(
                "revocation batch {} of {}: not in the transparency log",
                item.batch_id, item.country
            ));
            continue;
        }
        let path = format!("/revocation-list/{}", item.batch_id);
        let response = get_ok(client, &path, None).await?;
        let checked = healthpass_network::cms::from_base64(&response.body)
            .map_err(|e| e.to_string())
            .and_then(|der| {
                verify_batch(item, &der, &verified.countries).map_err(|e| e.to_string())
            });
        match checked {
            Ok(batch) => {
                revocations.insert(
                    item.batch_id.clone(),
                    StoredBatch {
                        country: batch.country,
                        kid: batch.kid,
                        hash_type: batch.hash_type,
                        hashes: batch.entries.into_iter().map(|e| e.hash).collect(),
                    },
                );
            }
            Err(problem) => rejected.push(format!(
                "revocation batch {} of {}: {problem}",
                item.batch_id, item.country
            )),
        }
    }
    // Batches of countries no longer onboarded do not count.
    revocations.retain(|_, b| verified.countries.contains_key(&b.country));

    // Value sets: one governance-signed release; never an older one than held.
    let served = client.get("/valuesets", None).await?;
    let value_sets = if served.status == StatusCode::NOT_FOUND {
        None
    } else if served.status.is_success() {
        let text = std::str::from_utf8(&served.body).map_err(|_| SyncError::Format {
            path: "/valuesets".into(),
            problem: "not UTF-8".into(),
        })?;
        let signed = healthpass_network::SignedValueSets::from_json(text).map_err(|e| {
            SyncError::Format {
                path: "/valuesets".into(),
                problem: e.to_string(),
            }
        })?;
        match signed.verify(network) {
            Ok(_) => Some(signed),
            Err(e) => {
                rejected.push(format!("value sets: {e}"));
                previous.and_then(|p| p.value_sets.clone())
            }
        }
    } else {
        return Err(SyncError::Status {
            path: "/valuesets".into(),
            problem: served.problem(),
        });
    };
    if let (Some(new), Some(held)) = (&value_sets, previous.and_then(|p| p.value_sets.as_ref()))
        && new.release.sequence < held.release.sequence
    {
        return Err(SyncError::ValueSetsRollback {
            got: new.release.sequence,
            had: held.release.sequence,
        });
    }

    // Rules: the whole list (it is small), each version checked against its country.
    let listed = get_ok(client, "/rules", None).await?;
    let rule_list: healthpass_network::rules::RuleList = serde_json::from_slice(&listed.body)
        .map_err(|e| SyncError::Format {
            path: "/rules".into(),
            problem: e.to_string(),
        })?;
    let mut rules = Vec::new();
    for (country, by_id) in &rule_list {
        for (identifier, versions) in by_id {
            for entry in versions {
                match healthpass_network::rules::verify_rule(
                    country,
                    identifier,
                    entry,
                    &verified.countries,
                ) {
                    Ok((_, text)) => rules.push(text),
                    Err(problem) => rejected.push(format!(
                        "rule {identifier} {} of {country}: {problem}",
                        entry.version
                    )),
                }
            }
        }
    }

    let trusted: std::collections::HashSet<&str> =
        verified.signers.iter().map(|s| s.thumbprint()).collect();
    let mut signers: Vec<TrustListEntry> = carried
        .signers
        .into_iter()
        .chain(
            list.signers
                .iter()
                .filter(|e| trusted.contains(e.thumbprint.as_str()))
                .cloned(),
        )
        .collect();
    let mut withdrawn: Vec<WithdrawnEntry> = carried
        .withdrawn
        .into_iter()
        .chain(verified.withdrawn)
        .collect();
    // In the gateway's order, so a delta sync and a full sync give the same state.
    signers.sort_by(|a, b| a.thumbprint.cmp(&b.thumbprint));
    withdrawn.sort_by(|a, b| a.thumbprint.cmp(&b.thumbprint));
    Ok(SyncOutcome {
        state: TrustState {
            format: STATE_FORMAT,
            network: network.name.clone(),
            fetched_at: now,
            version: list.version,
            etag: response.etag,
            sequences,
            onboardings: list
                .onboardings
                .iter()
                .filter(|o| {
                    verified
                        .countries
                        .get(&o.record.country)
                        .is_some_and(|v| v.record == o.record)
                })
                .cloned()
                .collect(),
            signers,
            withdrawn,
            revocations,
            value_sets,
            rules,
            rejected,
            log_checkpoint: match log_checkpoint {
                Some((note, _)) => Some(note),
                None => previous.and_then(|p| p.log_checkpoint.clone()),
            },
        },
        unchanged: false,
    })
}

fn log_policy(network: &Network) -> Result<Option<healthpass_trust::tlog::LogPolicy>, SyncError> {
    network
        .log
        .as_ref()
        .map(|settings| {
            settings
                .policy()
                .map_err(|e| SyncError::State(format!("the network's log settings: {e}")))
        })
        .transpose()
}

fn held_checkpoint(note: &str) -> Result<healthpass_trust::tlog::Checkpoint, SyncError> {
    healthpass_trust::tlog::Checkpoint::from_note(note)
        .map_err(|e| SyncError::State(format!("the held log checkpoint: {e}")))
}

/// What the log's entries since the held version say changed, by the subjects they name:
/// the DSCs uploaded and withdrawn (by thumbprint), the onboarding records (country and
/// sequence) and the revocation batches added and deleted (by id). Whether each entry's
/// subject is its request's is for auditors (`healthpass log verify` fetches and replays
/// every request).
#[derive(Debug, Default)]
struct LoggedChanges {
    uploads: std::collections::HashSet<String>,
    withdrawals: BTreeMap<String, u64>,
    onboardings: std::collections::HashSet<(String, u64)>,
    /// Batch id → the entry that added it.
    batches: BTreeMap<String, u64>,
    batch_deletions: std::collections::HashSet<String>,
}

impl LoggedChanges {
    fn of(records: &[healthpass_network::log::LogRecord]) -> Self {
        use healthpass_network::log::ChangeKind;
        let mut logged = Self::default();
        for record in records {
            let subject = record.subject.clone();
            match record.kind {
                ChangeKind::Upload => {
                    logged.uploads.insert(subject);
                }
                ChangeKind::Withdrawal => {
                    logged.withdrawals.insert(subject, record.index());
                }
                ChangeKind::RevocationBatch => {
                    logged.batches.insert(subject, record.index());
                }
                ChangeKind::RevocationDeletion => {
                    logged.batch_deletions.insert(subject);
                }
                ChangeKind::Onboarding => {
                    if let Some((country, sequence)) = subject.split_once('/')
                        && let Ok(sequence) = sequence.parse()
                    {
                        logged.onboardings.insert((country.to_owned(), sequence));
                    }
                }
                _ => {}
            }
        }
        logged
    }

    /// The revocation list must show every batch the log added since the held version and
    /// did not delete since: one it leaves out is the gateway hiding a revocation.
    fn check_batches(&self, batches: &BatchList) -> Result<(), SyncError> {
        let listed: std::collections::HashSet<&str> = batches
            .batches
            .iter()
            .map(|b| b.batch_id.as_str())
            .collect();
        match self
            .batches
            .iter()
            .find(|(id, _)| !listed.contains(id.as_str()) && !self.batch_deletions.contains(*id))
        {
            Some((id, index)) => Err(SyncError::LogMismatch(format!(
                "log entry {index} adds revocation batch {id}, which the revocation list does not show"
            ))),
            None => Ok(()),
        }
    }

    /// Holds the list to the log: what it adds that the log does not hold is left out (and
    /// reported); a withdrawal the log holds that the list leaves out is the gateway hiding a
    /// change, and refuses the whole list.
    fn bind(&self, list: &mut TrustList, rejected: &mut Vec<String>) -> Result<(), SyncError> {
        let listed: std::collections::HashSet<&str> = list
            .withdrawn
            .iter()
            .map(|w| w.thumbprint.as_str())
            .collect();
        if let Some((thumbprint, index)) = self
            .withdrawals
            .iter()
            .find(|(t, _)| !listed.contains(t.as_str()))
        {
            return Err(SyncError::LogMismatch(format!(
                "log entry {index} withdraws signer {thumbprint}, which the list does not show as withdrawn"
            )));
        }
        list.signers.retain(|e| {
            let logged = self.uploads.contains(&e.thumbprint);
            if !logged {
                rejected.push(format!(
                    "signer {} of {}: not in the transparency log",
                    e.thumbprint, e.country
                ));
            }
            logged
        });
        list.onboardings.retain(|o| {
            let key = (o.record.country.clone(), o.record.sequence);
            let logged = self.onboardings.contains(&key);
            if !logged {
                rejected.push(format!(
                    "onboarding {} of {}: not in the transparency log",
                    o.record.sequence, o.record.country
                ));
            }
            logged
        });
        Ok(())
    }
}

/// What a delta sync keeps from the held state unchanged.
#[derive(Debug, Default)]
struct Carried {
    signers: Vec<TrustListEntry>,
    withdrawn: Vec<WithdrawnEntry>,
}

/// Splits what a delta brings a held state to into the list to check now and what is carried
/// over. To check: every onboarding record (the held ones with the delta's newer ones: they
/// are few and anchor everything), the delta's signers and withdrawals, and the held entries of
/// a country whose onboarding changed (its CSCAs or upload certificates may have). Carried:
/// the other held entries, less those the delta withdraws.
fn merge(base: &TrustState, delta: TrustList) -> (TrustList, Carried) {
    let changed: std::collections::HashSet<&str> = delta
        .onboardings
        .iter()
        .map(|o| o.record.country.as_str())
        .collect();
    let gone: std::collections::HashSet<&str> = delta
        .withdrawn
        .iter()
        .map(|w| w.thumbprint.as_str())
        .collect();
    let mut onboardings: BTreeMap<String, SignedOnboarding> = base
        .onboardings
        .iter()
        .map(|o| (o.record.country.clone(), o.clone()))
        .collect();
    let (recheck, carried): (Vec<TrustListEntry>, Vec<TrustListEntry>) = base
        .signers
        .iter()
        .filter(|e| !gone.contains(e.thumbprint.as_str()))
        .cloned()
        .partition(|e| changed.contains(e.country.as_str()));
    let (recheck_withdrawn, carried_withdrawn): (Vec<WithdrawnEntry>, Vec<WithdrawnEntry>) = base
        .withdrawn
        .iter()
        .cloned()
        .partition(|w| changed.contains(w.country.as_str()));
    let carried = Carried {
        signers: carried,
        withdrawn: carried_withdrawn,
    };
    for o in delta.onboardings {
        onboardings.insert(o.record.country.clone(), o);
    }
    let mut signers = recheck;
    signers.extend(delta.signers);
    let mut withdrawn = recheck_withdrawn;
    withdrawn.extend(delta.withdrawn);
    let list = TrustList {
        network: delta.network,
        version: delta.version,
        since: None,
        onboardings: onboardings.into_values().collect(),
        signers,
        withdrawn,
    };
    (list, carried)
}
