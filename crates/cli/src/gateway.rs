//! `healthpass gateway`: serve the trust network's gateway, and upload to one as a country.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use healthpass_client::http::{ClientTls, GatewayClient};
use healthpass_client::upload::{UploadKind, upload};
use healthpass_gateway::server::{Gateway, router};
use healthpass_gateway::store::Store;
use healthpass_network::Network;
use healthpass_network::cms::UploadSigner;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::{input, outln};

#[derive(Subcommand)]
pub enum GatewayCommand {
    /// Run the gateway. With --tls-cert/--tls-key it serves HTTPS and countries upload with
    /// their authentication certificate (mutual TLS); without, it serves plain HTTP and
    /// refuses every upload (401), which suits a read-only mirror.
    Serve(ServeArgs),
    /// Upload to a gateway as a country: a CMS signed with the upload certificate, sent over
    /// mutual TLS with the authentication certificate.
    Upload(UploadArgs),
    /// Submit a country's onboarding record (with k of n governance signatures) to a gateway.
    /// It needs no login: the governance signatures are the authority.
    Onboard(OnboardArgs),
    /// Publish a value-set release (with k of n governance signatures) to a gateway. It needs
    /// no login: the governance signatures are the authority.
    PublishValueSets(OnboardArgs),
    /// Measure the gateway at world size on loopback: durable uploads per second, trust-list
    /// requests per second (304 and full), full and delta `trust sync` time.
    Bench(crate::gateway_bench::GatewayBenchArgs),
}

#[derive(Args)]
pub struct OnboardArgs {
    /// The signed onboarding record or value-set release (`healthpass network sign`).
    record: PathBuf,
    /// The gateway, `https://host:port` or `http://host:port`.
    #[arg(long, value_name = "URL", env = "HEALTHPASS_GATEWAY")]
    gateway: String,
    /// The CA certificate of an https:// gateway (PEM).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

/// `gateway serve` settings. Each comes from the flag, else its environment variable, else
/// the `--config` file (TOML, the same names with `_` for `-`), else its default.
#[derive(Args)]
pub struct ServeArgs {
    /// A TOML file with any of the settings below (e.g. `listen = "0.0.0.0:8443"`).
    #[arg(long, value_name = "FILE", env = "HEALTHPASS_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "HEALTHPASS_LISTEN")]
    listen: Option<String>,
    /// Data folder: the SQLite database lives here unless `database` says otherwise
    /// [default: data].
    #[arg(long, env = "HEALTHPASS_DATA")]
    data: Option<PathBuf>,
    /// Database URL: sqlite://FILE or postgres://… [default: sqlite under `data`].
    #[arg(long, env = "HEALTHPASS_DATABASE")]
    database: Option<String>,
    /// The network definition (`healthpass network init` writes one). Required.
    #[arg(long, value_name = "FILE", env = "HEALTHPASS_NETWORK")]
    network: Option<PathBuf>,
    /// The server's TLS certificate chain (PEM); `healthpass keys gateway-tls` makes a test one.
    #[arg(long, value_name = "FILE", env = "HEALTHPASS_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// The server's TLS private key (PEM).
    #[arg(long, value_name = "FILE", env = "HEALTHPASS_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Log format on stderr: `json` (one object per line) or `text` [default: json].
    #[arg(long, value_name = "FORMAT", env = "HEALTHPASS_LOG_FORMAT")]
    log_format: Option<LogFormat>,
    /// The transparency log's checkpoint key (PKCS#8 PEM); made on first start if missing
    /// [default: DATA/log-key.pem].
    #[arg(long, value_name = "FILE", env = "HEALTHPASS_LOG_KEY")]
    log_key: Option<PathBuf>,
}

/// How log events are written.
#[derive(Clone, Copy, Debug, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// The `--config` file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ServeConfig {
    listen: Option<String>,
    data: Option<PathBuf>,
    database: Option<String>,
    network: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    log_format: Option<LogFormat>,
    log_key: Option<PathBuf>,
}

