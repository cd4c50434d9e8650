//! Static checks of CertLogic expressions, before any data is seen: the format validator of
//! the spec's validation suite, and the data fields an expression can read.

use crate::datetime::TimeUnit;
use crate::expr::integer_literal;
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeSet;

/// One problem in an expression: the offending sub-expression and what is wrong with it.
/// The messages are those of the reference validator (certlogic-js `validateFormat`), so the
/// spec's validation suite can compare them verbatim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationIssue {
    /// The sub-expression the problem is in.
    pub expr: Json,
    /// What is wrong.
    pub message: String,
}

/// Every format problem in `expr`, in document order; empty when it is valid CertLogic.
pub fn validate(expr: &Json) -> Vec<ValidationIssue> {
    let mut issues = Vec::new();
    check(expr, &mut issues);
    issues
}

fn check(expr: &Json, issues: &mut Vec<ValidationIssue>) {
    let mut issue = |message: String| {
        issues.push(ValidationIssue {
            expr: expr.clone(),
            message,
        })
    };
    match expr {
        Json::String(_) | Json::Bool(_) => {}
        Json::Number(n) => {
            if integer_literal(expr).is_none() {
                issue(format!("{n} is a non-integer number"));
            }
        }
        Json::Null => issue("invalid CertLogic expression".into()),
        Json::Array(items) => items.iter().for_each(|item| check(item, issues)),
        Json::Object(map) => {
            if map.len() != 1 {
                return issue(format!(
                    "expression object must have exactly one key, but it has {}",
                    map.len()
                ));
            }
            let (operator, values) = map.iter().next().expect("one key");
            if operator == "var" {
                return match values {
                    Json::String(path) if valid_path(path) => {}
                    Json::String(path) => issue(format!(
                        "data access path doesn't have a valid format: {path}"
                    )),
                    _ => issue("not of the form { \"var\": \"<path>\" }".into()),
                };
            }
            let Json::Array(values) = values else {
                return issue(
                    "operation not of the form { \"<operator>\": [ <values...> ] }".into(),
                );
            };
            let n = values.len();
            // The reference reports the operation's arity first, then its operands' problems,
            // then problems with literal arguments (plusTime's amount and unit, the UVCI index).
            let mut arity = None;
            let mut arguments = Vec::new();
            let operands = match operator.as_str() {
                "if" | "reduce" => {
                    if n != 3 {
                        let article = if operator == "if" { "an" } else { "a" };
                        arity = Some(format!(
                            "{article} \"{operator}\"-operation must have exactly 3 values/operands, but it has {n}"
                        ));
                    }
                    3
                }
                "and" => {
                    if n < 2 {
                        arity = Some(format!(
                            "an \"and\" operation must have at least 2 operands, but it has {n}"
                        ));
                    }
                    n
                }
                "<" | ">" | "<=" | ">=" | "after" | "before" | "not-after" | "not-before" => {
                    if !(2..=3).contains(&n) {
                        arity = Some(format!(
                            "an operation with operator \"{operator}\" must have 2 or 3 operands, but it has {n}"
                        ));
                    }
                    3
                }
                "===" | "in" | "+" => {
                    if n != 2 {
                        arity = Some(format!(
                            "an operation with operator \"{operator}\" must have 2 operands, but it has {n}"
                        ));
                    }
                    2
                }
                "!" | "dccDateOfBirth" => {
                    if n != 1 {
                        let what = if operator == "!" {
                            "a !-operation (logical not/negation)".to_owned()
                        } else {
                            format!("a \"{operator}\"-operation")
                        };
                        return issue(format!(
                            "{what} must have exactly 1 operand, but it has {n}"
                        ));
                    }
                    1
                }
                "plusTime" => {
                    if n != 3 {
                        arity = Some(format!(
                            "a \"plusTime\"-operation must have exactly 3 values/operands, but it has {n}"
                        ));
                    }
                    if let Some(amount) = values.get(1).filter(|v| integer_literal(v).is_none()) {
                        arguments.push(format!(
                            "\"amount\" argument (#2) of \"plusTime\" must be an integer, but it is: {}",
                            js_string(amount)
                        ));
                    }
                    if let Some(unit) = values
                        .get(2)
                        .filter(|v| v.as_str().and_then(TimeUnit::from_name).is_none())
                    {
                        arguments.push(format!(
                            "\"unit\" argument (#3) of \"plusTime\" must be a string equal to one of {}, but it is: {}",
                            TimeUnit::NAMES.join(", "),
                            js_string(unit)
                        ));
                    }
                    1
                }
                "extractFromUVCI" => {
                    if n != 2 {
                        arity = Some(format!(
                            "an \"extractFromUVCI\"-operation must have exactly 2 values/operands, but it has {n}"
                        ));
                    }
                    if let Some(index) = values.get(1).filter(|v| integer_literal(v).is_none()) {
                        arguments.push(format!(
                            "\"index\" argument (#2) of \"extractFromUVCI\" must be an integer, but it is: {}",
                            js_string(index)
                        ));
                    }
                    1
                }
                _ => return issue(format!("unrecognised operator: \"{operator}\"")),
            };
            if let Some(message) = arity {
                issue(message);
            }
            for value in values.iter().take(operands) {
                check(value, issues);
            }
            for message in arguments {
                issues.push(ValidationIssue {
                    expr: expr.clone(),
                    message,
                });
            }
        }
    }
}

/// `""`, or fragments separated by single dots with none empty.
fn valid_path(path: &str) -> bool {
    path.is_empty() || path.split('.').all(|fragment| !fragment.is_empty())
}

/// How JavaScript's template literals print a JSON value.
fn js_string(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Array(items) => items
            .iter()
            .map(|v| {
                if v.is_null() {
                    String::new()
                } else {
                    js_string(v)
                }
            })
            .collect::<Vec<_>>()
            .join(","),
        Json::Object(_) => "[object Object]".into(),
        other => other.to_string(),
    }
}

/// The `var` paths an expression can read, sorted and without duplicates, as the reference
/// `dataAccesses` computes them: every branch counts, whether or not it would run; a
/// `reduce` lambda's own accesses (`current`, `accumulator`) do not.
pub fn data_accesses(expr: &Json) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    gather(expr, &mut paths);
    paths
}

fn gather(expr: &Json, paths: &mut BTreeSet<String>) {
    match expr {
        Json::Array(items) => items.iter().for_each(|item| gather(item, paths)),
        Json::Object(map) if map.len() == 1 => {
            let (operator, values) = map.iter().next().expect("one key");
            match (operator.as_str(), values) {
                ("var", Json::String(path)) => {
                    paths.insert(path.clone());
                }
                ("reduce", Json::Array(values)) => {
                    // Operand and initial value; the lambda sees only its own context.
                    for i in [0, 2] {
                        if let Some(v) = values.get(i) {
                            gather(v, paths);
                        }
                    }
                }
                ("plusTime" | "extractFromUVCI" | "dccDateOfBirth" | "!", Json::Array(values)) => {
                    if let Some(v) = values.first() {
                        gather(v, paths);
                    }
                }
                (_, Json::Array(values)) => values.iter().for_each(|v| gather(v, paths)),
                _ => {}
            }
        }
        _ => {}
    }
}
