//! `healthpass keys`.

use crate::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use healthpass_issue::pki::{self, SignerAlgorithm, TestPkiOptions};

use crate::input;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a TEST PKI (a CSCA and a DSC with the HCERT key usages). Never use it in production.
    TestPki(TestPkiArgs),
    /// Make TEST TLS credentials for a gateway: a CA (give ca.crt.pem to clients) and a server
    /// certificate for the given names.
    GatewayTls(GatewayTlsArgs),
    /// Make a SMART Health Card issuer key: key.pem, and the folder to publish at the issuer
    /// URL (`.well-known/jwks.json`).
    ShcIssuer(ShcIssuerArgs),
    /// Make a TEST ICAO health PKI: a CSCA and a barcode signer (NV and NT).
    IcaoTestPki(IcaoTestPkiArgs),
}

#[derive(Args)]
pub struct ShcIssuerArgs {
    /// Folder to write key.pem and site/.well-known/jwks.json into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Args)]
pub struct IcaoTestPkiArgs {
    /// The country, ISO 3166-1 alpha-2.
    #[arg(long, value_name = "CC")]
    country: String,
    /// Folder to write csca.crt.pem, csca.key.pem, csca.crl (the CSCA's revocation list,
    /// empty, due again in 30 days), bsc.crt.pem and bsc.key.pem into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Days the certificates are valid.
    #[arg(long, value_name = "N", default_value_t = 365)]
    days: i64,
}

#[derive(Args)]
pub struct GatewayTlsArgs {
    /// Folder to write ca.crt.pem, gateway.crt.pem and gateway.key.pem into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// DNS names or IP addresses the gateway answers on (repeatable).
    #[arg(long = "name", value_name = "NAME", default_values_t = ["localhost".to_owned(), "127.0.0.1".to_owned()])]
    names: Vec<String>,
    /// Days the certificates are valid.
    #[arg(long, value_name = "N", default_value_t = 365)]
    days: i64,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Alg {
    /// ECDSA P-256 (HCERT's primary algorithm).
    Es256,
    /// RSASSA-PSS with RSA-2048.
    Ps256,
}

#[derive(Args)]
pub struct TestPkiArgs {
    /// Country code (ISO 3166-1 alpha-2) put in both certificates.
    #[arg(long, value_name = "CC")]
    country: String,
    /// Folder to write the CSCA, DSC, upload and authentication certificates and keys into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The DSC's signature algorithm.
    #[arg(long, value_enum, default_value = "es256")]
    alg: Alg,
    /// Days the DSC is valid (the CSCA twice as long).
    #[arg(long, value_name = "N", default_value_t = 730)]
    days: i64,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

pub const FILES: [&str; 8] = [
    "csca.crt.pem",
    "csca.key.pem",
    "dsc.crt.pem",
    "dsc.key.pem",
    "upload.crt.pem",
    "upload.key.pem",
    "auth.crt.pem",
    "auth.key.pem",
];

pub fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::TestPki(args) => test_pki(args),
        KeysCommand::GatewayTls(args) => gateway_tls(args),
        KeysCommand::ShcIssuer(args) => shc_issuer(args),
        KeysCommand::IcaoTestPki(args) => icao_test_pki(args),
    }
}

fn shc_issuer(args: ShcIssuerArgs) -> anyhow::Result<ExitCode> {
    use base64::Engine;
    let (key, pkcs8) = healthpass_issue::SigningKey::generate_es256()?;
    let jwk = key.public_jwk().context("an ES256 key has a JWK")?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&pkcs8);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let well_known = args.out.join("site").join(".well-known");
    std::fs::create_dir_all(&well_known)
        .with_context(|| format!("cannot create {}", well_known.display()))?;
    crate::input::write_atomic(&args.out.join("key.pem"), pem.as_bytes())?;
    let jwks = serde_json::json!({"keys": [jwk]});
    crate::input::write_atomic(
        &well_known.join("jwks.json"),
        serde_json::to_string_pretty(&jwks)?.as_bytes(),
    )?;
    crate::outln!("kid {}", jwk["kid"].as_str().unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

fn icao_test_pki(args: IcaoTestPkiArgs) -> anyhow::Result<ExitCode> {
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let pki = healthpass_issue::pki::generate_icao_test_pki(
        &args.country,
        start,
        args.days,
        &["NV", "NT"],
    )?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let crl = healthpass_issue::pki::icao_test_revocation_list(&pki, false, start, 30)?;
    crate::input::write_atomic(&args.out.join("csca.crt.pem"), pki.csca_cert_pem.as_bytes())?;
    crate::input::write_secret_atomic(&args.out.join("csca.key.pem"), pki.csca_key_pem.as_bytes())?;
    crate::input::write_atomic(&args.out.join("csca.crl"), &crl)?;
    crate::input::write_atomic(&args.out.join("bsc.crt.pem"), pki.bsc_cert_pem.as_bytes())?;
    crate::input::write_secret_atomic(&args.out.join("bsc.key.pem"), pki.bsc_key_pem.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn gateway_tls(args: GatewayTlsArgs) -> anyhow::Result<ExitCode> {
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let tls = pki::generate_gateway_tls(&args.names, start, args.days)?;
    input::write_atomic(&args.out.join("ca.crt.pem"), tls.ca_cert_pem.as_bytes())?;
    input::write_atomic(&args.out.join("gateway.crt.pem"), tls.cert_pem.as_bytes())?;
    input::write_secret_atomic(&args.out.join("gateway.key.pem"), tls.key_pem.as_bytes())?;
    outln!(
        "Wrote TEST gateway TLS credentials for {} to {}: ca.crt.pem (for clients), \
         gateway.crt.pem, gateway.key.pem",
        args.names.join(", "),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn test_pki(args: TestPkiArgs) -> anyhow::Result<ExitCode> {
    write_test_pki(
        &args.out,
        &args.country.to_ascii_uppercase(),
        args.alg,
        args.days,
        args.force,
    )?;
    outln!(
        "Wrote a TEST PKI for {} to {}:\n  {}\n\
         These keys are for testing only. They were made on this machine, are stored unencrypted,\n\
         and no one else trusts them: never sign real certificates with them.",
        args.country.to_ascii_uppercase(),
        args.out.display(),
        FILES.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the four PEM files of a fresh test PKI into `dir`.
pub fn write_test_pki(
    dir: &std::path::Path,
    country: &str,
    alg: Alg,
    days: i64,
    force: bool,
) -> anyhow::Result<()> {
    if !force && let Some(existing) = FILES.iter().map(|f| dir.join(f)).find(|p| p.exists()) {
        bail!(
            "{} already exists; pass --force to replace the test PKI",
            existing.display()
        );
    }
    // Start an hour back, so a verifier whose clock is a little behind still accepts the DSC.
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let mut options = TestPkiOptions::new(country, start);
    options.dsc_days = days;
    options.algorithm = match alg {
        Alg::Es256 => SignerAlgorithm::Es256,
        Alg::Ps256 => SignerAlgorithm::Ps256,
    };
    let pki = pki::generate_test_pki(&options)?;
    let contents = [
        &pki.csca_cert_pem,
        &pki.csca_key_pem,
        &pki.dsc_cert_pem,
        &pki.dsc_key_pem,
        &pki.upload_cert_pem,
        &pki.upload_key_pem,
        &pki.auth_cert_pem,
        &pki.auth_key_pem,
    ];
    for (name, content) in FILES.iter().zip(contents) {
        if name.ends_with(".key.pem") {
            input::write_secret_atomic(&dir.join(name), content.as_bytes())?;
        } else {
            input::write_atomic(&dir.join(name), content.as_bytes())?;
        }
    }
    Ok(())
}
