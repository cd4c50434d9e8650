//! Every file of the EU DCC test data (`../shared/corpus/eu-dcc-testdata`), each expected
//! result mapped to one check of the verification report.

use std::collections::BTreeMap;

use base64::Engine;
use healthpass_trust::TrustStore;
use healthpass_verify::{Outcome, Verdict, VerificationReport};
use serde_json::Value;

use crate::common::{corpus_dir, json_files};

/// Cases whose upstream expectation is wrong, with the reason. Each entry names the file and
/// the flag that is skipped; every other flag of the file is still checked.
const KNOWN_BROKEN: &[(&str, &str, &str)] = &[(
    "IS/2DCode/raw/3.json",
    "EXPECTEDKEYUSAGE",
    "dgc-testdata#244: the flag says false, but the signer has no extended key usage at all, \
     which HCERT appendix A.4 reads as 'may sign every type' (hcert-kotlin skips it too)",
)];

/// The check each expected-result flag speaks about (README of dgc-testdata, issue #2).
fn check_of(report: &VerificationReport, flag: &str) -> Option<Outcome> {
    let c = &report.checks;
    Some(match flag {
        "EXPECTEDUNPREFIX" => c.prefix,
        "EXPECTEDB45DECODE" => c.base45,
        "EXPECTEDCOMPRESSION" => c.decompress,
        "EXPECTEDDECODE" => c.cwt,
        "EXPECTEDVERIFY" => c.signature,
        "EXPECTEDEXPIRATIONCHECK" => c.validity_period,
        "EXPECTEDKEYUSAGE" => c.key_usage,
        "EXPECTEDSCHEMAVALIDATION" => c.schema,
        _ => return None,
    })
}

#[derive(Default)]
struct Tally {
    files: usize,
    flags: usize,
    skipped: Vec<String>,
    failures: Vec<String>,
}

#[test]
fn every_file_agrees_with_its_expected_results() {
    let Some(dir) = corpus_dir("eu-dcc-testdata") else {
        return;
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut tally = Tally::default();
    let mut per_flag: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for path in json_files(&dir) {
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let Some(expected) = record.get("EXPECTEDRESULTS").and_then(Value::as_object) else {
            continue;
        };
        tally.files += 1;
        let ctx = &record["TESTCTX"];
        let mut trust = TrustStore::new();
        if let Some(cert) = ctx.get("CERTIFICATE").and_then(Value::as_str) {
            let der = b64.decode(cert).expect("TESTCTX.CERTIFICATE is base64");
            trust
                .insert_der(&der)
                .unwrap_or_else(|e| panic!("{name}: signer certificate: {e}"));
        }
        // No clock means the expiry flag is absent too; any fixed time will do.
        let now = ctx
            .get("VALIDATIONCLOCK")
            .and_then(Value::as_str)
            .map(|c| {
                healthpass_codec::dcc::parse_lenient_timestamp(c)
                    .unwrap_or_else(|| panic!("{name}: unreadable VALIDATIONCLOCK {c:?}"))
            })
            .unwrap_or_else(|| "2021-06-01T00:00:00Z".parse().unwrap());
        let prefix = record.get("PREFIX").and_then(Value::as_str);
        let report = prefix.map(|text| healthpass_verify::verify(text, now, &trust));

        for (flag, want) in expected {
            let Some(want) = want.as_bool() else { continue };
            if let Some((_, _, why)) = KNOWN_BROKEN
                .iter()
                .find(|(f, fl, _)| *f == name && fl == flag)
            {
                tally.skipped.push(format!("{name} {flag}: {why}"));
                continue;
            }
            let outcome = if flag == "EXPECTEDPICTUREDECODE" {
                let Some(png) = record.get("2DCODE").and_then(Value::as_str) else {
                    continue;
                };
                let png = b64.decode(png).expect("2DCODE is base64");
                let scanned = healthpass_scan::scan_image(&png);
                let ok = matches!((&scanned, prefix), (Ok(text), Some(p)) if text == p);
                if ok == want {
                    Some(())
                } else {
                    tally
                        .failures
                        .push(format!("{name} {flag}: want {want}, scan gave {scanned:?}"));
                    None
                }
            } else {
                let Some(report) = &report else { continue };
                let Some(outcome) = check_of(report, flag) else {
                    continue;
                };
                let agrees = if want {
                    outcome == Outcome::Pass
                } else {
                    outcome != Outcome::Pass && report.verdict != Verdict::Green
                };
                if agrees {
                    Some(())
                } else {
                    tally.failures.push(format!(
                        "{name} {flag}: want {want}, check is {outcome:?}; reasons {:?}",
                        report.reasons
                    ));
                    None
                }
            };
            tally.flags += 1;
            let entry = per_flag.entry(flag.clone()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(outcome.is_some());
        }
    }
    eprintln!(
        "EU DCC test data: {} files, {} flags checked",
        tally.files, tally.flags
    );
    for (flag, (total, ok)) in &per_flag {
        eprintln!("  {flag}: {ok}/{total}");
    }
    for skip in &tally.skipped {
        eprintln!("  known broken, skipped: {skip}");
    }
    assert!(
        tally.files >= 100,
        "expected the whole corpus, read {} files",
        tally.files
    );
    assert!(
        tally.failures.is_empty(),
        "{} disagreements:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}
