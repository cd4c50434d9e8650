//! Strict JSON: what `serde_json` accepts, minus the ambiguities a signed document must not
//! have. A key that appears twice in one object is an error (a reader that keeps the first and
//! one that keeps the last would see different certificates under the same signature), and so
//! is anything after the value but whitespace.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use thiserror::Error;

/// Deepest nesting accepted (serde_json's own recursion limit is 128).
pub const MAX_DEPTH: usize = 64;

/// Why a text is not strict JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not JSON, a key that appears twice, too deep, or characters after the value.
    #[error("invalid JSON at line {line}, column {column}: {detail}")]
    Invalid {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        detail: String,
    },
}

impl From<serde_json::Error> for JsonError {
    fn from(err: serde_json::Error) -> Self {
        let detail = err.to_string();
        // serde_json appends " at line L column C"; the variant carries them already.
        let detail = match detail.rfind(" at line ") {
            Some(at) => detail[..at].to_owned(),
            None => detail,
        };
        Self::Invalid {
            line: err.line(),
            column: err.column(),
            detail,
        }
    }
}

/// Parses `bytes` as one JSON value, refusing duplicate keys, nesting deeper than
/// [`MAX_DEPTH`] and trailing characters (whitespace aside).
///
/// A direct reader builds the value from well-formed input (serde's visitor machinery was
/// most of the cost of reading a SMART Health Card or a seal); whatever it does not take as
/// it is (any error, a surrogate escape, a number it does not convert itself) goes through
/// serde_json, so what is accepted, the values and every error message stay serde_json's.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    if let Some(value) = fast::parse::<Value>(bytes) {
        return Ok(value);
    }
    parse_strict_serde(bytes)
}

/// [`parse_strict`] through serde_json only: the reference the direct reader agrees with.
fn parse_strict_serde(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { depth: 0 }.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

#[derive(Clone, Copy)]
struct StrictSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("key {key:?} appears twice")));
            }
            let value = map.next_value_seed(inner)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

impl StrictSeed {
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(Self {
            depth: self.depth + 1,
        })
    }
}

