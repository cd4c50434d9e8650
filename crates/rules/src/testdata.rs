//! Runs a folder of rules with their tests, laid out as the EU business-rules test data
//! (`<CC>/<ID>/rule.json` and `<CC>/<ID>/tests/*.json`, each test
//! `{"name", "payload", "external", "expected"}`), the way its own tooling does: each rule must
//! load and pass [`Rule::lint`], each test's `validationClock` must lie in the rule's validity,
//! and the logic must evaluate, without error, to exactly the expected value.

use crate::datetime::DateTime;
use crate::expr::Expr;
use crate::rule::Rule;
use crate::value::Value;
use serde::Serialize;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// One thing that did not hold.
#[derive(Debug, Clone, Serialize)]
pub struct TestFailure {
    /// The rule's folder name (its identifier, in the EU layout).
    pub rule: String,
    /// The test file, or `rule.json` for the rule's own checks.
    pub test: String,
    /// The test's name, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// The tally of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TestRun {
    /// Checks that held.
    pub passed: usize,
    /// Checks that did not.
    pub failed: usize,
    /// What did not hold, in file order.
    pub failures: Vec<TestFailure>,
}

impl TestRun {
    fn record(&mut self, failure: Option<TestFailure>) {
        match failure {
            None => self.passed += 1,
            Some(f) => {
                self.failed += 1;
                self.failures.push(f);
            }
        }
    }
}

/// Runs every rule with tests under `dir`.
pub fn run_dir(dir: &Path) -> std::io::Result<TestRun> {
    let mut rule_files = Vec::new();
    find_rule_files(dir, &mut rule_files)?;
    rule_files.sort();
    let mut run = TestRun::default();
    for rule_file in rule_files {
        run_rule(&rule_file, &mut run)?;
    }
    Ok(run)
}

fn find_rule_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if entry.file_name() != "tests" {
                find_rule_files(&path, out)?;
            }
        } else if entry.file_name() == "rule.json" {
            out.push(path);
        }
    }
    Ok(())
}

fn run_rule(rule_file: &Path, run: &mut TestRun) -> std::io::Result<()> {
    let folder = rule_file.parent().unwrap_or(Path::new("."));
    let rule_name = folder
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let failure = |test: &str, name: Option<String>, message: String| TestFailure {
        rule: rule_name.clone(),
        test: test.to_owned(),
        name,
        message,
    };
    let text = std::fs::read_to_string(rule_file)?;
    let rule = Rule::from_json_str(&text);
    // Evaluate the logic even when the rule object is refused, so its tests still say
    // something about the logic.
    let logic = match &rule {
        Ok(rule) => Some(rule.expr().clone()),
        Err(_) => serde_json::from_str::<Json>(&text)
            .ok()
            .and_then(|j| j.get("Logic").map(Expr::compile)),
    };
    run.record(match &rule {
        Ok(rule) => {
            let lint = rule.lint();
            (!lint.is_empty()).then(|| failure("rule.json", None, lint.join("; ")))
        }
        Err(e) => Some(failure("rule.json", None, e.to_string())),
    });
    let mut tests = Vec::new();
    if let Ok(entries) = std::fs::read_dir(folder.join("tests")) {
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json") {
                tests.push(path);
            }
        }
    }
    tests.sort();
    for test_file in tests {
        let test_name = test_file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let outcome = run_test(&test_file, rule.as_ref().ok(), logic.as_ref());
        run.record(outcome.map(|(name, message)| failure(&test_name, name, message)));
    }
    Ok(())
}

/// `None` when the test passes, else its name and what failed.
fn run_test(
    file: &Path,
    rule: Option<&Rule>,
    logic: Option<&Expr>,
) -> Option<(Option<String>, String)> {
    let json: Json = match std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(json) => json,
        Err(e) => return Some((None, format!("unreadable test: {e}"))),
    };
    let name = json.get("name").and_then(Json::as_str).map(str::to_owned);
    let fail = |message: String| Some((name.clone(), message));
    let (Some(external), Some(expected)) = (json.get("external"), json.get("expected")) else {
        return fail("test lacks \"external\" or \"expected\"".into());
    };
    let Some(logic) = logic else {
        return fail("the rule has no Logic to test".into());
    };
    if let (Some(rule), Some(clock)) =
        (rule, external.get("validationClock").and_then(Json::as_str))
    {
        let Ok(clock) = DateTime::parse(clock) else {
            return fail("external.validationClock is not a date-time".into());
        };
        let from = rule.valid_from.as_millisecond();
        let to = rule.valid_to.as_millisecond();
        if !(from <= clock.as_millis() && clock.as_millis() < to) {
            return fail(format!(
                "validationClock {clock} is outside the rule's validity [{}, {})",
                rule.valid_from, rule.valid_to
            ));
        }
    }
    let mut fields = vec![("external", Value::from_json(external))];
    if let Some(payload) = json.get("payload") {
        fields.insert(0, ("payload", Value::from_json(payload)));
    }
    match logic.evaluate(&Value::Fields(fields)) {
        Ok(actual) if actual.to_json() == *expected => None,
        Ok(actual) => fail(format!("expected {expected}, got {}", actual.to_json())),
        Err(e) => fail(format!("evaluation failed: {e}")),
    }
}
