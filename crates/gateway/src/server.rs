//! The gateway over HTTP (axum): the registry's decisions, made durable in the [`Store`]
//! before they are acknowledged, and the trust list published without login.
//!
//! | method & path | |
//! |---|---|
//! | `GET /healthz` | liveness |
//! | `GET /trustList[?since=V]` | the trust list (JSON), or what changed after version `V`; `ETag` is its version, `If-None-Match` gives 304 |
//! | `GET /trustList/DSC/{country}` | the signer entries of one country |
//! | `POST /onboarding` | a signed onboarding record (JSON); k of n governance signatures |
//! | `POST /signerCertificate` | `application/cms`: Base64 CMS with the DSC; needs an authenticated country |
//! | `POST /signerCertificate/delete` | the same, to withdraw it |
//! | `GET /rules`, `GET /rules/{country}` | rules in force or to come: country → identifier → `[{version, validFrom, validTo, cms}]` |
//! | `POST /rules` | `application/cms`: a rule version (the EU rule JSON); needs an authenticated country |
//! | `POST /rules/delete` | `application/cms`: a rule identifier, to delete every version |
//! | `GET /valuesets`, `POST /valuesets` | the value-set release with its governance signatures (k of n; no login to publish) |
//! | `GET /valuesets/{id}` | one value set (EU JSON) |
//! | `GET /revocation-list[?since=V]` | revocation batches changed after version `V`: `{more, batches: [{batchId, country, date, deleted, version}]}` |
//! | `GET /revocation-list/{batchId}` | the batch's CMS as uploaded (`application/cms`, Base64); 410 once deleted |
//! | `POST /revocation-list` | `application/cms`: a revocation batch; needs an authenticated country |
//! | `POST /revocation-list/delete` | `application/cms`: `{"batchId"}`; needs an authenticated country |
//! | `GET /log/checkpoint[?witnessed=K]` | the newest checkpoint (C2SP signed note, `text/plain`) with the witness cosignatures collected for it; with `K`, the newest one at least `K` witnesses co-signed |
//! | `GET /log/consistency?from=M&to=N` | the RFC 9162 consistency proof between tree sizes `M` and `N` (JSON) |
//! | `GET /log/entries?start=A&end=B` | entries `A..B` (at most 10 000; [`LogRecord`](healthpass_network::log::LogRecord) text): `{start, entries}` |
//! | `GET /log/frontier?size=M` | the frontier of the tree of `M` entries, to check entries `M..` against a checkpoint without a proof each |
//! | `GET /log/inclusion?index=I&size=N` | entry `I` with its RFC 9162 inclusion proof in the tree of `N` |
//! | `GET /log/bodies?start=A&end=B` | the signed requests of entries `A..B` as received (Base64; at most 100 or 8 MiB): `{start, bodies}` |
//! | `GET /revocation/filters` | the revocation filter of each signer key: `{version, filters: [{kid, count, universeBits, digest}]}` |
//! | `GET /revocation/filters/{kid}[?from=DIGEST]` | one filter (`application/octet-stream`), or the delta from the earlier filter with that digest (404 `delta_unknown` when the gateway no longer has it); kid in Base64url |
//! | `GET /revocation/partitions/{kid}/{xx}` | the exact revoked hashes of the signer key starting with byte `xx` (hex), to settle a filter hit |
//! | `POST /log/cosignature` | a witness's cosignature: the checkpoint note with its signature line; only the network's witnesses |
//!
//! Every accepted change is appended to the transparency log ([`healthpass_network::log`])
//! before it is acknowledged: entry `i` is the change that made version `i + 1`.
//! The country of an upload is the one whose authentication certificate the TLS client
//! presented: the TLS layer ([`crate::tls`]) puts the [`ClientCertificate`] into the request's
//! extensions, and the registry names its country. Without one, or with a certificate of no
//! onboarded country, uploads are refused (401). Client errors are problem reports `{code, problem}`; internal errors are
//! logged and answered with `{"code": "internal"}` only.

use crate::observe::Metrics;
use crate::store::{Change, ChangeKind, Store, StoreError};
use crate::tls::ClientCertificate;
use crate::{GatewayError, Registry};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use healthpass_network::Network;
use healthpass_network::cms;
use healthpass_network::log::{
    ConsistencyProof, InclusionProof, LogBodies, LogEntries, LogFrontier, encode_hashes,
};
use healthpass_network::revocation::{
    BatchList, FilterInfo, FilterList, PartitionHash, PartitionHashes, kid_from_path,
};
use healthpass_trust::revocation::HashType;
use healthpass_trust::revocation_filter::{self, RevocationFilter};
use healthpass_trust::tlog::{
    Checkpoint, MemoryTree, NoteSignature, NoteSigner, NoteVerifierKey, SignedNote,
};
use jiff::Timestamp;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Mutex;

/// The largest request body: a CMS upload of a DSC is a few KiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// A running gateway: the registry in memory, the change log in the store.
#[derive(Debug)]
pub struct Gateway {
    registry: Mutex<Registry>,
    store: Store,
    metrics: Arc<Metrics>,
    trust_list_json: std::sync::Mutex<Option<(u64, axum::body::Bytes)>>,
    log: std::sync::Mutex<TransparencyLog>,
    filters: std::sync::Mutex<FilterCache>,
}

/// How long filters serve before batches that expired since are dropped from them (a new or
/// deleted batch rebuilds them at once).
const FILTER_REBUILD_SECONDS: i64 = 300;

/// Earlier filters kept per signer key, for deltas.
const FILTER_HISTORY: usize = 8;

/// The revocation filters, built from the registry's batches in force.
#[derive(Debug, Default)]
struct FilterCache {
    /// The registry's version when they were built (what `GET /revocation/filters` says).
    version: u64,
    /// The batches' version they were built from.
    revocations_version: u64,
    built_at: Option<Timestamp>,
    by_kid: std::collections::BTreeMap<String, Arc<KeyFilter>>,
    /// The log entry that states `by_kid`, once logged (cleared by a rebuild).
    log_index: Option<u64>,
    /// Earlier filters of each kid, newest last.
    history: std::collections::BTreeMap<String, std::collections::VecDeque<Arc<KeyFilter>>>,
}

/// The filters served, and the log entry that holds their digests.
struct PublishedFilters {
    version: u64,
    log_index: Option<u64>,
    by_kid: std::collections::BTreeMap<String, Arc<KeyFilter>>,
}

impl FilterCache {
    /// Builds the filters of `revoked` (kid → hashes), keeping a key's filter (and width)
    /// while its digest is unchanged and the replaced ones for deltas.
    fn rebuild(&mut self, revoked: std::collections::BTreeMap<String, Vec<(HashType, [u8; 16])>>) {
        let mut by_kid = std::collections::BTreeMap::new();
        for (kid, mut hashes) in revoked {
            let previous = self.by_kid.get(&kid).cloned();
            let universe_bits = revocation_filter::universe_bits_after(
                previous.as_ref().map(|p| p.filter.universe_bits()),
                hashes.len() as u64,
            );
            let filter = RevocationFilter::from_entries(&hashes, universe_bits);
            let digest = filter.digest_hex();
            if let Some(previous) = previous.filter(|p| p.digest == digest) {
                by_kid.insert(kid, previous);
                continue;
            }
            hashes.sort_by_key(|(_, hash)| *hash);
            let bytes = axum::body::Bytes::from(filter.to_bytes());
            by_kid.insert(
                kid,
                Arc::new(KeyFilter {
                    filter,
                    bytes,
                    digest,
                    hashes,
                }),
            );
        }
        let old = std::mem::take(&mut self.by_kid);
        for (kid, filter) in old {
            if by_kid.get(&kid).is_some_and(|f| Arc::ptr_eq(f, &filter)) {
                continue;
            }
            let history = self.history.entry(kid).or_default();
            history.push_back(filter);
            while history.len() > FILTER_HISTORY {
                history.pop_front();
            }
        }
        self.by_kid = by_kid;
    }
}

