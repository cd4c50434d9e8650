//! Each format's payload → [`Credential`].

use healthpass_codec::json::JsonRead;
use serde_json::Value;

use crate::{Credential, Event, EventType, Holder, date_part};

fn text<J: JsonRead>(value: &J, key: &str) -> Option<String> {
    text_ref(value, key).map(str::to_owned)
}

/// [`text`], borrowed.
fn text_ref<'a, J: JsonRead>(value: &'a J, key: &str) -> Option<&'a str> {
    value
        .member(key)
        .and_then(J::text)
        .filter(|s| !s.trim().is_empty())
}

/// A positive integer given as a number or as text (ICAO's `seq` is both in the field).
fn count(value: Option<&Value>) -> Option<u32> {
    match value? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// SNOMED CT codes of test results used by the EU DCC and SMART Health Cards.
fn result_word(code: &str) -> String {
    match code {
        "260415000" | "260385009" => "negative".to_owned(),
        "260373001" | "10828004" => "positive".to_owned(),
        other => other.to_lowercase(),
    }
}

fn join_name(given: Option<String>, family: Option<String>) -> Option<String> {
    match (given, family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (g, f) => g.or(f),
    }
}

/// EU DCC payload (`{ver, nam, dob, v|t|r}`).
pub fn from_dcc(dcc: &Value) -> Credential {
    let nam = dcc.get("nam").unwrap_or(&Value::Null);
    let name = join_name(
        text(nam, "gn").or_else(|| text(nam, "gnt")),
        text(nam, "fn").or_else(|| text(nam, "fnt")),
    );
    let mut events = Vec::new();
    let entries = |key: &str| {
        dcc.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for v in entries("v") {
        let mut e = Event::new(EventType::Vaccination);
        e.date = text(&v, "dt").as_deref().and_then(date_part);
        e.dose = count(v.get("dn"));
        e.doses_total = count(v.get("sd"));
        e.product = text(&v, "mp");
        e.disease = text(&v, "tg");
        e.country = text(&v, "co");
        e.issuer = text(&v, "is");
        e.certificate_id = text(&v, "ci");
        events.push(e);
    }
    for t in entries("t") {
        let mut e = Event::new(EventType::Test);
        e.date = text(&t, "sc").as_deref().and_then(date_part);
        e.time = text(&t, "sc").filter(|t| t.len() > 10);
        e.product = text(&t, "ma").or_else(|| text(&t, "nm"));
        e.disease = text(&t, "tg");
        e.country = text(&t, "co");
        e.result = text(&t, "tr").map(|c| result_word(&c));
        e.test_type = text(&t, "tt");
        e.issuer = text(&t, "is");
        e.certificate_id = text(&t, "ci");
        events.push(e);
    }
    for r in entries("r") {
        let mut e = Event::new(EventType::Recovery);
        e.date = text(&r, "fr").as_deref().and_then(date_part);
        e.disease = text(&r, "tg");
        e.country = text(&r, "co");
        e.valid_from = text(&r, "df").as_deref().and_then(date_part);
        e.valid_until = text(&r, "du").as_deref().and_then(date_part);
        e.issuer = text(&r, "is");
        e.certificate_id = text(&r, "ci");
        events.push(e);
    }
    Credential {
        holder: Holder {
            name,
            birth_date: text(dcc, "dob"),
        },
        events,
    }
}

/// A FHIR-style coding in the DDCC short form: `{code, system}` or a bare code.
fn code(value: Option<&Value>) -> (Option<String>, Option<String>) {
    match value {
        Some(Value::String(s)) => (Some(s.clone()), None),
        Some(v @ Value::Object(_)) => (text(v, "code"), text(v, "system")),
        _ => (None, None),
    }
}

/// WHO DDCC core data set in the short-name form of the reference QR codes and of HCERT
/// claim -260 keys 3 and 4 (`name`, `birthDate`, `vaccine`, `dose`, … or `test {…}`).
pub fn from_ddcc(ddcc: &Value) -> Credential {
    let mut events = Vec::new();
    if ddcc.get("vaccine").is_some() || ddcc.get("dose").is_some() {
        let mut e = Event::new(EventType::Vaccination);
        e.date = text(ddcc, "date").as_deref().and_then(date_part);
        e.dose = count(ddcc.get("dose"));
        e.doses_total = count(ddcc.get("total_doses"));
        (e.product, e.product_system) = code(ddcc.get("vaccine"));
        e.product_name = code(ddcc.get("brand")).0;
        e.disease = code(ddcc.get("disease")).0;
        e.country = code(ddcc.get("country")).0;
        e.valid_from = text(ddcc, "valid_from").as_deref().and_then(date_part);
        e.valid_until = text(ddcc, "valid_until").as_deref().and_then(date_part);
        e.issuer = text(ddcc, "pha");
        e.certificate_id = text(ddcc, "hcid");
        events.push(e);
    }
    if let Some(test) = ddcc.get("test").filter(|t| t.is_object()) {
        let mut e = Event::new(EventType::Test);
        e.date = text(test, "date").as_deref().and_then(date_part);
        e.time = text(test, "date").filter(|t| t.len() > 10);
        e.disease = code(test.get("pathogen")).0;
        e.test_type = code(test.get("type")).0;
        e.result = code(test.get("result")).0.map(|c| result_word(&c));
        e.product = code(test.get("brand")).0;
        e.country = code(test.get("country")).0;
        e.certificate_id = text(ddcc, "hcid");
        events.push(e);
    }
    Credential {
        holder: Holder {
            name: text(ddcc, "name"),
            birth_date: text(ddcc, "birthDate"),
        },
        events,
    }
}

/// The FHIR Bundle of a SMART Health Card: the Patient, each Immunization (a vaccination;
/// SMART cards carry no dose numbers, so doses are counted in date order) and each
/// Observation (a test).
pub fn from_shc_bundle<J: JsonRead>(bundle: &J) -> Credential {
    let entries = bundle
        .member("entry")
        .and_then(J::items)
        .unwrap_or_default();
    let of_type = |ty: &'static str| {
        entries
            .iter()
            .filter_map(|e| e.member("resource"))
            .filter(move |r| r.member("resourceType").and_then(J::text) == Some(ty))
    };
    let mut holder = Holder::default();
    if let Some(patient) = of_type("Patient").next() {
        let name = patient
            .member("name")
            .and_then(J::items)
            .and_then(|n| n.first());
        holder.name = name.and_then(|n| {
            text(n, "text").or_else(|| {
                let given: Vec<&str> = n
                    .member("given")
                    .and_then(J::items)
                    .into_iter()
                    .flatten()
                    .filter_map(J::text)
                    .collect();
                join_name(
                    (!given.is_empty()).then(|| given.join(" ")),
                    text(n, "family"),
                )
            })
        });
        holder.birth_date = text(patient, "birthDate");
    }
    let mut events: Vec<Event> = Vec::with_capacity(entries.len().saturating_sub(1));
    for r in of_type("Immunization")
        .filter(|r| r.member("status").and_then(J::text) != Some("entered-in-error"))
    {
        let mut e = Event::new(EventType::Vaccination);
        e.date = text_ref(r, "occurrenceDateTime").and_then(date_part);
        if let Some(coding) = path(r, &["vaccineCode", "coding", "0"]) {
            e.product = text(coding, "code");
            e.product_system = text(coding, "system");
        }
        e.issuer = path(r, &["performer", "0", "actor", "display"])
            .and_then(J::text)
            .map(str::to_owned);
        events.push(e);
    }
    // Dose numbers by date: the spec forbids protocolApplied, so this is all there is.
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|a, b| events[*a].date.cmp(&events[*b].date));
    for (dose, i) in order.into_iter().enumerate() {
        events[i].dose = u32::try_from(dose + 1).ok();
    }
    for r in of_type("Observation") {
        let mut e = Event::new(EventType::Test);
        let effective = text_ref(r, "effectiveDateTime");
        e.date = effective.and_then(date_part);
        e.time = effective.filter(|t| t.len() > 10).map(str::to_owned);
        e.test_type = path(r, &["code", "coding", "0", "code"])
            .and_then(J::text)
            .map(str::to_owned);
        e.result = path(r, &["valueCodeableConcept", "coding", "0", "code"])
            .and_then(J::text)
            .map(result_word)
            .or_else(|| text_ref(r, "valueString").map(str::to_lowercase));
        e.issuer = path(r, &["performer", "0", "display"])
            .and_then(J::text)
            .map(str::to_owned);
        events.push(e);
    }
    Credential { holder, events }
}

