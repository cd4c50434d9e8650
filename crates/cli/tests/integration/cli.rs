//! The `healthpass` binary: the command names, output shapes and exit codes others script against.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::fixtures::*;

fn healthpass(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthpass"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A folder with AT's signer certificate and one issued certificate.
fn workspace() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("at.pem"), &at_es256().dsc_cert_pem).unwrap();
    let text = issue(at_es256(), &vaccination());
    std::fs::write(dir.path().join("cert.txt"), format!("{text}\n")).unwrap();
    (dir, text)
}

const AT: &str = "2026-03-02T00:00:00Z";

#[test]
fn verify_json_has_the_contract_shape() {
    let (dir, _) = workspace();
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "--trust",
            "at.pem",
            "--at",
            AT,
            "--json",
            "@cert.txt",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["format"], "hc1");
    assert_eq!(report["verdict"], "green");
    assert_eq!(report["reasons"], serde_json::json!([]));
    let checks: Vec<&str> = report["checks"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "prefix",
        "encoding",
        "decompress",
        "container",
        "payload",
        "signer",
        "signature",
        "validity_period",
        "key_usage",
        "schema",
        "revocation",
    ];
    expected.sort_unstable();
    let mut sorted = checks.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, expected);
    assert!(
        report["checks"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v == "pass")
    );
    let kid = healthpass_trust::SignerCertificate::from_der(&at_es256().dsc_cert_der)
        .unwrap()
        .kid();
    use base64::Engine;
    assert_eq!(
        report["kid"],
        base64::engine::general_purpose::STANDARD.encode(kid)
    );
    assert_eq!(report["issuer_country"], "AT");
    assert_eq!(report["signer"]["country"], "AT");
    assert_eq!(report["signer"]["key"], "EC P-256");
    assert_eq!(report["issued_at"], "2026-03-01T12:00:00Z");
    assert_eq!(report["expires_at"], "2026-03-31T12:00:00Z");
    assert_eq!(report["certificate"], vaccination());
}

#[test]
fn exit_codes_say_green_red_or_error() {
    let (dir, text) = workspace();
    let green = healthpass(
        dir.path(),
        &["verify", "--trust", "at.pem", "--at", AT, &text],
    );
    assert_eq!(green.status.code(), Some(0));
    assert!(stdout(&green).starts_with("GREEN"), "{}", stdout(&green));
    assert!(stdout(&green).contains("Musterfrau, Erika"));
    assert!(stdout(&green).contains("1964-08-12"));

    let expired = healthpass(
        dir.path(),
        &[
            "verify",
            "--trust",
            "at.pem",
            "--at",
            "2027-01-01T00:00:00Z",
            &text,
        ],
    );
    assert_eq!(expired.status.code(), Some(1));
    assert!(stdout(&expired).starts_with("RED"));
    assert!(
        stdout(&expired).contains("expired:"),
        "{}",
        stdout(&expired)
    );

    let garbage = healthpass(
        dir.path(),
        &["verify", "--trust", "at.pem", "HC1:not base45!"],
    );
    assert_eq!(garbage.status.code(), Some(1));
    assert!(stdout(&garbage).contains("base45_invalid"));

    let missing = healthpass(dir.path(), &["verify", "--trust", "nope.pem", &text]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("nope.pem"),
        "{}",
        stderr(&missing)
    );

    let bad_time = healthpass(
        dir.path(),
        &["verify", "--trust", "at.pem", "--at", "tomorrow", &text],
    );
    assert_eq!(bad_time.status.code(), Some(2));
    assert!(stderr(&bad_time).contains("RFC 3339"));

    let usage = healthpass(dir.path(), &["verify", "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn batch_verify_keeps_input_order() {
    let (dir, text) = workspace();
    let other = issue(at_es256(), &test_result());
    let lines = [text.as_str(), "HC2:ABC", other.as_str(), "", text.as_str()];
    std::fs::write(dir.path().join("batch.txt"), lines.join("\n") + "\n").unwrap();
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "--trust",
            "at.pem",
            "--at",
            AT,
            "--batch",
            "batch.txt",
            "--threads",
            "2",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "not all green");
    let reports: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 5);
    let verdicts: Vec<&str> = reports
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["green", "red", "green", "red", "green"]);
    assert_eq!(
        reports[1]["reasons"][0]["code"],
        "prefix_unsupported_version"
    );
    assert_eq!(reports[2]["certificate_type"], "test");
    assert_eq!(reports[3]["reasons"][0]["code"], "format_unknown");
}