/// What `GET /revocation/filters` lists, sorted by kid.
fn filter_infos(by_kid: &std::collections::BTreeMap<String, Arc<KeyFilter>>) -> Vec<FilterInfo> {
    by_kid
        .iter()
        .map(|(kid, f)| FilterInfo {
            kid: kid.clone(),
            count: f.filter.len(),
            universe_bits: f.filter.universe_bits(),
            digest: f.digest.clone(),
        })
        .collect()
}

/// One signer key's filter, encoded once.
#[derive(Debug)]
struct KeyFilter {
    filter: RevocationFilter,
    bytes: axum::body::Bytes,
    digest: String,
    /// The exact hashes, sorted by hash, for partitions.
    hashes: Vec<(HashType, [u8; 16])>,
}

/// The most entries one `GET /log/entries` returns.
pub const MAX_ENTRIES_PER_PAGE: u64 = 10_000;

/// The most requests one `GET /log/bodies` returns, and the most bytes (it stops after the
/// request that passes it).
pub const MAX_BODIES_PER_PAGE: u64 = 100;
const MAX_BODIES_BYTES: usize = 8 << 20;

/// For how many checkpoint sizes cosignatures are kept (the newest ones).
const COSIGNED_SIZES_KEPT: usize = 256;

/// The transparency log: the tree of every accepted change, the key that signs its
/// checkpoints, and the witnesses' cosignatures collected for recent sizes (kept in the store
/// too, so a restart serves them again).
#[derive(Debug)]
struct TransparencyLog {
    tree: MemoryTree,
    /// Every entry's bytes, by index (a few hundred bytes each; the requests stay in the store).
    records: Vec<Box<[u8]>>,
    signer: NoteSigner,
    witnesses: Vec<NoteVerifierKey>,
    cosignatures: std::collections::BTreeMap<u64, Vec<NoteSignature>>,
}

impl TransparencyLog {
    fn checkpoint(&self, size: u64) -> Option<SignedNote> {
        let text = Checkpoint {
            origin: self.signer.verifier_key().name().to_owned(),
            size,
            root: self.tree.root_at(size).ok()?,
        }
        .to_text();
        let mut signatures = vec![self.signer.sign(&text, 0)];
        signatures.extend(self.cosignatures.get(&size).into_iter().flatten().cloned());
        Some(SignedNote { text, signatures })
    }
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log key is not the one the network definition names.
    #[error(
        "the log key {actual} is not the network's log key {expected}: start with the key the network definition names"
    )]
    LogKey {
        /// The network's (verifier key).
        expected: String,
        /// The one given (verifier key).
        actual: String,
    },
    /// A stored change no longer passes the checks: the database was changed behind the
    /// gateway's back, or by another network's gateway.
    #[error("stored change {version} ({kind:?} of {country}) is refused on replay: {error}")]
    Tampered {
        /// The change's version.
        version: u64,
        /// Its kind.
        kind: ChangeKind,
        /// Its country.
        country: String,
        /// Why it is refused.
        error: GatewayError,
    },
}

/// An accepted change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The version it made.
    pub version: u64,
    /// For a revocation batch, its id.
    pub batch_id: Option<String>,
}