/// What [`Value::pointer`] finds at `/a/b/…` for plain tokens (no `~` escapes), without
/// building the pointer's strings: an object is looked up by the token, an array by the
/// token as an index.
fn path<'a, J: JsonRead>(value: &'a J, tokens: &[&str]) -> Option<&'a J> {
    tokens.iter().try_fold(value, |v, token| match v.items() {
        Some(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
        None => v.member(token),
    })
}

/// The `data.msg` of an ICAO VDS-NC seal of type `icao.vacc` or `icao.test`.
pub fn from_vds(seal_type: healthpass_codec::vds::SealType, msg: &Value) -> Credential {
    use healthpass_codec::vds::SealType;
    let pid = msg.get("pid").unwrap_or(&Value::Null);
    let holder = Holder {
        // Doc 9303 style: primary and secondary identifiers separated by two spaces.
        name: text(pid, "n").map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")),
        birth_date: text(pid, "dob"),
    };
    let mut events = Vec::new();
    match seal_type {
        SealType::Vaccination => {
            for ve in msg
                .get("ve")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for vd in ve.get("vd").and_then(Value::as_array).into_iter().flatten() {
                    let mut e = Event::new(EventType::Vaccination);
                    e.date = text(vd, "dvc").as_deref().and_then(date_part);
                    e.dose = count(vd.get("seq"));
                    e.product = text(ve, "des");
                    e.product_system = Some("http://id.who.int/icd/release/11/mms".to_owned());
                    e.product_name = text(ve, "nam");
                    e.disease = text(ve, "dis");
                    e.country = text(vd, "ctr");
                    e.issuer = text(vd, "adm");
                    e.certificate_id = text(msg, "uvci");
                    events.push(e);
                }
            }
        }
        SealType::Test => {
            let mut e = Event::new(EventType::Test);
            let dat = msg.get("dat").unwrap_or(&Value::Null);
            let tr = msg.get("tr").unwrap_or(&Value::Null);
            let sp = msg.get("sp").unwrap_or(&Value::Null);
            e.date = text(dat, "sc").as_deref().and_then(date_part);
            e.time = text(dat, "sc").filter(|t| t.len() > 10);
            e.test_type = text(tr, "tc");
            e.result = text(tr, "r").map(|r| r.to_lowercase());
            e.country = text(sp, "ctr");
            e.issuer = text(sp, "spn");
            e.certificate_id = text(msg, "utci");
            events.push(e);
        }
    }
    Credential { holder, events }
}

