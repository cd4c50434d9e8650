//! The EU Digital COVID Certificate payload (schema 1.0.0 to 1.3.3), typed.
//!
//! Decoding is lenient where real certificates need it (dates with a time part, partial dates
//! of birth, an optional `ver`, absent optional fields) and strict about structure: a field of
//! the wrong type is an error. Whether a payload *conforms* to its schema version is a separate
//! question, answered by the verifier's schema check.

use std::borrow::Cow;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use thiserror::Error;

/// The three kinds of EU DCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertificateType {
    /// `v`: vaccination.
    Vaccination,
    /// `t`: test.
    Test,
    /// `r`: recovery.
    Recovery,
}

impl CertificateType {
    /// The payload key (`v`, `t` or `r`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Vaccination => "v",
            Self::Test => "t",
            Self::Recovery => "r",
        }
    }
}

/// The entry groups a DCC payload carries (`v`, `t`, `r` with at least one element), in that
/// order. A valid certificate has exactly one; the verifier and the issuer both check key usage
/// against every group present.
pub fn entry_types(dcc: &Value) -> Vec<CertificateType> {
    [
        CertificateType::Vaccination,
        CertificateType::Test,
        CertificateType::Recovery,
    ]
    .into_iter()
    .filter(|ty| {
        dcc.get(ty.key())
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    })
    .collect()
}

/// A holder's name (`nam`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName<'a> {
    /// Surname(s) as written.
    #[serde(
        rename = "fn",
        default,
        borrow,
        skip_serializing_if = "Option::is_none"
    )]
    pub family_name: Option<Cow<'a, str>>,
    /// Surname(s), ICAO 9303 transliteration.
    #[serde(
        rename = "fnt",
        default,
        borrow,
        skip_serializing_if = "Option::is_none"
    )]
    pub family_name_standardised: Option<Cow<'a, str>>,
    /// Forename(s) as written.
    #[serde(
        rename = "gn",
        default,
        borrow,
        skip_serializing_if = "Option::is_none"
    )]
    pub given_name: Option<Cow<'a, str>>,
    /// Forename(s), ICAO 9303 transliteration.
    #[serde(
        rename = "gnt",
        default,
        borrow,
        skip_serializing_if = "Option::is_none"
    )]
    pub given_name_standardised: Option<Cow<'a, str>>,
}

/// A date that may lack its day, or its month and day (`dob`: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PartialDate {
    /// Year.
    pub year: i16,
    /// Month 1–12, if known.
    pub month: Option<i8>,
    /// Day of month, if known.
    pub day: Option<i8>,
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, ignoring a time part after the date.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.split(['T', ' ']).next().unwrap_or_default();
        let mut parts = text.split('-');
        let year: i16 = parse_digits(parts.next()?, 4)?;
        let month = match parts.next() {
            Some(m) => Some(parse_digits::<i8>(m, 2)?),
            None => None,
        };
        let day = match parts.next() {
            Some(d) => Some(parse_digits::<i8>(d, 2)?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        match (month, day) {
            (Some(m), Some(d)) => Date::new(year, m, d).ok().map(|_| ()),
            (Some(m), None) => (1..=12).contains(&m).then_some(()),
            (None, None) => Some(()),
            (None, Some(_)) => None,
        }?;
        Some(Self { year, month, day })
    }
}

impl std::fmt::Display for PartialDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

fn parse_digits<T: std::str::FromStr>(s: &str, len: usize) -> Option<T> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses a date, taking the leading `YYYY-MM-DD` and ignoring a time part
/// (`2021-05-29T00:00:00Z` is seen in real certificates).
pub fn parse_lenient_date(text: &str) -> Option<Date> {
    let head = text.get(..10)?;
    let rest = &text[10..];
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
        return None;
    }
    match PartialDate::parse(head)? {
        PartialDate {
            year,
            month: Some(m),
            day: Some(d),
        } => Date::new(year, m, d).ok(),
        _ => None,
    }
}

