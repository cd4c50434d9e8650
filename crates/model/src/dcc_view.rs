//! Any credential as an EU DCC payload, so that CertLogic rules written for the EU DCC (every
//! country's published rules) decide on SMART Health Cards, ICAO seals and DDCC too.
//!
//! A DCC holds one event; the view holds the credential's latest. Codes are translated where
//! the meaning is the same (CVX and ICAO brand names to EU product codes, ICD-11 COVID-19 to
//! SNOMED CT, alpha-3 to alpha-2 countries, result words to SNOMED CT); what has no
//! equivalent is left out, so a rule that needs it cannot pass on a guess.

use serde_json::{Map, Value, json};

use crate::{Credential, Event, EventType};

/// The DCC schema version the view claims.
pub const VIEW_SCHEMA_VERSION: &str = "1.3.0";

/// SNOMED CT: COVID-19.
const COVID_19: &str = "840539006";

impl Credential {
    /// The credential's latest event as an EU DCC payload, with the event's type; `None` when
    /// it has no event.
    pub fn dcc_view(&self) -> Option<(Value, EventType)> {
        let latest = self
            .events
            .iter()
            .enumerate()
            .max_by(|(i, a), (j, b)| (&a.date, i).cmp(&(&b.date, j)))
            .map(|(_, e)| e)?;
        let mut dcc = Map::new();
        dcc.insert("ver".into(), VIEW_SCHEMA_VERSION.into());
        let mut nam = Map::new();
        if let Some(name) = &self.holder.name {
            nam.insert("fn".into(), name.as_str().into());
            nam.insert("fnt".into(), transliterate(name).into());
        }
        dcc.insert("nam".into(), nam.into());
        if let Some(dob) = &self.holder.birth_date {
            dcc.insert("dob".into(), dob.as_str().into());
        }
        let (key, entry) = match latest.event_type {
            EventType::Vaccination => ("v", vaccination(latest, self)),
            EventType::Test => ("t", test(latest)),
            EventType::Recovery => ("r", recovery(latest)),
        };
        dcc.insert(key.into(), json!([entry]));
        Some((Value::Object(dcc), latest.event_type))
    }
}

fn put(entry: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        entry.insert(key.into(), value.into());
    }
}

fn common(e: &Event, entry: &mut Map<String, Value>) {
    put(entry, "tg", disease(e));
    put(entry, "co", e.country.as_deref().and_then(alpha2));
    put(entry, "is", e.issuer.clone());
    put(entry, "ci", e.certificate_id.clone());
}

fn vaccination(e: &Event, credential: &Credential) -> Value {
    let mut entry = Map::new();
    common(e, &mut entry);
    let product = eu_product(e);
    put(&mut entry, "mp", product);
    put(&mut entry, "dt", e.date.clone());
    // A card without a dose number (SMART cards carry none) counts its own vaccinations.
    let dose = e.dose.or_else(|| {
        u32::try_from(
            credential
                .events
                .iter()
                .filter(|o| o.event_type == EventType::Vaccination && o.date <= e.date)
                .count(),
        )
        .ok()
    });
    put(&mut entry, "dn", dose);
    // The series length only where the product fixes it (its primary course).
    put(
        &mut entry,
        "sd",
        e.doses_total.or_else(|| product.and_then(primary_course)),
    );
    Value::Object(entry)
}

fn test(e: &Event) -> Value {
    let mut entry = Map::new();
    common(e, &mut entry);
    put(&mut entry, "sc", e.time.clone().or_else(|| e.date.clone()));
    put(
        &mut entry,
        "tt",
        e.test_type.as_deref().and_then(eu_test_type),
    );
    put(
        &mut entry,
        "tr",
        match e.result.as_deref() {
            Some("negative") => Some("260415000"),
            Some("positive") => Some("260373001"),
            _ => None,
        },
    );
    Value::Object(entry)
}

fn recovery(e: &Event) -> Value {
    let mut entry = Map::new();
    common(e, &mut entry);
    put(&mut entry, "fr", e.date.clone());
    put(&mut entry, "df", e.valid_from.clone());
    put(&mut entry, "du", e.valid_until.clone());
    Value::Object(entry)
}

