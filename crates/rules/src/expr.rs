//! CertLogic expressions, compiled once from JSON and evaluated many times.
//!
//! Compiling does the work that does not depend on the data (operator lookup, arity, `var`
//! paths, `plusTime` units) so that evaluating a rule on a certificate only walks a tree.
//! Compiling never fails: a malformed sub-expression becomes [`Expr::Invalid`], which is an
//! error only if evaluation reaches it, exactly as the reference evaluator behaves (an invalid
//! `else` branch is harmless while the guard holds). Use [`crate::validate`] to find every
//! problem up front.

use crate::datetime::{DateTime, DateTimeError, TimeUnit};
use crate::value::{Value, number};
use serde_json::Value as Json;
use std::fmt;

/// A compiled CertLogic expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A boolean literal.
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A string literal.
    Str(String),
    /// An array literal: each item evaluated.
    Array(Vec<Expr>),
    /// `{"var": "a.0.b"}`; the empty path is the whole data context.
    Var(Vec<PathFragment>),
    /// `{"if": [guard, then, else]}`.
    If(Box<[Expr; 3]>),
    /// `{"===": [a, b]}`.
    StrictEquals(Box<[Expr; 2]>),
    /// `{"and": [a, b, …]}`.
    And(Vec<Expr>),
    /// `<`, `>`, `<=`, `>=` on integers, 2 or 3 operands.
    Compare(Comparison, Vec<Expr>),
    /// `before`, `after`, `not-after`, `not-before` on date-times, 2 or 3 operands.
    CompareDateTimes(Comparison, Vec<Expr>),
    /// `{"in": [needle, array]}`.
    In(Box<[Expr; 2]>),
    /// `{"+": [a, b]}` on integers.
    Plus(Box<[Expr; 2]>),
    /// `{"!": [a]}`.
    Not(Box<Expr>),
    /// `{"plusTime": [date-time string, amount, unit]}`.
    PlusTime(Box<Expr>, i64, TimeUnit),
    /// `{"reduce": [array, lambda, initial]}`.
    Reduce(Box<[Expr; 3]>),
    /// `{"extractFromUVCI": [uvci, index]}`.
    ExtractFromUvci(Box<Expr>, i64),
    /// `{"dccDateOfBirth": [date of birth]}`.
    DccDateOfBirth(Box<Expr>),
    /// Not a valid expression; evaluating it is this error.
    Invalid(InvalidExpression),
}

/// One fragment of a `var` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFragment {
    pub(crate) key: String,
    pub(crate) index: Option<usize>,
}

/// The comparison of `<` and friends and of their date-time analogues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `<`, `before`.
    Less,
    /// `>`, `after`.
    Greater,
    /// `<=`, `not-after`.
    LessOrEqual,
    /// `>=`, `not-before`.
    GreaterOrEqual,
}

impl Comparison {
    fn holds<T: Ord>(self, a: &T, b: &T) -> bool {
        match self {
            Comparison::Less => a < b,
            Comparison::Greater => a > b,
            Comparison::LessOrEqual => a <= b,
            Comparison::GreaterOrEqual => a >= b,
        }
    }
}

/// Why an expression is not valid CertLogic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidExpression {
    /// `null`, a non-integer number, or an object literal.
    #[error("invalid CertLogic expression: {0}")]
    NotAnExpression(&'static str),
    /// An operation object with zero or several keys.
    #[error("expression object must have exactly one key, but it has {0}")]
    KeyCount(usize),
    /// `{"var": …}` with something other than a string.
    #[error("not of the form {{ \"var\": \"<path>\" }}")]
    VarNotAString,
    /// An operation whose operands are not a non-empty array.
    #[error("operation not of the form {{ \"<operator>\": [ <values...> ] }}")]
    OperandsNotAnArray,
    /// An operator CertLogic does not have.
    #[error("unrecognised operator: \"{0}\"")]
    UnknownOperator(String),
    /// The wrong number of operands.
    #[error("operator \"{operator}\" takes {expected} operands, but it has {actual}")]
    Arity {
        /// The operator.
        operator: &'static str,
        /// What it takes, in words.
        expected: &'static str,
        /// What it has.
        actual: usize,
    },
    /// `plusTime`'s amount or `extractFromUVCI`'s index is not an integer literal.
    #[error("argument #{position} of \"{operator}\" must be an integer literal")]
    NotAnIntegerLiteral {
        /// The operator.
        operator: &'static str,
        /// 1-based operand position.
        position: usize,
    },
    /// `plusTime`'s unit is not one of the time units.
    #[error("\"unit\" argument (#3) of \"plusTime\" must be one of year, month, day, hour")]
    UnknownTimeUnit,
}

