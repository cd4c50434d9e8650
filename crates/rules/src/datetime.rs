//! CertLogic date-times: parsing the allowed formats, `plusTime` offsets with the UTC calendar
//! arithmetic of JavaScript's `Date.setUTC*`, and `dccDateOfBirth`.
//!
//! A date-time is a count of milliseconds since 1970-01-01T00:00:00Z, as a JavaScript `Date`
//! holds it; the spec fixes every result to millisecond precision.

use std::fmt;

/// A CertLogic date-time: milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(i64);

/// The time units of `plusTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Calendar years (`setUTCFullYear`).
    Year,
    /// Calendar months (`setUTCMonth`).
    Month,
    /// Days of 24 hours (`setUTCDate`; UTC has no daylight saving).
    Day,
    /// Hours.
    Hour,
}

impl TimeUnit {
    /// The unit named by a `plusTime` operand.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "year" => Some(Self::Year),
            "month" => Some(Self::Month),
            "day" => Some(Self::Day),
            "hour" => Some(Self::Hour),
            _ => None,
        }
    }

    /// All unit names, in the spec's order.
    pub const NAMES: [&'static str; 4] = ["year", "month", "day", "hour"];
}

/// Why a string is not a CertLogic date-time. The string itself is not kept: it may be a date
/// of birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateTimeError {
    /// Not one of the formats the spec allows.
    #[error("not an allowed date or date-time format")]
    Format,
    /// The right shape, but no such date or time (month 13, 30 February, hour 25…).
    #[error("not a valid calendar date or time")]
    OutOfRange,
    /// The result lies outside the range of a JavaScript `Date` (±10^8 days from 1970).
    #[error("date-time out of range")]
    Overflow,
}

const MS_PER_DAY: i64 = 86_400_000;
const MS_PER_HOUR: i64 = 3_600_000;
/// ECMAScript's time value limit: 8.64e15 ms either side of the epoch.
const MAX_TIME: i64 = 8_640_000_000_000_000;

impl DateTime {
    /// From milliseconds since the epoch; `None` outside JavaScript's `Date` range.
    pub fn from_millis(ms: i64) -> Option<Self> {
        (-MAX_TIME..=MAX_TIME).contains(&ms).then_some(Self(ms))
    }

