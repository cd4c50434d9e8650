//! The common credential model: who the holder is and what happened (vaccinations, tests,
//! recoveries), the same whatever format carried it. Close to the WHO DDCC core data set.
//!
//! Every format maps into a [`Credential`] ([`from_dcc`], [`from_ddcc`], [`from_shc_bundle`],
//! [`from_vds`]), so display and rules never depend on the format. Rules written for the EU
//! DCC read the [`Credential::dcc_view`] of any credential. Values are kept as the issuer gave
//! them (a birth date may be `YYYY`, `YYYY-MM` or `YYYY-MM-DD`); event dates are cut to
//! `YYYY-MM-DD`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod countries;
mod dcc_view;
mod fhir;
mod map;

pub use map::{from_dcc, from_ddcc, from_divoc, from_shc_bundle, from_vds};

/// ISO 3166-1 alpha-2 from an alpha-2 or alpha-3 code (`AUS` → `AU`); `None` for anything
/// else.
pub fn country_alpha2(code: &str) -> Option<String> {
    match code.len() {
        2 if code.bytes().all(|b| b.is_ascii_alphabetic()) => Some(code.to_ascii_uppercase()),
        3 => countries::alpha3_to_alpha2(&code.to_ascii_uppercase()).map(str::to_owned),
        _ => None,
    }
}

use serde::Serialize;

/// One person's health credential.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Credential {
    /// The holder.
    pub holder: Holder,
    /// What happened, in the order the certificate lists it.
    pub events: Vec<Event>,
}

/// The holder, as the certificate names them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Holder {
    /// The name as one text (given names, then family names).
    pub name: Option<String>,
    /// Date of birth as given: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub birth_date: Option<String>,
}

/// What kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// A vaccine dose.
    Vaccination,
    /// A test.
    Test,
    /// Recovery from the disease.
    Recovery,
}

/// One vaccination, test or recovery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// What kind of event.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When: the dose, the sample collection, or the first positive test (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// Which dose this is (vaccinations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose: Option<u32>,
    /// How many doses the series has (vaccinations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doses_total: Option<u32>,
    /// The vaccine product or test device, as coded by the issuer (EU product code, CVX,
    /// ICD-11, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The product's name, where the certificate gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// The code system of `product` (`http://hl7.org/fhir/sid/cvx`, …), where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_system: Option<String>,
    /// The disease or agent targeted (SNOMED CT `840539006` or ICD-11 `RA01.0` for COVID-19).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disease: Option<String>,
    /// Where it happened (ISO 3166-1, alpha-2 or alpha-3 as the certificate has it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The full date-time as given, when it has a time of day (a test's sample collection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// A test's result: `negative` or `positive` (else the issuer's code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// A test's type (EU `LP6464-4` NAAT / `LP217198-3` RAT, LOINC, or ICAO `molecular(PCR)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_type: Option<String>,
    /// A recovery certificate's validity (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// A recovery certificate's validity (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// The issuer or administering organisation, where the certificate names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The certificate or event identifier (UVCI, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<String>,
}

impl Event {
    /// An event of this type with nothing else known.
    pub fn new(event_type: EventType) -> Self {
        Self {
            event_type,
            date: None,
            time: None,
            dose: None,
            doses_total: None,
            product: None,
            product_name: None,
            product_system: None,
            disease: None,
            country: None,
            result: None,
            test_type: None,
            valid_from: None,
            valid_until: None,
            issuer: None,
            certificate_id: None,
        }
    }
}

/// The `YYYY-MM-DD` part of a date or date-time, if it has one.
pub fn date_part(text: &str) -> Option<String> {
    let date = text.get(..10)?;
    let ok = date.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        _ => b.is_ascii_digit(),
    });
    ok.then(|| date.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_part_cuts_date_times_and_refuses_partial_dates() {
        assert_eq!(
            date_part("2021-03-03T04:28:43.134Z").as_deref(),
            Some("2021-03-03")
        );
        assert_eq!(date_part("2021-03-03").as_deref(), Some("2021-03-03"));
        assert_eq!(date_part("2021-03"), None);
        assert_eq!(date_part("2021/03/03"), None);
    }
}