/// Parses an RFC 3339 date-time leniently: fractional seconds of any length, offsets as `Z`,
/// `+hh:mm` or `+hhmm`, and no offset at all (read as UTC).
pub fn parse_lenient_timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    // `+0200` → `+02:00`.
    if text.len() > 5 && text.is_char_boundary(text.len() - 5) {
        let (head, tail) = text.split_at(text.len() - 5);
        if (tail.starts_with('+') || tail.starts_with('-'))
            && tail[1..].bytes().all(|b| b.is_ascii_digit())
            && let Ok(ts) = format!("{head}{}:{}", &tail[..3], &tail[3..]).parse::<Timestamp>()
        {
            return Some(ts);
        }
    }
    // No offset: UTC.
    let civil: jiff::civil::DateTime = text.parse().ok()?;
    jiff::tz::Offset::UTC.to_timestamp(civil).ok()
}

fn lenient_date<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let text = <Cow<'de, str>>::deserialize(d)?;
    parse_lenient_date(&text)
        .ok_or_else(|| serde::de::Error::custom("a date field is not YYYY-MM-DD"))
}

fn lenient_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let text = <Cow<'de, str>>::deserialize(d)?;
    parse_lenient_timestamp(&text)
        .ok_or_else(|| serde::de::Error::custom("a date-time field is not RFC 3339"))
}

fn optional_lenient_timestamp<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Timestamp>, D::Error> {
    lenient_timestamp(d).map(Some)
}

/// A vaccination entry (`v`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vaccination<'a> {
    /// Disease or agent targeted.
    #[serde(borrow)]
    pub tg: Cow<'a, str>,
    /// Vaccine or prophylaxis.
    #[serde(borrow)]
    pub vp: Cow<'a, str>,
    /// Medicinal product.
    #[serde(borrow)]
    pub mp: Cow<'a, str>,
    /// Marketing authorisation holder or manufacturer.
    #[serde(borrow)]
    pub ma: Cow<'a, str>,
    /// Dose number.
    pub dn: u32,
    /// Total doses in the series.
    pub sd: u32,
    /// Date of vaccination.
    #[serde(deserialize_with = "lenient_date")]
    pub dt: Date,
    /// Country of vaccination.
    #[serde(borrow)]
    pub co: Cow<'a, str>,
    /// Certificate issuer.
    #[serde(borrow)]
    pub is: Cow<'a, str>,
    /// Unique certificate identifier (UVCI).
    #[serde(borrow)]
    pub ci: Cow<'a, str>,
}

/// A test entry (`t`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Test<'a> {
    /// Disease or agent targeted.
    #[serde(borrow)]
    pub tg: Cow<'a, str>,
    /// Type of test.
    #[serde(borrow)]
    pub tt: Cow<'a, str>,
    /// NAA test name.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub nm: Option<Cow<'a, str>>,
    /// RAT test device identifier.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub ma: Option<Cow<'a, str>>,
    /// Date and time of sample collection.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub sc: Timestamp,
    /// Date and time of the result (schema 1.0.x only).
    #[serde(
        default,
        deserialize_with = "optional_lenient_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub dr: Option<Timestamp>,
    /// Test result.
    #[serde(borrow)]
    pub tr: Cow<'a, str>,
    /// Testing centre.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub tc: Option<Cow<'a, str>>,
    /// Country of test.
    #[serde(borrow)]
    pub co: Cow<'a, str>,
    /// Certificate issuer.
    #[serde(borrow)]
    pub is: Cow<'a, str>,
    /// Unique certificate identifier (UVCI).
    #[serde(borrow)]
    pub ci: Cow<'a, str>,
}

/// A recovery entry (`r`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery<'a> {
    /// Disease or agent targeted.
    #[serde(borrow)]
    pub tg: Cow<'a, str>,
    /// Date of the first positive NAA test.
    #[serde(deserialize_with = "lenient_date")]
    pub fr: Date,
    /// Country of test.
    #[serde(borrow)]
    pub co: Cow<'a, str>,
    /// Certificate issuer.
    #[serde(borrow)]
    pub is: Cow<'a, str>,
    /// Certificate valid from.
    #[serde(deserialize_with = "lenient_date")]
    pub df: Date,
    /// Certificate valid until.
    #[serde(deserialize_with = "lenient_date")]
    pub du: Date,
    /// Unique certificate identifier (UVCI).
    #[serde(borrow)]
    pub ci: Cow<'a, str>,
}