    /// Milliseconds since the epoch.
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// Parses a `plusTime` operand: `YYYY`, `YYYY-MM` (read as `dccDateOfBirth` reads them),
    /// `YYYY-MM-DD` (midnight UTC), or `YYYY-MM-DDThh:mm:ss[.f…][Z|±h|±hh|±hmm|±hhmm|±h:mm|±hh:mm]`
    /// with a missing offset meaning UTC and fractions truncated to milliseconds.
    pub fn parse(s: &str) -> Result<Self, DateTimeError> {
        let b = s.as_bytes();
        if b.len() <= 10 {
            return Self::parse_date_of_birth(s);
        }
        if b[10] != b'T' {
            return Err(DateTimeError::Format);
        }
        let (year, month, day) = parse_full_date(&b[..10])?;
        let time = &b[11..];
        if time.len() < 8 || time[2] != b':' || time[5] != b':' {
            return Err(DateTimeError::Format);
        }
        let hour = digits(&time[0..2])?;
        let minute = digits(&time[3..5])?;
        let second = digits(&time[6..8])?;
        let mut rest = &time[8..];
        let mut millis = 0;
        if let Some(fraction) = rest.strip_prefix(b".") {
            let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return Err(DateTimeError::Format);
            }
            // Truncate to milliseconds: "rounding down", as the spec says.
            for (i, &c) in fraction[..n].iter().take(3).enumerate() {
                millis += i64::from(c - b'0') * [100, 10, 1][i];
            }
            rest = &fraction[n..];
        }
        let offset_minutes = parse_offset(rest)?;
        if hour > 23 || minute > 59 || second > 59 {
            return Err(DateTimeError::OutOfRange);
        }
        let days = days_from_civil(year, month, day);
        let ms = days * MS_PER_DAY + (hour * 60 + minute - offset_minutes) * 60_000 + second * 1000;
        Self::from_millis(ms + millis).ok_or(DateTimeError::Overflow)
    }

    /// `dccDateOfBirth`: `YYYY` → 31 December, `YYYY-MM` → the last day of that month,
    /// `YYYY-MM-DD` → that day; always midnight UTC ("the last date consistent with the data").
    pub fn parse_date_of_birth(s: &str) -> Result<Self, DateTimeError> {
        let b = s.as_bytes();
        let (year, month, day) = match b.len() {
            4 => (digits(b)?, 12, 31),
            7 if b[4] == b'-' => {
                let (year, month) = (digits(&b[..4])?, digits(&b[5..])?);
                if !(1..=12).contains(&month) {
                    return Err(DateTimeError::OutOfRange);
                }
                (year, month, days_in_month(year, month))
            }
            10 => parse_full_date(b)?,
            _ => return Err(DateTimeError::Format),
        };
        let days = days_from_civil(year, month, day);
        Self::from_millis(days * MS_PER_DAY).ok_or(DateTimeError::Overflow)
    }

    /// `plusTime`: adds `amount` units the way `date.setUTC<Unit>(date.getUTC<Unit>() + amount)`
    /// does. Months and years keep the day of the month and let it overflow into the next
    /// month: 2020-02-29 + 1 year = 2021-03-01, 2020-01-31 + 1 month = 2020-03-02.
    pub fn plus(self, amount: i64, unit: TimeUnit) -> Result<Self, DateTimeError> {
        let overflow = || DateTimeError::Overflow;
        let ms = match unit {
            TimeUnit::Hour => amount
                .checked_mul(MS_PER_HOUR)
                .and_then(|d| self.0.checked_add(d))
                .ok_or_else(overflow)?,
            TimeUnit::Day => amount
                .checked_mul(MS_PER_DAY)
                .and_then(|d| self.0.checked_add(d))
                .ok_or_else(overflow)?,
            TimeUnit::Month | TimeUnit::Year => {
                let days = self.0.div_euclid(MS_PER_DAY);
                let time_of_day = self.0.rem_euclid(MS_PER_DAY);
                let (year, month, day) = civil_from_days(days);
                let months = if unit == TimeUnit::Year {
                    amount.checked_mul(12).ok_or_else(overflow)?
                } else {
                    amount
                };
                let total = (year * 12 + month - 1)
                    .checked_add(months)
                    .ok_or_else(overflow)?;
                let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
                if year.abs() > 400_000 {
                    return Err(overflow());
                }
                (days_from_civil(year, month, 1) + day - 1) * MS_PER_DAY + time_of_day
            }
        };
        Self::from_millis(ms).ok_or_else(overflow)
    }
}

impl fmt::Display for DateTime {
    /// `YYYY-MM-DDThh:mm:ss.sssZ`, as JavaScript's `Date.toISOString` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms = self.0.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let (h, m, s, milli) = (
            ms / MS_PER_HOUR,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000,
        );
        if (0..=9999).contains(&year) {
            write!(f, "{year:04}")?;
        } else {
            write!(f, "{}{:06}", if year < 0 { '-' } else { '+' }, year.abs())?;
        }
        write!(f, "-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
    }
}

/// `YYYY-MM-DD` with the day checked against the month.
fn parse_full_date(b: &[u8]) -> Result<(i64, i64, i64), DateTimeError> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(DateTimeError::Format);
    }
    let (year, month, day) = (digits(&b[..4])?, digits(&b[5..7])?, digits(&b[8..])?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(DateTimeError::OutOfRange);
    }
    Ok((year, month, day))
}