/// Why a submission failed.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The request is refused (a client error).
    #[error(transparent)]
    Refused(#[from] GatewayError),
    /// The store failed (an internal error).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Gateway {
    /// Opens a gateway on `store`, replaying every stored change through the checks and into
    /// the transparency log, whose checkpoints `log_key` signs (the key the network
    /// definition names, if it names one).
    pub async fn open(
        network: Network,
        store: Store,
        log_key: NoteSigner,
    ) -> Result<Arc<Gateway>, StartError> {
        let witnesses = match &network.log {
            Some(settings) => {
                let policy = settings.policy().map_err(|e| StartError::LogKey {
                    expected: e.to_string(),
                    actual: log_key.verifier_key().to_vkey(),
                })?;
                if policy.log_key() != log_key.verifier_key() {
                    return Err(StartError::LogKey {
                        expected: settings.key.clone(),
                        actual: log_key.verifier_key().to_vkey(),
                    });
                }
                policy.witnesses().to_vec()
            }
            None => Vec::new(),
        };
        let mut tree = MemoryTree::new();
        let mut records = Vec::new();
        let mut registry = Registry::new(network);
        for change in store.changes().await? {
            let entry = change.entry_bytes();
            tree.push(&entry);
            records.push(entry.into_boxed_slice());
            let tampered = |error| StartError::Tampered {
                version: change.version,
                kind: change.kind,
                country: change.country.clone(),
                error,
            };
            let prepared = registry
                .prepare(
                    change.kind,
                    &change.country,
                    &change.body,
                    change.accepted_at,
                )
                .map_err(tampered)?;
            let version = registry.commit(prepared);
            if version != change.version {
                return Err(tampered(GatewayError::OutOfOrder {
                    country: change.country.clone(),
                    signed_at: change.accepted_at,
                    last: change.accepted_at,
                }));
            }
        }
        tracing::info!(
            version = registry.version(),
            countries = registry.countries().len(),
            "change log replayed"
        );
        // Cosignatures kept from before: only valid ones of named witnesses, for this tree
        // (one that does not verify would make verifiers refuse the whole checkpoint).
        let mut cosignatures: std::collections::BTreeMap<u64, Vec<NoteSignature>> =
            Default::default();
        let min_size = tree.size().saturating_sub(10_000);
        for (size, signature) in store.cosignatures(min_size).await? {
            let Ok(root) = tree.root_at(size) else {
                continue;
            };
            let text = Checkpoint {
                origin: log_key.verifier_key().name().to_owned(),
                size,
                root,
            }
            .to_text();
            let valid = witnesses
                .iter()
                .find(|w| w.matches(&signature))
                .is_some_and(|w| w.verify(&text, &signature).flatten().is_some());
            if valid {
                cosignatures.entry(size).or_default().push(signature);
            } else {
                tracing::warn!(size, "a stored cosignature does not verify; not served");
            }
        }
        while cosignatures.len() > COSIGNED_SIZES_KEPT {
            cosignatures.pop_first();
        }
        tracing::info!(
            size = tree.size(),
            key = %log_key.verifier_key().to_vkey(),
            cosigned_sizes = cosignatures.len(),
            "transparency log rebuilt"
        );
        Ok(Arc::new(Gateway {
            registry: Mutex::new(registry),
            store,
            metrics: Arc::default(),
            trust_list_json: std::sync::Mutex::default(),
            filters: std::sync::Mutex::default(),
            log: std::sync::Mutex::new(TransparencyLog {
                tree,
                records,
                signer: log_key,
                witnesses,
                cosignatures,
            }),
        }))
    }

    /// Checks a change and, if accepted, stores it durably before the registry moves on.
    pub async fn submit(
        &self,
        kind: ChangeKind,
        country: &str,
        body: Vec<u8>,
        now: Timestamp,
    ) -> Result<Submitted, SubmitError> {
        let mut registry = self.registry.lock().await;
        let prepared = match registry.prepare(kind, country, &body, now) {
            Ok(prepared) => prepared,
            Err(e) => {
                self.metrics.observe_change(kind.as_str(), e.code());
                // The code, never the message: a message may quote what the client sent.
                tracing::info!(
                    kind = kind.as_str(),
                    country,
                    code = e.code(),
                    "change refused"
                );
                return Err(e.into());
            }
        };
        let country = prepared.country().to_owned();
        let batch_id = prepared.batch_id().map(str::to_owned);
        let version = self
            .append(&mut registry, prepared, kind, body, now)
            .await?;
        tracing::info!(kind = kind.as_str(), country, version, "change accepted");
        Ok(Submitted { version, batch_id })
    }

    /// Stores a prepared change durably, then commits it to the registry and appends it to
    /// the log (under the registry's lock, so the log's size is the registry's version).
    async fn append(
        &self,
        registry: &mut Registry,
        prepared: crate::Prepared,
        kind: ChangeKind,
        body: Vec<u8>,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let version = registry.version() + 1;
        // Durable first: a change is acknowledged only once it is committed to the store, and
        // the registry moves on only then (so a failed write changes nothing).
        let change = Change {
            version,
            kind,
            country: prepared.country().to_owned(),
            accepted_at: now,
            body,
        };
        self.store.append(&change).await?;
        let committed = registry.commit(prepared);
        debug_assert_eq!(committed, version);
        let entry = change.entry_bytes();
        {
            let mut log = self.log();
            log.tree.push(&entry);
            log.records.push(entry.into_boxed_slice());
        }
        self.metrics.observe_change(kind.as_str(), "accepted");
        Ok(version)
    }

    fn log(&self) -> std::sync::MutexGuard<'_, TransparencyLog> {
        // A panic while holding it cannot leave the tree half-written (push is one extend).
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The revocation filters as of the registry's batches and `now`, rebuilt when a batch
    /// came or went or the last build is older than [`FILTER_REBUILD_SECONDS`]. A filter keeps
    /// its fingerprint width while the false-positive rate allows, so deltas connect versions.
    /// Filters that differ from the last ones logged are logged (a `revocation_filters`
    /// entry, at `now`) before they are served. The build runs without the registry's lock
    /// (uploads go on); the entry is appended only if no batch came or went meanwhile, so it
    /// states the filters of exactly the batches before it, as an auditor replays them.
    async fn filters(&self, now: Timestamp) -> PublishedFilters {
        let registry = self.registry.lock().await;
        let revocations_version = registry.revocations_version();
        let (version, by_kid) = {
            let mut cache = self
                .filters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Rebuilt only when a batch came or went (other changes leave the filters as they
            // are), or when batches may have expired since.
            let fresh = cache.built_at.is_some_and(|t| {
                cache.revocations_version == revocations_version
                    && now.as_second() - t.as_second() < FILTER_REBUILD_SECONDS
            });
            if fresh && let Some(index) = cache.log_index {
                // The request path: served as built and logged, nothing compared.
                return PublishedFilters {
                    version: cache.version,
                    log_index: Some(index),
                    by_kid: cache.by_kid.clone(),
                };
            }
            if !fresh {
                let revoked = registry.revoked_hashes(now);
                cache.version = registry.version();
                drop(registry);
                cache.rebuild(revoked);
                cache.revocations_version = revocations_version;
                cache.built_at = Some(now);
                cache.log_index = None;
            } else {
                drop(registry);
            }
            (cache.version, cache.by_kid.clone())
        };
        // What is logged is what this call serves (`by_kid`), even if another call rebuilds
        // the cache meanwhile.
        let infos = filter_infos(&by_kid);
        let mut registry = self.registry.lock().await;
        let log_index = match registry.logged_filters() {
            Some((index, logged)) if logged.filters == infos => Some(index),
            // A batch came or went during the build: served unlogged this once (the next
            // request rebuilds).
            _ if registry.revocations_version() != revocations_version => None,
            _ => {
                let body =
                    healthpass_network::revocation::LoggedFilters { filters: infos }.to_json();
                let logged = match registry.prepare(ChangeKind::RevocationFilters, "", &body, now) {
                    Ok(prepared) => self
                        .append(
                            &mut registry,
                            prepared,
                            ChangeKind::RevocationFilters,
                            body,
                            now,
                        )
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match logged {
                    Ok(version) => {
                        tracing::info!(version, "revocation filters logged");
                        Some(version - 1)
                    }
                    Err(e) => {
                        // Served unlogged: verifiers with a log keep their filters.
                        tracing::error!(error = %e, "revocation filters could not be logged");
                        None
                    }
                }
            }
        };
        if let Some(index) = log_index {
            let mut cache = self
                .filters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Only if the cache still holds what was logged.
            if cache.by_kid.len() == by_kid.len()
                && cache
                    .by_kid
                    .iter()
                    .zip(&by_kid)
                    .all(|((k1, f1), (k2, f2))| k1 == k2 && Arc::ptr_eq(f1, f2))
            {
                cache.log_index = Some(index);
            }
        }
        PublishedFilters {
            version,
            log_index,
            by_kid,
        }
    }

    fn earlier_filter(&self, kid: &str, digest: &str) -> Option<Arc<KeyFilter>> {
        let cache = self
            .filters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .history
            .get(kid)?
            .iter()
            .rev()
            .find(|f| f.digest == digest)
            .cloned()
    }

    /// The newest checkpoint (signed note text) and its size.
    pub fn checkpoint(&self) -> (u64, String) {
        let log = self.log();
        let size = log.tree.size();
        let note = log.checkpoint(size).expect("the tree's own size");
        (size, note.to_text())
    }

    /// The current trust list.
    pub async fn trust_list(&self) -> healthpass_network::trustlist::TrustList {
        self.registry.lock().await.trust_list()
    }

    /// The whole trust list as JSON, serialised once per version (every verifier downloads
    /// the same bytes).
    async fn full_trust_list(&self) -> (u64, axum::body::Bytes) {
        let registry = self.registry.lock().await;
        let version = registry.version();
        let mut cache = self.trust_list_json.lock().expect("cache lock");
        match &*cache {
            Some((v, bytes)) if *v == version => (version, bytes.clone()),
            _ => {
                let bytes = axum::body::Bytes::from(
                    serde_json::to_vec(&registry.trust_list()).expect("a list serializes"),
                );
                *cache = Some((version, bytes.clone()));
                (version, bytes)
            }
        }
    }
}

/// The gateway's routes.
pub fn router(gateway: Arc<Gateway>) -> Router {
    let metrics = gateway.metrics.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics_text))
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON) }),
        )
        .route("/trustList", get(trust_list))
        .route("/trustList/DSC/{country}", get(country_signers))
        .route("/rules", get(all_rules).merge(cms_route(ChangeKind::Rule)))
        .route("/rules/{country}", get(country_rules))
        .route("/rules/delete", cms_route(ChangeKind::RuleDeletion))
        .route("/valuesets", get(value_sets).post(publish_value_sets))
        .route("/valuesets/{id}", get(value_set))
        .route("/onboarding", post(onboarding))
        .route("/signerCertificate", cms_route(ChangeKind::Upload))
        .route(
            "/signerCertificate/delete",
            cms_route(ChangeKind::Withdrawal),
        )
        .route(
            "/revocation-list",
            get(revocation_list).merge(cms_route(ChangeKind::RevocationBatch)),
        )
        .route("/revocation-list/{batch}", get(revocation_batch))
        .route("/revocation/filters", get(revocation_filters))
        .route("/revocation/filters/{kid}", get(revocation_filter))
        .route(
            "/revocation/partitions/{kid}/{partition}",
            get(revocation_partition),
        )
        .route("/log/checkpoint", get(log_checkpoint))
        .route("/log/consistency", get(log_consistency))
        .route("/log/entries", get(log_entries))
        .route("/log/frontier", get(log_frontier))
        .route("/log/inclusion", get(log_inclusion))
        .route("/log/bodies", get(log_bodies))
        .route("/log/cosignature", post(log_cosignature))
        .route(
            "/revocation-list/delete",
            cms_route(ChangeKind::RevocationDeletion),
        )
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::observe::observe,
        ))
        .with_state(gateway)
}

/// The API description (OpenAPI 3.1), served at `/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

async fn metrics_text(State(gateway): State<Arc<Gateway>>) -> Response {
    let gauges = gateway.registry.lock().await.gauges();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        gateway.metrics.render(gauges),
    )
        .into_response()
}

fn problem(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"code": code, "problem": message.into()})),
    )
        .into_response()
}

fn submit_error(err: SubmitError) -> Response {
    match err {
        SubmitError::Refused(e) => {
            let status = match e {
                GatewayError::AlreadyPresent(_)
                | GatewayError::ValueSetsNotNewer { .. }
                | GatewayError::RuleVersionNotNewer { .. }
                | GatewayError::OutOfOrder { .. }
                | GatewayError::Replayed
                | GatewayError::OnboardingNotNewer { .. } => StatusCode::CONFLICT,
                GatewayError::Withdrawn(_) => StatusCode::GONE,
                _ => StatusCode::BAD_REQUEST,
            };
            (status, Json(e.problem_report())).into_response()
        }
        SubmitError::Store(e) => {
            // Logged for the operator, never sent: it may name paths or hosts.
            tracing::error!(error = %e, "storage error");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
        }
    }
}