#[test]
fn keys_issue_scan_verify_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = healthpass(d, &["keys", "test-pki", "--country", "se", "--out", "pki"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("for testing only"),
        "{}",
        stdout(&out)
    );
    for file in ["csca.crt.pem", "csca.key.pem", "dsc.crt.pem", "dsc.key.pem"] {
        assert!(d.join("pki").join(file).is_file(), "{file}");
    }
    let again = healthpass(d, &["keys", "test-pki", "--country", "SE", "--out", "pki"]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "keys are never overwritten silently"
    );

    std::fs::write(d.join("payload.json"), vaccination().to_string()).unwrap();
    let issued = healthpass(
        d,
        &[
            "issue",
            "hc1",
            "--key",
            "pki/dsc.key.pem",
            "--cert",
            "pki/dsc.crt.pem",
            "--valid-days",
            "30",
            "--png",
            "cert.png",
            "--svg",
            "cert.svg",
            "payload.json",
        ],
    );
    assert_eq!(issued.status.code(), Some(0), "{}", stderr(&issued));
    let text = stdout(&issued).trim().to_owned();
    assert!(text.starts_with("HC1:"));
    assert!(
        std::fs::read_to_string(d.join("cert.svg"))
            .unwrap()
            .starts_with("<svg")
    );

    let scanned = healthpass(d, &["scan", "cert.png"]);
    assert_eq!(scanned.status.code(), Some(0), "{}", stderr(&scanned));
    assert_eq!(stdout(&scanned).trim(), text);

    let verified = healthpass(d, &["verify", "--trust", "pki/dsc.crt.pem", &text]);
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));

    // The CSCA is not a document signer: trusting only it does not make the certificate green.
    let csca_only = healthpass(d, &["verify", "--trust", "pki/csca.crt.pem", &text]);
    assert_eq!(csca_only.status.code(), Some(1));
    assert!(stdout(&csca_only).contains("signer_unknown"));

    // An invalid payload is refused before signing.
    std::fs::write(
        d.join("bad.json"),
        r#"{"ver": "1.3.0", "nam": {"fnt": "x"}, "dob": "1990"}"#,
    )
    .unwrap();
    let refused = healthpass(
        d,
        &[
            "issue",
            "hc1",
            "--key",
            "pki/dsc.key.pem",
            "--cert",
            "pki/dsc.crt.pem",
            "bad.json",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("does not conform"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn batch_issue_writes_one_line_per_input_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("key.pem"), &at_es256().dsc_key_pem).unwrap();
    std::fs::write(d.join("cert.pem"), &at_es256().dsc_cert_pem).unwrap();
    let payloads: Vec<String> = (0..20)
        .map(|i| {
            let mut p = vaccination();
            p["v"][0]["ci"] = format!("URN:UVCI:01:AT:BATCH{i:04}").into();
            p.to_string()
        })
        .collect();
    std::fs::write(d.join("in.jsonl"), payloads.join("\n") + "\n").unwrap();
    let args = [
        "issue", "hc1", "--key", "key.pem", "--cert", "cert.pem", "--batch", "in.jsonl", "--out",
        "out.txt",
    ];
    let out = healthpass(d, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<String> = std::fs::read_to_string(d.join("out.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 20);
    let trust = trust(&[at_es256()]);
    for (i, line) in lines.iter().enumerate() {
        let report = healthpass_verify::verify(line, jiff::Timestamp::now(), &trust);
        assert_eq!(
            report.verdict,
            healthpass_verify::Verdict::Green,
            "line {i}: {:?}",
            report.reasons
        );
        assert_eq!(
            report.certificate.unwrap().into_value()["v"][0]["ci"],
            format!("URN:UVCI:01:AT:BATCH{i:04}")
        );
    }
    // One bad line: an error naming it, and no output file.
    std::fs::write(
        d.join("in.jsonl"),
        format!("{}\n{{\"not\": \"a dcc\"}}\n", payloads[0]),
    )
    .unwrap();
    let args = [
        "issue", "hc1", "--key", "key.pem", "--cert", "cert.pem", "--batch", "in.jsonl", "--out",
        "out2.txt",
    ];
    let out = healthpass(d, &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
    assert!(!d.join("out2.txt").exists());
}

#[test]
fn scan_without_a_code_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut white = Vec::new();
    image::GrayImage::from_pixel(120, 120, image::Luma([255]))
        .write_to(
            &mut std::io::Cursor::new(&mut white),
            image::ImageFormat::Png,
        )
        .unwrap();
    std::fs::write(dir.path().join("white.png"), white).unwrap();
    let out = healthpass(dir.path(), &["scan", "white.png"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no readable QR code"));
    std::fs::write(dir.path().join("junk.png"), b"junk").unwrap();
    let out = healthpass(dir.path(), &["scan", "junk.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read the image"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_closed_stdout_pipe_is_not_a_panic() {
    // `healthpass verify … | head -0`: the reader is gone before anything is written.
    let (dir, text) = workspace();
    let mut child = Command::new(env!("CARGO_BIN_EXE_healthpass"))
        .args(["verify", "--trust", "at.pem", "--at", AT, "--json", &text])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
}

fn corpus(folder: &str) -> Option<String> {
    crate::common::corpus_dir(folder).map(|d| d.canonicalize().unwrap().display().to_string())
}

#[test]
fn rules_test_prints_failures_and_the_tally_and_sets_the_exit_status() {
    let Some(rules) = corpus("eu-dcc-business-rules") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = healthpass(dir.path(), &["rules", "test", &rules]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().last(), Some("461 passed, 0 failed"));
    let out = healthpass(dir.path(), &["rules", "test", &rules, "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["passed"], 461);
    assert_eq!(json["failed"], 0);
    assert_eq!(json["failures"], serde_json::json!([]));

    // A copy of one rule whose test now expects the opposite: one failure, exit 1.
    let rule_dir = dir.path().join("rules/DE/VR-DE-0001");
    std::fs::create_dir_all(rule_dir.join("tests")).unwrap();
    let source = Path::new(&rules).join("DE/VR-DE-0001");
    std::fs::copy(source.join("rule.json"), rule_dir.join("rule.json")).unwrap();
    let mut test: Value =
        serde_json::from_slice(&std::fs::read(source.join("tests/test001.json")).unwrap()).unwrap();
    test["expected"] = Value::Bool(!test["expected"].as_bool().unwrap());
    std::fs::write(rule_dir.join("tests/test001.json"), test.to_string()).unwrap();
    let out = healthpass(dir.path(), &["rules", "test", "rules"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("FAIL VR-DE-0001/test001.json"), "{text}");
    assert_eq!(text.lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn rules_eval_prints_the_result_as_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("logic.json"),
        r#"{"plusTime": [{"var": "d"}, 1, "year"]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("data.json"), r#"{"d": "2020-02-29"}"#).unwrap();
    let out = healthpass(
        dir.path(),
        &[
            "rules",
            "eval",
            "--logic",
            "logic.json",
            "--data",
            "data.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "\"2021-03-01T00:00:00.000Z\"\n");
    std::fs::write(dir.path().join("data.json"), r#"{"d": 20200229}"#).unwrap();
    let out = healthpass(
        dir.path(),
        &[
            "rules",
            "eval",
            "--logic",
            "logic.json",
            "--data",
            "data.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("must be a string, but it is an integer"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rules_validate_accepts_the_corpus_and_names_what_is_wrong() {
    let Some(rules) = corpus("eu-dcc-business-rules") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = healthpass(dir.path(), &["rules", "validate", &rules]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(stdout(&out).lines().last(), Some("57 valid, 0 invalid"));
    std::fs::write(
        dir.path().join("bad.json"),
        r#"{"if": [true, {"var": "x."}]}"#,
    )
    .unwrap();
    let out = healthpass(dir.path(), &["rules", "validate", "bad.json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("an \"if\"-operation must have exactly 3 values/operands, but it has 2"),
        "{text}"
    );
    assert!(
        text.contains("data access path doesn't have a valid format: x."),
        "{text}"
    );
}

#[test]
fn rules_matrix_in_every_format() {
    let (Some(rules), Some(value_sets)) =
        (corpus("eu-dcc-business-rules"), corpus("eu-dcc-valuesets"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let args = |format: &str| {
        vec![
            "rules",
            "matrix",
            "--rules",
            &rules,
            "--valuesets",
            &value_sets,
            "--at",
            "2022-06-01T12:00:00Z",
            "--format",
            format,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>()
    };
    let run = |format: &str| {
        let a = args(format);
        let out = healthpass(
            dir.path(),
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let json: Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(
        json["countries"],
        serde_json::json!(["AT", "DE", "EU", "FR", "NL"])
    );
    let samples = json["samples"].as_array().unwrap();
    let row = |label: &str| {
        let i = samples
            .iter()
            .position(|s| s["label"] == label)
            .unwrap_or_else(|| panic!("{label}"));
        &json["cells"][i]
    };
    // Comirnaty full course: accepted everywhere that has rules (NL's start in November 2022).
    for (c, country) in ["AT", "DE", "EU", "FR"].iter().enumerate() {
        assert_eq!(
            row("Comirnaty 2/2, 30 days ago")[c][2]["result"],
            "accepted",
            "{country}"
        );
    }
    assert_eq!(
        row("Comirnaty 2/2, 30 days ago")[4][2]["result"],
        "no_rules"
    );
    // Germany does not accept Sinopharm; Austria did (WHO emergency use listing).
    assert_eq!(
        row("BBIBP-CorV 2/2, 30 days ago")[0][2]["result"],
        "accepted"
    );
    assert_eq!(
        row("BBIBP-CorV 2/2, 30 days ago")[1][2]["result"],
        "rejected"
    );
    // France takes no recovery certificates under GR-FR-0000.
    assert_eq!(
        row("Recovery, first positive 60 days ago")[3][2],
        serde_json::json!({"result": "rejected", "rules": ["GR-FR-0000"]})
    );
    let products = samples
        .iter()
        .filter(|s| s["kind"] == "vaccination")
        .count();
    assert!(
        products > 100,
        "every active product with each dose count: {products}"
    );

    let text = run("text");
    assert!(
        text.lines()
            .any(|l| l.starts_with("Comirnaty 2/2, 30 days ago") && l.contains('+')),
        "{text}"
    );
    let csv = run("csv");
    assert_eq!(csv.lines().count(), samples.len() + 1);
    assert!(csv.starts_with("certificate,kind,product,AT age 10,AT age 16,AT age 40,DE age 10"));
    let svg = run("svg");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(
        svg.matches("<rect x=").count() - 4,
        samples.len() * 5 * 3,
        "one cell per sample, country and age, and a legend of 4"
    );
    assert!(svg.contains(
        "<title>BBIBP-CorV 2/2, 30 days ago in DE, age 40: rejected: VR-DE-0002</title>"
    ));
}

#[test]
fn verify_with_a_country_applies_its_rules() {
    let (Some(rules), Some(value_sets)) =
        (corpus("eu-dcc-business-rules"), corpus("eu-dcc-valuesets"))
    else {
        return;
    };
    let (dir, _) = workspace();
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "@cert.txt",
            "--trust",
            "at.pem",
            "--at",
            AT,
            "--country",
            "DE",
            "--rules",
            &rules,
            "--valuesets",
            &value_sets,
            "--json",
        ],
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The fixture's vaccination is from 2021-06-01: more than a year before, so VR-DE-0004 fails.
    assert_eq!(json["verdict"], "red", "{json}");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json["reasons"][0]["code"], "rule_failed");
    assert!(json["reasons"][0]["message"].as_str().unwrap().starts_with(
        "VR-DE-0004: The vaccine must have been administered no longer than one year ago."
    ));
    // Human output: the verdict, the holder, the reason; no rule list without --details.
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "@cert.txt",
            "--trust",
            "at.pem",
            "--at",
            AT,
            "--country",
            "de",
            "--rules",
            &rules,
            "--valuesets",
            &value_sets,
        ],
    );
    let text = stdout(&out);
    assert!(text.starts_with("RED"), "{text}");
    assert!(
        text.contains("Musterfrau, Erika") && text.contains("1964-08-12"),
        "{text}"
    );
    assert!(text.contains("rule_failed: VR-DE-0004"), "{text}");
    assert!(!text.contains("rule VR-DE-0001"), "{text}");
    // Descriptions in the officer's language, English where a rule has none.
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "@cert.txt",
            "--trust",
            "at.pem",
            "--at",
            AT,
            "--country",
            "DE",
            "--rules",
            &rules,
            "--valuesets",
            &value_sets,
            "--lang",
            "de",
        ],
    );
    assert!(
        stdout(&out).contains(
            "rule_failed: VR-DE-0004: Seit der Impfung darf maximal ein Jahr vergangen sein."
        ),
        "{}",
        stdout(&out)
    );
    let out = healthpass(dir.path(), &["verify", "@cert.txt", "--country", "Germany"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a two-letter country code"));
}

#[test]
fn network_init_and_k_of_n_onboarding_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = healthpass(
        d,
        &[
            "network",
            "init",
            "--out",
            "net",
            "--keys",
            "3",
            "--threshold",
            "2",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut keys: Vec<_> = std::fs::read_dir(d.join("net"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".key.pem"))
        .collect();
    keys.sort();
    assert_eq!(keys.len(), 3);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "governance keys are private");
    }
    let network: Value =
        serde_json::from_slice(&std::fs::read(d.join("net/network.json")).unwrap()).unwrap();
    assert_eq!(network["threshold"], 2);
    assert_eq!(network["governance_keys"].as_array().unwrap().len(), 3);

    assert!(
        healthpass(d, &["keys", "test-pki", "--country", "AT", "--out", "at"])
            .status
            .success()
    );
    let out = healthpass(
        d,
        &[
            "network",
            "onboarding",
            "--network",
            "net/network.json",
            "--country",
            "AT",
            "--csca",
            "at/csca.crt.pem",
            "--upload",
            "at/upload.crt.pem",
            "--auth",
            "at/auth.crt.pem",
            "--out",
            "at.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key = |i: usize| keys[i].to_string_lossy().into_owned();
    let sign = |i: usize| {
        let k = key(i);
        healthpass(
            d,
            &[
                "network",
                "sign-onboarding",
                "--network",
                "net/network.json",
                "--key",
                &k,
                "at.json",
            ],
        )
    };
    let verify = || {
        healthpass(
            d,
            &[
                "network",
                "verify-onboarding",
                "--network",
                "net/network.json",
                "at.json",
            ],
        )
    };
    assert!(sign(0).status.success());
    let out = verify();
    assert_eq!(out.status.code(), Some(1), "1 of 3 is not enough");
    assert!(
        stdout(&out).contains("1 valid governance signature(s), 2 required"),
        "{}",
        stdout(&out)
    );
    assert!(sign(1).status.success());
    let out = verify();
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("ok   at.json AT (sequence 1)"),
        "{}",
        stdout(&out)
    );
    // A record for another country's certificates is refused when it is made.
    assert!(
        healthpass(d, &["keys", "test-pki", "--country", "FR", "--out", "fr"])
            .status
            .success()
    );
    let out = healthpass(
        d,
        &[
            "network",
            "onboarding",
            "--network",
            "net/network.json",
            "--country",
            "AT",
            "--csca",
            "fr/csca.crt.pem",
            "--upload",
            "at/dsc.crt.pem",
            "--auth",
            "at/dsc.crt.pem",
            "--out",
            "bad.json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("csca certificate #1: subject country is \"FR\", not AT"),
        "{}",
        stderr(&out)
    );
    assert!(!d.join("bad.json").exists());

    // The gateway with mutual TLS; AT onboards, uploads its signer; a verifier syncs.
    assert!(
        healthpass(d, &["keys", "gateway-tls", "--out", "tls"])
            .status
            .success()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("https://localhost:{port}");
    // Settings from a TOML file; the flag overrides the file's address.
    std::fs::write(
        d.join("gateway.toml"),
        "network = \"net/network.json\"\nlisten = \"127.0.0.1:1\"\n\
         tls-cert = \"tls/gateway.crt.pem\"\ntls-key = \"tls/gateway.key.pem\"\n",
    )
    .unwrap();
    let log = std::fs::File::create(d.join("gateway.log")).unwrap();
    let mut server = GatewayProcess(
        Command::new(env!("CARGO_BIN_EXE_healthpass"))
            .args([
                "gateway",
                "serve",
                "--config",
                "gateway.toml",
                "--listen",
                &listen,
            ])
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let onboard = || {
        healthpass(
            d,
            &[
                "gateway",
                "onboard",
                "--gateway",
                &url,
                "--ca",
                "tls/ca.crt.pem",
                "at.json",
            ],
        )
    };
    let mut out = onboard();
    for _ in 0..100 {
        if out.status.success() || !stderr(&out).contains("cannot connect") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        out = onboard();
    }
    assert!(out.status.success(), "{}", stderr(&out));
    let upload = |kind: &str, input: &str| {
        healthpass(
            d,
            &[
                "gateway",
                "upload",
                kind,
                input,
                "--gateway",
                &url,
                "--ca",
                "tls/ca.crt.pem",
                "--auth-cert",
                "at/auth.crt.pem",
                "--auth-key",
                "at/auth.key.pem",
                "--upload-cert",
                "at/upload.crt.pem",
                "--upload-key",
                "at/upload.key.pem",
            ],
        )
    };
    let out = upload("signer", "at/dsc.crt.pem");
    assert!(out.status.success(), "{}", stderr(&out));
    // FR's DSC under AT's credentials: refused, and the reason is printed.
    let out = upload("signer", "fr/dsc.crt.pem");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("wrong_country"), "{}", stderr(&out));

    let sync = || {
        healthpass(
            d,
            &[
                "trust",
                "sync",
                "--gateway",
                &url,
                "--network",
                "net/network.json",
                "--ca",
                "tls/ca.crt.pem",
                "--state",
                "state",
            ],
        )
    };
    let out = sync();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("synced version 2 from"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("1 countries, 1 signers"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&sync()).starts_with("unchanged: version 2"));

    // A value-set release: published only with k of n governance signatures; synced with the
    // rest.
    std::fs::write(
        d.join("vs.json"),
        r#"{"valueSetId": "vaccines-covid-19-names", "valueSetDate": "2021-04-27",
            "valueSetValues": {"EU/1/20/1528": {"display": "Comirnaty", "lang": "en",
            "active": true, "system": "https://ec.europa.eu/health/documents/community-register/html/",
            "version": ""}}}"#,
    )
    .unwrap();
    let out = healthpass(
        d,
        &[
            "network",
            "value-sets",
            "--network",
            "net/network.json",
            "--valuesets",
            "vs.json",
            "--out",
            "release.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sign_release = |i: usize| {
        let k = key(i);
        healthpass(
            d,
            &[
                "network",
                "sign",
                "--network",
                "net/network.json",
                "--key",
                &k,
                "release.json",
            ],
        )
    };
    let publish = || {
        healthpass(
            d,
            &[
                "gateway",
                "publish-value-sets",
                "--gateway",
                &url,
                "--ca",
                "tls/ca.crt.pem",
                "release.json",
            ],
        )
    };
    assert!(sign_release(0).status.success());
    let out = publish();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("value_sets_invalid")
            && stderr(&out).contains("1 valid governance signature(s), 2 required"),
        "{}",
        stderr(&out)
    );
    assert!(sign_release(2).status.success());
    let out = publish();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sync().status.success());
    let state: Value =
        serde_json::from_slice(&std::fs::read(d.join("state/trust-state.json")).unwrap()).unwrap();
    assert_eq!(
        state["value_sets"]["release"]["value_sets"]["vaccines-covid-19-names"]["valueSetValues"]["EU/1/20/1528"]
            ["display"],
        "Comirnaty"
    );

    std::fs::write(d.join("payload.json"), vaccination().to_string()).unwrap();
    let issued = healthpass(
        d,
        &[
            "issue",
            "hc1",
            "--key",
            "at/dsc.key.pem",
            "--cert",
            "at/dsc.crt.pem",
            "payload.json",
        ],
    );
    assert!(issued.status.success(), "{}", stderr(&issued));
    let text = stdout(&issued).trim().to_owned();
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "--json", "--trust", "state"];
        args.extend_from_slice(extra);
        args.push(&text);
        let out = healthpass(d, &args);
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert_eq!(verify(&[])["verdict"], "green");
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2)).to_string();
    let stale = verify(&["--trust-max-age", "1h", "--at", &later]);
    assert_eq!(stale["verdict"], "yellow");
    assert_eq!(stale["reasons"][0]["code"], "trust_data_stale");

    // Withdrawn at the gateway, and synced: red.
    // The withdrawal carries the same content as the upload; signed in the same second it
    // would be the same signed statement, which the gateway refuses as a replay.
    crate::common::wait_for_next_second();
    let out = upload("withdraw-signer", "at/dsc.crt.pem");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sync().status.success());
    let withdrawn = verify(&[]);
    assert_eq!(withdrawn["verdict"], "red");
    assert_eq!(withdrawn["reasons"][0]["code"], "signer_withdrawn");
    server.0.kill().unwrap();
    server.0.wait().unwrap();

    // Structured logs, and nothing of what was uploaded in them: no certificate (PEM, Base64
    // DER or subject), no signature, only route templates, statuses, countries and codes.
    let log = std::fs::read_to_string(d.join("gateway.log")).unwrap();
    let events: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let has = |pred: &dyn Fn(&Value) -> bool| events.iter().any(pred);
    assert!(has(
        &|e| e["route"] == "/signerCertificate" && e["status"] == 201
    ));
    assert!(has(
        &|e| e["message"] == "change refused" && e["code"] == "wrong_country"
    ));
    assert!(has(&|e| e["message"] == "change accepted"
        && e["kind"] == "withdrawal"
        && e["country"] == "AT"));
    let dsc_pem = std::fs::read_to_string(d.join("at/dsc.crt.pem")).unwrap();
    let dsc_b64: String = dsc_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let auth_pem = std::fs::read_to_string(d.join("at/auth.crt.pem")).unwrap();
    let auth_b64: String = auth_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for forbidden in [
        "-----BEGIN",
        &dsc_b64[..40],
        &dsc_b64[dsc_b64.len() / 2..dsc_b64.len() / 2 + 40],
        &auth_b64[40..80],
        "TEST ONLY",
        "Musterfrau",
    ] {
        assert!(!log.contains(forbidden), "the log holds {forbidden:?}");
    }
}

/// Kills the gateway when a test ends, also when it fails.
struct GatewayProcess(std::process::Child);

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `decode` reads every format without trust; `verify --shc-issuer` takes an issuer's site
/// folder (keys and revocation list) and prints one report per card of a file.
#[test]
fn decode_and_verify_other_formats() {
    let (Some(spec), Some(who)) = (
        crate::common::corpus_dir("shc-spec-examples"),
        crate::common::corpus_dir("who-ddcc-validator"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let card = spec.join("example-00-e-file.smart-health-card");
    let out = healthpass(
        dir.path(),
        &["decode", "--json", &format!("@{}", card.display())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let decoded: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(decoded["format"], "shc");
    assert_eq!(
        decoded["payload"]["iss"],
        "https://spec.smarthealth.cards/examples/issuer"
    );
    assert_eq!(decoded["credential"]["holder"]["name"], "John B. Anyperson");
    assert_eq!(decoded["credential"]["holder"]["birth_date"], "1951-01-20");
    assert_eq!(decoded["credential"]["events"][0]["type"], "vaccination");
    assert_eq!(decoded["credential"]["events"][0]["date"], "2021-01-01");
    assert_eq!(decoded["credential"]["events"][0]["dose"], 1);

    let seal = who.join("ICAOAUQR1Contents.txt");
    let out = healthpass(
        dir.path(),
        &["decode", "--fhir", &format!("@{}", seal.display())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bundle: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["entry"][0]["resource"]["birthDate"], "1961-05-15");
    assert_eq!(
        bundle["entry"][1]["resource"]["resourceType"],
        "Immunization"
    );
    assert_eq!(
        bundle["entry"][1]["resource"]["occurrenceDateTime"],
        "2021-09-15"
    );

    let garbage = healthpass(dir.path(), &["decode", "shc:/5678"]);
    assert_eq!(garbage.status.code(), Some(2), "{}", stderr(&garbage));
    assert!(
        stderr(&garbage).contains("numeric_invalid"),
        "{}",
        stderr(&garbage)
    );

    // The issuer's site, as a folder.
    let site = dir.path().join("issuer");
    std::fs::create_dir_all(site.join(".well-known/crl")).unwrap();
    std::fs::copy(
        spec.join("issuer_.well-known_jwks.json"),
        site.join(".well-known/jwks.json"),
    )
    .unwrap();
    let kid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";
    std::fs::copy(
        spec.join(format!("crl_{kid}.json")),
        site.join(format!(".well-known/crl/{kid}.json")),
    )
    .unwrap();
    let issuer = format!(
        "https://spec.smarthealth.cards/examples/issuer={}",
        site.display()
    );
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "--shc-issuer",
            &issuer,
            "--at",
            "2024-06-01T00:00:00Z",
            &format!("@{}", card.display()),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).starts_with("GREEN  valid SMART Health Card (vaccination)"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("John B. Anyperson"),
        "{}",
        stdout(&out)
    );
    // Example 03 is expired today.
    let expired = spec.join("example-03-d-jws.txt");
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "--json",
            "--shc-issuer",
            &issuer,
            &format!("@{}", expired.display()),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["verdict"], "red");
    assert_eq!(report["reasons"][0]["code"], "expired");
}

/// `verify --shc-directory`: a VCI directory snapshot signed with OpenSSL (fixtures/vci) is
/// checked, its issuers trusted under their names, its revocation lists applied, and its age
/// counted as the trust data's; a changed snapshot, a missing signature and another signer are
/// refused before any card is looked at.
#[test]
fn verify_trusts_a_signed_vci_directory_snapshot() {
    let Some(spec) = crate::common::corpus_dir("shc-spec-examples") else {
        return;
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vci");
    let snapshot = fixtures.join("vci_snapshot.json");
    let snapshot = snapshot.to_str().unwrap();
    let cert = fixtures.join("signer.crt");
    let cert = cert.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let card = spec.join("example-00-d-jws.txt");
    let card = format!("@{}", card.display());
    let verify = |snapshot: &str, at: &str| {
        healthpass(
            dir.path(),
            &[
                "verify",
                "--json",
                "--shc-directory",
                snapshot,
                "--shc-directory-cert",
                cert,
                "--at",
                at,
                &card,
            ],
        )
    };
    // 12 hours after the snapshot was taken.
    let out = verify(snapshot, "2024-06-01T00:00:00Z");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["verdict"], "green");
    assert_eq!(report["issuer_name"], "SMART Health Cards example issuer");
    assert!(
        stderr(&out).contains("directory snapshot of 2024-05-31T12:00:00Z"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("2 issuers, 3 keys trusted"),
        "{}",
        stderr(&out)
    );
    // The snapshot's revocation list applies: example 03's rid is listed with a cut-off
    // (1664492124 = 2022-09-29) before the card's nbf, so it is not revoked; its revocation
    // check ran (pass), which it could not without the list.
    let ex03 = format!("@{}", spec.join("example-03-d-jws.txt").display());
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "--json",
            "--shc-directory",
            snapshot,
            "--shc-directory-cert",
            cert,
            "--at",
            "2024-06-01T00:00:00Z",
            &ex03,
        ],
    );
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["checks"]["revocation"], "pass", "{report}");
    // Three days later the trust data is stale (default --trust-max-age 24h): yellow at best.
    let out = verify(snapshot, "2024-06-03T12:00:00Z");
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["verdict"], "yellow", "{report}");
    assert_eq!(report["reasons"][0]["code"], "trust_data_stale");

    // One byte changed (a key's coordinate): refused as a whole, exit 2, nothing verified.
    let changed = dir.path().join("changed.json");
    let text = std::fs::read_to_string(snapshot).unwrap();
    std::fs::write(&changed, text.replacen("11XvRWy1I2S0", "11XvRWy1I2S1", 1)).unwrap();
    std::fs::copy(
        fixtures.join("vci_snapshot.sig"),
        dir.path().join("changed.sig"),
    )
    .unwrap();
    let out = verify(changed.to_str().unwrap(), "2024-06-01T00:00:00Z");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("signature does not verify"),
        "{}",
        stderr(&out)
    );
    // No signature beside the snapshot.
    let unsigned = dir.path().join("unsigned.json");
    std::fs::write(&unsigned, &text).unwrap();
    let out = verify(unsigned.to_str().unwrap(), "2024-06-01T00:00:00Z");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unsigned.sig"), "{}", stderr(&out));
    // Without --shc-directory-cert the VCI key is expected, and this snapshot is not VCI's.
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "--shc-directory",
            snapshot,
            "--at",
            "2024-06-01T00:00:00Z",
            &card,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("signature does not verify"),
        "{}",
        stderr(&out)
    );
}

/// An issuer's whole path from the command line: make keys, issue a SMART card and an ICAO
/// seal (text and QR image), scan the images, verify with the published keys and the CSCA.
#[test]
fn issue_shc_and_icao_from_the_command_line() {
    let Some(spec) = crate::common::corpus_dir("shc-spec-examples") else {
        return;
    };
    let Some(icao) = crate::common::corpus_dir("icao-vds-nc") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = healthpass(dir.path(), args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    };
    let iss = "https://health.example.org/issuer";
    run(&["keys", "shc-issuer", "--out", "shc"]);
    let bundle = spec.join("example-00-a-fhirBundle.json");
    let text = run(&[
        "issue",
        "shc",
        "--key",
        "shc/key.pem",
        "--iss",
        iss,
        "--valid-days",
        "30",
        "--png",
        "card.png",
        "--file",
        "card.smart-health-card",
        bundle.to_str().unwrap(),
    ]);
    assert!(text.starts_with("shc:/"), "{text}");
    assert_eq!(run(&["scan", "card.png"]).trim(), text.trim());
    let issuer = format!("{iss}=shc/site");
    let report = run(&["verify", "--shc-issuer", &issuer, "@card.smart-health-card"]);
    assert!(
        report.starts_with("GREEN  valid SMART Health Card"),
        "{report}"
    );
    let report = run(&["verify", "--shc-issuer", &issuer, text.trim()]);
    assert!(report.starts_with("GREEN"), "{report}");

    run(&["keys", "icao-test-pki", "--country", "AU", "--out", "icao"]);
    let corpus: Value =
        serde_json::from_str(&std::fs::read_to_string(icao.join("single-vaccine.txt")).unwrap())
            .unwrap();
    std::fs::write(dir.path().join("data.json"), corpus["data"].to_string()).unwrap();
    let seal = run(&[
        "issue",
        "icao",
        "--key",
        "icao/bsc.key.pem",
        "--cert",
        "icao/bsc.crt.pem",
        "--png",
        "seal.png",
        "data.json",
    ]);
    std::fs::write(dir.path().join("seal.json"), &seal).unwrap();
    assert_eq!(run(&["scan", "seal.png"]).trim(), seal.trim());
    let report = run(&["verify", "--csca", "icao/csca.crt.pem", "@seal.json"]);
    assert!(
        report.starts_with("GREEN  valid ICAO VDS-NC health seal (vaccination)"),
        "{report}"
    );
    // With the CSCA's (empty) revocation list, the signer's revocation is checked.
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "--json",
            "--csca",
            "icao/csca.crt.pem",
            "--csca-crl",
            "icao/csca.crl",
            "@seal.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["checks"]["revocation"], "pass");
    assert!(
        stderr(&out).contains("0 certificates revoked"),
        "{}",
        stderr(&out)
    );
    // Another CSCA: the seal's signer is unknown.
    run(&["keys", "icao-test-pki", "--country", "AU", "--out", "other"]);
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "--json",
            "--csca",
            "other/csca.crt.pem",
            "@seal.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["reasons"][0]["code"], "signer_unknown");
    // Another CSCA's revocation list is refused before anything is verified.
    let out = healthpass(
        dir.path(),
        &[
            "verify",
            "--csca",
            "icao/csca.crt.pem",
            "--csca-crl",
            "other/csca.crl",
            "@seal.json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("revocation list refused"),
        "{}",
        stderr(&out)
    );
}
