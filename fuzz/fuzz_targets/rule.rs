//! Rule objects and value sets from arbitrary JSON text: loading never panics, and a rule that
//! loads evaluates on a sample certificate to an outcome (passed, failed or open) without
//! panicking, and lints.
#![no_main]

use healthpass_rules::{
    CertificateContext, CertificateType, Rule, RuleSet, Selection, ValueSets, evaluate_rules,
};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::LazyLock;

static PAYLOAD: LazyLock<serde_json::Value> = LazyLock::new(|| {
    json!({"ver": "1.3.0", "dob": "1990", "nam": {"fn": "Muster"},
           "t": [{"tg": "840539006", "tt": "LP6464-4", "sc": "2021-12-31T08:00:00Z", "tr": "260415000"}]})
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut value_sets = ValueSets::new();
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = value_sets.add_json(&json);
    }
    let Ok(rule) = Rule::from_json_str(text) else {
        return;
    };
    assert!(rule.valid_from < rule.valid_to);
    assert!(rule.description_in("en").is_some());
    let _ = rule.lint();
    let clock = rule.valid_from;
    let country = rule.country.clone();
    let mut set = RuleSet::new();
    set.insert(rule);
    for certificate_type in [CertificateType::Test, CertificateType::Vaccination] {
        let selected = set.select(&country, None, &country, certificate_type, clock);
        let context = CertificateContext {
            payload: &PAYLOAD,
            certificate_type,
            issuer_country: &country,
            issued_at: Some(clock),
            expires_at: None,
            kid: None,
        };
        let selection = Selection {
            country: &country,
            region: None,
            clock,
        };
        let outcomes = evaluate_rules(&selected, &context, &selection, &value_sets);
        assert_eq!(outcomes.len(), selected.len());
    }
});
