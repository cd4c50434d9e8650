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
//!
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
use healthpass_network::revocation::BatchList;
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
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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
    /// Opens a gateway on `store`, replaying every stored change through the checks.
    pub async fn open(network: Network, store: Store) -> Result<Arc<Gateway>, StartError> {
        let mut registry = Registry::new(network);
        for change in store.changes().await? {
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
        Ok(Arc::new(Gateway {
            registry: Mutex::new(registry),
            store,
            metrics: Arc::default(),
            trust_list_json: std::sync::Mutex::default(),
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
        let version = registry.version() + 1;
        // Durable first: a change is acknowledged only once it is committed to the store, and
        // the registry moves on only then (so a failed write changes nothing).
        self.store
            .append(&Change {
                version,
                kind,
                country: prepared.country().to_owned(),
                accepted_at: now,
                body,
            })
            .await?;
        let country = prepared.country().to_owned();
        let batch_id = prepared.batch_id().map(str::to_owned);
        let committed = registry.commit(prepared);
        debug_assert_eq!(committed, version);
        self.metrics.observe_change(kind.as_str(), "accepted");
        tracing::info!(kind = kind.as_str(), country, version, "change accepted");
        Ok(Submitted { version, batch_id })
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use healthpass_issue::pki::{TestPki, TestPkiOptions, generate_test_pki};
    use healthpass_network::cms::UploadSigner;
    use healthpass_network::{GovernanceKey, OnboardingRecord, SignedOnboarding};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    struct Fixture {
        network: Network,
        keys: [GovernanceKey; 3],
        pki: TestPki,
        _dir: tempfile::TempDir,
        url: String,
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
            Gateway::open(self.network.clone(), Store::open(&self.url).await.unwrap()).await
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
        let (tables, columns): (Vec<(String,)>, Vec<(String,)>) =
            match Store::open(&f.url).await.unwrap() {
                Store::Sqlite(pool) => (
                    sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'")
                        .fetch_all(&pool)
                        .await
                        .unwrap(),
                    sqlx::query_as("SELECT name FROM pragma_table_info('changes') ORDER BY cid")
                        .fetch_all(&pool)
                        .await
                        .unwrap(),
                ),
                Store::Postgres(pool) => {
                    let result = (
                        sqlx::query_as("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE '\\_%'")
                            .fetch_all(&pool)
                            .await
                            .unwrap(),
                        sqlx::query_as("SELECT column_name::text FROM information_schema.columns WHERE table_name = 'changes' ORDER BY ordinal_position")
                            .fetch_all(&pool)
                            .await
                            .unwrap(),
                    );
                    pool.close().await;
                    result
                }
            };
        assert_eq!(tables, [("changes".to_owned(),)], "{}", f.url);
        let columns: Vec<&str> = columns.iter().map(|(c,)| c.as_str()).collect();
        assert_eq!(
            columns,
            ["version", "kind", "country", "accepted_at", "body"]
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
        assert_eq!(paths.len(), 16);
        for (path, methods) in paths {
            for method in methods.as_object().unwrap().keys() {
                let uri = path
                    .replace("{batch}", "0123")
                    .replace("{country}", "AT")
                    .replace("{id}", "x");
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
            "healthpass_gateway_trust_list_version 0",
            "healthpass_gateway_request_duration_seconds_count{route=\"/trustList\"} 1",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }
}