async fn trust_list(
    State(gateway): State<Arc<Gateway>>,
    Query(Since { since }): Query<Since>,
    headers: HeaderMap,
) -> Response {
    // Read the version first: a 304 costs no list at all.
    let version = gateway.registry.lock().await.version();
    let etag = format!("\"{version}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let (version, body) = if since == 0 {
        gateway.full_trust_list().await
    } else {
        let registry = gateway.registry.lock().await;
        let delta = registry.trust_list_since(since);
        (
            delta.version,
            axum::body::Bytes::from(serde_json::to_vec(&delta).expect("a list serializes")),
        )
    };
    (
        [
            (header::ETAG, format!("\"{version}\"")),
            (header::CONTENT_TYPE, "application/json".to_owned()),
        ],
        body,
    )
        .into_response()
}

async fn value_sets(State(gateway): State<Arc<Gateway>>) -> Response {
    match gateway.registry.lock().await.value_sets() {
        Some(signed) => Json(signed).into_response(),
        None => problem(
            StatusCode::NOT_FOUND,
            "value_sets_unknown",
            "no value-set release was published yet",
        ),
    }
}

async fn value_set(State(gateway): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    let registry = gateway.registry.lock().await;
    match registry
        .value_sets()
        .and_then(|s| s.release.value_sets.get(&id))
    {
        Some(set) => Json(set).into_response(),
        None => problem(
            StatusCode::NOT_FOUND,
            "value_set_unknown",
            "no value set has this id",
        ),
    }
}

async fn publish_value_sets(
    State(gateway): State<Arc<Gateway>>,
    body: axum::body::Bytes,
) -> Response {
    match gateway
        .submit(ChangeKind::ValueSets, "", body.to_vec(), Timestamp::now())
        .await
    {
        Ok(Submitted { version, .. }) => {
            (StatusCode::CREATED, Json(json!({"version": version}))).into_response()
        }
        Err(e) => submit_error(e),
    }
}

async fn all_rules(State(gateway): State<Arc<Gateway>>) -> Response {
    Json(gateway.registry.lock().await.rule_list(Timestamp::now())).into_response()
}

async fn country_rules(
    State(gateway): State<Arc<Gateway>>,
    Path(country): Path<String>,
) -> Response {
    let mut list = gateway.registry.lock().await.rule_list(Timestamp::now());
    Json(list.remove(&country).unwrap_or_default()).into_response()
}

async fn country_signers(
    State(gateway): State<Arc<Gateway>>,
    Path(country): Path<String>,
) -> Response {
    Json(gateway.registry.lock().await.country_signers(&country)).into_response()
}

/// `?since=` of the revocation list.
#[derive(serde::Deserialize)]
struct Since {
    #[serde(default)]
    since: u64,
}

async fn revocation_list(
    State(gateway): State<Arc<Gateway>>,
    Query(Since { since }): Query<Since>,
) -> Response {
    let registry = gateway.registry.lock().await;
    let list = BatchList {
        more: false,
        batches: registry.batch_list(since),
    };
    let etag = format!("\"{}\"", registry.version());
    ([(header::ETAG, etag)], Json(list)).into_response()
}

async fn revocation_batch(
    State(gateway): State<Arc<Gateway>>,
    Path(batch): Path<String>,
) -> Response {
    use base64::Engine;
    let registry = gateway.registry.lock().await;
    match registry.batch(&batch) {
        None => problem(
            StatusCode::NOT_FOUND,
            "batch_unknown",
            "no revocation batch has this id",
        ),
        Some((_, true)) => problem(
            StatusCode::GONE,
            "batch_deleted",
            "the country deleted this revocation batch",
        ),
        Some((cms, false)) => (
            [
                (header::CONTENT_TYPE, "application/cms"),
                (header::ETAG, &format!("\"{batch}\"")),
            ],
            base64::engine::general_purpose::STANDARD.encode(cms),
        )
            .into_response(),
    }
}

async fn onboarding(State(gateway): State<Arc<Gateway>>, body: axum::body::Bytes) -> Response {
    match gateway
        .submit(ChangeKind::Onboarding, "", body.to_vec(), Timestamp::now())
        .await
    {
        Ok(Submitted { version, .. }) => {
            (StatusCode::CREATED, Json(json!({"version": version}))).into_response()
        }
        Err(e) => submit_error(e),
    }
}

async fn cms_change(
    gateway: &Gateway,
    kind: ChangeKind,
    certificate: Option<ClientCertificate>,
    body: &[u8],
) -> Response {
    let Some(ClientCertificate(certificate)) = certificate else {
        return problem(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "uploads need a TLS client certificate of an onboarded country",
        );
    };
    let country = match gateway.registry.lock().await.authenticate(&certificate) {
        Ok(country) => country.to_owned(),
        Err(e) => return (StatusCode::UNAUTHORIZED, Json(e.problem_report())).into_response(),
    };
    let der = match cms::from_base64(body) {
        Ok(der) => der,
        Err(e) => return submit_error(SubmitError::Refused(GatewayError::Cms(e))),
    };
    match gateway.submit(kind, &country, der, Timestamp::now()).await {
        Ok(Submitted { version, batch_id }) => match kind {
            ChangeKind::Upload | ChangeKind::Rule => {
                (StatusCode::CREATED, Json(json!({"version": version}))).into_response()
            }
            ChangeKind::RevocationBatch => (
                StatusCode::CREATED,
                Json(json!({"version": version, "batchId": batch_id})),
            )
                .into_response(),
            _ => Json(json!({"version": version})).into_response(),
        },
        Err(e) => submit_error(e),
    }
}

/// The handler for a CMS change of `kind` (an upload or a withdrawal).
fn cms_route(kind: ChangeKind) -> axum::routing::MethodRouter<Arc<Gateway>> {
    post(
        move |State(gateway): State<Arc<Gateway>>,
              certificate: Option<Extension<ClientCertificate>>,
              body: axum::body::Bytes| async move {
            cms_change(&gateway, kind, certificate.map(|Extension(c)| c), &body).await
        },
    )
}

async fn revocation_filters(State(gateway): State<Arc<Gateway>>) -> Response {
    let published = gateway.filters(Timestamp::now()).await;
    Json(FilterList {
        version: published.version,
        log_index: published.log_index,
        filters: filter_infos(&published.by_kid),
    })
    .into_response()
}

/// `?from=` of `GET /revocation/filters/{kid}`.
#[derive(serde::Deserialize)]
struct FromDigest {
    from: Option<String>,
}

async fn revocation_filter(
    State(gateway): State<Arc<Gateway>>,
    Path(kid): Path<String>,
    Query(FromDigest { from }): Query<FromDigest>,
) -> Response {
    let kid = kid_from_path(&kid);
    let filters = gateway.filters(Timestamp::now()).await.by_kid;
    let Some(current) = filters.get(&kid) else {
        return problem(
            StatusCode::NOT_FOUND,
            "filter_unknown",
            "no revoked certificate of this signer key is in force",
        );
    };
    let octets = |bytes: axum::body::Bytes, digest: &str| {
        (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (header::ETAG, format!("\"{digest}\"")),
            ],
            bytes,
        )
            .into_response()
    };
    match from {
        None => octets(current.bytes.clone(), &current.digest),
        Some(from) if from == current.digest => octets(
            axum::body::Bytes::from(
                current
                    .filter
                    .delta_to(&current.filter)
                    .map(|d| d.to_bytes())
                    .unwrap_or_default(),
            ),
            &current.digest,
        ),
        Some(from) => match gateway
            .earlier_filter(&kid, &from)
            .and_then(|earlier| earlier.filter.delta_to(&current.filter).ok())
        {
            Some(delta) => octets(axum::body::Bytes::from(delta.to_bytes()), &current.digest),
            None => problem(
                StatusCode::NOT_FOUND,
                "delta_unknown",
                "no delta from that filter (too old, or another width): fetch the whole filter",
            ),
        },
    }
}

