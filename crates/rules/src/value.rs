//! The values CertLogic computes with: JSON values borrowed from the data context or the
//! expression, plus date-times, which only `plusTime` and `dccDateOfBirth` make.

use crate::datetime::DateTime;
use crate::expr::PathFragment;
use serde_json::Value as Json;

/// A value produced by evaluation. Strings, arrays and objects borrow from the data context or
/// the expression, so evaluating a rule copies nothing from the certificate.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// JSON `null`, and what a `var` finds where nothing is.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (a JSON number with no fractional part, as JavaScript's `Number.isInteger`).
    Int(i64),
    /// A JSON number with a fractional part: data may hold one; no operation accepts one.
    Float(f64),
    /// A string.
    Str(&'a str),
    /// An array or object of the data context.
    Json(&'a Json),
    /// An array built by evaluating an array literal.
    List(Vec<Value<'a>>),
    /// An object built by the evaluator: the `{ "accumulator": …, "current": … }` a `reduce`
    /// lambda sees, or a rule's `{ "payload": …, "external": … }` assembled without copying.
    Fields(Vec<(&'static str, Value<'a>)>),
    /// A date-time.
    DateTime(DateTime),
}

impl<'a> Value<'a> {
    /// Wraps a JSON value; primitives become their own variants.
    pub fn from_json(json: &'a Json) -> Self {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => number(n),
            Json::String(s) => Value::Str(s),
            Json::Array(_) | Json::Object(_) => Value::Json(json),
        }
    }

    /// CertLogic's "boolsiness": `Some(true)` truthy, `Some(false)` falsy, `None` neither
    /// (date-times, and nothing else). `if`, `and` and `!` refuse a value that is neither.
    pub fn truthiness(&self) -> Option<bool> {
        Some(match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Json(Json::Array(a)) => !a.is_empty(),
            Value::Json(Json::Object(o)) => !o.is_empty(),
            Value::Json(other) => return Value::from_json(other).truthiness(),
            Value::List(items) => !items.is_empty(),
            Value::Fields(fields) => !fields.is_empty(),
            Value::DateTime(_) => return None,
        })
    }

    /// JavaScript's `===`: primitives by value; arrays and objects only when they are the very
    /// same one of the data context; date-times and built arrays never.
    pub fn strict_equals(&self, other: &Value<'_>) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Json(a), Value::Json(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }

    /// Follows a `var` path: objects by key, arrays by index. A missing entry, or a step into
    /// anything else, gives `null`. Only the value found is cloned, never the containers.
    pub fn lookup(&self, path: &[PathFragment]) -> Value<'a> {
        let mut current = self;
        for (i, fragment) in path.iter().enumerate() {
            current = match current {
                Value::Fields(fields) => {
                    match fields.iter().find(|(key, _)| *key == fragment.key) {
                        Some((_, value)) => value,
                        None => return Value::Null,
                    }
                }
                Value::List(items) => match fragment.index.and_then(|i| items.get(i)) {
                    Some(value) => value,
                    None => return Value::Null,
                },
                Value::Json(json) => return lookup_json(json, &path[i..]),
                _ => return Value::Null,
            };
        }
        current.clone()
    }

    /// The items of an array value, or `None` when it is not an array.
    pub fn array_items(&self) -> Option<ArrayItems<'_, 'a>> {
        match self {
            Value::Json(json) => {
                let json: &'a Json = json;
                match json {
                    Json::Array(items) => Some(ArrayItems::Json(items.iter())),
                    _ => None,
                }
            }
            Value::List(items) => Some(ArrayItems::List(items.iter())),
            _ => None,
        }
    }

    /// The value as JSON: date-times become `YYYY-MM-DDThh:mm:ss.sssZ` strings, as
    /// `JSON.stringify` writes a JavaScript `Date`.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String((*s).to_owned()),
            Value::Json(json) => (*json).clone(),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Fields(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_json()))
                    .collect(),
            ),
            Value::DateTime(t) => Json::String(t.to_string()),
        }
    }

    /// The JSON type name, for error messages (never the value: it may be personal data).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a non-integer number",
            Value::Str(_) => "a string",
            Value::Json(Json::Array(_)) | Value::List(_) => "an array",
            Value::Json(_) | Value::Fields(_) => "an object",
            Value::DateTime(_) => "a date-time",
        }
    }
}

fn lookup_json<'a>(mut json: &'a Json, path: &[PathFragment]) -> Value<'a> {
    for fragment in path {
        let next = match json {
            Json::Object(map) => map.get(fragment.key.as_str()),
            Json::Array(items) => fragment.index.and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(value) => json = value,
            None => return Value::Null,
        }
    }
    Value::from_json(json)
}

/// A JSON number as CertLogic sees it: integral values (also `42.0`) are integers.
pub(crate) fn number(n: &serde_json::Number) -> Value<'static> {
    if let Some(i) = n.as_i64() {
        return Value::Int(i);
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    // Integral and exactly representable as i64: JavaScript would call it an integer.
    if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_775e18 {
        Value::Int(f as i64)
    } else {
        Value::Float(f)
    }
}

/// Iterates the items of either kind of array.
pub enum ArrayItems<'v, 'a> {
    /// An array of the data context.
    Json(std::slice::Iter<'a, Json>),
    /// A built array.
    List(std::slice::Iter<'v, Value<'a>>),
}

impl<'a> Iterator for ArrayItems<'_, 'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        match self {
            ArrayItems::Json(it) => it.next().map(Value::from_json),
            ArrayItems::List(it) => it.next().cloned(),
        }
    }
}