/// One certificate entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Entry<'a> {
    /// A vaccination.
    Vaccination(Vaccination<'a>),
    /// A test.
    Test(Test<'a>),
    /// A recovery.
    Recovery(Recovery<'a>),
}

impl Entry<'_> {
    /// The entry's type.
    pub fn certificate_type(&self) -> CertificateType {
        match self {
            Self::Vaccination(_) => CertificateType::Vaccination,
            Self::Test(_) => CertificateType::Test,
            Self::Recovery(_) => CertificateType::Recovery,
        }
    }

    /// The unique certificate identifier (UVCI).
    pub fn certificate_id(&self) -> &str {
        match self {
            Self::Vaccination(v) => &v.ci,
            Self::Test(t) => &t.ci,
            Self::Recovery(r) => &r.ci,
        }
    }
}

#[derive(Deserialize)]
struct RawDcc<'a> {
    #[serde(default, borrow)]
    ver: Option<Cow<'a, str>>,
    #[serde(borrow)]
    nam: PersonName<'a>,
    #[serde(default, borrow)]
    dob: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    v: Vec<Vaccination<'a>>,
    #[serde(default, borrow)]
    t: Vec<Test<'a>>,
    #[serde(default, borrow)]
    r: Vec<Recovery<'a>>,
}

/// A decoded EU DCC payload. Its text borrows from the JSON value it was read from, so
/// reading one allocates little more than the entry list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigitalCovidCertificate<'a> {
    /// Schema version the issuer claims (`ver`); absent in a few real certificates.
    pub ver: Option<Cow<'a, str>>,
    /// The holder's name.
    pub nam: PersonName<'a>,
    /// The date of birth as written (may be partial or empty).
    pub dob: Option<Cow<'a, str>>,
    /// The entries in payload order: vaccinations, then tests, then recoveries.
    pub entries: Vec<Entry<'a>>,
}

/// Why a payload could not be read as a DCC.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// A field is missing or has the wrong type.
    #[error("the payload is not a DCC: {detail}")]
    Malformed {
        /// What serde reported.
        detail: String,
    },
    /// No vaccination, test or recovery entry.
    #[error("the certificate has no vaccination, test or recovery entry")]
    NoEntry,
    /// More than one entry (schema 1.3.0 allows exactly one).
    #[error("the certificate has {count} entries ({types}); exactly one is allowed")]
    MultipleEntries {
        /// How many.
        count: usize,
        /// Which groups, e.g. `v, t`.
        types: String,
    },
}

