//! Mutual recognition: which country accepts which certificate. Builds sample certificates
//! for every vaccine product of the value sets (each dose count, a fresh and an old full
//! course), PCR and rapid tests, and recoveries, at several ages, and evaluates each against
//! every country's rules at one moment.

use crate::engine::{CertificateContext, RuleResult, Selection, evaluate_rules};
use crate::rule::{CertificateType, RuleSet, RuleType};
use crate::valuesets::ValueSets;
use jiff::{SignedDuration, Timestamp, ToSpan, tz::TimeZone};
use serde::Serialize;
use serde_json::{Value as Json, json};

/// The ages, in years at the validation clock, each sample is checked at: a child, a
/// teenager (many countries exempt minors or give them longer), an adult.
pub const AGES: [u32; 3] = [10, 16, 40];

/// Single-dose primary courses (EMA / WHO posology); every other product takes two doses.
const SINGLE_DOSE_PRODUCTS: [&str; 3] = ["EU/1/20/1525", "Convidecia", "Sputnik-Light"];

/// The issuing country of the samples: none of the rule sets in the EU test data, so no
/// invalidation rule of the issuer interferes with the comparison.
const SAMPLE_ISSUER: &str = "BE";

/// One kind of sample certificate (a row of the matrix), checked at each of [`AGES`].
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// What it is, for people: `Comirnaty 2/2, 30 days ago`.
    pub label: String,
    /// `vaccination`, `test` or `recovery`.
    pub kind: &'static str,
    /// The vaccine's product code (`EU/1/20/1528`), for vaccinations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Whether the product is still active in the value set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The certificate's entry (`v`, `t` or `r` item) without the holder.
    pub entry: Json,
}

/// A country's verdict on one sample at one age.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Cell {
    /// Every rule passed.
    Accepted,
    /// These rules failed.
    Rejected {
        /// Identifiers of the failed rules.
        rules: Vec<String>,
    },
    /// These rules could not decide (and none failed).
    Open {
        /// Identifiers of the undecided rules.
        rules: Vec<String>,
    },
    /// The country has no acceptance rule for this type of certificate.
    NoRules,
}

/// The matrix: `cells[sample][country][age]`.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// The moment judged.
    pub at: Timestamp,
    /// The countries, in column order.
    pub countries: Vec<String>,
    /// The ages, in column order within each country.
    pub ages: Vec<u32>,
    /// The samples, in row order.
    pub samples: Vec<Sample>,
    /// The verdicts.
    pub cells: Vec<Vec<Vec<Cell>>>,
}