/// The offset after the seconds: empty or `Z` (UTC), or `±h`, `±hh`, `±hmm`, `±hhmm`,
/// `±h:mm`, `±hh:mm`. Returns minutes east of UTC.
fn parse_offset(b: &[u8]) -> Result<i64, DateTimeError> {
    let sign = match b.first() {
        None => return Ok(0),
        Some(b'Z') if b.len() == 1 => return Ok(0),
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(DateTimeError::Format),
    };
    let rest = &b[1..];
    let (hours, minutes): (&[u8], &[u8]) = match rest.len() {
        1 | 2 => (rest, b""),
        3 | 4 if rest[1] != b':' && rest.get(2) != Some(&b':') => rest.split_at(rest.len() - 2),
        4 if rest[1] == b':' => (&rest[..1], &rest[2..]),
        5 if rest[2] == b':' => (&rest[..2], &rest[3..]),
        _ => return Err(DateTimeError::Format),
    };
    let hours = digits(hours)?;
    let minutes = if minutes.is_empty() {
        0
    } else {
        digits(minutes)?
    };
    if hours > 23 || minutes > 59 {
        return Err(DateTimeError::OutOfRange);
    }
    Ok(sign * (hours * 60 + minutes))
}

fn digits(b: &[u8]) -> Result<i64, DateTimeError> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return Err(DateTimeError::Format);
    }
    Ok(b.iter().fold(0, |n, &c| n * 10 + i64::from(c - b'0')))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm); the day may