/// A DIVOC credential. CoWIN gives the holder's age at issuance, not a birth date; the birth
/// year is derived from it (issuance year − age), as WHO's DDCC mapping does, and is only a
/// year (it may be one too late).
pub fn from_divoc(divoc: &healthpass_codec::divoc::DivocCredential) -> Credential {
    let birth_date = divoc.birth_date().map(str::to_owned).or_else(|| {
        let age: i32 = divoc.age()?.trim().parse().ok()?;
        let year: i32 = divoc.issuance_date()?.get(..4)?.parse().ok()?;
        (0..=150)
            .contains(&age)
            .then(|| format!("{:04}", year - age))
    });
    let events = divoc
        .evidence()
        .into_iter()
        .map(|ev| {
            let mut e = Event::new(EventType::Vaccination);
            e.date = ev.date.and_then(date_part);
            e.dose = ev.dose.and_then(|d| u32::try_from(d).ok());
            e.doses_total = ev.total_doses.and_then(|d| u32::try_from(d).ok());
            e.product = ev.icd11_code.map(str::to_owned);
            e.product_system = ev
                .icd11_code
                .map(|_| "http://id.who.int/icd/release/11/mms".to_owned());
            e.product_name = ev.vaccine.map(str::to_owned);
            e.country = ev.country.map(str::to_owned);
            e.issuer = ev.manufacturer.map(str::to_owned);
            e.certificate_id = ev.certificate_id.map(str::to_owned);
            e
        })
        .collect();
    Credential {
        holder: Holder {
            name: divoc.name().map(str::to_owned),
            birth_date,
        },
        events,
    }
}
