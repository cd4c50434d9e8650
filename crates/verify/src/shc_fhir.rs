//! The FHIR rules a SMART Health Card's bundle must keep (spec "Health Cards are small", and
//! the SMART Health Cards Vaccination & Testing IG's data-minimisation profiles), as checked by
//! the official validator (health-cards-dev-tools).
//!
//! Two kinds of finding. **Errors** make the content unusable or wrong as a record of care: a
//! value FHIR forbids (an empty string, array or object), an Immunization whose `status` is not
//! `completed` (the IG fixes it; a dose `not-done` or `entered-in-error` must not count), an
//! Immunization without `occurrenceDateTime`, a `meta.security` entry that is not a Coding.
//! **Deviations** are only size or minimisation rules a verifier can read past: `fullUrl` and
//! references not in the short `resource:N` form, `Resource.id`, `meta` beyond `security`,
//! `text`, `Coding.display`, Patient elements outside the profile (gender, address, …).
//!
//! One pass over the bundle, no allocation unless something is found.

use healthpass_codec::json::{BorrowedValue, Members};

/// What the bundle breaks.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Findings {
    /// Make the card red (`schema_invalid`).
    pub errors: Vec<String>,
    /// Warnings only (`fhir_profile_deviation`).
    pub deviations: Vec<String>,
}

/// Where a finding is: a resource of the bundle, written only when something is found.
struct At<'a> {
    index: usize,
    kind: &'a str,
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bundle.entry[{}].resource ({})", self.index, self.kind)
    }
}

/// Patient elements the data-minimisation profile allows.
const PATIENT_ALLOWED: [&str; 4] = ["resourceType", "name", "birthDate", "meta"];

/// Checks `bundle` (`vc.credentialSubject.fhirBundle`).
pub(crate) fn check(bundle: &BorrowedValue) -> Findings {
    let mut findings = Findings::default();
    if has_empty(bundle) {
        empty_values(bundle, &mut String::from("Bundle"), &mut findings);
    }
    let Some(bundle) = bundle.as_object() else {
        findings
            .errors
            .push("the FHIR bundle is not an object".to_owned());
        return findings;
    };
    if bundle.contains_key("id") {
        findings
            .deviations
            .push("Bundle.id is not allowed in a health card".to_owned());
    }
    let entries = bundle.get("entry").and_then(BorrowedValue::as_array);
    let patients = entries
        .into_iter()
        .flatten()
        .filter(|e| {
            e.get("resource")
                .and_then(|r| r.get("resourceType"))
                .and_then(BorrowedValue::as_str)
                == Some("Patient")
        })
        .count();
    if patients > 1 {
        findings.errors.push(format!(
            "the bundle has {patients} Patient resources; a health card is about one person"
        ));
    }
    for (index, entry) in entries.into_iter().flatten().enumerate() {
        match entry.get("fullUrl").and_then(BorrowedValue::as_str) {
            Some(url) if is_short_reference(url) => {}
            Some(url) => findings.deviations.push(format!(
                "Bundle.entry[{index}].fullUrl {url:?} is not in the form resource:N"
            )),
            None => findings
                .deviations
                .push(format!("Bundle.entry[{index}] has no fullUrl (resource:N)")),
        }
        let Some(resource_value) = entry.get("resource") else {
            continue;
        };
        let Some(resource) = resource_value.as_object() else {
            continue;
        };
        let kind = resource
            .get("resourceType")
            .and_then(BorrowedValue::as_str)
            .unwrap_or("resource");
        let at = At { index, kind };
        resource_rules(resource, &at, &mut findings);
        minimisation(resource_value, &at, &mut findings);
    }
    findings
}

/// One warning's text for many deviations: the first few, and how many more.
pub(crate) fn summary(deviations: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = deviations[..deviations.len().min(SHOWN)].join("; ");
    if deviations.len() > SHOWN {
        use std::fmt::Write;
        let _ = write!(text, "; and {} more", deviations.len() - SHOWN);
    }
    text
}

