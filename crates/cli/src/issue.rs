//! `healthpass issue`.

use crate::outln;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use healthpass_issue::{Hc1Issuer, SigningKey};
use healthpass_trust::{SignerCertificate, TrustStore};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::input;

#[derive(Subcommand)]
pub enum IssueCommand {
    /// Sign an EU DCC payload (JSON) and print the HC1: text.
    Hc1(Hc1Args),
    /// Sign a FHIR Bundle as a SMART Health Card and print the shc:/ text.
    Shc(ShcArgs),
    /// Seal an ICAO VDS-NC `data` object (header and message) and print the seal's JSON.
    Icao(IcaoArgs),
}

#[derive(Args)]
pub struct ShcArgs {
    /// The issuer's private key: PKCS#8 PEM, or a JWK with `d` (EC P-256).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The issuer URL (`iss`): https, no trailing slash; its keys are published at
    /// ISS/.well-known/jwks.json.
    #[arg(long, value_name = "URL")]
    iss: String,
    /// Days until the card expires (default: no expiry, as most immunization cards).
    #[arg(long, value_name = "N")]
    valid_days: Option<u32>,
    /// Revocation id (`rid`, base64url, at most 24 characters).
    #[arg(long, value_name = "RID")]
    rid: Option<String>,
    /// Also write the card as a .smart-health-card file.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Also write the QR code as a PNG image.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Also write the QR code as an SVG image.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// The FHIR Bundle (JSON file, `-` for stdin).
    bundle: String,
}

#[derive(Args)]
pub struct IcaoArgs {
    /// The barcode signer's private key (PKCS#8 PEM, EC P-256).
    #[arg(long, value_name = "KEY.pem")]
    key: PathBuf,
    /// The barcode signer certificate (PEM or DER); it travels in the seal.
    #[arg(long, value_name = "CERT.pem")]
    cert: PathBuf,
    /// Also write the QR code as a PNG image.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Also write the QR code as an SVG image.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// The seal's `data` as JSON (`{"hdr": {"t": "icao.vacc", "v": 1, "is": "UTO"}, "msg": {…}}`), `-` for stdin.
    data: String,
}

#[derive(Args)]
pub struct Hc1Args {
    /// The document signer's private key (PKCS#8 PEM; EC P-256 signs ES256, RSA signs PS256).
    #[arg(long, value_name = "KEY.pem")]
    key: PathBuf,
    /// The document signer's certificate (PEM or DER).
    #[arg(long, value_name = "CERT.pem")]
    cert: PathBuf,
    /// Days the certificate stays valid.
    #[arg(long, value_name = "N", default_value_t = 365)]
    valid_days: u32,
    /// Also write the QR code as a PNG image.
    #[arg(long, value_name = "FILE", conflicts_with = "batch")]
    png: Option<PathBuf>,
    /// Also write the QR code as an SVG image.
    #[arg(long, value_name = "FILE", conflicts_with = "batch")]
    svg: Option<PathBuf>,
    /// Issue one certificate per line of a JSON Lines file, using every core.
    #[arg(
        long,
        value_name = "IN.jsonl",
        requires = "out",
        conflicts_with = "payload"
    )]
    batch: Option<PathBuf>,
    /// With --batch: where to write the HC1 texts, one per input line.
    #[arg(long, value_name = "OUT.txt")]
    out: Option<PathBuf>,
    /// Threads for --batch (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The payload (a DCC as JSON); `-` for stdin.
    #[arg(required_unless_present = "batch")]
    payload: Option<String>,
}

pub fn run(cmd: IssueCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        IssueCommand::Hc1(args) => hc1(args),
        IssueCommand::Shc(args) => shc(args),
        IssueCommand::Icao(args) => icao(args),
    }
}

/// Loads a key and its signer certificate.
pub fn load_issuer(key: &Path, cert: &Path) -> anyhow::Result<Hc1Issuer> {
    let key = SigningKey::from_pkcs8_pem(&input::read_text(key)?)
        .with_context(|| format!("{}", key.display()))?;
    let ders = TrustStore::parse_certificates(&input::read_file(cert)?);
    let der = ders.first().with_context(|| {
        format!(
            "{}: no certificate found (expected PEM or DER)",
            cert.display()
        )
    })?;
    let signer = SignerCertificate::from_der(der).with_context(|| format!("{}", cert.display()))?;
    Ok(Hc1Issuer::new(key, signer)?)
}

/// Checks a payload against its DCC schema before it is signed: an issuer must never sign
/// what verifiers will reject.
fn checked_payload(text: &str, what: &str) -> anyhow::Result<Value> {
    if text.trim().is_empty() {
        bail!("{what} is empty; give one JSON payload per line");
    }
    let payload: Value =
        serde_json::from_str(text).with_context(|| format!("{what} is not valid JSON"))?;
    let (version, problems) = healthpass_verify::schema::check_dcc(&payload, 5);
    if !problems.is_empty() {
        bail!(
            "{what} does not conform to DCC schema {version}: {}",
            problems.join("; ")
        );
    }
    Ok(payload)
}