/// Why evaluation stopped. Evaluating a valid expression on well-typed data never errs; a
/// rule that errs is "not decided" (DGCA: OPEN), never passed. Messages name types, never
/// values: the values are someone's health data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The expression (or the part evaluation reached) is not valid CertLogic.
    #[error(transparent)]
    Invalid(#[from] InvalidExpression),
    /// An operand of `if`, `and` or `!` is neither truthy nor falsy (a date-time).
    #[error("operand of \"{operator}\" is neither truthy nor falsy")]
    NeitherTruthyNorFalsy {
        /// The operator.
        operator: &'static str,
    },
    /// An operand has the wrong type.
    #[error("operand of \"{operator}\" must be {expected}, but it is {actual}")]
    Type {
        /// The operator.
        operator: &'static str,
        /// The type it takes.
        expected: &'static str,
        /// The type it got.
        actual: &'static str,
    },
    /// A date or date-time string that CertLogic cannot read.
    #[error("operand of \"{operator}\": {source}")]
    DateTime {
        /// `plusTime` or `dccDateOfBirth`.
        operator: &'static str,
        /// What is wrong with it.
        source: DateTimeError,
    },
    /// Integer overflow in `+`.
    #[error("integer overflow in \"+\"")]
    Overflow,
}

impl Expr {
    /// Compiles a CertLogic expression from JSON.
    pub fn compile(json: &Json) -> Expr {
        match json {
            Json::Bool(b) => Expr::Bool(*b),
            Json::String(s) => Expr::Str(s.clone()),
            Json::Number(n) => match number(n) {
                Value::Int(i) => Expr::Int(i),
                _ => invalid(InvalidExpression::NotAnExpression("a non-integer number")),
            },
            Json::Null => invalid(InvalidExpression::NotAnExpression("null")),
            Json::Array(items) => Expr::Array(items.iter().map(Expr::compile).collect()),
            Json::Object(map) => {
                let mut entries = map.iter();
                let (Some((operator, operands)), None) = (entries.next(), entries.next()) else {
                    return invalid(InvalidExpression::KeyCount(map.len()));
                };
                compile_operation(operator, operands)
            }
        }
    }

    /// Evaluates the expression on a data context.
    pub fn evaluate<'a>(&'a self, data: &Value<'a>) -> Result<Value<'a>, EvalError> {
        match self {
            Expr::Bool(b) => Ok(Value::Bool(*b)),
            Expr::Int(i) => Ok(Value::Int(*i)),
            Expr::Str(s) => Ok(Value::Str(s)),
            Expr::Array(items) => items
                .iter()
                .map(|item| item.evaluate(data))
                .collect::<Result<_, _>>()
                .map(Value::List),
            Expr::Var(path) => Ok(data.lookup(path)),
            Expr::If(parts) => {
                let [guard, then, otherwise] = &**parts;
                match guard.evaluate(data)?.truthiness() {
                    Some(true) => then.evaluate(data),
                    Some(false) => otherwise.evaluate(data),
                    None => Err(EvalError::NeitherTruthyNorFalsy { operator: "if" }),
                }
            }
            Expr::StrictEquals(operands) => {
                let a = operands[0].evaluate(data)?;
                let b = operands[1].evaluate(data)?;
                Ok(Value::Bool(a.strict_equals(&b)))
            }
            Expr::And(operands) => {
                // Lazy, in order: returns the first falsy operand or the last one.
                let mut result = Value::Bool(true);
                for operand in operands {
                    match result.truthiness() {
                        Some(true) => result = operand.evaluate(data)?,
                        Some(false) => return Ok(result),
                        None => return Err(EvalError::NeitherTruthyNorFalsy { operator: "and" }),
                    }
                }
                Ok(result)
            }
            Expr::Compare(comparison, operands) => compare_all(
                operands,
                data,
                *comparison,
                (comparison_name(*comparison), "an integer"),
                |v| match v {
                    Value::Int(i) => Some(*i),
                    _ => None,
                },
            ),
            Expr::CompareDateTimes(comparison, operands) => compare_all(
                operands,
                data,
                *comparison,
                (date_comparison_name(*comparison), "a date-time"),
                |v| match v {
                    Value::DateTime(t) => Some(*t),
                    _ => None,
                },
            ),
            Expr::In(operands) => {
                let needle = operands[0].evaluate(data)?;
                if let Expr::Array(items) = &operands[1] {
                    // A literal list (of vaccines, say): compare as the items are evaluated
                    // instead of building the array. Every item is still evaluated, so an
                    // error anywhere in the list is still an error.
                    let mut found = false;
                    for item in items {
                        found |= item.evaluate(data)?.strict_equals(&needle);
                    }
                    return Ok(Value::Bool(found));
                }
                let haystack = operands[1].evaluate(data)?;
                let Some(mut items) = haystack.array_items() else {
                    return Err(type_error("in", "an array", &haystack));
                };
                Ok(Value::Bool(items.any(|item| item.strict_equals(&needle))))
            }
            Expr::Plus(operands) => {
                let a = operands[0].evaluate(data)?;
                let b = operands[1].evaluate(data)?;
                match (&a, &b) {
                    (Value::Int(x), Value::Int(y)) => {
                        x.checked_add(*y).map(Value::Int).ok_or(EvalError::Overflow)
                    }
                    (Value::Int(_), other) | (other, _) => {
                        Err(type_error("+", "an integer", other))
                    }
                }
            }
            Expr::Not(operand) => match operand.evaluate(data)?.truthiness() {
                Some(b) => Ok(Value::Bool(!b)),
                None => Err(EvalError::NeitherTruthyNorFalsy { operator: "!" }),
            },
            Expr::PlusTime(operand, amount, unit) => {
                let operator = "plusTime";
                let value = operand.evaluate(data)?;
                let Value::Str(s) = value else {
                    return Err(type_error(operator, "a string", &value));
                };
                let time = DateTime::parse(s).and_then(|t| t.plus(*amount, *unit));
                time.map(Value::DateTime)
                    .map_err(|source| EvalError::DateTime { operator, source })
            }
            Expr::Reduce(parts) => {
                let [operand, lambda, initial] = &**parts;
                let array = operand.evaluate(data)?;
                if let Value::Null = array {
                    return initial.evaluate(data);
                }
                let Some(items) = array.array_items() else {
                    return Err(type_error("reduce", "an array or null", &array));
                };
                let mut accumulator = initial.evaluate(data)?;
                for current in items {
                    let context =
                        Value::Fields(vec![("accumulator", accumulator), ("current", current)]);
                    accumulator = lambda.evaluate(&context)?;
                }
                Ok(accumulator)
            }
            Expr::ExtractFromUvci(operand, index) => match operand.evaluate(data)? {
                Value::Null => Ok(Value::Null),
                Value::Str(uvci) => {
                    Ok(extract_from_uvci(uvci, *index).map_or(Value::Null, Value::Str))
                }
                other => Err(type_error("extractFromUVCI", "a string or null", &other)),
            },
            Expr::DccDateOfBirth(operand) => {
                let operator = "dccDateOfBirth";
                match operand.evaluate(data)? {
                    Value::Str(s) => DateTime::parse_date_of_birth(s)
                        .map(Value::DateTime)
                        .map_err(|source| EvalError::DateTime { operator, source }),
                    other => Err(type_error(operator, "a string", &other)),
                }
            }
            Expr::Invalid(reason) => Err(reason.clone().into()),
        }
    }
}

