//! Verification with business rules, end to end: corpus certificates against the corpus
//! countries' rules at chosen clocks, and the yellow verdicts.

use crate::common::corpus_dir;
use crate::fixtures::{at_es256, issuer, t0, trust, vaccination};
use base64::Engine;
use healthpass_rules::{RuleSet, ValueSets};
use healthpass_trust::TrustStore;
use healthpass_verify::{
    Policy, ReasonCode, TrustFreshness, Verdict, VerificationReport, VerifyOptions,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

pub(crate) fn policy(rules_dir: &Path, country: &str) -> Policy {
    let (rules, refused) = RuleSet::load_dir(rules_dir).unwrap();
    assert!(refused.is_empty(), "{refused:?}");
    let value_sets = corpus_dir("eu-dcc-valuesets")
        .map_or_else(ValueSets::new, |d| ValueSets::load(&d).unwrap());
    Policy {
        rules: Arc::new(rules),
        value_sets: Arc::new(value_sets),
        country: country.into(),
        region: None,
        language: None,
    }
}

pub(crate) fn options(policy: Policy) -> VerifyOptions {
    VerifyOptions {
        policy: Some(policy),
        ..VerifyOptions::default()
    }
}

/// An EU test-data certificate with its signer.
fn corpus_certificate(file: &str) -> Option<(String, TrustStore)> {
    let dir = corpus_dir("eu-dcc-testdata")?;
    let record: Value = serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(record["TESTCTX"]["CERTIFICATE"].as_str().unwrap())
        .unwrap();
    let mut trust = TrustStore::new();
    trust.insert_der(&der).unwrap();
    Some((record["PREFIX"].as_str().unwrap().to_owned(), trust))
}

fn codes(report: &VerificationReport) -> Vec<&'static str> {
    report.reasons.iter().map(|r| r.code.as_str()).collect()
}

#[test]
fn corpus_vaccination_is_green_in_germany_with_every_rule_passed() {
    let (Some((text, trust)), Some(rules)) = (
        corpus_certificate("DE/2DCode/raw/1.json"),
        corpus_dir("eu-dcc-business-rules"),
    ) else {
        return;
    };
    let at: Timestamp = "2021-07-10T18:00:00Z".parse().unwrap();
    let report = healthpass_verify::verify_with(&text, at, &trust, &options(policy(&rules, "DE")));
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);
    let policy = report.policy.as_ref().unwrap();
    let results: Vec<(&str, &str)> = policy
        .rules
        .iter()
        .map(|r| (r.rule.identifier.as_str(), r.result))
        .collect();
    assert_eq!(
        results,
        [
            ("VR-DE-0001", "passed"),
            ("VR-DE-0002", "passed"),
            ("VR-DE-0004", "passed")
        ]
    );
}

#[test]
fn corpus_antigen_test_is_red_with_the_rule_its_description_and_fields() {
    let (Some((text, trust)), Some(rules)) = (
        corpus_certificate("DE/2DCode/raw/2.json"),
        corpus_dir("eu-dcc-business-rules"),
    ) else {
        return;
    };
    let at: Timestamp = "2021-07-10T18:00:00Z".parse().unwrap();
    let report = healthpass_verify::verify_with(&text, at, &trust, &options(policy(&rules, "DE")));
    assert_eq!(report.verdict, Verdict::Red);
    assert!(
        report.checks.all_pass(),
        "authentic and valid: only the rules say no"
    );
    let tr2 = report
        .reasons
        .iter()
        .find(|r| r.message.starts_with("TR-DE-0002"))
        .unwrap();
    assert_eq!(tr2.code, ReasonCode::RuleFailed);
    assert!(
        tr2.message.contains("no longer than 48 hours ago"),
        "{}",
        tr2.message
    );
    assert!(
        tr2.message.contains("t.0.sc = \"2021-05-30T10:12:22Z\""),
        "{}",
        tr2.message
    );
    let json = serde_json::to_value(&report).unwrap();
    let rule = json["policy"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "TR-DE-0002")
        .unwrap();
    assert_eq!(rule["result"], "failed");
    assert!(
        rule["affected_fields"]
            .as_array()
            .unwrap()
            .contains(&json!({"field": "t.0.tt", "value": "LP217198-3"}))
    );
}

#[test]
fn corpus_certificate_before_the_destinations_rules_exist_is_yellow() {
    let (Some((text, trust)), Some(rules)) = (
        corpus_certificate("AT/2DCode/raw/1.json"),
        corpus_dir("eu-dcc-business-rules"),
    ) else {
        return;
    };
    // The AT rules apply from 2021-06-01; the test data's clock is 2021-05-06.
    let at: Timestamp = "2021-05-06T18:00:00Z".parse().unwrap();
    let report = healthpass_verify::verify_with(&text, at, &trust, &options(policy(&rules, "AT")));
    assert_eq!(report.verdict, Verdict::Yellow);
    assert_eq!(codes(&report), ["no_rules"]);
    // A country nobody loaded rules for says so.
    let report = healthpass_verify::verify_with(&text, at, &trust, &options(policy(&rules, "SE")));
    assert_eq!(report.verdict, Verdict::Yellow);
    assert!(
        report.reasons[0]
            .message
            .contains("no rules of SE are loaded"),
        "{:?}",
        report.reasons
    );
}