/// A JSON value that borrows its strings and numbers from the text it was read from: no
/// allocation per string, member or number, and members kept as a list in document order.
/// Reading a SMART Health Card into a [`Value`] (a map node and a `String` per member) cost
/// more than the rest of the card's checks together; a verifier that only walks the payload
/// reads it into this and builds a [`Value`] only if it is asked for one
/// ([`BorrowedValue::to_value`]).
///
/// [`BorrowedValue::parse`] is [`parse_strict`]: the same texts are accepted, with the same
/// values and the same errors.
#[derive(Debug, Clone, PartialEq)]
pub enum BorrowedValue<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written (JSON's grammar, and within what serde_json reads).
    Number(Cow<'a, str>),
    /// A string, escapes decoded (borrowed when it has none).
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<BorrowedValue<'a>>),
    /// An object: its members in document order, each key once.
    Object(Members<'a>),
}

/// The members of a [`BorrowedValue::Object`], in document order (keys are unique: strict
/// reading refuses a key twice). Lookups scan the list: health-certificate objects have a
/// handful of members.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Members<'a>(Vec<(Cow<'a, str>, BorrowedValue<'a>)>);

impl<'a> Members<'a> {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&BorrowedValue<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` is a member.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The members, in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &BorrowedValue<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The keys, in document order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }

    /// The values, in document order.
    pub fn values(&self) -> impl Iterator<Item = &BorrowedValue<'a>> {
        self.0.iter().map(|(_, v)| v)
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'s, 'a> IntoIterator for &'s Members<'a> {
    type Item = (&'s str, &'s BorrowedValue<'a>);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'s, (Cow<'a, str>, BorrowedValue<'a>)>,
        fn(&'s (Cow<'a, str>, BorrowedValue<'a>)) -> (&'s str, &'s BorrowedValue<'a>),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

/// Compact JSON, as [`Value`]'s `Display` writes it.
impl std::fmt::Display for BorrowedValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_value().fmt(f)
    }
}

static NULL: BorrowedValue<'static> = BorrowedValue::Null;

/// Read access that [`Value`] and [`BorrowedValue`] share, for code that walks either (the
/// common-model mappings take a test's `Value` and the verifier's borrowed payload alike).
pub trait JsonRead: Sized {
    /// The member `key` of an object.
    fn member(&self, key: &str) -> Option<&Self>;
    /// The items of an array.
    fn items(&self) -> Option<&[Self]>;
    /// The text of a string.
    fn text(&self) -> Option<&str>;
}

impl JsonRead for Value {
    fn member(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }
    fn items(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }
    fn text(&self) -> Option<&str> {
        self.as_str()
    }
}

impl JsonRead for BorrowedValue<'_> {
    fn member(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }
    fn items(&self) -> Option<&[Self]> {
        self.as_array()
    }
    fn text(&self) -> Option<&str> {
        self.as_str()
    }
}

impl<'a> BorrowedValue<'a> {
    /// Reads `bytes` as strict JSON ([`parse_strict`]'s rules and errors), borrowing from them.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, JsonError> {
        if let Some(value) = fast::parse(bytes) {
            return Ok(value);
        }
        // What the direct reader leaves to serde_json (an error, a surrogate escape) is rare:
        // read it as a `Value` and convert.
        parse_strict_serde(bytes).map(|v| BorrowedValue::from_value(&v).into_owned())
    }

    /// A view of a [`Value`] (borrowing its strings).
    pub fn from_value(value: &'a Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(Cow::Owned(n.to_string())),
            Value::String(s) => Self::String(Cow::Borrowed(s)),
            Value::Array(items) => Self::Array(items.iter().map(Self::from_value).collect()),
            Value::Object(map) => Self::Object(Members(
                map.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Self::from_value(v)))
                    .collect(),
            )),
        }
    }

    /// The same value owning its text.
    pub fn into_owned(self) -> BorrowedValue<'static> {
        use BorrowedValue as B;
        let own = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
        match self {
            B::Null => B::Null,
            B::Bool(b) => B::Bool(b),
            B::Number(n) => B::Number(own(n)),
            B::String(s) => B::String(own(s)),
            B::Array(items) => B::Array(items.into_iter().map(B::into_owned).collect()),
            B::Object(members) => B::Object(Members(
                members
                    .0
                    .into_iter()
                    .map(|(k, v)| (own(k), v.into_owned()))
                    .collect(),
            )),
        }
    }

    /// The [`Value`] [`parse_strict`] gives for the same text.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            // The text passed serde_json's number reader (or is a plain integer) when read.
            Self::Number(n) => n.parse().map_or(Value::Null, Value::Number),
            Self::String(s) => Value::String(s.as_ref().to_owned()),
            Self::Array(items) => Value::Array(items.iter().map(Self::to_value).collect()),
            Self::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&BorrowedValue<'a>> {
        self.as_object()?.get(key)
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The items of an array.
    pub fn as_array(&self) -> Option<&[BorrowedValue<'a>]> {
        match self {
            Self::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members of an object.
    pub fn as_object(&self) -> Option<&Members<'a>> {
        match self {
            Self::Object(members) => Some(members),
            _ => None,
        }
    }

    /// A number as `f64` (as [`Value::as_f64`] gives it, up to the last bit of a fraction
    /// with more than 17 significant digits).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// A number that is an integer in `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// Whether this is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Self::String(_))
    }

    /// Whether this is an array.
    pub fn is_array(&self) -> bool {
        matches!(self, Self::Array(_))
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Self::Object(_))
    }
}

impl<'a> std::ops::Index<&str> for BorrowedValue<'a> {
    type Output = BorrowedValue<'a>;

    /// The member `key`, or `null` (as for [`Value`]).
    fn index(&self, key: &str) -> &BorrowedValue<'a> {
        self.get(key).unwrap_or(&NULL)
    }
}