impl ServeArgs {
    /// The flags and environment over the config file.
    fn resolve(self) -> anyhow::Result<ServeConfig> {
        let file: ServeConfig = match &self.config {
            Some(path) => toml::from_str(&input::read_text(path)?).with_context(|| {
                format!("{}: not a valid gateway configuration", path.display())
            })?,
            None => ServeConfig::default(),
        };
        Ok(ServeConfig {
            listen: self.listen.or(file.listen),
            data: self.data.or(file.data),
            database: self.database.or(file.database),
            network: self.network.or(file.network),
            tls_cert: self.tls_cert.or(file.tls_cert),
            tls_key: self.tls_key.or(file.tls_key),
            log_format: self.log_format.or(file.log_format),
            log_key: self.log_key.or(file.log_key),
        })
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Add a signer certificate (INPUT: its PEM or DER file).
    Signer,
    /// Withdraw a signer certificate (INPUT: its PEM or DER file).
    WithdrawSigner,
    /// Publish a revocation batch (INPUT: the batch JSON file).
    RevocationBatch,
    /// Delete a revocation batch (INPUT: the batch id).
    DeleteRevocationBatch,
    /// Publish a rule version (INPUT: the EU rule JSON file).
    Rule,
    /// Delete every version of a rule (INPUT: its identifier).
    DeleteRule,
}

#[derive(Args)]
pub struct UploadArgs {
    /// What to upload.
    #[arg(value_enum)]
    kind: Kind,
    /// The file (or batch id) to upload; see KIND.
    input: String,
    #[command(flatten)]
    country: CountryConnection,
}

/// How a country reaches the gateway to change something: over mutual TLS with its
/// authentication certificate, signing with its upload certificate.
#[derive(Args)]
pub struct CountryConnection {
    /// The gateway, `https://host:port`.
    #[arg(long, value_name = "URL", env = "HEALTHPASS_GATEWAY")]
    pub gateway: String,
    /// The CA certificate that issued the gateway's TLS certificate (PEM).
    #[arg(long, value_name = "FILE")]
    ca: PathBuf,
    /// The country's authentication certificate (PEM), for mutual TLS.
    #[arg(long, value_name = "FILE")]
    auth_cert: PathBuf,
    /// Its private key (PEM).
    #[arg(long, value_name = "FILE")]
    auth_key: PathBuf,
    /// The country's upload certificate (PEM), which signs the CMS.
    #[arg(long, value_name = "FILE")]
    upload_cert: PathBuf,
    /// Its private key (PEM).
    #[arg(long, value_name = "FILE")]
    upload_key: PathBuf,
}

impl CountryConnection {
    /// The upload signer and the mutual-TLS client.
    pub fn open(&self) -> anyhow::Result<(UploadSigner, GatewayClient)> {
        let signer = UploadSigner::new(
            &input::read_text(&self.upload_key)?,
            &certificate_der(&self.upload_cert)?,
        )
        .context("cannot use the upload certificate and key")?;
        let tls = ClientTls {
            ca_pem: Some(input::read_file(&self.ca)?),
            identity: Some((
                input::read_file(&self.auth_cert)?,
                input::read_file(&self.auth_key)?,
            )),
        };
        Ok((signer, GatewayClient::new(&self.gateway, &tls)?))
    }
}

pub fn run(command: GatewayCommand) -> anyhow::Result<ExitCode> {
    match command {
        GatewayCommand::Serve(args) => serve(args),
        GatewayCommand::Upload(args) => upload_command(args),
        GatewayCommand::Onboard(args) => post_governed(args, "/onboarding"),
        GatewayCommand::PublishValueSets(args) => post_governed(args, "/valuesets"),
        GatewayCommand::Bench(args) => crate::gateway_bench::run(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = args.resolve()?;
    let network_file = config
        .network
        .context("the network definition is required (--network, HEALTHPASS_NETWORK or `network` in --config)")?;
    let network = Network::from_json(&input::read_text(&network_file)?)
        .with_context(|| network_file.display().to_string())?;
    let listen = config.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
    let data = config.data.unwrap_or_else(|| PathBuf::from("data"));
    let url = match &config.database {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&data)
                .with_context(|| format!("cannot create {}", data.display()))?;
            format!("sqlite://{}", data.join("gateway.db").display())
        }
    };
    let acceptor = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(
            healthpass_gateway::tls::acceptor(&input::read_file(cert)?, &input::read_file(key)?)
                .context("cannot use the TLS certificate and key")?,
        ),
        (None, None) => None,
        _ => anyhow::bail!("give both the TLS certificate and its key, or neither"),
    };
    init_logging(config.log_format.unwrap_or(LogFormat::Json));
    let log_key_file = config
        .log_key
        .clone()
        .unwrap_or_else(|| data.join("log-key.pem"));
    let log_key = crate::log::load_or_make_log_key(&log_key_file, &network)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let store = Store::open(&url)
            .await
            .context("cannot open the database")?;
        let gateway = Gateway::open(network, store, log_key).await?;
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match acceptor {
            Some(acceptor) => {
                tracing::info!(%address, tls = true, "gateway listening (mutual TLS for uploads)");
                healthpass_gateway::tls::serve(listener, acceptor, router(gateway), shutdown)
                    .await
                    .context("server error")?;
            }
            None => {
                tracing::warn!(
                    %address,
                    tls = false,
                    "gateway listening without TLS: uploads are refused; give a TLS certificate and key to accept them"
                );
                axum::serve(listener, router(gateway))
                    .with_graceful_shutdown(shutdown)
                    .await
                    .context("server error")?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The DER of the first certificate in a PEM or DER file.
pub fn certificate_der(path: &Path) -> anyhow::Result<Vec<u8>> {
    healthpass_trust::TrustStore::parse_certificates(&input::read_file(path)?)
        .into_iter()
        .next()
        .with_context(|| format!("{}: no certificate found", path.display()))
}

fn upload_command(args: UploadArgs) -> anyhow::Result<ExitCode> {
    let (kind, content) = match args.kind {
        Kind::Signer => (UploadKind::Signer, certificate_der(Path::new(&args.input))?),
        Kind::WithdrawSigner => (
            UploadKind::WithdrawSigner,
            certificate_der(Path::new(&args.input))?,
        ),
        Kind::RevocationBatch => {
            let json = input::read_file(Path::new(&args.input))?;
            // Checked here too, so a mistake is reported before anything is signed.
            healthpass_network::revocation::RevocationBatch::from_json(&json)
                .with_context(|| args.input.clone())?;
            (UploadKind::RevocationBatch, json)
        }
        Kind::Rule => {
            let json = input::read_text(Path::new(&args.input))?;
            // Checked here too, so a mistake is reported before anything is signed.
            healthpass_rules::Rule::from_json_str(&json).with_context(|| args.input.clone())?;
            (UploadKind::Rule, json.into_bytes())
        }
        Kind::DeleteRule => (UploadKind::DeleteRule, args.input.clone().into_bytes()),
        Kind::DeleteRevocationBatch => (
            UploadKind::DeleteRevocationBatch,
            serde_json::to_vec(&serde_json::json!({ "batchId": args.input }))?,
        ),
    };
    let (signer, client) = args.country.open()?;
    let cms = signer
        .sign_at(&content, false, jiff::Timestamp::now())
        .context("cannot sign the upload")?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let answer = runtime.block_on(upload(&client, kind, &cms))?;
    outln!("{answer}");
    Ok(ExitCode::SUCCESS)
}

/// Posts a governance-signed document (onboarding record, value-set release) to `path`.
fn post_governed(args: OnboardArgs, path: &str) -> anyhow::Result<ExitCode> {
    let record = input::read_file(&args.record)?;
    let tls = ClientTls {
        ca_pem: args.ca.as_deref().map(input::read_file).transpose()?,
        identity: None,
    };
    let client = GatewayClient::new(&args.gateway, &tls)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let response = runtime.block_on(client.post(path, "application/json", record))?;
    if !response.status.is_success() {
        anyhow::bail!("the gateway refused it: {}", response.problem());
    }
    outln!("{}", String::from_utf8_lossy(&response.body));
    Ok(ExitCode::SUCCESS)
}

/// Structured logs on stderr. The gateway logs route templates, statuses, countries, change
/// kinds, versions and problem codes: never request content (see `healthpass_gateway::observe`).
fn init_logging(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}
