//! The EU business rules test data (`../shared/corpus/eu-dcc-business-rules`): every rule
//! loads and lints clean, and every rule test evaluates to its expected value.

use crate::common::corpus_dir;
use healthpass_rules::testdata::run_dir;

#[test]
fn every_rule_and_rule_test_passes() {
    let Some(dir) = corpus_dir("eu-dcc-business-rules") else {
        return;
    };
    let run = run_dir(&dir).unwrap();
    let failures: Vec<String> = run
        .failures
        .iter()
        .map(|f| format!("{}/{} {:?}: {}", f.rule, f.test, f.name, f.message))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // 57 rules (one check each) and 404 tests.
    assert_eq!(run.passed, 57 + 404);
}
