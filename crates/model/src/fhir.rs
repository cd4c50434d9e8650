//! The common model as a FHIR R4 `Bundle` (type `collection`): one `Patient`, an
//! `Immunization` per vaccination and an `Observation` per test or recovery (the positive
//! test it rests on), linked by `resource:N` references as SMART Health Cards and WHO's DDCC
//! mappings do. A health record system can take it as it is.

use serde_json::{Value, json};

use crate::{Credential, EventType};

/// SNOMED CT.
const SNOMED: &str = "http://snomed.info/sct";
/// LOINC.
const LOINC: &str = "http://loinc.org";

impl Credential {
    /// The credential as a FHIR R4 Bundle.
    pub fn to_fhir_bundle(&self) -> Value {
        let mut patient = json!({"resourceType": "Patient"});
        if let Some(name) = &self.holder.name {
            patient["name"] = json!([{"text": name}]);
        }
        if let Some(birth_date) = &self.holder.birth_date {
            patient["birthDate"] = json!(birth_date);
        }
        let mut entries = vec![json!({"fullUrl": "resource:0", "resource": patient})];
        for event in &self.events {
            let resource = match event.event_type {
                EventType::Vaccination => {
                    let mut r = json!({
                        "resourceType": "Immunization",
                        "status": "completed",
                        "patient": {"reference": "resource:0"},
                    });
                    let mut coding = json!({});
                    if let Some(system) = &event.product_system {
                        coding["system"] = json!(system);
                    }
                    if let Some(code) = &event.product {
                        coding["code"] = json!(code);
                    }
                    let mut vaccine_code = json!({"coding": [coding]});
                    if let Some(name) = &event.product_name {
                        vaccine_code["text"] = json!(name);
                    }
                    r["vaccineCode"] = vaccine_code;
                    if let Some(date) = &event.date {
                        r["occurrenceDateTime"] = json!(date);
                    }
                    let mut protocol = json!({});
                    if let Some(disease) = &event.disease {
                        protocol["targetDisease"] = json!([{"coding": [disease_coding(disease)]}]);
                    }
                    if let Some(dose) = event.dose {
                        protocol["doseNumberPositiveInt"] = json!(dose);
                    }
                    if let Some(total) = event.doses_total {
                        protocol["seriesDosesPositiveInt"] = json!(total);
                    }
                    if protocol.as_object().is_some_and(|p| !p.is_empty()) {
                        r["protocolApplied"] = json!([protocol]);
                    }
                    if let Some(issuer) = &event.issuer {
                        r["performer"] = json!([{"actor": {"display": issuer}}]);
                    }
                    r
                }
                EventType::Test | EventType::Recovery => {
                    let mut r = json!({
                        "resourceType": "Observation",
                        "status": "final",
                        "subject": {"reference": "resource:0"},
                    });
                    r["code"] = match &event.test_type {
                        Some(code)
                            if code.contains('-')
                                && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
                        {
                            json!({"coding": [{"system": LOINC, "code": code}]})
                        }
                        Some(text) => json!({"text": text}),
                        None if event.event_type == EventType::Recovery => {
                            json!({"text": "positive test the recovery rests on"})
                        }
                        None => json!({"text": "test"}),
                    };
                    if let Some(time) = event.time.as_ref().or(event.date.as_ref()) {
                        r["effectiveDateTime"] = json!(time);
                    }
                    let result = match event.event_type {
                        EventType::Recovery => Some("positive"),
                        _ => event.result.as_deref(),
                    };
                    r["valueCodeableConcept"] = match result {
                        Some("negative") => {
                            json!({"coding": [{"system": SNOMED, "code": "260385009"}]})
                        }
                        Some("positive") => {
                            json!({"coding": [{"system": SNOMED, "code": "10828004"}]})
                        }
                        Some(other) => json!({"text": other}),
                        None => json!({"text": "unknown"}),
                    };
                    if let Some(issuer) = &event.issuer {
                        r["performer"] = json!([{"display": issuer}]);
                    }
                    r
                }
            };
            let url = format!("resource:{}", entries.len());
            entries.push(json!({"fullUrl": url, "resource": resource}));
        }
        json!({"resourceType": "Bundle", "type": "collection", "entry": entries})
    }
}

fn disease_coding(code: &str) -> Value {
    if code.starts_with("RA") || code.starts_with("XN") {
        json!({"system": "http://id.who.int/icd/release/11/mms", "code": code})
    } else {
        json!({"system": SNOMED, "code": code})
    }
}

#[cfg(test)]
mod tests {
    use crate::{Credential, Event, EventType, Holder};

    #[test]
    fn bundle_has_patient_and_one_resource_per_event() {
        let mut v = Event::new(EventType::Vaccination);
        v.date = Some("2021-05-27".into());
        v.dose = Some(2);
        v.doses_total = Some(2);
        v.product = Some("EU/1/20/1528".into());
        v.disease = Some("840539006".into());
        let mut t = Event::new(EventType::Test);
        t.date = Some("2021-06-01".into());
        t.result = Some("negative".into());
        t.test_type = Some("LP6464-4".into());
        let credential = Credential {
            holder: Holder {
                name: Some("Monika Fellhauer".into()),
                birth_date: Some("1984-02-24".into()),
            },
            events: vec![v, t],
        };
        let bundle = credential.to_fhir_bundle();
        let entries = bundle["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0]["resource"]["birthDate"], "1984-02-24");
        let imm = &entries[1]["resource"];
        assert_eq!(imm["resourceType"], "Immunization");
        assert_eq!(imm["occurrenceDateTime"], "2021-05-27");
        assert_eq!(imm["protocolApplied"][0]["doseNumberPositiveInt"], 2);
        assert_eq!(imm["patient"]["reference"], "resource:0");
        let obs = &entries[2]["resource"];
        assert_eq!(obs["resourceType"], "Observation");
        assert_eq!(
            obs["valueCodeableConcept"]["coding"][0]["code"],
            "260385009"
        );
        // And back: the SMART mapping reads what this writes (dates, doses by date order).
        let back = crate::from_shc_bundle(&bundle);
        assert_eq!(back.holder, credential.holder);
        assert_eq!(back.events[0].date, credential.events[0].date);
        assert_eq!(back.events[1].result.as_deref(), Some("negative"));
    }
}