async fn revocation_partition(
    State(gateway): State<Arc<Gateway>>,
    Path((kid, partition)): Path<(String, String)>,
) -> Response {
    let kid = kid_from_path(&kid);
    let Some(partition) = (partition.len() == 2)
        .then(|| u8::from_str_radix(&partition, 16).ok())
        .flatten()
    else {
        return problem(
            StatusCode::BAD_REQUEST,
            "partition_invalid",
            "a partition is two hex digits (the first byte of the hash)",
        );
    };
    let filters = gateway.filters(Timestamp::now()).await.by_kid;
    let hashes = filters
        .get(&kid)
        .map(|f| {
            let start = f.hashes.partition_point(|(_, h)| h[0] < partition);
            f.hashes[start..]
                .iter()
                .take_while(|(_, h)| h[0] == partition)
                .map(|(t, h)| PartitionHash {
                    hash_type: t.as_str().to_owned(),
                    hash: {
                        use base64::Engine;
                        base64::engine::general_purpose::STANDARD.encode(h)
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    Json(PartitionHashes {
        kid,
        partition,
        hashes,
    })
    .into_response()
}

/// `?witnessed=` of `GET /log/checkpoint`.
#[derive(serde::Deserialize)]
struct Witnessed {
    #[serde(default)]
    witnessed: usize,
}

fn note_response(note: &SignedNote) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        note.to_text(),
    )
        .into_response()
}

async fn log_checkpoint(
    State(gateway): State<Arc<Gateway>>,
    Query(Witnessed { witnessed }): Query<Witnessed>,
) -> Response {
    let log = gateway.log();
    let size = if witnessed == 0 {
        Some(log.tree.size())
    } else {
        log.cosignatures
            .iter()
            .rev()
            .find(|(_, sigs)| sigs.len() >= witnessed)
            .map(|(size, _)| *size)
    };
    match size.and_then(|size| log.checkpoint(size)) {
        Some(note) => note_response(&note),
        None => problem(
            StatusCode::NOT_FOUND,
            "not_witnessed",
            format!("no recent checkpoint has {witnessed} witness cosignatures yet"),
        ),
    }
}

/// `?from=&to=` of `GET /log/consistency`.
#[derive(serde::Deserialize)]
struct SizeRange {
    from: u64,
    to: u64,
}

async fn log_consistency(
    State(gateway): State<Arc<Gateway>>,
    Query(SizeRange { from, to }): Query<SizeRange>,
) -> Response {
    match gateway.log().tree.prove_consistency(from, to) {
        Ok(proof) => Json(ConsistencyProof {
            from,
            to,
            proof: encode_hashes(&proof),
        })
        .into_response(),
        Err(e) => problem(StatusCode::BAD_REQUEST, "size_out_of_range", e.to_string()),
    }
}

/// `?start=&end=` of `GET /log/entries` and `GET /log/bodies`.
#[derive(serde::Deserialize)]
struct EntryRange {
    start: u64,
    end: u64,
}

fn out_of_range(start: u64, end: u64, size: u64) -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "size_out_of_range",
        format!("entries {start}..{end} are not inside a tree of {size}"),
    )
}

async fn log_entries(
    State(gateway): State<Arc<Gateway>>,
    Query(EntryRange { start, end }): Query<EntryRange>,
) -> Response {
    let log = gateway.log();
    let size = log.tree.size();
    let stop = end
        .min(size)
        .min(start.saturating_add(MAX_ENTRIES_PER_PAGE));
    if start >= stop {
        return out_of_range(start, end, size);
    }
    // Within the tree, so within the records (they grow together).
    let entries = log.records[start as usize..stop as usize]
        .iter()
        .map(|e| String::from_utf8_lossy(e).into_owned())
        .collect();
    Json(LogEntries { start, entries }).into_response()
}

/// `?size=` of `GET /log/frontier`.
#[derive(serde::Deserialize)]
struct FrontierSize {
    size: u64,
}

async fn log_frontier(
    State(gateway): State<Arc<Gateway>>,
    Query(FrontierSize { size }): Query<FrontierSize>,
) -> Response {
    match gateway.log().tree.frontier(size) {
        Ok(frontier) => Json(LogFrontier {
            size,
            hashes: encode_hashes(&frontier.hashes()),
        })
        .into_response(),
        Err(e) => problem(StatusCode::BAD_REQUEST, "size_out_of_range", e.to_string()),
    }
}

/// `?index=&size=` of `GET /log/inclusion`.
#[derive(serde::Deserialize)]
struct EntryAt {
    index: u64,
    size: u64,
}

async fn log_inclusion(
    State(gateway): State<Arc<Gateway>>,
    Query(EntryAt { index, size }): Query<EntryAt>,
) -> Response {
    let log = gateway.log();
    match log.tree.prove_inclusion(index, size) {
        Ok(proof) => Json(InclusionProof {
            index,
            size,
            entry: String::from_utf8_lossy(&log.records[index as usize]).into_owned(),
            proof: encode_hashes(&proof),
        })
        .into_response(),
        Err(e) => problem(StatusCode::BAD_REQUEST, "size_out_of_range", e.to_string()),
    }
}

async fn log_bodies(
    State(gateway): State<Arc<Gateway>>,
    Query(EntryRange { start, end }): Query<EntryRange>,
) -> Response {
    let size = gateway.log().tree.size();
    let stop = end.min(size).min(start.saturating_add(MAX_BODIES_PER_PAGE));
    if start >= stop {
        return out_of_range(start, end, size);
    }
    // Entry i is the change of version i + 1.
    let changes = match gateway.store.changes_between(start + 1, stop + 1).await {
        Ok(changes) => changes,
        Err(e) => return submit_error(SubmitError::Store(e)),
    };
    let mut bodies = Vec::with_capacity(changes.len());
    let mut bytes = 0;
    for change in changes {
        use base64::Engine;
        bytes += change.body.len();
        bodies.push(base64::engine::general_purpose::STANDARD.encode(&change.body));
        if bytes > MAX_BODIES_BYTES {
            break;
        }
    }
    Json(LogBodies { start, bodies }).into_response()
}

/// A witness hands in its cosignature: the checkpoint note with its signature line. The
/// checkpoint must be one this log signed (its size and root), and the signature one of a
/// witness the network names, valid; then it is served with that checkpoint from now on.
async fn log_cosignature(State(gateway): State<Arc<Gateway>>, body: String) -> Response {
    let note = match SignedNote::parse(&body) {
        Ok(note) => note,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "note_invalid", e.to_string()),
    };
    let checkpoint = match Checkpoint::from_text(&note.text) {
        Ok(checkpoint) => checkpoint,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "note_invalid", e.to_string()),
    };
    let accepted = {
        let log = gateway.log();
        match checked_cosignatures(&log, &note, &checkpoint) {
            Ok(accepted) => accepted,
            Err(response) => return response,
        }
    };
    let size = checkpoint.size;
    // Durable first, as every change: a cosignature acknowledged is served after a restart.
    for signature in &accepted {
        if let Err(e) = gateway.store.put_cosignature(size, signature).await {
            return submit_error(SubmitError::Store(e));
        }
    }
    let mut log = gateway.log();
    let held = log.cosignatures.entry(size).or_default();
    for signature in accepted {
        held.retain(|s| !(s.name == signature.name && s.key_id == signature.key_id));
        held.push(signature);
    }
    while log.cosignatures.len() > COSIGNED_SIZES_KEPT {
        log.cosignatures.pop_first();
    }
    tracing::info!(size, "witness cosignature accepted");
    let note = log.checkpoint(size).expect("checked inside the tree");
    note_response(&note)
}