/// exceed the month's length, which rolls over as `Date.UTC` does.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`] for in-range days.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> String {
        DateTime::parse(s).unwrap().to_string()
    }

    #[test]
    fn formats_of_the_spec() {
        assert_eq!(at("2021"), "2021-12-31T00:00:00.000Z");
        assert_eq!(at("2024-02"), "2024-02-29T00:00:00.000Z");
        assert_eq!(at("2023-02"), "2023-02-28T00:00:00.000Z");
        assert_eq!(at("2021-06-01"), "2021-06-01T00:00:00.000Z");
        assert_eq!(at("2021-06-01T10:20:30"), "2021-06-01T10:20:30.000Z");
        assert_eq!(at("2021-06-01T10:20:30Z"), "2021-06-01T10:20:30.000Z");
        assert_eq!(at("2021-06-01T10:20:30+2"), "2021-06-01T08:20:30.000Z");
        assert_eq!(at("2021-06-01T10:20:30-02"), "2021-06-01T12:20:30.000Z");
        assert_eq!(at("2021-06-01T10:20:30+130"), "2021-06-01T08:50:30.000Z");
        assert_eq!(at("2021-06-01T10:20:30+0130"), "2021-06-01T08:50:30.000Z");
        assert_eq!(at("2021-06-01T10:20:30+1:30"), "2021-06-01T08:50:30.000Z");
        assert_eq!(at("2021-06-01T10:20:30+01:30"), "2021-06-01T08:50:30.000Z");
        assert_eq!(at("2021-06-01T10:20:30.1Z"), "2021-06-01T10:20:30.100Z");
        // Fractions beyond milliseconds are cut, never rounded up.
        assert_eq!(
            at("2021-06-01T10:20:30.123999+00:00"),
            "2021-06-01T10:20:30.123Z"
        );
        assert_eq!(at("2021-01-01T00:30:00+01:00"), "2020-12-31T23:30:00.000Z");
    }

    #[test]
    fn rejects_what_the_spec_does_not_allow() {
        for bad in [
            "",
            "21",
            "2021-6-01",
            "2021-06-01T",
            "2021-06-01 10:20:30",
            "2021-06-01T10:20",
            "2021-06-01T10:20:30.",
            "2021-06-01T10:20:30+",
            "2021-06-01T10:20:30+01:3",
            "2021-06-01T10:20:30+013:0",
            "2021-06-01T10:20:30z",
            "2021-06-01T10:20:30ZZ",
            "２０２１",
        ] {
            assert_eq!(DateTime::parse(bad), Err(DateTimeError::Format), "{bad:?}");
        }
        for bad in [
            "2022-13",
            "2021-09-99",
            "2021-02-29",
            "2021-06-01T24:00:00",
            "2021-06-01T10:60:00",
        ] {
            assert_eq!(
                DateTime::parse(bad),
                Err(DateTimeError::OutOfRange),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn leap_days_as_the_spec_table_says() {
        let leap = DateTime::parse("2020-02-29").unwrap();
        assert_eq!(
            leap.plus(1, TimeUnit::Day).unwrap().to_string(),
            "2020-03-01T00:00:00.000Z"
        );
        assert_eq!(
            leap.plus(1, TimeUnit::Month).unwrap().to_string(),
            "2020-03-29T00:00:00.000Z"
        );
        assert_eq!(
            leap.plus(1, TimeUnit::Year).unwrap().to_string(),
            "2021-03-01T00:00:00.000Z"
        );
        assert_eq!(
            leap.plus(4, TimeUnit::Year).unwrap().to_string(),
            "2024-02-29T00:00:00.000Z"
        );
        let jan31 = DateTime::parse("2021-01-31T12:00:00Z").unwrap();
        assert_eq!(
            jan31.plus(1, TimeUnit::Month).unwrap().to_string(),
            "2021-03-03T12:00:00.000Z"
        );
        assert_eq!(
            jan31.plus(-2, TimeUnit::Month).unwrap().to_string(),
            "2020-12-01T12:00:00.000Z"
        );
        assert_eq!(
            jan31.plus(-25, TimeUnit::Hour).unwrap().to_string(),
            "2021-01-30T11:00:00.000Z"
        );
    }

    #[test]
    fn huge_amounts_are_errors_not_panics() {
        let t = DateTime::parse("2021-01-01").unwrap();
        for unit in [
            TimeUnit::Year,
            TimeUnit::Month,
            TimeUnit::Day,
            TimeUnit::Hour,
        ] {
            assert_eq!(t.plus(i64::MAX, unit), Err(DateTimeError::Overflow));
            assert_eq!(t.plus(i64::MIN, unit), Err(DateTimeError::Overflow));
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Years 1000–9999: the range where both printers use four-digit years.
    const RANGE: std::ops::Range<i64> = -30_610_224_000_000..253_402_300_799_999;

    proptest! {
        /// Our calendar agrees with jiff's (an independent implementation) on every instant.
        #[test]
        fn printing_agrees_with_jiff(ms in RANGE) {
            let ours = DateTime::from_millis(ms).unwrap().to_string();
            let jiff = jiff::Timestamp::from_millisecond(ms).unwrap();
            prop_assert_eq!(&ours, &jiff.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string());
            prop_assert_eq!(DateTime::parse(&ours), Ok(DateTime::from_millis(ms).unwrap()));
        }

        /// Days and hours are fixed lengths in UTC; months and years keep the time of day and,
        /// when the day exists in the target month, the day of the month.
        #[test]
        fn offsets(ms in RANGE, amount in -5000i64..5000) {
            let t = DateTime::from_millis(ms).unwrap();
            prop_assert_eq!(t.plus(amount, TimeUnit::Day).unwrap().as_millis(), ms + amount * MS_PER_DAY);
            prop_assert_eq!(t.plus(amount, TimeUnit::Hour).unwrap().as_millis(), ms + amount * MS_PER_HOUR);
            let months = amount % 1200;
            let moved = t.plus(months, TimeUnit::Month).unwrap();
            prop_assert_eq!(moved.as_millis().rem_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY));
            let (_, _, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
            if day <= 28 {
                let (_, _, moved_day) = civil_from_days(moved.as_millis().div_euclid(MS_PER_DAY));
                prop_assert_eq!(moved_day, day);
                let back = moved.plus(-months, TimeUnit::Month).unwrap();
                prop_assert_eq!(back, t);
            }
            prop_assert_eq!(t.plus(months / 12, TimeUnit::Year).ok(), t.plus(months / 12 * 12, TimeUnit::Month).ok());
        }
    }
}
