//! A small HTTP/1.1 client for the gateway: one connection per request (a sync makes a few),
//! TLS by rustls with ring, an optional client certificate, and a cap on response bodies.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::http::{Method, Request, StatusCode, Uri, header};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The largest response body read (a trust list of 200 countries × 50 signers is ~40 MiB).
pub const MAX_RESPONSE_BYTES: usize = 256 << 20;

/// How long one request may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// TLS settings of a client.
#[derive(Debug, Clone, Default)]
pub struct ClientTls {
    /// PEM certificates of the CAs that may issue the gateway's TLS certificate.
    pub ca_pem: Option<Vec<u8>>,
    /// A client certificate (PEM) and its key (PEM), for a country's uploads.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The gateway URL is not `http://host[:port][/path]` or `https://…`.
    #[error("invalid gateway URL {url:?}: {problem}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        problem: String,
    },
    /// `https://` without a CA to check the gateway's certificate against.
    #[error("an https:// gateway needs the CA certificate that issued its TLS certificate (--ca)")]
    NoCa,
    /// A certificate or key file is not usable.
    #[error("TLS credentials: {0}")]
    Credentials(String),
    /// Connecting failed.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// host:port.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS handshake failed (an untrusted gateway certificate, a refused client
    /// certificate, …).
    #[error("TLS handshake with {address} failed: {source}")]
    Tls {
        /// host:port.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// HTTP failed.
    #[error("HTTP error: {0}")]
    Http(String),
    /// The response body is larger than [`MAX_RESPONSE_BYTES`].
    #[error("the response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// No answer in time.
    #[error("no answer within {REQUEST_TIMEOUT:?}")]
    Timeout,
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status.
    pub status: StatusCode,
    /// The `ETag`, if any.
    pub etag: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl HttpResponse {
    /// The gateway's problem report (`code: problem`), or the status when the body is not one.
    pub fn problem(&self) -> String {
        #[derive(serde::Deserialize)]
        struct Problem {
            code: String,
            problem: String,
        }
        match serde_json::from_slice::<Problem>(&self.body) {
            Ok(p) => format!("{} {}: {}", self.status.as_u16(), p.code, p.problem),
            Err(_) => self.status.to_string(),
        }
    }
}

/// A client of one gateway.
#[derive(Clone)]
pub struct GatewayClient {
    host: String,
    port: u16,
    base_path: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl std::fmt::Debug for GatewayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayClient")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl GatewayClient {
    /// A client for the gateway at `url` (`http://…` or `https://…`, with an optional path
    /// prefix).
    pub fn new(url: &str, tls: &ClientTls) -> Result<Self, ClientError> {
        let bad = |problem: &str| ClientError::Url {
            url: url.to_owned(),
            problem: problem.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
        let secure = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad("the scheme must be http or https")),
        };
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority.host().trim_matches(['[', ']']).to_owned();
        let port = authority
            .port_u16()
            .unwrap_or(if secure { 443 } else { 80 });
        let base_path = uri.path().trim_end_matches('/').to_owned();
        let tls = if secure {
            let name = ServerName::try_from(host.clone()).map_err(|_| bad("invalid host name"))?;
            Some((connector(tls)?, name))
        } else {
            None
        };
        Ok(Self {
            host,
            port,
            base_path,
            tls,
        })
    }

    /// `GET path`, with `If-None-Match` when `etag` is given.
    pub async fn get(&self, path: &str, etag: Option<&str>) -> Result<HttpResponse, ClientError> {
        let mut request = self.request(Method::GET, path);
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        self.send(request.body(Full::new(Bytes::new()))).await
    }

    /// `POST path` with a body.
    pub async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<HttpResponse, ClientError> {
        let request = self
            .request(Method::POST, path)
            .header(header::CONTENT_TYPE, content_type);
        self.send(request.body(Full::new(Bytes::from(body)))).await
    }

    fn request(&self, method: Method, path: &str) -> hyper::http::request::Builder {
        let host = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_path))
            .header(header::HOST, host)
            .header(header::USER_AGENT, "healthpass")
    }

    async fn send(
        &self,
        request: Result<Request<Full<Bytes>>, hyper::http::Error>,
    ) -> Result<HttpResponse, ClientError> {
        let request = request.map_err(|e| ClientError::Http(e.to_string()))?;
        tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request))
            .await
            .map_err(|_| ClientError::Timeout)?
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<HttpResponse, ClientError> {
        let address = format!("{}:{}", self.host, self.port);
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|source| ClientError::Connect {
                address: address.clone(),
                source,
            })?;
        tcp.set_nodelay(true).ok();
        match &self.tls {
            None => exchange_on(tcp, request).await,
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|source| ClientError::Tls { address, source })?;
                exchange_on(tls, request).await
            }
        }
    }
}

async fn exchange_on<S>(
    stream: S,
    request: Request<Full<Bytes>>,
) -> Result<HttpResponse, ClientError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let http = |e: hyper::Error| ClientError::Http(e.to_string());
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(http)?;
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(http)?;
    let status = response.status();
    let etag = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                ClientError::TooLarge
            } else {
                ClientError::Http(e.to_string())
            }
        })?
        .to_bytes();
    driver.abort();
    Ok(HttpResponse { status, etag, body })
}

fn connector(tls: &ClientTls) -> Result<TlsConnector, ClientError> {
    let credentials = |e: &dyn std::fmt::Display| ClientError::Credentials(e.to_string());
    let ca = tls.ca_pem.as_deref().ok_or(ClientError::NoCa)?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca) {
        roots
            .add(cert.map_err(|e| credentials(&e))?)
            .map_err(|e| credentials(&e))?;
    }
    if roots.is_empty() {
        return Err(ClientError::Credentials(
            "the CA file holds no PEM certificate".into(),
        ));
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| credentials(&e))?
    .with_root_certificates(roots);
    let config = match &tls.identity {
        None => builder.with_no_client_auth(),
        Some((cert_pem, key_pem)) => {
            let chain = CertificateDer::pem_slice_iter(cert_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| credentials(&e))?;
            let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| credentials(&e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| credentials(&e))?
        }
    };
    Ok(TlsConnector::from(Arc::new(config)))
}