/// The cosignatures of named witnesses on a checkpoint this log signed, each verified; or the
/// refusal to answer with.
#[allow(clippy::result_large_err)]
fn checked_cosignatures(
    log: &TransparencyLog,
    note: &SignedNote,
    checkpoint: &Checkpoint,
) -> Result<Vec<NoteSignature>, Response> {
    let ours = log.signer.verifier_key().name() == checkpoint.origin
        && log.tree.root_at(checkpoint.size) == Ok(checkpoint.root);
    if !ours {
        return Err(problem(
            StatusCode::CONFLICT,
            "not_our_checkpoint",
            format!(
                "checkpoint {} is not one this log signed (another origin, size or root)",
                checkpoint.size
            ),
        ));
    }
    let mut accepted = Vec::new();
    for signature in &note.signatures {
        let Some(witness) = log.witnesses.iter().find(|w| w.matches(signature)) else {
            continue;
        };
        if witness.verify(&note.text, signature).flatten().is_none() {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                "cosignature_invalid",
                format!("the cosignature of {} does not verify", witness.name()),
            ));
        }
        accepted.push(signature.clone());
    }
    if accepted.is_empty() {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "unknown_witness",
            "no signature of a witness the network names",
        ));
    }
    Ok(accepted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use healthpass_issue::pki::{TestPki, TestPkiOptions, generate_test_pki};
    use healthpass_network::cms::UploadSigner;
    use healthpass_network::{GovernanceKey, OnboardingRecord, SignedOnboarding};
    use healthpass_trust::tlog::NoteKeyKind;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    struct Fixture {
        network: Network,
        keys: [GovernanceKey; 3],
        pki: TestPki,
        _dir: tempfile::TempDir,
        url: String,
        log_pem: String,
    }

    /// One fixture per database the suite runs against (SQLite, and PostgreSQL when
    /// `HEALTHPASS_TEST_POSTGRES` is set), each with its own empty database.
    fn fixtures() -> Vec<Fixture> {
        let probe = tempfile::tempdir().unwrap();
        let count = crate::store::test_database_urls(probe.path()).len();
        (0..count)
            .map(|i| {
                let mut f = fixture();
                f.url = crate::store::test_database_urls(f._dir.path()).swap_remove(i);
                f
            })
            .collect()
    }

    fn fixture() -> Fixture {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let keys = [(); 3].map(|()| GovernanceKey::generate().unwrap());
        let network = Network::new(
            "test-net",
            2,
            keys.iter().map(GovernanceKey::public).collect(),
        )
        .unwrap();
        let make = || generate_test_pki(&TestPkiOptions::new("AT", t)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("gateway.db").display());
        Fixture {
            network,
            keys,
            pki: make(),
            _dir: dir,
            url,
            log_pem: NoteSigner::generate("gateway.test/log", NoteKeyKind::Ed25519)
                .unwrap()
                .to_pkcs8_pem(),
        }
    }

    impl Fixture {
        fn record(&self, signatures: usize) -> Vec<u8> {
            let csca =
                healthpass_trust::TrustStore::parse_certificates(self.pki.csca_cert_pem.as_bytes());
            let upload = std::slice::from_ref(&self.pki.upload_cert_der);
            let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
            let auth = std::slice::from_ref(&self.pki.auth_cert_der);
            let record =
                OnboardingRecord::new(&self.network, "AT", 1, t, &csca, upload, auth).unwrap();
            let mut signed = SignedOnboarding::unsigned(record);
            for key in &self.keys[..signatures] {
                signed.sign(key, &self.network).unwrap();
            }
            signed.to_json().into_bytes()
        }

        fn upload_body(&self) -> String {
            use base64::Engine;
            let signer =
                UploadSigner::new(&self.pki.upload_key_pem, &self.pki.upload_cert_der).unwrap();
            let cms = signer
                .sign_at(&self.pki.dsc_cert_der, false, Timestamp::now())
                .unwrap();
            base64::engine::general_purpose::STANDARD.encode(cms)
        }

        async fn gateway(&self) -> Result<Arc<Gateway>, StartError> {
            Gateway::open(
                self.network.clone(),
                Store::open(&self.url).await.unwrap(),
                self.log_key(),
            )
            .await
        }

        /// The same log key across restarts.
        fn log_key(&self) -> NoteSigner {
            NoteSigner::from_pkcs8_pem("gateway.test/log", NoteKeyKind::Ed25519, &self.log_pem)
                .unwrap()
        }
    }

    async fn call(
        router: &Router,
        request: Request<Body>,
    ) -> (StatusCode, HeaderMap, serde_json::Value) {
        let response = router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (parts.status, parts.headers, json)
    }

    /// A POST as the TLS layer hands it on: with the client's certificate, if it gave one.
    fn post(path: &str, body: impl Into<Body>, certificate: Option<&[u8]>) -> Request<Body> {
        let mut request = Request::post(path).body(body.into()).unwrap();
        if let Some(c) = certificate {
            request
                .extensions_mut()
                .insert(ClientCertificate(Arc::from(c)));
        }
        request
    }

    #[tokio::test]
    async fn onboard_upload_publish_and_survive_a_restart() {
        for f in fixtures() {
            onboard_upload_publish_and_survive_a_restart_on(&f).await;
            crate::store::drop_test_database(&f.url).await;
        }
    }

    async fn onboard_upload_publish_and_survive_a_restart_on(f: &Fixture) {
        let router = router(f.gateway().await.unwrap());
        let (status, _, _) = call(
            &router,
            Request::get("/healthz").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);

        let (status, _, json) = call(&router, post("/onboarding", f.record(1), None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(json["code"], "onboarding_invalid");
        let (status, _, json) = call(&router, post("/onboarding", f.record(2), None)).await;
        assert_eq!(status, StatusCode::CREATED, "{json}");

        let body = f.upload_body();
        let (status, _, json) = call(&router, post("/signerCertificate", body.clone(), None)).await;
        assert_eq!(
            (status, json["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
        );
        // The upload certificate is not an authentication certificate.
        let (status, _, json) = call(
            &router,
            post(
                "/signerCertificate",
                body.clone(),
                Some(&f.pki.upload_cert_der),
            ),
        )
        .await;
        assert_eq!(
            (status, json["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("client_certificate_unknown"))
        );
        let auth = Some(f.pki.auth_cert_der.as_slice());
        let (status, _, json) = call(&router, post("/signerCertificate", body.clone(), auth)).await;
        assert_eq!(status, StatusCode::CREATED, "{json}");
        assert_eq!(json["version"], 2);
        let (status, _, json) = call(&router, post("/signerCertificate", body, auth)).await;
        assert_eq!(
            (status, json["code"].as_str()),
            (StatusCode::CONFLICT, Some("replayed"))
        );

        let (status, headers, json) = call(
            &router,
            Request::get("/trustList").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::ETAG], "\"2\"");
        assert_eq!(json["signers"].as_array().unwrap().len(), 1);
        let list: healthpass_network::trustlist::TrustList = serde_json::from_value(json).unwrap();
        let verified = list.verify(&f.network, &Default::default()).unwrap();
        assert_eq!((verified.signers.len(), verified.rejected.len()), (1, 0));
        let cached = Request::get("/trustList")
            .header(header::IF_NONE_MATCH, "\"2\"")
            .body(Body::empty())
            .unwrap();
        let (status, headers, _) = call(&router, cached).await;
        assert_eq!(
            (status, &headers[header::ETAG]),
            (
                StatusCode::NOT_MODIFIED,
                &"\"2\"".parse::<axum::http::HeaderValue>().unwrap()
            )
        );

        // A restart replays the log: same list.
        drop(router);
        let again = f.gateway().await.unwrap();
        assert_eq!(again.trust_list().await, list);
    }

    #[tokio::test]
    async fn a_row_changed_behind_the_gateways_back_stops_it_from_starting() {
        for f in fixtures() {
            a_row_changed_behind_the_gateways_back_stops_it_from_starting_on(&f).await;
            crate::store::drop_test_database(&f.url).await;
        }
    }

    async fn a_row_changed_behind_the_gateways_back_stops_it_from_starting_on(f: &Fixture) {
        let gateway = f.gateway().await.unwrap();
        gateway
            .submit(ChangeKind::Onboarding, "", f.record(2), Timestamp::now())
            .await
            .unwrap();
        let upload = cms::from_base64(f.upload_body().as_bytes()).unwrap();
        gateway
            .submit(ChangeKind::Upload, "AT", upload, Timestamp::now())
            .await
            .unwrap();
        drop(gateway);
        // Swap the uploaded DSC for another certificate, keeping the rest.
        let store = Store::open(&f.url).await.unwrap();
        let body = store.changes().await.unwrap()[1].body.clone();
        let at = body
            .windows(f.pki.dsc_cert_der.len())
            .position(|w| w == f.pki.dsc_cert_der.as_slice())
            .unwrap();
        let mut changed = body.clone();
        changed[at + 200] ^= 0x01;
        match &store {
            Store::Sqlite(pool) => {
                sqlx::query("UPDATE changes SET body = ? WHERE version = 2")
                    .bind(&changed)
                    .execute(pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
            Store::Postgres(pool) => {
                sqlx::query("UPDATE changes SET body = $1 WHERE version = 2")
                    .bind(&changed)
                    .execute(pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
        }
        let err = f.gateway().await.unwrap_err();
        assert!(
            matches!(err, StartError::Tampered { version: 2, .. }),
            "{err}"
        );
    }

    /// Privacy by construction: the one table has no column that could hold a name, a date of
    /// birth or a certificate identifier.
    #[tokio::test]
    async fn the_schema_has_no_column_for_personal_data() {
        for f in fixtures() {
            the_schema_has_no_column_for_personal_data_on(&f).await;
            crate::store::drop_test_database(&f.url).await;
        }
    }

    async fn the_schema_has_no_column_for_personal_data_on(f: &Fixture) {
        let columns_of = "SELECT name FROM pragma_table_info($1) ORDER BY cid";
        let pg_columns_of = "SELECT column_name::text FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position";
        let (mut tables, columns): (Vec<(String,)>, Vec<Vec<(String,)>>) = match Store::open(&f.url)
            .await
            .unwrap()
        {
            Store::Sqlite(pool) => {
                let mut columns = Vec::new();
                for table in ["changes", "cosignatures"] {
                    columns.push(
                        sqlx::query_as(columns_of)
                            .bind(table)
                            .fetch_all(&pool)
                            .await
                            .unwrap(),
                    );
                }
                (
                        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'")
                            .fetch_all(&pool)
                            .await
                            .unwrap(),
                        columns,
                    )
            }
            Store::Postgres(pool) => {
                let mut columns = Vec::new();
                for table in ["changes", "cosignatures"] {
                    columns.push(
                        sqlx::query_as(pg_columns_of)
                            .bind(table)
                            .fetch_all(&pool)
                            .await
                            .unwrap(),
                    );
                }
                let tables = sqlx::query_as("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE '\\_%'")
                        .fetch_all(&pool)
                        .await
                        .unwrap();
                pool.close().await;
                (tables, columns)
            }
        };
        tables.sort();
        assert_eq!(
            tables,
            [("changes".to_owned(),), ("cosignatures".to_owned(),)],
            "{}",
            f.url
        );
        let columns: Vec<Vec<&str>> = columns
            .iter()
            .map(|table| table.iter().map(|(c,)| c.as_str()).collect())
            .collect();
        assert_eq!(
            columns,
            [
                vec!["version", "kind", "country", "accepted_at", "body"],
                // Witness cosignatures: a tree size, a witness's key name and id, a signature.
                vec!["size", "name", "key_id", "signature"],
            ]
        );
    }

    /// Every path and method the OpenAPI document describes is routed, and `/metrics` counts
    /// requests by route template and decisions by code.
    #[tokio::test]
    async fn the_api_description_matches_the_routes_and_metrics_count() {
        let f = fixture();
        let router = router(f.gateway().await.unwrap());
        let (status, _, doc) = call(
            &router,
            Request::get("/openapi.json").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), 26);
        for (path, methods) in paths {
            for method in methods.as_object().unwrap().keys() {
                let uri = path
                    .replace("{batch}", "0123")
                    .replace("{country}", "AT")
                    .replace("{id}", "x")
                    .replace("{kid}", "AAAAAAAAAAA")
                    .replace("{partition}", "00");
                let request = Request::builder()
                    .method(method.to_uppercase().as_str())
                    .uri(&uri)
                    .body(Body::empty())
                    .unwrap();
                let (status, _, body) = call(&router, request).await;
                // A 404 of a route is a problem report; the router's own 404 is empty.
                assert!(
                    status != StatusCode::METHOD_NOT_ALLOWED
                        && (status != StatusCode::NOT_FOUND || body["code"].is_string()),
                    "{method} {path}: {status}"
                );
            }
        }
        call(&router, post("/onboarding", f.record(1), None)).await;
        let response = router
            .clone()
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let text = String::from_utf8(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap();
        for line in [
            "healthpass_gateway_requests_total{route=\"/onboarding\",status=\"400\"} 2",
            "healthpass_gateway_changes_total{kind=\"onboarding\",outcome=\"onboarding_invalid\"} 2",
            // The one change accepted: the filters statement logged when they were asked for.
            "healthpass_gateway_changes_total{kind=\"revocation_filters\",outcome=\"accepted\"} 1",
            "healthpass_gateway_trust_list_version 1",
            "healthpass_gateway_request_duration_seconds_count{route=\"/trustList\"} 1",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }

    fn router_of(gateway: Arc<Gateway>) -> Router {
        router(gateway)
    }

    async fn text(router: &Router, request: Request<Body>) -> (StatusCode, String) {
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    fn get(path: &str) -> Request<Body> {
        Request::get(path).body(Body::empty()).unwrap()
    }

    /// Every accepted change is a log entry: checkpoints verify with the log key, entries
    /// come with inclusion proofs that hold and read back as the changes made, consistency
    /// proofs tie each checkpoint to the next, and a restart rebuilds the same tree.
    #[tokio::test]
    async fn every_change_is_logged_with_proofs() {
        use healthpass_network::log::{
            ConsistencyProof, InclusionProof, LogBodies, LogEntries, LogFrontier, LogRecord,
            decode_hashes,
        };
        use healthpass_trust::tlog::{Checkpoint, Frontier, LogPolicy};
        let f = fixture();
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let policy = LogPolicy::new(f.log_key().verifier_key().clone(), vec![], 0).unwrap();
        let gateway = f.gateway().await.unwrap();
        let router = router(gateway.clone());

        let (status, empty) = text(&router, get("/log/checkpoint")).await;
        assert_eq!(status, StatusCode::OK);
        let empty = policy.verify(&empty, now).unwrap();
        assert_eq!(empty.checkpoint.size, 0);
        assert_eq!(empty.checkpoint.root, healthpass_trust::tlog::EMPTY_ROOT);

        let (status, _, _) = call(&router, post("/onboarding", f.record(2), None)).await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, one) = text(&router, get("/log/checkpoint")).await;
        let one = policy.verify(&one, now).unwrap();
        assert_eq!(one.checkpoint.size, 1);
        let auth = f.pki.auth_cert_der.clone();
        let (status, _, json) = call(
            &router,
            post("/signerCertificate", f.upload_body(), Some(&auth)),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{json}");
        // A refused change is not logged.
        let (status, _, _) = call(&router, post("/onboarding", f.record(1), None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, two) = text(&router, get("/log/checkpoint")).await;
        let two = policy.verify(&two, now).unwrap();
        assert_eq!(two.checkpoint.size, 2);
        assert_eq!(gateway.checkpoint().0, 2);

        let (status, _, json) = call(&router, get("/log/consistency?from=1&to=2")).await;
        assert_eq!(status, StatusCode::OK);
        let proof: ConsistencyProof = serde_json::from_value(json).unwrap();
        let hashes = decode_hashes(&proof.proof).unwrap();
        two.check_extends(&one.checkpoint, &hashes).unwrap();
        assert!(two.check_extends(&empty.checkpoint, &hashes).is_err());

        let (status, _, json) = call(&router, get("/log/entries?start=0&end=9")).await;
        assert_eq!(status, StatusCode::OK);
        let entries: LogEntries = serde_json::from_value(json).unwrap();
        assert_eq!(entries.start, 0);
        let records: Vec<LogRecord> = entries
            .entries
            .iter()
            .map(|e| LogRecord::from_bytes(e.as_bytes()).unwrap())
            .collect();
        let kinds: Vec<ChangeKind> = records.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [ChangeKind::Onboarding, ChangeKind::Upload]);
        // Each entry names what it changes and commits to the request served beside it.
        assert_eq!(records[0].subject, "AT/1");
        assert_eq!(
            records[1].subject,
            healthpass_trust::thumbprint_of(&f.pki.dsc_cert_der)
        );
        let (status, _, json) = call(&router, get("/log/bodies?start=0&end=9")).await;
        assert_eq!(status, StatusCode::OK);
        let bodies: LogBodies = serde_json::from_value(json).unwrap();
        assert_eq!(bodies.bodies.len(), 2);
        use base64::Engine;
        for (record, body) in records.iter().zip(&bodies.bodies) {
            let body = base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap();
            assert!(record.commits_to(&body));
            assert_eq!(
                healthpass_network::log::subject(record.kind, &body),
                record.subject
            );
        }
        // The frontier at each size and the entries after it give each checkpoint's root.
        for (size, checkpoint) in [(0, &two), (1, &two), (2, &two), (0, &one)] {
            let (status, _, json) = call(&router, get(&format!("/log/frontier?size={size}"))).await;
            assert_eq!(status, StatusCode::OK);
            let frontier: LogFrontier = serde_json::from_value(json).unwrap();
            let mut frontier =
                Frontier::from_hashes(size, &decode_hashes(&frontier.hashes).unwrap()).unwrap();
            for entry in &entries.entries[size as usize..checkpoint.checkpoint.size as usize] {
                frontier.push(entry.as_bytes());
            }
            assert_eq!(frontier.root(), checkpoint.checkpoint.root, "from {size}");
        }
        // One entry with its inclusion proof, in the newest tree and an older one.
        for (index, checkpoint) in [(0, &two), (1, &two), (0, &one)] {
            let size = checkpoint.checkpoint.size;
            let (status, _, json) = call(
                &router,
                get(&format!("/log/inclusion?index={index}&size={size}")),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            let proved: InclusionProof = serde_json::from_value(json).unwrap();
            assert_eq!(proved.entry, entries.entries[index as usize]);
            let proof = decode_hashes(&proved.proof).unwrap();
            checkpoint
                .check_entry(index, proved.entry.as_bytes(), &proof)
                .unwrap();
            // The proof is for this entry at this index, not another.
            if size == 2 {
                assert!(
                    checkpoint
                        .check_entry(1 - index, proved.entry.as_bytes(), &proof)
                        .is_err()
                );
            }
        }
        for bad in [
            "/log/entries?start=2&end=3",
            "/log/bodies?start=2&end=3",
            "/log/frontier?size=3",
            "/log/inclusion?index=2&size=2",
            "/log/inclusion?index=0&size=3",
            "/log/consistency?from=2&to=1",
            "/log/consistency?from=1&to=3",
        ] {
            let (status, _, json) = call(&router, get(bad)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(json["code"], "size_out_of_range", "{bad}");
        }

        // A restart replays the store into the same tree, signed by the same key.
        drop(router);
        drop(gateway);
        let again = f.gateway().await.unwrap();
        let (size, note) = again.checkpoint();
        assert_eq!(size, 2);
        let again = policy.verify(&note, now).unwrap();
        assert_eq!(again.checkpoint, two.checkpoint);
        assert_eq!(
            Checkpoint::from_text(&SignedNote::parse(&note).unwrap().text)
                .unwrap()
                .root,
            two.checkpoint.root
        );
    }

    /// Witnesses the network names hand in cosignatures; a checkpoint with enough of them is
    /// served on `?witnessed=K`. A stranger's, a forged one and one for a checkpoint the log
    /// never signed are refused.
    #[tokio::test]
    async fn witnesses_cosign_checkpoints() {
        for f in fixtures() {
            witnesses_cosign_checkpoints_on(&f).await;
            crate::store::drop_test_database(&f.url).await;
        }
    }

    async fn witnesses_cosign_checkpoints_on(f: &Fixture) {
        use healthpass_network::log::LogSettings;
        use healthpass_trust::tlog::LogPolicy;
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let witness = |i: u8| {
            NoteSigner::from_pkcs8(&format!("witness.test/w{i}"), NoteKeyKind::Cosignature, &{
                let mut der = vec![
                    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04,
                    0x22, 0x04, 0x20,
                ];
                der.extend_from_slice(&[i; 32]);
                der
            })
            .unwrap()
        };
        let mut network = f.network.clone();
        network.log = Some(LogSettings {
            key: f.log_key().verifier_key().to_vkey(),
            witnesses: vec![
                witness(1).verifier_key().to_vkey(),
                witness(2).verifier_key().to_vkey(),
            ],
            quorum: 2,
        });
        let policy: LogPolicy = network.log.as_ref().unwrap().policy().unwrap();
        let gateway = Gateway::open(
            network.clone(),
            Store::open(&f.url).await.unwrap(),
            f.log_key(),
        )
        .await
        .unwrap();
        let router = router(gateway);
        let (status, _, _) = call(&router, post("/onboarding", f.record(2), None)).await;
        assert_eq!(status, StatusCode::CREATED);

        let (_, note) = text(&router, get("/log/checkpoint")).await;
        assert!(matches!(
            policy.verify(&note, now),
            Err(healthpass_trust::tlog::LogError::TooFewCosignatures {
                have: 0,
                need: 2,
                ..
            })
        ));
        let (status, _, json) = call(&router, get("/log/checkpoint?witnessed=1")).await;
        assert_eq!(
            (status, json["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_witnessed"))
        );

        let cosigned = |w: &NoteSigner, note: &str, time: u64| {
            let mut parsed = SignedNote::parse(note).unwrap();
            parsed.add_signature(w.sign(&parsed.text, time));
            parsed.to_text()
        };
        let t = now.as_second() as u64;
        for i in [1, 2] {
            let (status, _) = text(
                &router,
                Request::post("/log/cosignature")
                    .body(Body::from(cosigned(&witness(i), &note, t)))
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, served) = text(&router, get("/log/checkpoint?witnessed=2")).await;
        assert_eq!(status, StatusCode::OK);
        let verified = policy.verify(&served, now).unwrap();
        assert_eq!(verified.cosigned_by.len(), 2);
        assert_eq!(verified.checkpoint.size, 1);

        // A witness the network does not name.
        let (status, _, json) = call(
            &router,
            Request::post("/log/cosignature")
                .body(Body::from(cosigned(&witness(3), &note, t)))
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, json["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("unknown_witness"))
        );
        // A named witness's line with a signature over other text.
        let mut forged = SignedNote::parse(&note).unwrap();
        let mut sig = witness(1).sign(&forged.text, t);
        sig.signature[20] ^= 1;
        forged.add_signature(sig);
        let (status, _, json) = call(
            &router,
            Request::post("/log/cosignature")
                .body(Body::from(forged.to_text()))
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, json["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("cosignature_invalid"))
        );
        // A checkpoint this log never signed (another root at this size).
        let mut other = SignedNote::parse(&note).unwrap();
        other.text = Checkpoint {
            origin: "gateway.test/log".into(),
            size: 1,
            root: [9; 32],
        }
        .to_text();
        other.signatures.clear();
        other.add_signature(witness(1).sign(&other.text, t));
        let (status, _, json) = call(
            &router,
            Request::post("/log/cosignature")
                .body(Body::from(other.to_text()))
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, json["code"].as_str()),
            (StatusCode::CONFLICT, Some("not_our_checkpoint"))
        );

        // A restart serves the cosignatures again (they are in the store).
        let again = Gateway::open(
            network.clone(),
            Store::open(&f.url).await.unwrap(),
            f.log_key(),
        )
        .await
        .unwrap();
        let (status, served) = text(&router_of(again), get("/log/checkpoint?witnessed=2")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(policy.verify(&served, now).unwrap().cosigned_by.len(), 2);

        // A gateway started with another key than the network names does not start.
        let wrong = NoteSigner::generate("gateway.test/log", NoteKeyKind::Ed25519).unwrap();
        assert!(matches!(
            Gateway::open(network, Store::open(&f.url).await.unwrap(), wrong).await,
            Err(StartError::LogKey { .. })
        ));
    }
}