/// The direct reader: strict JSON (serde_json's grammar) straight into a [`Value`] or a
/// [`BorrowedValue`]. It answers `None` for anything it does not accept, and the caller asks
/// serde_json, which then gives the error (or reads what this reader leaves to it).
mod fast {
    use std::borrow::Cow;

    use serde_json::{Map, Number, Value};

    use super::{BorrowedValue, MAX_DEPTH, Members};

    /// Gives up: serde_json decides.
    pub(super) struct Bail;

    /// How many bytes at the start of `bytes` are plain string content: not `"`, not `\\`,
    /// not a control character. Eight bytes at a time (a zero-byte test on the word XORed
    /// with each delimiter, and a below-0x20 test): about two instructions a byte, where a
    /// byte loop takes seven and a vector search pays its set-up on every short key.
    pub(super) fn plain_run(bytes: &[u8]) -> usize {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        // The classic test flags each zero byte of `x`; bits above the lowest flag may be
        // false (a borrow), so only the lowest flagged byte is used.
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
        let mut at = 0;
        for word in bytes.chunks_exact(8) {
            let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
            let stop = zero(w ^ (ONES * u64::from(b'"')))
                | zero(w ^ (ONES * u64::from(b'\\')))
                | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
            if stop != 0 {
                return at + (stop.trailing_zeros() / 8) as usize;
            }
            at += 8;
        }
        at + bytes[at..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .unwrap_or(bytes.len() - at)
    }

    /// What the reader builds: [`Value`] or [`BorrowedValue`].
    pub(super) trait Tree<'a>: Sized {
        type Builder;
        fn null() -> Self;
        fn boolean(b: bool) -> Self;
        /// An integer of at most 18 digits (not `-0`): `magnitude` with its sign, and its text.
        fn integer(negative: bool, magnitude: i64, text: &'a str) -> Self;
        /// Any other number, as serde_json's number reader takes it.
        fn number(text: &'a str) -> Result<Self, Bail>;
        fn string(text: Cow<'a, str>) -> Self;
        fn array(items: Vec<Self>) -> Self;
        fn new_object() -> Self::Builder;
        /// Adds a member; a duplicate key may be refused here or in `object`.
        fn insert(object: &mut Self::Builder, key: Cow<'a, str>, value: Self) -> Result<(), Bail>;
        fn object(object: Self::Builder) -> Result<Self, Bail>;
    }

    impl<'a> Tree<'a> for Value {
        type Builder = Map<String, Value>;
        fn null() -> Self {
            Value::Null
        }
        fn boolean(b: bool) -> Self {
            Value::Bool(b)
        }
        fn integer(negative: bool, magnitude: i64, _: &'a str) -> Self {
            // serde_json reads a non-negative integer as u64, a negative one as i64.
            if negative {
                Value::from(-magnitude)
            } else {
                Value::from(magnitude.unsigned_abs())
            }
        }
        fn number(text: &'a str) -> Result<Self, Bail> {
            text.parse::<Number>().map(Value::Number).map_err(|_| Bail)
        }
        fn string(text: Cow<'a, str>) -> Self {
            Value::String(text.into_owned())
        }
        fn array(items: Vec<Self>) -> Self {
            Value::Array(items)
        }
        fn new_object() -> Self::Builder {
            Map::new()
        }
        fn insert(object: &mut Self::Builder, key: Cow<'a, str>, value: Self) -> Result<(), Bail> {
            // A duplicate key: serde_json's reader says which, and where.
            match object.insert(key.into_owned(), value) {
                Some(_) => Err(Bail),
                None => Ok(()),
            }
        }
        fn object(object: Self::Builder) -> Result<Self, Bail> {
            Ok(Value::Object(object))
        }
    }

    /// Objects up to this size are checked for duplicate keys pair by pair; larger ones by
    /// sorting their keys (so a hostile object of many keys costs n log n, not n²).
    const PAIRWISE_MAX: usize = 16;

    impl<'a> Tree<'a> for BorrowedValue<'a> {
        type Builder = Vec<(Cow<'a, str>, BorrowedValue<'a>)>;
        fn null() -> Self {
            BorrowedValue::Null
        }
        fn boolean(b: bool) -> Self {
            BorrowedValue::Bool(b)
        }
        fn integer(_: bool, _: i64, text: &'a str) -> Self {
            BorrowedValue::Number(Cow::Borrowed(text))
        }
        fn number(text: &'a str) -> Result<Self, Bail> {
            // Only to refuse what serde_json refuses (an exponent out of f64's range).
            text.parse::<Number>().map_err(|_| Bail)?;
            Ok(BorrowedValue::Number(Cow::Borrowed(text)))
        }
        fn string(text: Cow<'a, str>) -> Self {
            BorrowedValue::String(text)
        }
        fn array(items: Vec<Self>) -> Self {
            BorrowedValue::Array(items)
        }
        fn new_object() -> Self::Builder {
            // A FHIR resource or a claim set has up to eight or so members: one allocation.
            Vec::with_capacity(8)
        }
        fn insert(object: &mut Self::Builder, key: Cow<'a, str>, value: Self) -> Result<(), Bail> {
            if object.len() < PAIRWISE_MAX && object.iter().any(|(k, _)| *k == key) {
                return Err(Bail);
            }
            object.push((key, value));
            Ok(())
        }
        fn object(object: Self::Builder) -> Result<Self, Bail> {
            if object.len() > PAIRWISE_MAX {
                let mut keys: Vec<&str> = object.iter().map(|(k, _)| k.as_ref()).collect();
                keys.sort_unstable();
                if keys.windows(2).any(|pair| pair[0] == pair[1]) {
                    return Err(Bail);
                }
            }
            Ok(BorrowedValue::Object(Members(object)))
        }
    }

    pub(super) fn parse<'a, T: Tree<'a>>(bytes: &'a [u8]) -> Option<T> {
        // serde_json refuses invalid UTF-8 anywhere (in a string, and outside strings any
        // byte above 0x7F is a syntax error): checked once here, not string by string.
        let text = std::str::from_utf8(bytes).ok()?;
        let mut reader = Reader { text, bytes, at: 0 };
        let value = reader.value(0).ok()?;
        reader.skip_whitespace();
        (reader.at == bytes.len()).then_some(value)
    }

    struct Reader<'a> {
        text: &'a str,
        bytes: &'a [u8],
        at: usize,
    }

    impl<'a> Reader<'a> {
        fn peek(&self) -> Option<u8> {
            self.bytes.get(self.at).copied()
        }

        fn skip_whitespace(&mut self) {
            while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
                self.at += 1;
            }
        }

        /// One value; `depth` as `StrictSeed` counts it (a container at depth [`MAX_DEPTH`]
        /// is too deep).
        fn value<T: Tree<'a>>(&mut self, depth: usize) -> Result<T, Bail> {
            self.skip_whitespace();
            match self.peek().ok_or(Bail)? {
                b'{' => self.object(depth),
                b'[' => self.array(depth),
                b'"' => Ok(T::string(self.string()?)),
                b't' => self.literal(b"true", T::boolean(true)),
                b'f' => self.literal(b"false", T::boolean(false)),
                b'n' => self.literal(b"null", T::null()),
                b'-' | b'0'..=b'9' => self.number(),
                _ => Err(Bail),
            }
        }

        fn literal<T>(&mut self, word: &[u8], value: T) -> Result<T, Bail> {
            if self.bytes[self.at..].starts_with(word) {
                self.at += word.len();
                Ok(value)
            } else {
                Err(Bail)
            }
        }

        fn object<T: Tree<'a>>(&mut self, depth: usize) -> Result<T, Bail> {
            if depth >= MAX_DEPTH {
                return Err(Bail);
            }
            self.at += 1;
            let mut object = T::new_object();
            self.skip_whitespace();
            if self.peek() == Some(b'}') {
                self.at += 1;
                return T::object(object);
            }
            loop {
                self.skip_whitespace();
                if self.peek() != Some(b'"') {
                    return Err(Bail);
                }
                let key = self.string()?;
                self.skip_whitespace();
                if self.peek() != Some(b':') {
                    return Err(Bail);
                }
                self.at += 1;
                let value = self.value(depth + 1)?;
                T::insert(&mut object, key, value)?;
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b'}') => {
                        self.at += 1;
                        return T::object(object);
                    }
                    _ => return Err(Bail),
                }
            }
        }

        fn array<T: Tree<'a>>(&mut self, depth: usize) -> Result<T, Bail> {
            if depth >= MAX_DEPTH {
                return Err(Bail);
            }
            self.at += 1;
            let mut items = Vec::new();
            self.skip_whitespace();
            if self.peek() == Some(b']') {
                self.at += 1;
                return Ok(T::array(items));
            }
            loop {
                items.push(self.value(depth + 1)?);
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b']') => {
                        self.at += 1;
                        return Ok(T::array(items));
                    }
                    _ => return Err(Bail),
                }
            }
        }

        /// A string at its `"`: borrowed when it has no escape, else the plain runs copied
        /// and the usual escapes decoded; control characters, unknown escapes and surrogate
        /// escapes are left to serde_json.
        fn string(&mut self) -> Result<Cow<'a, str>, Bail> {
            self.at += 1;
            let mut out = String::new();
            loop {
                let rest = self.bytes.get(self.at..).ok_or(Bail)?;
                let run = plain_run(rest);
                match rest.get(run) {
                    Some(b'"' | b'\\') => {}
                    // A control character, or no closing quote.
                    _ => return Err(Bail),
                }
                // Runs start and end at ASCII bytes, so at character boundaries.
                let plain = self.text.get(self.at..self.at + run).ok_or(Bail)?;
                self.at += run;
                if rest[run] == b'"' {
                    self.at += 1;
                    if out.is_empty() {
                        return Ok(Cow::Borrowed(plain));
                    }
                    out.push_str(plain);
                    return Ok(Cow::Owned(out));
                }
                out.push_str(plain);
                let escaped = *self.bytes.get(self.at + 1).ok_or(Bail)?;
                self.at += 2;
                let c = match escaped {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let hex = self.bytes.get(self.at..self.at + 4).ok_or(Bail)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return Err(Bail);
                        }
                        let code = hex.iter().fold(0u32, |code, h| {
                            code * 16 + char::from(*h).to_digit(16).unwrap_or(0)
                        });
                        self.at += 4;
                        // A surrogate (paired or lone) is serde_json's to judge.
                        char::from_u32(code).ok_or(Bail)?
                    }
                    _ => return Err(Bail),
                };
                out.push(c);
            }
        }

        /// A number in JSON's grammar. Integers of up to 18 digits are converted here; every
        /// other number (fractions, exponents, `-0`, longer integers) by serde_json's own
        /// number reader, as on the serde path.
        fn number<T: Tree<'a>>(&mut self) -> Result<T, Bail> {
            let start = self.at;
            let negative = self.peek() == Some(b'-');
            if negative {
                self.at += 1;
            }
            let digits_start = self.at;
            match self.peek() {
                Some(b'0') => {
                    self.at += 1;
                    if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                        return Err(Bail);
                    }
                }
                Some(b'1'..=b'9') => self.skip_digits(),
                _ => return Err(Bail),
            }
            let digits_end = self.at;
            let mut integer = true;
            if self.peek() == Some(b'.') {
                integer = false;
                self.at += 1;
                if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Err(Bail);
                }
                self.skip_digits();
            }
            if let Some(b'e' | b'E') = self.peek() {
                integer = false;
                self.at += 1;
                if let Some(b'+' | b'-') = self.peek() {
                    self.at += 1;
                }
                if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Err(Bail);
                }
                self.skip_digits();
            }
            let token = self.text.get(start..self.at).ok_or(Bail)?;
            let digits = &self.bytes[digits_start..digits_end];
            if integer && digits.len() <= 18 && !(negative && digits == b"0") {
                let magnitude = digits
                    .iter()
                    .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
                return Ok(T::integer(negative, magnitude, token));
            }
            T::number(token)
        }

        fn skip_digits(&mut self) {
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.at += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_json_and_keeps_numbers() {
        let v = parse_strict(br#" {"a":[1,-2,1715107763.677,"x",null,true],"b":{}} "#).unwrap();
        assert_eq!(v["a"][2].as_f64(), Some(1715107763.677));
        assert_eq!(v["a"][1].as_i64(), Some(-2));
        assert!(v["b"].as_object().unwrap().is_empty());
    }

    #[test]
    fn refuses_duplicates_trailing_and_depth() {
        let dup = parse_strict(br#"{"a":1,"b":{"c":1,"c":2}}"#).unwrap_err();
        assert!(dup.to_string().contains("\"c\" appears twice"), "{dup}");
        let trailing = parse_strict(b"{\"a\":1}\n}").unwrap_err();
        assert!(
            matches!(trailing, JsonError::Invalid { line: 2, .. }),
            "{trailing}"
        );
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse_strict(deep.as_bytes()).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse_strict(ok.as_bytes()).is_ok());
        let deep = "{\"a\":".repeat(MAX_DEPTH + 1) + "1" + &"}".repeat(MAX_DEPTH + 1);
        assert!(parse_strict(deep.as_bytes()).is_err());
        let ok = "{\"a\":".repeat(MAX_DEPTH) + "1" + &"}".repeat(MAX_DEPTH);
        assert!(parse_strict(ok.as_bytes()).is_ok());
    }

    /// Whatever the direct reader accepts, serde_json accepts as the same value; and strict
    /// parsing (either reader) answers as serde_json alone, errors included.
    fn agrees(bytes: &[u8]) {
        let reference = parse_strict_serde(bytes);
        let text = String::from_utf8_lossy(bytes);
        if let Some(direct) = fast::parse::<Value>(bytes) {
            assert_eq!(reference.as_ref(), Ok(&direct), "{text:?}");
        }
        if let Some(direct) = fast::parse::<BorrowedValue>(bytes) {
            assert_eq!(reference, Ok(direct.to_value()), "borrowed, {text:?}");
        }
        assert_eq!(parse_strict(bytes), reference);
        let borrowed = BorrowedValue::parse(bytes);
        assert_eq!(
            borrowed
                .as_ref()
                .map(BorrowedValue::to_value)
                .map_err(Clone::clone),
            reference.clone(),
            "borrowed, {text:?}"
        );
        if let (Ok(borrowed), Ok(value)) = (&borrowed, &reference) {
            // A view of the Value is the same tree, numbers written as serde_json writes them.
            assert_eq!(BorrowedValue::from_value(value).to_value(), *value);
            assert_eq!(borrowed.clone().into_owned().to_value(), *value);
        }
    }

    #[test]
    fn plain_run_stops_where_a_byte_loop_stops() {
        let naive = |bytes: &[u8]| {
            bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(bytes.len())
        };
        // Every byte value at every position of a run that spans words, after plain bytes
        // on both sides of 0x20 and 0x80 (where a borrow could mislead the word test).
        for len in 0..20 {
            for at in 0..len {
                for stop in 0..=255u8 {
                    for fill in [b'a', 0x7f, 0x80, 0xff, b' ', b'!'] {
                        let mut bytes = vec![fill; len];
                        bytes[at] = stop;
                        assert_eq!(fast::plain_run(&bytes), naive(&bytes), "{bytes:?}");
                        if at + 1 < len {
                            bytes[at + 1] = 0;
                            assert_eq!(fast::plain_run(&bytes), naive(&bytes), "{bytes:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn borrowed_values_borrow_and_read_like_values() {
        let text = br#"{"s":"plain","e":"a\nb","n":-12.5e1,"i":7,"a":[true,null],"o":{}}"#;
        let v = BorrowedValue::parse(text).unwrap();
        assert!(matches!(
            v["s"],
            BorrowedValue::String(Cow::Borrowed("plain"))
        ));
        assert!(matches!(&v["e"], BorrowedValue::String(Cow::Owned(s)) if s == "a\nb"));
        assert_eq!(v["n"].as_f64(), Some(-125.0));
        assert_eq!(v["i"].as_u64(), Some(7));
        assert_eq!(v["n"].as_u64(), None);
        assert_eq!(v["a"].as_array().map(<[_]>::len), Some(2));
        assert!(v["a"].as_array().unwrap()[1].is_null());
        assert!(v["o"].as_object().unwrap().is_empty());
        assert!(v["missing"].is_null());
        assert!(v["s"]["deeper"].is_null());
        let keys: Vec<&str> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["s", "e", "n", "i", "a", "o"], "document order");
        assert!(v.as_object().unwrap().contains_key("o"));
    }

    #[test]
    fn borrowed_objects_of_many_keys_refuse_duplicates() {
        for size in [2, 16, 17, 40, 1000] {
            let keys: Vec<String> = (0..size).map(|i| format!("\"k{i}\":{i}")).collect();
            let unique = format!("{{{}}}", keys.join(","));
            let parsed = BorrowedValue::parse(unique.as_bytes()).unwrap();
            assert_eq!(parsed.as_object().unwrap().len(), size);
            assert_eq!(parsed.to_value(), parse_strict(unique.as_bytes()).unwrap());
            // The last key again, and the first key last.
            for dup in [format!("\"k{}\":0", size - 1), "\"k0\":0".to_owned()] {
                let twice = format!("{{{},{dup}}}", keys.join(","));
                let err = BorrowedValue::parse(twice.as_bytes()).unwrap_err();
                assert_eq!(Err(err), parse_strict(twice.as_bytes()), "{size}");
            }
        }
    }

    #[test]
    fn direct_reader_agrees_with_serde_json() {
        let samples: &[&[u8]] = &[
            br#"{"iss":"https://spec.smarthealth.cards/examples/issuer","nbf":1620847989.123,"vc":{"type":["https://smarthealth.cards#health-card"],"credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Bundle","entry":[{"fullUrl":"resource:0","resource":{"name":[{"family":"Anyperson","given":["John","B."]}],"birthDate":"1951-01-20"}}]}}}}"#,
            br#" [ 0, -0, 1, -1, 12.5e3, 1E-7, -3.25, 123456789012345678, -123456789012345678, 1234567890123456789, 12345678901234567890, -9223372036854775808, 1e400, 18446744073709551616, true ,false,null ] "#,
            br#"{"s":"a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00 \u0000","k":"v","":{}}"#,
            b"{\"\xc3\xa9\":\"\xc3\xbc \xe2\x82\xac\"}",
            br#"{"lone":"\ud800","low":"\udc00x"}"#,
            br#"{"a":1,"a":2}"#,
            br#"{"a":[1,2,],"b":01}"#,
            b"{\"ctl\":\"a\x01b\"}",
            b"{\"bad\":\"\xff\"}",
            b"[1] x",
            b"[1]\n\t\r ",
            b"",
            b"  ",
            b"tru",
            b"-",
            b"1.",
            b".5",
            b"1e",
            b"1e+",
            b"+1",
            b"[-]",
            b"\"\\x\"",
            b"\"\\u12G4\"",
            b"{\"a\" 1}",
            b"{1:2}",
            b"[\"unterminated",
            b"\xef\xbb\xbf{}",
        ];
        for sample in samples {
            agrees(sample);
        }
        // Mutations: every byte replaced by a few telling ones, dropped, or the text cut.
        let replacements = b"\"\\/{}[],:-+.0159eEtfnu \n\x01\x7f\xc3";
        for sample in samples {
            for at in 0..sample.len() {
                for &r in replacements {
                    let mut bytes = sample.to_vec();
                    bytes[at] = r;
                    agrees(&bytes);
                }
                agrees(&sample[..at]);
                let mut dropped = sample.to_vec();
                dropped.remove(at);
                agrees(&dropped);
            }
        }
    }
}