fn invalid(reason: InvalidExpression) -> Expr {
    Expr::Invalid(reason)
}

fn type_error(operator: &'static str, expected: &'static str, actual: &Value<'_>) -> EvalError {
    EvalError::Type {
        operator,
        expected,
        actual: actual.type_name(),
    }
}

/// Evaluates 2 or 3 operands, each of the type `extract` accepts, and compares them as
/// `a op b` or `a op b and b op c`.
fn compare_all<'a, T: Ord + Copy>(
    operands: &'a [Expr],
    data: &Value<'a>,
    comparison: Comparison,
    (operator, expected): (&'static str, &'static str),
    extract: impl Fn(&Value<'a>) -> Option<T>,
) -> Result<Value<'a>, EvalError> {
    let mut values: [Option<T>; 3] = [None; 3];
    for (slot, operand) in values.iter_mut().zip(operands) {
        let value = operand.evaluate(data)?;
        *slot = Some(extract(&value).ok_or_else(|| type_error(operator, expected, &value))?);
    }
    let values = &values[..operands.len()];
    Ok(Value::Bool(values.windows(2).all(
        |w| matches!((w[0], w[1]), (Some(a), Some(b)) if comparison.holds(&a, &b)),
    )))
}

fn comparison_name(c: Comparison) -> &'static str {
    match c {
        Comparison::Less => "<",
        Comparison::Greater => ">",
        Comparison::LessOrEqual => "<=",
        Comparison::GreaterOrEqual => ">=",
    }
}

fn date_comparison_name(c: Comparison) -> &'static str {
    match c {
        Comparison::Less => "before",
        Comparison::Greater => "after",
        Comparison::LessOrEqual => "not-after",
        Comparison::GreaterOrEqual => "not-before",
    }
}

/// The fragment at `index` of a UCI split on `/`, `#` and `:`, after an optional leading
/// `URN:UVCI:` (case-sensitive, as the spec's reference implementation has it).
pub fn extract_from_uvci(uvci: &str, index: i64) -> Option<&str> {
    let index = usize::try_from(index).ok()?;
    let uvci = uvci.strip_prefix("URN:UVCI:").unwrap_or(uvci);
    uvci.split(['/', '#', ':']).nth(index)
}