/// Builds and evaluates the matrix.
pub fn build(rules: &RuleSet, value_sets: &ValueSets, at: Timestamp) -> Matrix {
    let samples = samples(value_sets, at);
    let countries: Vec<String> = rules
        .rules()
        .iter()
        .filter(|r| r.rule_type == RuleType::Acceptance)
        .map(|r| r.country.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let day = |n: i64| {
        at.checked_sub(SignedDuration::from_hours(24 * n))
            .unwrap_or(at)
    };
    let issued_at = day(1);
    let expires_at = at
        .checked_add(SignedDuration::from_hours(24 * 365))
        .unwrap_or(at);
    let cells = samples
        .iter()
        .map(|sample| {
            let (key, certificate_type) = match sample.kind {
                "vaccination" => ("v", CertificateType::Vaccination),
                "test" => ("t", CertificateType::Test),
                _ => ("r", CertificateType::Recovery),
            };
            countries
                .iter()
                .map(|country| {
                    AGES.iter()
                        .map(|&age| {
                            let payload = json!({
                                "ver": "1.3.0",
                                "nam": {"fn": "Muster", "fnt": "MUSTER", "gn": "Sample", "gnt": "SAMPLE"},
                                "dob": date_of_birth(at, age),
                                key: [sample.entry.clone()],
                            });
                            let context = CertificateContext {
                                payload: &payload,
                                certificate_type,
                                issuer_country: SAMPLE_ISSUER,
                                issued_at: Some(issued_at),
                                expires_at: Some(expires_at),
                                kid: None,
                            };
                            let selected = rules.select(country, None, SAMPLE_ISSUER, certificate_type, at);
                            let selection = Selection { country, region: None, clock: at };
                            cell(&selected, &context, &selection, value_sets)
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    Matrix {
        at,
        countries,
        ages: AGES.to_vec(),
        samples,
        cells,
    }
}

fn cell(
    selected: &[std::sync::Arc<crate::rule::Rule>],
    context: &CertificateContext<'_>,
    selection: &Selection<'_>,
    value_sets: &ValueSets,
) -> Cell {
    if !selected.iter().any(|r| r.rule_type == RuleType::Acceptance) {
        return Cell::NoRules;
    }
    let outcomes = evaluate_rules(selected, context, selection, value_sets);
    let ids = |want: fn(&RuleResult) -> bool| -> Vec<String> {
        outcomes
            .iter()
            .filter(|o| want(&o.result))
            .map(|o| o.rule.identifier.clone())
            .collect()
    };
    let failed = ids(|r| *r == RuleResult::Failed);
    if !failed.is_empty() {
        return Cell::Rejected { rules: failed };
    }
    let open = ids(|r| matches!(r, RuleResult::Open(_)));
    if !open.is_empty() {
        return Cell::Open { rules: open };
    }
    Cell::Accepted
}

/// A date of birth that makes the holder `age` at `at`, a hundred days past the birthday so
/// that day-boundary rules do not decide.
fn date_of_birth(at: Timestamp, age: u32) -> String {
    let today = TimeZone::UTC.to_datetime(at).date();
    let birth = today
        .checked_sub(i64::from(age).years())
        .and_then(|d| d.checked_sub(100.days()))
        .unwrap_or(today);
    birth.to_string()
}

fn date_days_before(at: Timestamp, days: i64) -> String {
    let t = at
        .checked_sub(SignedDuration::from_hours(24 * days))
        .unwrap_or(at);
    TimeZone::UTC.to_datetime(t).date().to_string()
}

fn time_hours_before(at: Timestamp, hours: i64) -> String {
    let t = at
        .checked_sub(SignedDuration::from_hours(hours))
        .unwrap_or(at);
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The sample rows.
pub fn samples(value_sets: &ValueSets, at: Timestamp) -> Vec<Sample> {
    let mut out = Vec::new();
    let products = value_sets.get("vaccines-covid-19-names");
    // Product code → (manufacturer, prophylaxis) from the EU encoding instructions.
    let encoding = value_sets.get("vaccines-covid-19-encoding-instructions");
    let how_encoded = |mp: &str| -> (String, String) {
        let found = encoding.and_then(|set| {
            set.entries
                .values()
                .find(|e| e.raw.get("vaccine-code").and_then(Json::as_str) == Some(mp))
        });
        let ma = found
            .and_then(|e| e.raw.get("vaccine-manufacturer").and_then(Json::as_str))
            .unwrap_or("ORG-100030215");
        let vp = found
            .and_then(|e| {
                e.raw
                    .get("sct-codes")
                    .and_then(|c| c.get(0))
                    .and_then(Json::as_str)
            })
            .unwrap_or("J07BX03");
        (ma.to_owned(), vp.to_owned())
    };
    if let Some(products) = products {
        let mut list: Vec<_> = products.entries.iter().collect();
        list.sort_by_key(|(code, e)| {
            (e.display.clone().unwrap_or_else(|| (*code).clone())).to_lowercase()
        });
        for (mp, entry) in list {
            if entry.active == Some(false) {
                continue;
            }
            let name = entry.display.clone().unwrap_or_else(|| mp.clone());
            let (ma, vp) = how_encoded(mp);
            let full = if SINGLE_DOSE_PRODUCTS.contains(&mp.as_str()) {
                1
            } else {
                2
            };
            // Each dose of the primary course, the full course fresh and old, and a booster.
            let mut doses: Vec<(i64, i64, i64)> = (1..full).map(|dn| (dn, full, 30)).collect();
            doses.extend([
                (full, full, 30),
                (full, full, 300),
                (full + 1, full + 1, 30),
            ]);
            for (dn, sd, days_ago) in doses {
                let booster = if dn > full { " (booster)" } else { "" };
                out.push(Sample {
                    label: format!("{name} {dn}/{sd}{booster}, {days_ago} days ago"),
                    kind: "vaccination",
                    product: Some(mp.clone()),
                    active: entry.active,
                    entry: json!({
                        "tg": "840539006", "vp": vp, "mp": mp, "ma": ma,
                        "dn": dn, "sd": sd, "dt": date_days_before(at, days_ago),
                        "co": SAMPLE_ISSUER, "is": "Sample issuer",
                        "ci": "URN:UVCI:01:BE:SAMPLE0000000000000000000#0",
                    }),
                });
            }
        }
    }
    let rat_device = value_sets
        .get("covid-19-lab-test-manufacturer-and-name")
        .and_then(|set| {
            set.entries
                .iter()
                .find(|(_, e)| e.active != Some(false))
                .map(|(c, _)| c.clone())
        })
        .unwrap_or_else(|| "1232".into());
    for (name, tt, hours) in [
        ("PCR test", "LP6464-4", 24),
        ("PCR test", "LP6464-4", 60),
        ("Rapid antigen test", "LP217198-3", 24),
        ("Rapid antigen test", "LP217198-3", 60),
    ] {
        let mut entry = json!({
            "tg": "840539006", "tt": tt, "sc": time_hours_before(at, hours),
            "tr": "260415000", "tc": "Sample test centre", "co": SAMPLE_ISSUER,
            "is": "Sample issuer", "ci": "URN:UVCI:01:BE:SAMPLE0000000000000000000#0",
        });
        if tt == "LP217198-3" {
            entry["ma"] = json!(rat_device);
        }
        out.push(Sample {
            label: format!("{name}, negative, sampled {hours} h ago"),
            kind: "test",
            product: None,
            active: None,
            entry,
        });
    }
    for days in [60, 200] {
        out.push(Sample {
            label: format!("Recovery, first positive {days} days ago"),
            kind: "recovery",
            product: None,
            active: None,
            entry: json!({
                "tg": "840539006", "fr": date_days_before(at, days),
                "df": date_days_before(at, days - 11), "du": date_days_before(at, days - 180),
                "co": SAMPLE_ISSUER, "is": "Sample issuer",
                "ci": "URN:UVCI:01:BE:SAMPLE0000000000000000000#0",
            }),
        });
    }
    out
}