/// Replaces every quoted value in a message with `"…"`: serde quotes the offending value, and
/// payload values are personal data that must not reach reports or logs.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        if c == '"' {
            if inside {
                out.push_str("…\"");
            } else {
                out.push('"');
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

impl<'a> DigitalCovidCertificate<'a> {
    /// Reads a DCC from its JSON form.
    pub fn from_json(value: &'a Value) -> Result<Self, PayloadError> {
        let raw = RawDcc::deserialize(value).map_err(|e| PayloadError::Malformed {
            detail: redact_quoted(&e.to_string()),
        })?;
        let mut entries = Vec::with_capacity(1);
        entries.extend(raw.v.into_iter().map(Entry::Vaccination));
        entries.extend(raw.t.into_iter().map(Entry::Test));
        entries.extend(raw.r.into_iter().map(Entry::Recovery));
        Ok(Self {
            ver: raw.ver,
            nam: raw.nam,
            dob: raw.dob,
            entries,
        })
    }

    /// The single entry a valid certificate has; an error if there are none or several
    /// (HCERT requires exactly one, even for payloads of schema 1.0.x).
    pub fn single_entry(&self) -> Result<&Entry<'a>, PayloadError> {
        match self.entries.as_slice() {
            [one] => Ok(one),
            [] => Err(PayloadError::NoEntry),
            many => {
                let mut types: Vec<&str> =
                    many.iter().map(|e| e.certificate_type().key()).collect();
                types.dedup();
                Err(PayloadError::MultipleEntries {
                    count: many.len(),
                    types: types.join(", "),
                })
            }
        }
    }

    /// The date of birth, if it is a valid full or partial date.
    pub fn date_of_birth(&self) -> Option<PartialDate> {
        self.dob.as_deref().and_then(PartialDate::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_dates() {
        assert_eq!(
            parse_lenient_date("2021-05-29"),
            Some(jiff::civil::date(2021, 5, 29))
        );
        assert_eq!(
            parse_lenient_date("2021-05-29T00:00:00"),
            Some(jiff::civil::date(2021, 5, 29))
        );
        assert_eq!(
            parse_lenient_date("2021-05-29T00:00:00Z"),
            Some(jiff::civil::date(2021, 5, 29))
        );
        assert_eq!(parse_lenient_date("2021-02-30"), None);
        assert_eq!(parse_lenient_date("2021-05"), None);
        assert_eq!(parse_lenient_date("2021-05-29x"), None);
        let utc = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(
            parse_lenient_timestamp("2021-06-09T15:15:35+0200"),
            Some(utc("2021-06-09T13:15:35Z"))
        );
        assert_eq!(
            parse_lenient_timestamp("2021-05-17T18:21:22"),
            Some(utc("2021-05-17T18:21:22Z"))
        );
        assert_eq!(
            parse_lenient_timestamp("2021-06-27T16:07:53.816463+03:00"),
            Some(utc("2021-06-27T13:07:53.816463Z"))
        );
        assert_eq!(parse_lenient_timestamp("yesterday"), None);
        // Multi-byte characters where an offset would be must not split a character.
        assert_eq!(parse_lenient_timestamp("2021-05-01T10:00:00€€"), None);
        assert_eq!(parse_lenient_timestamp("€2021-05-01"), None);
        assert_eq!(parse_lenient_date("2021-05-0€"), None);
    }

    #[test]
    fn partial_dob() {
        assert_eq!(PartialDate::parse("1964").unwrap().to_string(), "1964");
        assert_eq!(
            PartialDate::parse("1964-08").unwrap().to_string(),
            "1964-08"
        );
        assert_eq!(
            PartialDate::parse("1964-08-01T00:00:00")
                .unwrap()
                .to_string(),
            "1964-08-01"
        );
        assert_eq!(PartialDate::parse("1964-13"), None);
        assert_eq!(PartialDate::parse(""), None);
    }

    #[test]
    fn typed_payload() {
        let value = json!({
            "ver": "1.3.0",
            "nam": {"fn": "Musterfrau", "fnt": "MUSTERFRAU", "gn": "Erika"},
            "dob": "1964-08",
            "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
                   "dn": 2, "sd": 2, "dt": "2021-05-29T00:00:00", "co": "AT", "is": "BMSGPK",
                   "ci": "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B"}]
        });
        let dcc = DigitalCovidCertificate::from_json(&value).unwrap();
        let entry = dcc.single_entry().unwrap();
        assert_eq!(entry.certificate_type(), CertificateType::Vaccination);
        assert_eq!(
            entry.certificate_id(),
            "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B"
        );
        assert_eq!(dcc.date_of_birth().unwrap().month, Some(8));
        let Entry::Vaccination(v) = entry else {
            unreachable!()
        };
        assert_eq!(v.dt, jiff::civil::date(2021, 5, 29));

        let mut two = value.clone();
        two["t"] = json!([{"tg": "840539006", "tt": "LP6464-4", "sc": "2021-05-01T10:00:00Z",
                           "tr": "260415000", "co": "AT", "is": "X", "ci": "Y"}]);
        let dcc = DigitalCovidCertificate::from_json(&two).unwrap();
        assert_eq!(
            dcc.single_entry(),
            Err(PayloadError::MultipleEntries {
                count: 2,
                types: "v, t".into()
            })
        );
        let mut wrong = value.clone();
        wrong["v"][0]["dn"] = json!("Erika Musterfrau");
        let Err(PayloadError::Malformed { detail }) = DigitalCovidCertificate::from_json(&wrong)
        else {
            panic!("a string dose number must not decode");
        };
        assert!(!detail.contains("Erika"), "values are not echoed: {detail}");
        let mut bad_date = value;
        bad_date["v"][0]["dt"] = json!("1964-13-45 secret");
        let err = DigitalCovidCertificate::from_json(&bad_date)
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("secret") && err.contains("not YYYY-MM-DD"),
            "{err}"
        );
    }
}
