//! `healthpass demo`: the whole path from a ministry's key to a border officer's answer, on a
//! test PKI kept under `./data`.

use crate::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use jiff::{SignedDuration, Timestamp};

use crate::{input, keys};

#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the test PKI, the trust store and the issued certificate.
    #[arg(long, value_name = "DIR", default_value = "data")]
    data: PathBuf,
    /// Country of the test PKI (a user-assigned ISO code by default, so it is never mistaken
    /// for a real country's).
    #[arg(long, value_name = "CC", default_value = "XA")]
    country: String,
}

/// A fictitious vaccination certificate (schema 1.3.0).
pub const SAMPLE_PAYLOAD: &str = r#"{
  "ver": "1.3.0",
  "nam": {"fn": "Musterfrau-Gößinger", "fnt": "MUSTERFRAU<GOESSINGER", "gn": "Gabriele", "gnt": "GABRIELE"},
  "dob": "1998-02-26",
  "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
         "dn": 2, "sd": 2, "dt": "2021-06-01", "co": "AT", "is": "Ministry of Health, Austria",
         "ci": "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B"}]
}"#;

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let country = args.country.to_ascii_uppercase();
    let pki_dir = args.data.join("pki").join(&country);
    let trust_dir = args.data.join("trust");
    let out_dir = args.data.join("demo");
    if !pki_dir.join("dsc.key.pem").exists() {
        keys::write_test_pki(&pki_dir, &country, keys::Alg::Es256, 730, false)?;
        outln!(
            "1. made a TEST PKI for {country} in {} (for testing only)",
            pki_dir.display()
        );
    } else {
        outln!("1. using the TEST PKI in {}", pki_dir.display());
    }
    let dsc_pem = input::read_file(&pki_dir.join("dsc.crt.pem"))?;
    let trusted = trust_dir.join(format!("{country}-dsc.crt.pem"));
    input::write_atomic(&trusted, &dsc_pem)?;
    outln!("2. trusted its signer: {}", trusted.display());

    let issuer =
        crate::issue::load_issuer(&pki_dir.join("dsc.key.pem"), &pki_dir.join("dsc.crt.pem"))?;
    let payload: serde_json::Value =
        serde_json::from_str(SAMPLE_PAYLOAD).context("sample payload")?;
    let now = Timestamp::now();
    let hc1 = issuer.issue(&payload, now, now + SignedDuration::from_hours(24 * 365))?;
    let png = healthpass_issue::qr::png(&hc1, 4)?;
    input::write_atomic(
        &out_dir.join("certificate.txt"),
        format!("{hc1}\n").as_bytes(),
    )?;
    input::write_atomic(&out_dir.join("certificate.png"), &png)?;
    input::write_atomic(
        &out_dir.join("certificate.svg"),
        healthpass_issue::qr::svg(&hc1)?.as_bytes(),
    )?;
    outln!(
        "3. issued a vaccination certificate ({} characters) as {}/certificate.{{txt,png,svg}}",
        hc1.len(),
        out_dir.display()
    );

    let scanned = healthpass_scan::scan_image(&png).context("scanning the QR code back")?;
    anyhow::ensure!(
        scanned == hc1,
        "the scanned text differs from the issued one"
    );
    outln!("4. scanned the PNG back: identical text");

    let trust = input::trust_store(&[trust_dir], true)?.store;
    let report = healthpass_verify::verify(&scanned, Timestamp::now(), &trust);
    outln!("5. verified it:\n");
    out!("{}", crate::render::human(&report, false));
    outln!(
        "\nTry: healthpass verify @{}/certificate.txt --details   (trust comes from {})",
        out_dir.display(),
        input::DEFAULT_TRUST_DIR
    );
    Ok(if report.verdict == healthpass_verify::Verdict::Green {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
