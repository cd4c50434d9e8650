//! `healthpass revoke`: an issuer revokes certificates at the gateway, by hash.
//!
//! The certificate identifiers (UVCIs) or QR texts given stay on this machine: only the
//! first 16 bytes of SHA-256 over them (the EU hash types, `eu-dcc.md` 6.1) are sent, in
//! batches of at most 1,000, each signed by the country's upload certificate (CMS) and sent
//! over mutual TLS with its authentication certificate.

use anyhow::Context;
use clap::{Args, ValueEnum};
use healthpass_client::upload::{UploadKind, upload};
use healthpass_network::revocation::{MAX_BATCH_ENTRIES, RevocationBatch};
use healthpass_trust::SignerCertificate;
use healthpass_trust::revocation::{CertificateHashes, HashType, RevocationHash};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::{input, outln};

#[derive(Clone, Copy, ValueEnum)]
pub enum HashTypeArg {
    /// SHA-256 of the UVCI (`ci`).
    Uci,
    /// SHA-256 of the issuing country (CWT `iss`) and the UVCI.
    Countrycodeuci,
    /// SHA-256 of the signature (for ECDSA its first half); needs the QR texts.
    Signature,
}

impl From<HashTypeArg> for HashType {
    fn from(arg: HashTypeArg) -> Self {
        match arg {
            HashTypeArg::Uci => HashType::Uci,
            HashTypeArg::Countrycodeuci => HashType::CountryCodeUci,
            HashTypeArg::Signature => HashType::Signature,
        }
    }
}

#[derive(Args)]
pub struct RevokeArgs {
    /// The signer certificate (DSC, PEM or DER) whose certificates are revoked: its kid
    /// selects the filter verifiers check, and its country is the issuing country.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// What is hashed.
    #[arg(long, value_enum, default_value = "uci")]
    hash_type: HashTypeArg,
    /// A UVCI to revoke (repeatable).
    #[arg(long, value_name = "UVCI", required_unless_present = "from")]
    uvci: Vec<String>,
    /// A file of what to revoke, one per line: UVCIs, or HC1 QR texts (`HC1:…`, needed for
    /// the SIGNATURE hash type). Blank lines and lines starting with '#' are skipped.
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// The issuing country for COUNTRYCODEUCI when the lines are UVCIs (default: the DSC's).
    #[arg(long, value_name = "CC")]
    country: Option<String>,
    /// Until when the batches are kept (RFC 3339; default: the DSC's expiry).
    #[arg(long, value_name = "TIME")]
    expires: Option<String>,
    #[command(flatten)]
    connection: crate::gateway::CountryConnection,
}

/// The signer's kid and the three revocation hashes of the certificate in an HC1 text.
pub fn certificate_hashes(text: &str) -> anyhow::Result<(Option<[u8; 8]>, CertificateHashes)> {
    let cose = healthpass_codec::hc1::decode(text, 64 * 1024)?;
    let message = healthpass_codec::cose::CoseSign1::decode(&cose)?;
    let claims = healthpass_codec::cwt::HcertClaims::decode(message.payload)?;
    let dcc = healthpass_codec::dcc::DigitalCovidCertificate::from_json(&claims.dcc)?;
    let ci = dcc.single_entry()?.certificate_id().to_owned();
    let ecdsa = matches!(
        message
            .alg()
            .and_then(healthpass_codec::cose::Algorithm::id),
        Some(-7 | -35 | -36)
    );
    let hashes = CertificateHashes::compute(
        message.signature,
        ecdsa,
        claims.issuer.unwrap_or_default(),
        &ci,
    );
    let kid = message.kid().and_then(|k| <[u8; 8]>::try_from(k).ok());
    Ok((kid, hashes))
}

/// One line's hash: a UVCI, or the certificate an HC1 text carries.
fn hash_of(line: &str, hash_type: HashType, country: &str) -> anyhow::Result<RevocationHash> {
    if line.starts_with("HC1:") {
        return Ok(certificate_hashes(line)?.1.of(hash_type));
    }
    anyhow::ensure!(
        hash_type != HashType::Signature,
        "the SIGNATURE hash needs the certificate's QR text (HC1:…), not its UVCI"
    );
    Ok(CertificateHashes::compute(&[], false, country, line).of(hash_type))
}

pub fn run(args: RevokeArgs) -> anyhow::Result<ExitCode> {
    let hash_type = HashType::from(args.hash_type);
    let dsc_der = healthpass_trust::TrustStore::parse_certificates(&input::read_file(&args.key)?)
        .into_iter()
        .next()
        .with_context(|| format!("{}: no certificate found", args.key.display()))?;
    let dsc = SignerCertificate::from_der(&dsc_der)
        .with_context(|| format!("{}: not a signer certificate", args.key.display()))?;
    let dsc_country = dsc
        .country()
        .context("the signer certificate names no country")?
        .to_owned();
    let country = args.country.clone().unwrap_or_else(|| dsc_country.clone());
    let expires = match &args.expires {
        Some(t) => t
            .parse()
            .with_context(|| format!("--expires {t}: not RFC 3339"))?,
        None => dsc.validity().not_after,
    };

    let mut lines: Vec<String> = args.uvci.clone();
    if let Some(file) = &args.from {
        lines.extend(
            input::read_text(file)?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    let mut hashes = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        // The line itself is never printed: it may identify a person's certificate.
        hashes
            .push(hash_of(line, hash_type, &country).with_context(|| format!("entry {}", i + 1))?);
    }
    hashes.sort_unstable();
    hashes.dedup();

    let (signer, client) = args.connection.open()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let batches: Vec<&[RevocationHash]> = hashes.chunks(MAX_BATCH_ENTRIES).collect();
    let bar = input::progress_bar(Some(hashes.len() as u64), "revoking");
    let mut ids = Vec::with_capacity(batches.len());
    for batch in batches {
        let json = RevocationBatch::new(&dsc_country, expires, Some(dsc.kid()), hash_type, batch)
            .to_json();
        let cms = signer
            .sign_at(&json, false, jiff::Timestamp::now())
            .context("cannot sign the batch")?;
        let answer = runtime
            .block_on(upload(&client, UploadKind::RevocationBatch, &cms))
            .with_context(|| {
                format!(
                    "the gateway refused a batch; {} of {} hashes were sent before it",
                    ids.len() * MAX_BATCH_ENTRIES,
                    hashes.len()
                )
            })?;
        ids.push(answer["batchId"].as_str().unwrap_or("?").to_owned());
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    outln!(
        "revoked {} certificates of signer {} by {} hash in {} batches at {}:",
        hashes.len(),
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, dsc.kid()),
        hash_type,
        ids.len(),
        args.connection.gateway
    );
    for id in ids {
        outln!("  {id}");
    }
    Ok(ExitCode::SUCCESS)
}