/// SNOMED CT for COVID-19 from the codes formats use for it (ICD-11 `RA01.0`/`RA01`, SNOMED);
/// others pass through. A COVID-19 vaccine product with no disease given targets COVID-19.
fn disease(e: &Event) -> Option<String> {
    match e.disease.as_deref() {
        Some("RA01.0" | "RA01" | "RA01.1" | COVID_19) => Some(COVID_19.to_owned()),
        Some(other) => Some(other.to_owned()),
        None if eu_product(e).is_some() || e.product.as_deref() == Some("XM68M6") => {
            Some(COVID_19.to_owned())
        }
        None => None,
    }
}

/// The EU product code (`mp`) of a vaccination: EU codes as they are, CVX codes and brand
/// names of the EU value set's products translated.
fn eu_product(e: &Event) -> Option<&'static str> {
    let from_cvx = |code: &str| match code {
        "208" | "217" | "218" | "219" | "300" | "301" | "308" => Some("EU/1/20/1528"),
        "207" | "221" | "228" | "229" | "230" | "302" | "311" | "312" => Some("EU/1/20/1507"),
        "210" => Some("EU/1/21/1529"),
        "212" => Some("EU/1/20/1525"),
        "211" | "313" => Some("EU/1/21/1618"),
        "510" => Some("BBIBP-CorV"),
        "511" => Some("CoronaVac"),
        "502" => Some("Covaxin"),
        _ => None,
    };
    if let Some(code) = e.product.as_deref() {
        if code.starts_with("EU/") {
            return EU_PRODUCTS.iter().copied().find(|p| *p == code);
        }
        if e.product_system.as_deref() == Some("http://hl7.org/fhir/sid/cvx")
            && let Some(p) = from_cvx(code)
        {
            return Some(p);
        }
    }
    let name = e.product_name.as_deref()?.to_lowercase();
    BRANDS
        .iter()
        .find(|(brand, _)| name.contains(brand))
        .map(|(_, code)| *code)
}

const EU_PRODUCTS: &[&str] = &[
    "EU/1/20/1528",
    "EU/1/20/1507",
    "EU/1/21/1529",
    "EU/1/20/1525",
    "EU/1/21/1618",
    "EU/1/21/1624",
    "EU/1/22/1709",
];

const BRANDS: &[(&str, &str)] = &[
    ("comirnaty", "EU/1/20/1528"),
    ("pfizer", "EU/1/20/1528"),
    ("spikevax", "EU/1/20/1507"),
    ("moderna", "EU/1/20/1507"),
    ("vaxzevria", "EU/1/21/1529"),
    ("astrazeneca", "EU/1/21/1529"),
    ("jcovden", "EU/1/20/1525"),
    ("janssen", "EU/1/20/1525"),
    ("nuvaxovid", "EU/1/21/1618"),
    ("novavax", "EU/1/21/1618"),
    ("covishield", "Covishield"),
    ("covaxin", "Covaxin"),
    ("coronavac", "CoronaVac"),
    ("bbibp", "BBIBP-CorV"),
    ("sputnik", "Sputnik-V"),
];

/// Doses in the primary course of a product, where it is fixed.
fn primary_course(product: &str) -> Option<u32> {
    match product {
        "EU/1/20/1525" => Some(1),
        "EU/1/20/1528" | "EU/1/20/1507" | "EU/1/21/1529" | "EU/1/21/1618" | "Covishield"
        | "Covaxin" | "CoronaVac" | "BBIBP-CorV" | "Sputnik-V" => Some(2),
        _ => None,
    }
}

/// EU test type from the words and codes other formats use.
fn eu_test_type(test_type: &str) -> Option<&'static str> {
    let t = test_type.to_lowercase();
    if t == "lp6464-4" || t.contains("molecular") || t.contains("pcr") || t.contains("naat") {
        Some("LP6464-4")
    } else if t == "lp217198-3" || t.contains("antigen") || t.contains("rat") {
        Some("LP217198-3")
    } else {
        // LOINC codes of SMART lab cards name the method in their own table.
        match test_type {
            "94500-6" | "94309-2" | "94533-7" | "94559-2" | "94306-8" => Some("LP6464-4"),
            "94558-4" | "95209-3" | "94534-5" | "97097-0" => Some("LP217198-3"),
            _ => None,
        }
    }
}

/// ICAO transliteration for `fnt`: upper case, Latin letters, `<` for everything else.
fn transliterate(name: &str) -> String {
    name.chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_uppercase() { c } else { '<' }
        })
        .collect()
}

fn alpha2(country: &str) -> Option<String> {
    crate::country_alpha2(country)
}