/// FHIR R4 `dateTime`: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or a date with `Thh:mm:ss`, optional
/// fraction, and a zone (`Z` or `±hh:mm`).
fn is_fhir_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let date_len = match b.len() {
        4 => return digits(0..4),
        7 => return digits(0..4) && b[4] == b'-' && digits(5..7),
        _ => 10,
    };
    let date = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10);
    if !date || b.len() == date_len {
        return date && b.len() == date_len;
    }
    // Thh:mm:ss
    let time = b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19);
    if !time {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|d| d.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest {
        b"Z" => true,
        [sign, h1, h2, b':', m1, m2] => {
            matches!(sign, b'+' | b'-') && [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
        }
        _ => false,
    }
}

fn is_short_reference(text: &str) -> bool {
    text.strip_prefix("resource:")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn resource_rules(resource: &Members<'_>, at: &At<'_>, findings: &mut Findings) {
    if resource.contains_key("id") {
        findings
            .deviations
            .push(format!("{at}: Resource.id is not allowed in a health card"));
    }
    if resource.contains_key("text") {
        findings.deviations.push(format!(
            "{at}: DomainResource.text is not allowed in a health card"
        ));
    }
    if let Some(meta) = resource.get("meta") {
        meta_rules(meta, at, findings);
    }
    match at.kind {
        "Patient" => {
            for key in resource.keys() {
                if !PATIENT_ALLOWED.contains(&key) {
                    findings.deviations.push(format!(
                        "{at}: Patient.{key} is outside the data-minimisation profile"
                    ));
                }
            }
        }
        "Immunization" => {
            match resource.get("status").and_then(BorrowedValue::as_str) {
                Some("completed") => {}
                Some(other) => findings.errors.push(format!(
                    "{at}: status {other:?}; a health card's immunizations are \"completed\""
                )),
                None => findings.errors.push(format!("{at}: no status")),
            }
            if resource.contains_key("occurrenceString") {
                findings.errors.push(format!(
                    "{at}: occurrenceString; the date of a dose is an occurrenceDateTime"
                ));
            }
            match resource.get("occurrenceDateTime") {
                Some(BorrowedValue::String(date)) if is_fhir_date_time(date) => {}
                Some(other) => findings.errors.push(format!(
                    "{at}: occurrenceDateTime {other} is not a FHIR dateTime (YYYY-MM-DD…)"
                )),
                None => findings.errors.push(format!("{at}: no occurrenceDateTime")),
            }
            let codings = resource
                .get("vaccineCode")
                .and_then(|c| c.get("coding"))
                .and_then(BorrowedValue::as_array);
            for (index, coding) in codings.into_iter().flatten().enumerate() {
                if coding.get("code").and_then(BorrowedValue::as_str).is_none() {
                    findings
                        .errors
                        .push(format!("{at}: vaccineCode.coding[{index}] has no code"));
                }
            }
        }
        _ => {}
    }
}

fn meta_rules(meta: &BorrowedValue, at: &At<'_>, findings: &mut Findings) {
    let Some(meta) = meta.as_object() else {
        findings.deviations.push(format!(
            "{at}: meta is not an object; only meta.security is allowed"
        ));
        return;
    };
    for key in meta.keys().filter(|k| *k != "security") {
        findings.deviations.push(format!(
            "{at}: meta.{key} is not allowed (only meta.security)"
        ));
    }
    if let Some(security) = meta.get("security") {
        let codings = security.as_array().unwrap_or_default();
        let coding_keys = [
            "system",
            "version",
            "code",
            "display",
            "userSelected",
            "id",
            "extension",
        ];
        let valid = security.is_array()
            && codings.iter().all(|c| {
                c.as_object().is_some_and(|c| {
                    c.contains_key("code") && c.keys().all(|k| coding_keys.contains(&k))
                })
            });
        if !valid {
            findings.errors.push(format!(
                "{at}: meta.security must be an array of Codings with a code"
            ));
        }
    }
}

/// `text` of CodeableConcepts, `display` of Codings and references not `resource:N`,
/// anywhere in a resource.
fn minimisation(value: &BorrowedValue, at: &At<'_>, findings: &mut Findings) {
    match value {
        BorrowedValue::Object(map) => {
            if map.contains_key("coding") && map.contains_key("text") {
                findings.deviations.push(format!(
                    "{at}: CodeableConcept.text is not allowed in a health card"
                ));
            }
            if let Some(BorrowedValue::String(reference)) = map.get("reference")
                && !is_short_reference(reference)
            {
                findings.deviations.push(format!(
                    "{at}: reference {reference:?} is not in the form resource:N"
                ));
            }
            for (key, child) in map {
                if key == "coding"
                    && let BorrowedValue::Array(codings) = child
                    && codings.iter().any(|c| c.get("display").is_some())
                {
                    findings.deviations.push(format!(
                        "{at}: Coding.display is not allowed in a health card"
                    ));
                }
                if matches!(child, BorrowedValue::Object(_) | BorrowedValue::Array(_)) {
                    minimisation(child, at, findings);
                }
            }
        }
        BorrowedValue::Array(items) => {
            for item in items {
                minimisation(item, at, findings);
            }
        }
        _ => {}
    }
}

/// Whether any value is empty (the fast pass; [`empty_values`] says where).
fn has_empty(value: &BorrowedValue) -> bool {
    match value {
        BorrowedValue::String(s) => s.is_empty(),
        BorrowedValue::Array(a) => a.is_empty() || a.iter().any(has_empty),
        BorrowedValue::Object(o) => o.is_empty() || o.values().any(has_empty),
        _ => false,
    }
}

/// FHIR JSON forbids empty strings, arrays and objects (FHIR R4 JSON representation, 3.1:
/// "there SHALL be no empty elements").
fn empty_values(value: &BorrowedValue, path: &mut String, findings: &mut Findings) {
    let empty = match value {
        BorrowedValue::String(s) => s.is_empty(),
        BorrowedValue::Array(a) => a.is_empty(),
        BorrowedValue::Object(o) => o.is_empty(),
        _ => false,
    };
    if empty {
        findings
            .errors
            .push(format!("{} is empty; FHIR allows no empty values", path));
        return;
    }
    let len = path.len();
    match value {
        BorrowedValue::Object(map) => {
            for (key, child) in map {
                path.push('.');
                path.push_str(key);
                empty_values(child, path, findings);
                path.truncate(len);
            }
        }
        BorrowedValue::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                use std::fmt::Write;
                let _ = write!(path, "[{index}]");
                empty_values(item, path, findings);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn check(bundle: &Value) -> Findings {
        super::check(&BorrowedValue::from_value(bundle))
    }

    fn card_bundle() -> Value {
        json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "resource:0", "resource": {"resourceType": "Patient", "name": [{"family": "Anyperson", "given": ["John"]}], "birthDate": "1951-01-20"}},
            {"fullUrl": "resource:1", "resource": {"resourceType": "Immunization", "meta": {"security": [{"system": "https://smarthealth.cards/ial", "code": "IAL1.2"}]}, "status": "completed", "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "207"}]}, "patient": {"reference": "resource:0"}, "occurrenceDateTime": "2021-01-01", "performer": [{"actor": {"display": "ABC General Hospital"}}], "lotNumber": "0000001"}}
        ]})
    }

    #[test]
    fn fhir_date_times() {
        for good in [
            "2021",
            "2021-01",
            "2021-01-01",
            "2021-01-01T10:00:00Z",
            "2021-01-01T10:00:00.123+02:00",
        ] {
            assert!(is_fhir_date_time(good), "{good}");
        }
        for bad in [
            "01-01-2021",
            "2021-1-1",
            "21",
            "2021-01-01T10:00",
            "2021-01-01T10:00:00",
            "2021-01-01 ",
            "",
        ] {
            assert!(!is_fhir_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn a_profile_conformant_bundle_has_no_findings() {
        assert_eq!(check(&card_bundle()), Findings::default());
    }

    #[test]
    fn each_rule_is_found_with_its_kind() {
        let mut bundle = card_bundle();
        bundle["entry"][1]["resource"]["status"] = json!("not-done");
        assert_eq!(check(&bundle).errors.len(), 1, "{:?}", check(&bundle));
        assert!(check(&bundle).errors[0].contains("not-done"));

        let mut bundle = card_bundle();
        bundle["entry"][1]["resource"]["vaccineCode"]["coding"] = json!([]);
        let found = check(&bundle);
        assert_eq!(
            found.errors,
            ["Bundle.entry[1].resource.vaccineCode.coding is empty; FHIR allows no empty values"]
        );

        let mut bundle = card_bundle();
        bundle["entry"][1]["resource"]["meta"]["security"] = json!([{"badKey": "IAL1"}]);
        assert_eq!(check(&bundle).errors.len(), 1);

        let mut bundle = card_bundle();
        bundle["entry"][0]["resource"]["gender"] = json!("male");
        bundle["entry"][1]["resource"]["patient"]["reference"] = json!("Patient/resource:0");
        bundle["entry"][1]["fullUrl"] = json!("http://resource:1");
        bundle["entry"][1]["resource"]["vaccineCode"]["coding"][0]["display"] = json!("Moderna");
        let found = check(&bundle);
        assert!(found.errors.is_empty(), "{found:?}");
        assert_eq!(found.deviations.len(), 4, "{found:?}");
    }
}