#[test]
fn a_fresh_full_course_is_yellow_with_the_date_it_becomes_acceptable() {
    let Some(rules) = corpus_dir("eu-dcc-business-rules") else {
        return;
    };
    let mut dcc = vaccination();
    dcc["v"][0]["dt"] = json!("2026-02-26"); // three days before t0
    let text = issuer(at_es256())
        .issue(&dcc, t0(), t0() + SignedDuration::from_hours(24 * 300))
        .unwrap();
    let report = healthpass_verify::verify_with(
        &text,
        t0(),
        &trust(&[at_es256()]),
        &options(policy(&rules, "DE")),
    );
    assert_eq!(report.verdict, Verdict::Yellow, "{:?}", report.reasons);
    assert_eq!(codes(&report), ["not_yet_accepted"]);
    // VR-DE-0003: 15 days after the vaccination date, at midnight UTC.
    let from = report.policy.as_ref().unwrap().accepted_from.unwrap();
    assert_eq!(from.to_string(), "2026-03-13T00:00:00Z");
    assert!(report.reasons[0].message.contains("2026-03-13T00:00:00Z"));
    assert!(report.reasons[0].message.contains("VR-DE-0003"));
    // And at that time it is green.
    let later = healthpass_verify::verify_with(
        &text,
        from,
        &trust(&[at_es256()]),
        &options(policy(&rules, "DE")),
    );
    assert_eq!(later.verdict, Verdict::Green, "{:?}", later.reasons);
}

#[test]
fn a_rule_that_cannot_be_evaluated_makes_it_yellow_never_green() {
    let dir = tempfile::tempdir().unwrap();
    let rule = json!({
        "Identifier": "VR-XX-0001", "Type": "Acceptance", "Country": "XX", "Version": "1.0.0",
        "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC", "EngineVersion": "1.0.0",
        "CertificateType": "Vaccination",
        "Description": [{"lang": "en", "desc": "The dose number must be a date, which it never is."}],
        "ValidFrom": "2021-01-01T00:00:00Z", "ValidTo": "2030-01-01T00:00:00Z",
        "AffectedFields": ["v.0.dn"],
        "Logic": {"after": [{"plusTime": [{"var": "payload.v.0.dn"}, 0, "day"]}, {"plusTime": ["2021-01-01", 0, "day"]}]}
    });
    std::fs::write(dir.path().join("rule.json"), rule.to_string()).unwrap();
    let text = issuer(at_es256())
        .issue(&vaccination(), t0(), t0() + SignedDuration::from_hours(24))
        .unwrap();
    let report = healthpass_verify::verify_with(
        &text,
        t0(),
        &trust(&[at_es256()]),
        &options(policy(dir.path(), "XX")),
    );
    assert_eq!(report.verdict, Verdict::Yellow);
    assert_eq!(codes(&report), ["rule_open"]);
    assert!(
        report.reasons[0]
            .message
            .contains("VR-XX-0001 could not decide"),
        "{}",
        report.reasons[0].message
    );
    assert!(
        !report.reasons[0].message.contains("Erika"),
        "no personal data in reasons"
    );
}

#[test]
fn stale_trust_data_is_yellow_and_technical_failures_stay_red() {
    let text = issuer(at_es256())
        .issue(&vaccination(), t0(), t0() + SignedDuration::from_hours(24))
        .unwrap();
    let freshness = |hours| VerifyOptions {
        trust_freshness: Some(TrustFreshness {
            fetched_at: t0() - SignedDuration::from_hours(hours),
            max_age: SignedDuration::from_hours(48),
        }),
        ..VerifyOptions::default()
    };
    let fresh = healthpass_verify::verify_with(&text, t0(), &trust(&[at_es256()]), &freshness(24));
    assert_eq!(fresh.verdict, Verdict::Green);
    let stale = healthpass_verify::verify_with(&text, t0(), &trust(&[at_es256()]), &freshness(72));
    assert_eq!(stale.verdict, Verdict::Yellow);
    assert_eq!(codes(&stale), ["trust_data_stale"]);
    // Unknown signer and stale data: red wins; rules are not run on an unauthenticated payload
    // (the same policy does run on the authentic certificate).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rule.json"),
        accept_all_rule("XX").to_string(),
    )
    .unwrap();
    let with_policy = |trust: &TrustStore| {
        let options = VerifyOptions {
            policy: Some(policy(dir.path(), "XX")),
            ..freshness(72)
        };
        healthpass_verify::verify_with(&text, t0(), trust, &options)
    };
    let unknown = with_policy(&TrustStore::new());
    assert_eq!(unknown.verdict, Verdict::Red);
    assert_eq!(codes(&unknown), ["signer_unknown", "trust_data_stale"]);
    assert!(unknown.policy.is_none());
    let known = with_policy(&trust(&[at_es256()]));
    assert_eq!(known.policy.as_ref().map(|p| p.rules.len()), Some(1));
    assert_eq!(
        known.verdict,
        Verdict::Yellow,
        "stale data caps it at yellow: {:?}",
        known.reasons
    );
}

/// A rule that accepts every vaccination of `country`'s arrivals.
fn accept_all_rule(country: &str) -> Value {
    json!({
        "Identifier": format!("VR-{country}-0001"), "Type": "Acceptance", "Country": country,
        "Version": "1.0.0", "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC", "EngineVersion": "1.0.0",
        "CertificateType": "Vaccination",
        "Description": [{"lang": "en", "desc": "Every vaccination certificate is accepted here."}],
        "ValidFrom": "2021-01-01T00:00:00Z", "ValidTo": "2030-01-01T00:00:00Z",
        "AffectedFields": ["v"],
        "Logic": {"if": [true, true, {"var": "payload.v"}]}
    })
}
