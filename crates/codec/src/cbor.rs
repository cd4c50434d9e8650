//! Shared CBOR helpers over `minicbor`: bounded walking and strict conversion to JSON.

use minicbor::Decoder;
use minicbor::data::Type;
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};
use thiserror::Error;

/// Deepest nesting accepted in a payload; a DCC is four levels deep.
pub(crate) const MAX_DEPTH: usize = 16;

/// A CBOR item that could not be read, with the byte offset where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid CBOR at byte {offset}: {detail}")]
pub struct CborError {
    /// Byte offset in the CBOR input.
    pub offset: usize,
    /// What was wrong.
    pub detail: String,
}

impl CborError {
    pub(crate) fn at(offset: usize, detail: impl Into<String>) -> Self {
        Self {
            offset,
            detail: detail.into(),
        }
    }

    pub(crate) fn from_minicbor(err: minicbor::decode::Error, fallback_offset: usize) -> Self {
        let offset = err.position().unwrap_or(fallback_offset);
        let detail = if err.is_end_of_input() {
            "unexpected end of input".to_owned()
        } else {
            err.to_string()
        };
        Self { offset, detail }
    }
}

/// Wraps a minicbor result with the decoder position for context.
pub(crate) trait Ctx<T> {
    fn ctx(self, d: &Decoder<'_>) -> Result<T, CborError>;
}

impl<T> Ctx<T> for Result<T, minicbor::decode::Error> {
    fn ctx(self, d: &Decoder<'_>) -> Result<T, CborError> {
        self.map_err(|e| CborError::from_minicbor(e, d.position()))
    }
}

/// Iterates over the entries of an array or map whose header was just read: `len` is the
/// definite length, or `None` for an indefinite one (ended by a break byte).
pub(crate) fn for_each_entry<'b>(
    d: &mut Decoder<'b>,
    len: Option<u64>,
    mut entry: impl FnMut(&mut Decoder<'b>) -> Result<(), CborError>,
) -> Result<(), CborError> {
    match len {
        Some(n) => {
            for _ in 0..n {
                entry(d)?;
            }
        }
        None => loop {
            if d.datatype().ctx(d)? == Type::Break {
                d.set_position(d.position() + 1);
                break;
            }
            entry(d)?;
        },
    }
    Ok(())
}

/// Skips one item of any type, without recursion (minicbor's skip keeps its own stack).
pub(crate) fn skip(d: &mut Decoder<'_>) -> Result<(), CborError> {
    d.skip().ctx(d)
}

/// Reads an integer or text-string map key (COSE header labels, CWT claim keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Label<'b> {
    Int(i64),
    Text(&'b str),
}

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Int(n) => write!(f, "{n}"),
            Label::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// The keys seen so far in one map, to refuse duplicates. Headers and claim sets are small,
/// so the first keys live inline and only a large map allocates.
pub(crate) struct SeenLabels<'b> {
    inline: [Label<'b>; 8],
    len: usize,
    spill: Vec<Label<'b>>,
}

impl<'b> SeenLabels<'b> {
    pub(crate) fn new() -> Self {
        Self {
            inline: [Label::Int(0); 8],
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Records `label`; returns false if it was already there.
    pub(crate) fn insert(&mut self, label: Label<'b>) -> bool {
        if self.inline[..self.len].contains(&label) || self.spill.contains(&label) {
            return false;
        }
        if self.len < self.inline.len() {
            self.inline[self.len] = label;
            self.len += 1;
        } else {
            self.spill.push(label);
        }
        true
    }
}

/// Whether an item is an integer (of any width or sign).
pub(crate) fn is_int(ty: Type) -> bool {
    matches!(
        ty,
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64
    )
}

/// Reads a map header (definite or not), or fails naming `what` should have been a map.
pub(crate) fn map_header(d: &mut Decoder<'_>, what: &str) -> Result<Option<u64>, CborError> {
    let at = d.position();
    match d.datatype().ctx(d)? {
        Type::Map | Type::MapIndef => d.map().ctx(d),
        other => Err(CborError::at(
            at,
            format!("{what} must be a map, found {other}"),
        )),
    }
}

pub(crate) fn label<'b>(d: &mut Decoder<'b>) -> Result<Label<'b>, CborError> {
    let at = d.position();
    match d.datatype().ctx(d)? {
        Type::String => Ok(Label::Text(d.str().ctx(d)?)),
        ty if is_int(ty) => Ok(Label::Int(d.i64().ctx(d)?)),
        other => Err(CborError::at(
            at,
            format!("a map key must be an integer or text, found {other}"),
        )),
    }
}

/// Reads a number that may be an integer or a float (CWT `iat`/`exp` are floats in some
/// real certificates) and returns its whole seconds, truncated.
pub(crate) fn numeric_date(d: &mut Decoder<'_>) -> Result<i64, CborError> {
    let at = d.position();
    match d.datatype().ctx(d)? {
        Type::F16 | Type::F32 | Type::F64 => {
            let f = d.f64().ctx(d)?;
            if f.is_finite() && f.abs() < 1e15 {
                Ok(f.trunc() as i64)
            } else {
                Err(CborError::at(
                    at,
                    format!("the date {f} is not a usable number"),
                ))
            }
        }
        ty if is_int(ty) => d.i64().ctx(d),
        other => Err(CborError::at(
            at,
            format!("expected a numeric date, found {other}"),
        )),
    }
}

/// Converts one CBOR item to JSON, strictly but with the leniency real certificates need:
/// `null` and `undefined` mean "absent" (`Ok(None)`), and date-time tags (0, 1) are unwrapped.
/// Byte strings, other tags, non-text map keys, duplicate keys and non-finite floats are errors.
pub(crate) fn to_json(d: &mut Decoder<'_>, depth: usize) -> Result<Option<Value>, CborError> {
    let at = d.position();
    if depth > MAX_DEPTH {
        return Err(CborError::at(
            at,
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    let value = match d.datatype().ctx(d)? {
        Type::Null => {
            d.null().ctx(d)?;
            return Ok(None);
        }
        Type::Undefined => {
            d.undefined().ctx(d)?;
            return Ok(None);
        }
        Type::Bool => Value::Bool(d.bool().ctx(d)?),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::Number(d.u64().ctx(d)?.into()),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 => Value::Number(d.i64().ctx(d)?.into()),
        Type::F16 | Type::F32 | Type::F64 => {
            let f = d.f64().ctx(d)?;
            Value::Number(
                Number::from_f64(f)
                    .ok_or_else(|| CborError::at(at, format!("the number {f} has no JSON form")))?,
            )
        }
        Type::String => Value::String(d.str().ctx(d)?.to_owned()),
        Type::StringIndef => {
            let mut s = String::new();
            for part in d.str_iter().map_err(|e| CborError::from_minicbor(e, at))? {
                s.push_str(part.map_err(|e| CborError::from_minicbor(e, at))?);
            }
            Value::String(s)
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array().ctx(d)?;
            let mut items = Vec::with_capacity(len.unwrap_or(0).min(16) as usize);
            for_each_entry(d, len, |d| {
                if let Some(item) = to_json(d, depth + 1)? {
                    items.push(item);
                }
                Ok(())
            })?;
            Value::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let len = d.map().ctx(d)?;
            let mut map = Map::new();
            let mut absent: Vec<&str> = Vec::new();
            for_each_entry(d, len, |d| {
                let key_at = d.position();
                let key = match d.datatype().ctx(d)? {
                    Type::String => d.str().ctx(d)?,
                    other => {
                        return Err(CborError::at(
                            key_at,
                            format!("a payload map key must be text, found {other}"),
                        ));
                    }
                };
                let value = to_json(d, depth + 1)?;
                if absent.contains(&key) {
                    return Err(CborError::at(key_at, format!("duplicate map key {key:?}")));
                }
                match (map.entry(key), value) {
                    (Entry::Occupied(_), _) => {
                        Err(CborError::at(key_at, format!("duplicate map key {key:?}")))
                    }
                    (Entry::Vacant(slot), Some(value)) => {
                        slot.insert(value);
                        Ok(())
                    }
                    // An absent (null) value: remember the key so a duplicate is still caught.
                    (Entry::Vacant(_), None) => {
                        absent.push(key);
                        Ok(())
                    }
                }
            })?;
            Value::Object(map)
        }
        Type::Tag => {
            let tag = d.tag().ctx(d)?.as_u64();
            let inner_at = d.position();
            match (tag, d.datatype().ctx(d)?) {
                // RFC 8949 3.4.1: standard date-time string. The DCC FAQ says SHOULD tag, MAY not.
                (0, Type::String) => Value::String(d.str().ctx(d)?.to_owned()),
                // RFC 8949 3.4.2: epoch-based date-time, rendered as RFC 3339 text.
                (1, _) => {
                    let seconds = numeric_date(d)?;
                    let ts = jiff::Timestamp::from_second(seconds).map_err(|_| {
                        CborError::at(inner_at, format!("epoch time {seconds} is out of range"))
                    })?;
                    Value::String(ts.to_string())
                }
                (tag, found) => {
                    return Err(CborError::at(
                        at,
                        format!("unsupported CBOR tag {tag} on a {found}"),
                    ));
                }
            }
        }
        Type::Bytes | Type::BytesIndef => {
            return Err(CborError::at(
                at,
                "a byte string cannot appear in a JSON payload",
            ));
        }
        other => return Err(CborError::at(at, format!("unexpected CBOR item: {other}"))),
    };
    Ok(Some(value))
}

/// Fails unless the decoder consumed the whole input.
pub(crate) fn expect_end(d: &Decoder<'_>) -> Result<(), usize> {
    let extra = d.input().len() - d.position();
    if extra == 0 { Ok(()) } else { Err(extra) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_labels_find_duplicates_past_the_inline_slots() {
        let mut seen = SeenLabels::new();
        for i in 0..20 {
            assert!(seen.insert(Label::Int(i)));
        }
        assert!(seen.insert(Label::Text("a")));
        assert!(!seen.insert(Label::Int(3)));
        assert!(!seen.insert(Label::Int(15)));
        assert!(!seen.insert(Label::Text("a")));
    }
}