fn hc1(args: Hc1Args) -> anyhow::Result<ExitCode> {
    let issuer = load_issuer(&args.key, &args.cert)?;
    let issued_at = Timestamp::now();
    let expires_at = issued_at
        .checked_add(SignedDuration::from_hours(24 * i64::from(args.valid_days)))
        .context("--valid-days is too large")?;
    if let Some(batch) = &args.batch {
        let out = args.out.as_deref().context("--batch needs --out")?;
        return issue_batch(&issuer, batch, out, args.threads, issued_at, expires_at);
    }
    let source = args.payload.as_deref().unwrap_or("-");
    let text = if source == "-" {
        input::qr_text("-")?
    } else {
        input::read_text(Path::new(source))?
    };
    let payload = checked_payload(&text, source)?;
    let hc1 = issuer.issue(&payload, issued_at, expires_at)?;
    if let Some(path) = &args.png {
        input::write_atomic(path, &healthpass_issue::qr::png(&hc1, 4)?)?;
    }
    if let Some(path) = &args.svg {
        input::write_atomic(path, healthpass_issue::qr::svg(&hc1)?.as_bytes())?;
    }
    outln!("{hc1}");
    Ok(ExitCode::SUCCESS)
}

fn issue_batch(
    issuer: &Hc1Issuer,
    batch: &Path,
    out: &Path,
    threads: Option<usize>,
    issued_at: Timestamp,
    expires_at: Timestamp,
) -> anyhow::Result<ExitCode> {
    let source = batch.display().to_string();
    let (reader, total) = crate::batch::open(&source)?;
    let pool = crate::batch::pool(threads)?;
    let progress = input::progress_bar(total, "issuing");
    let mut output = input::AtomicFile::create(out)?;
    let count = crate::batch::map_lines(
        reader,
        &source,
        &pool,
        &progress,
        |number, line| -> anyhow::Result<String> {
            let what = format!("{source} line {number}");
            let payload = checked_payload(line, &what)?;
            issuer
                .issue(&payload, issued_at, expires_at)
                .with_context(|| what.clone())
        },
        // The first failure stops the batch; the output file is then never created.
        |text| Ok(writeln!(output.writer(), "{}", text?)?),
    )?;
    output.commit()?;
    progress.finish_and_clear();
    eprintln!("issued {count} certificates to {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// A JSON document named on the command line (`-` for stdin).
fn json_input(source: &str) -> anyhow::Result<Value> {
    let text = if source == "-" {
        input::qr_text("-")?
    } else {
        input::read_text(Path::new(source))?
    };
    serde_json::from_str(&text).with_context(|| format!("{source} is not valid JSON"))
}

fn signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = input::read_text(path)?;
    let key = if text.trim_start().starts_with('{') {
        let jwk: Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a JWK", path.display()))?;
        SigningKey::from_jwk(&jwk)
    } else {
        SigningKey::from_pkcs8_pem(&text)
    };
    key.with_context(|| path.display().to_string())
}

fn shc(args: ShcArgs) -> anyhow::Result<ExitCode> {
    let issuer = healthpass_issue::ShcIssuer::new(signing_key(&args.key)?, &args.iss)?;
    let bundle = json_input(&args.bundle)?;
    let nbf = Timestamp::now();
    let exp = args
        .valid_days
        .map(|days| nbf.checked_add(SignedDuration::from_hours(24 * i64::from(days))))
        .transpose()
        .context("--valid-days is too large")?;
    let jws = issuer.issue(&bundle, nbf, exp, args.rid.as_deref())?;
    if let Some(path) = &args.file {
        input::write_atomic(path, healthpass_codec::shc::encode_file(&[&jws]).as_bytes())?;
    }
    let digits = healthpass_codec::shc::encode_numeric(&jws);
    if args.png.is_some() || args.svg.is_some() {
        let (size, modules) = healthpass_issue::qr::shc_modules(&digits)?;
        if let Some(path) = &args.png {
            input::write_atomic(
                path,
                &healthpass_issue::qr::png_of_modules(size, &modules, 4)?,
            )?;
        }
        if let Some(path) = &args.svg {
            input::write_atomic(
                path,
                healthpass_issue::qr::svg_of_modules(size, &modules).as_bytes(),
            )?;
        }
    }
    outln!("{}", healthpass_issue::shc::qr_text(&jws));
    Ok(ExitCode::SUCCESS)
}

fn icao(args: IcaoArgs) -> anyhow::Result<ExitCode> {
    let key = SigningKey::from_pkcs8_pem(&input::read_text(&args.key)?)
        .with_context(|| args.key.display().to_string())?;
    let ders = TrustStore::parse_certificates(&input::read_file(&args.cert)?);
    let der = ders
        .first()
        .with_context(|| format!("{}: no certificate found", args.cert.display()))?;
    let certificate =
        SignerCertificate::from_der(der).with_context(|| args.cert.display().to_string())?;
    let sealer = healthpass_issue::SealIssuer::new(key, certificate)?;
    let seal = sealer.issue(&json_input(&args.data)?)?;
    // A seal is JSON: byte mode (fast_qr picks it for text outside the alphanumeric set).
    if let Some(path) = &args.png {
        input::write_atomic(path, &healthpass_issue::qr::png_bytes(&seal, 4)?)?;
    }
    if let Some(path) = &args.svg {
        input::write_atomic(path, healthpass_issue::qr::svg_bytes(&seal)?.as_bytes())?;
    }
    outln!("{seal}");
    Ok(ExitCode::SUCCESS)
}