fn compile_operation(operator: &str, operands: &Json) -> Expr {
    if operator == "var" {
        return match operands {
            Json::String(path) => Expr::Var(compile_path(path)),
            _ => invalid(InvalidExpression::VarNotAString),
        };
    }
    let operands = match operands {
        Json::Array(items) if !items.is_empty() => items,
        _ => return invalid(InvalidExpression::OperandsNotAnArray),
    };
    // A missing operand compiles to an error that evaluation raises only if it gets there.
    let operand = |i: usize| {
        operands.get(i).map_or(
            invalid(InvalidExpression::NotAnExpression("missing operand")),
            Expr::compile,
        )
    };
    let arity = |operator: &'static str, expected: &'static str| {
        invalid(InvalidExpression::Arity {
            operator,
            expected,
            actual: operands.len(),
        })
    };
    let all = || operands.iter().map(Expr::compile).collect::<Vec<_>>();
    match operator {
        "if" if operands.len() < 3 => arity("if", "3"),
        "if" => Expr::If(Box::new([operand(0), operand(1), operand(2)])),
        "===" | "in" | "+" if operands.len() != 2 => arity(static_name(operator), "2"),
        "===" => Expr::StrictEquals(Box::new([operand(0), operand(1)])),
        "in" => Expr::In(Box::new([operand(0), operand(1)])),
        "+" => Expr::Plus(Box::new([operand(0), operand(1)])),
        "and" if operands.len() < 2 => arity("and", "at least 2"),
        "and" => Expr::And(all()),
        "<" | ">" | "<=" | ">=" | "before" | "after" | "not-after" | "not-before"
            if !(2..=3).contains(&operands.len()) =>
        {
            arity(static_name(operator), "2 or 3")
        }
        "<" => Expr::Compare(Comparison::Less, all()),
        ">" => Expr::Compare(Comparison::Greater, all()),
        "<=" => Expr::Compare(Comparison::LessOrEqual, all()),
        ">=" => Expr::Compare(Comparison::GreaterOrEqual, all()),
        "before" => Expr::CompareDateTimes(Comparison::Less, all()),
        "after" => Expr::CompareDateTimes(Comparison::Greater, all()),
        "not-after" => Expr::CompareDateTimes(Comparison::LessOrEqual, all()),
        "not-before" => Expr::CompareDateTimes(Comparison::GreaterOrEqual, all()),
        "!" => Expr::Not(Box::new(operand(0))),
        "plusTime" => {
            let Some(amount) = operands.get(1).and_then(integer_literal) else {
                return invalid(InvalidExpression::NotAnIntegerLiteral {
                    operator: "plusTime",
                    position: 2,
                });
            };
            let Some(unit) = operands
                .get(2)
                .and_then(Json::as_str)
                .and_then(TimeUnit::from_name)
            else {
                return invalid(InvalidExpression::UnknownTimeUnit);
            };
            Expr::PlusTime(Box::new(operand(0)), amount, unit)
        }
        "reduce" => Expr::Reduce(Box::new([operand(0), operand(1), operand(2)])),
        "extractFromUVCI" => match operands.get(1).and_then(integer_literal) {
            Some(index) => Expr::ExtractFromUvci(Box::new(operand(0)), index),
            None => invalid(InvalidExpression::NotAnIntegerLiteral {
                operator: "extractFromUVCI",
                position: 2,
            }),
        },
        "dccDateOfBirth" => Expr::DccDateOfBirth(Box::new(operand(0))),
        _ => invalid(InvalidExpression::UnknownOperator(operator.to_owned())),
    }
}

pub(crate) fn integer_literal(json: &Json) -> Option<i64> {
    match json {
        Json::Number(n) => match number(n) {
            Value::Int(i) => Some(i),
            _ => None,
        },
        _ => None,
    }
}

fn static_name(operator: &str) -> &'static str {
    const NAMES: [&str; 11] = [
        "===",
        "in",
        "+",
        "<",
        ">",
        "<=",
        ">=",
        "before",
        "after",
        "not-after",
        "not-before",
    ];
    NAMES.into_iter().find(|n| *n == operator).unwrap_or("?")
}

/// A `var` path: `""` is the whole context; otherwise fragments split on `.`, where a
/// fragment of decimal digits also indexes arrays.
fn compile_path(path: &str) -> Vec<PathFragment> {
    if path.is_empty() {
        return Vec::new();
    }
    path.split('.')
        .map(|key| PathFragment {
            key: key.to_owned(),
            index: (!key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()))
                .then(|| key.parse().ok())
                .flatten(),
        })
        .collect()
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(comparison_name(*self))
    }
}
