//! Strict JSON: what `serde_json` accepts, minus the ambiguities a signed document must not
//! have. A key that appears twice in one object is an error (a reader that keeps the first and
//! one that keeps the last would see different certificates under the same signature), and so
//! is anything after the value but whitespace.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
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
    if let Some(value) = fast::parse(bytes) {
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

/// The direct reader: strict JSON (serde_json's grammar) straight into a [`Value`]. It
/// answers `None` for anything it does not accept, and the caller asks serde_json, which
/// then gives the error (or reads what this reader leaves to it).
mod fast {
    use serde_json::{Map, Number, Value};

    use super::MAX_DEPTH;

    /// Gives up: serde_json decides.
    struct Bail;

    pub(super) fn parse(bytes: &[u8]) -> Option<Value> {
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

    impl Reader<'_> {
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
        fn value(&mut self, depth: usize) -> Result<Value, Bail> {
            self.skip_whitespace();
            match self.peek().ok_or(Bail)? {
                b'{' => self.object(depth),
                b'[' => self.array(depth),
                b'"' => Ok(Value::String(self.string()?)),
                b't' => self.literal(b"true", Value::Bool(true)),
                b'f' => self.literal(b"false", Value::Bool(false)),
                b'n' => self.literal(b"null", Value::Null),
                b'-' | b'0'..=b'9' => self.number(),
                _ => Err(Bail),
            }
        }

        fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, Bail> {
            if self.bytes[self.at..].starts_with(word) {
                self.at += word.len();
                Ok(value)
            } else {
                Err(Bail)
            }
        }

        fn object(&mut self, depth: usize) -> Result<Value, Bail> {
            if depth >= MAX_DEPTH {
                return Err(Bail);
            }
            self.at += 1;
            let mut object = Map::new();
            self.skip_whitespace();
            if self.peek() == Some(b'}') {
                self.at += 1;
                return Ok(Value::Object(object));
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
                if object.insert(key, value).is_some() {
                    // A duplicate key: serde_json's reader says which, and where.
                    return Err(Bail);
                }
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b'}') => {
                        self.at += 1;
                        return Ok(Value::Object(object));
                    }
                    _ => return Err(Bail),
                }
            }
        }

        fn array(&mut self, depth: usize) -> Result<Value, Bail> {
            if depth >= MAX_DEPTH {
                return Err(Bail);
            }
            self.at += 1;
            let mut items = Vec::new();
            self.skip_whitespace();
            if self.peek() == Some(b']') {
                self.at += 1;
                return Ok(Value::Array(items));
            }
            loop {
                items.push(self.value(depth + 1)?);
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b']') => {
                        self.at += 1;
                        return Ok(Value::Array(items));
                    }
                    _ => return Err(Bail),
                }
            }
        }

        /// A string at its `"`: plain runs are copied and the usual escapes decoded; control
        /// characters, unknown escapes and surrogate escapes are left to serde_json.
        fn string(&mut self) -> Result<String, Bail> {
            self.at += 1;
            // Runs between escapes start and end at ASCII bytes, so at character boundaries.
            let mut plain = self.at;
            let mut out = String::new();
            loop {
                match self.peek().ok_or(Bail)? {
                    b'"' => {
                        out.push_str(self.text.get(plain..self.at).ok_or(Bail)?);
                        self.at += 1;
                        return Ok(out);
                    }
                    b'\\' => {
                        out.push_str(self.text.get(plain..self.at).ok_or(Bail)?);
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
                        plain = self.at;
                    }
                    0..=0x1F => return Err(Bail),
                    _ => self.at += 1,
                }
            }
        }

        /// A number in JSON's grammar. Integers of up to 18 digits are converted here; every
        /// other number (fractions, exponents, `-0`, longer integers) by serde_json's own
        /// number reader, as on the serde path.
        fn number(&mut self) -> Result<Value, Bail> {
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
            let digits = &self.bytes[digits_start..digits_end];
            if integer && digits.len() <= 18 && !(negative && digits == b"0") {
                let magnitude = digits
                    .iter()
                    .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
                // serde_json reads a non-negative integer as u64, a negative one as i64.
                return Ok(if negative {
                    Value::from(-magnitude)
                } else {
                    Value::from(magnitude.unsigned_abs())
                });
            }
            let token = self.text.get(start..self.at).ok_or(Bail)?;
            let number: Number = token.parse().map_err(|_| Bail)?;
            Ok(Value::Number(number))
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
        if let Some(direct) = fast::parse(bytes) {
            assert_eq!(
                reference.as_ref(),
                Ok(&direct),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert_eq!(parse_strict(bytes), reference);
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
