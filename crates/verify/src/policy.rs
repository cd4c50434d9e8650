//! The arrival country's business rules, applied to a certificate that passed the technical
//! checks: which rules apply, what each decided, and the colour that follows.

use crate::report::{Payload, ReasonCode, VerificationReport};
use healthpass_codec::dcc::CertificateType as EntryType;
use healthpass_rules::{
    CertificateContext, CertificateType, Rule, RuleOutcome, RuleResult, RuleSet, RuleType,
    Selection, ValueSets, evaluate_rules,
};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// Whose rules to apply: an arrival country (and region), with its rules and value sets.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Rules of every country known (the arrival country's acceptance rules and the issuing
    /// countries' invalidation rules are picked from them).
    pub rules: Arc<RuleSet>,
    /// The value sets rules consult.
    pub value_sets: Arc<ValueSets>,
    /// The arrival country, ISO 3166-1 alpha-2.
    pub country: String,
    /// A region of it, when its rules differ by region.
    pub region: Option<String>,
    /// The language for rule descriptions (ISO 639-1, e.g. `fr`); English when a rule has no
    /// text in it, and by default.
    pub language: Option<Arc<str>>,
}

impl Policy {
    fn describe<'r>(&self, rule: &'r Rule) -> &'r str {
        describe(rule, self.language.as_deref())
    }
}

/// How far ahead to look for the day a certificate that fails a rule today will pass.
const LOOKAHEAD_DAYS: i64 = 400;

/// What the rules decided, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyReport {
    /// The arrival country.
    pub country: String,
    /// Its region, if one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Each rule that applied, with its result.
    pub rules: Vec<RuleReport>,
    /// When a certificate that fails only time-dependent rules will pass them all (to the
    /// second), if that is within the look-ahead and before it expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_from: Option<Timestamp>,
}

/// One rule's result. Shares the rule with the rule set instead of copying its texts.
#[derive(Debug, Clone)]
pub struct RuleReport {
    /// The rule.
    pub rule: Arc<Rule>,
    /// `passed`, `failed` or `open` (could not decide).
    pub result: &'static str,
    /// The language its description is shown in (when the rule has it; else English).
    pub language: Option<Arc<str>>,
    /// Why it could not decide.
    pub reason: Option<String>,
    /// For a rule that did not pass, the fields it reads with their values (containers left
    /// out).
    pub affected_fields: Vec<AffectedField>,
}

impl RuleReport {
    /// What the rule requires, in the report's language or English.
    pub fn description(&self) -> &str {
        describe(&self.rule, self.language.as_deref())
    }
}

impl Serialize for RuleReport {
    /// `{id, type, country, version, result, description, reason?, affected_fields?}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &self.rule.identifier)?;
        map.serialize_entry("type", &self.rule.rule_type)?;
        map.serialize_entry("country", &self.rule.country)?;
        map.serialize_entry("version", &self.rule.version)?;
        map.serialize_entry("result", self.result)?;
        map.serialize_entry("description", self.description())?;
        if let Some(reason) = &self.reason {
            map.serialize_entry("reason", reason)?;
        }
        if !self.affected_fields.is_empty() {
            map.serialize_entry("affected_fields", &self.affected_fields)?;
        }
        map.end()
    }
}

fn describe<'r>(rule: &'r Rule, language: Option<&str>) -> &'r str {
    language
        .and_then(|lang| rule.description_in(lang))
        .unwrap_or_else(|| rule.description_en())
}

/// A field a rule reads, and its value in this certificate.
#[derive(Debug, Clone, Serialize)]
pub struct AffectedField {
    /// The path in the payload (`v.0.dn`).
    pub field: String,
    /// The value there (`null` when absent).
    pub value: Value,
}

/// Evaluates the policy on a report whose technical checks all passed, adding the policy
/// report and its reasons.
pub(crate) fn apply(report: &mut VerificationReport, policy: &Policy, now: Timestamp) {
    // An EU DCC is decided on as it is; every other format on its common model seen as a
    // DCC, so a country's rules apply to a SMART Health Card or an ICAO seal too.
    let native = report.format == crate::Format::Hc1;
    let (payload, certificate_type) = if native {
        let (Some(payload), Some(entry_type)) = (
            report.certificate.take().map(Payload::into_value),
            report.certificate_type,
        ) else {
            return;
        };
        let certificate_type = match entry_type {
            EntryType::Vaccination => CertificateType::Vaccination,
            EntryType::Test => CertificateType::Test,
            EntryType::Recovery => CertificateType::Recovery,
        };
        (payload, certificate_type)
    } else {
        let Some((view, event_type)) = report.credential.as_ref().and_then(|c| c.dcc_view()) else {
            return;
        };
        let certificate_type = match event_type {
            healthpass_model::EventType::Vaccination => CertificateType::Vaccination,
            healthpass_model::EventType::Test => CertificateType::Test,
            healthpass_model::EventType::Recovery => CertificateType::Recovery,
        };
        (view, certificate_type)
    };
    let issuer = report.issuer_country.clone().unwrap_or_default();
    let kid = report.kid.clone();
    let context = CertificateContext {
        payload: &payload,
        certificate_type,
        issuer_country: &issuer,
        issued_at: report.issued_at,
        expires_at: report.expires_at,
        kid: kid.as_deref(),
    };
    let country = policy.country.to_ascii_uppercase();
    let region = policy.region.as_deref();
    let rules = policy
        .rules
        .select(&country, region, &issuer, certificate_type, now);
    let at = |clock| Selection {
        country: &country,
        region,
        clock,
    };
    let outcomes = evaluate_rules(&rules, &context, &at(now), &policy.value_sets);

    let mut policy_report = PolicyReport {
        country: country.clone(),
        region: policy.region.clone(),
        rules: outcomes
            .iter()
            .map(|o| rule_report(o, &payload, policy))
            .collect(),
        accepted_from: None,
    };
    let acceptance_rules = rules
        .iter()
        .filter(|r| r.rule_type == RuleType::Acceptance)
        .count();
    if acceptance_rules == 0 {
        let known = policy.rules.countries().contains(&country.as_str());
        report.add_reason(
            ReasonCode::NoRules,
            if known {
                format!("{country} has no rules for this type of certificate today: check its entry requirements yourself")
            } else {
                format!("no rules of {country} are loaded: check its entry requirements yourself")
            },
        );
    }
    let failed: Vec<&RuleOutcome> = outcomes
        .iter()
        .filter(|o| o.result == RuleResult::Failed)
        .collect();
    let open: Vec<&RuleOutcome> = outcomes
        .iter()
        .filter(|o| matches!(o.result, RuleResult::Open(_)))
        .collect();
    for outcome in &open {
        if let RuleResult::Open(why) = &outcome.result {
            report.add_reason(
                ReasonCode::RuleOpen,
                format!(
                    "{} could not decide ({why}): {}",
                    outcome.rule.identifier,
                    policy.describe(&outcome.rule)
                ),
            );
        }
    }
    if !failed.is_empty() && open.is_empty() {
        policy_report.accepted_from = accepted_from(&rules, &failed, &context, &at, policy, now);
    }
    match policy_report.accepted_from {
        Some(from) => {
            let ids: Vec<String> = failed
                .iter()
                .map(|o| format!("{}: {}", o.rule.identifier, policy.describe(&o.rule)))
                .collect();
            report.add_reason(
                ReasonCode::NotYetAccepted,
                format!(
                    "accepted in {country} from {from}, not yet now ({})",
                    ids.join("; ")
                ),
            );
        }
        None => {
            for (outcome, rule_report) in failed
                .iter()
                .zip(policy_report.rules.iter().filter(|r| r.result == "failed"))
            {
                let fields: Vec<String> = rule_report
                    .affected_fields
                    .iter()
                    .map(|f| format!("{} = {}", f.field, f.value))
                    .collect();
                report.add_reason(
                    ReasonCode::RuleFailed,
                    format!(
                        "{}: {} ({})",
                        outcome.rule.identifier,
                        policy.describe(&outcome.rule),
                        fields.join(", ")
                    ),
                );
            }
        }
    }
    report.policy = Some(policy_report);
    if native {
        report.certificate = Some(payload.into());
    }
}

/// The first time, to the second, within the look-ahead and before `exp`, at which every
/// selected rule passes; `None` when no failing rule depends on the clock or none is found.
fn accepted_from<'a>(
    rules: &[Arc<Rule>],
    failed: &[&RuleOutcome],
    context: &CertificateContext<'_>,
    at: &impl Fn(Timestamp) -> Selection<'a>,
    policy: &Policy,
    now: Timestamp,
) -> Option<Timestamp> {
    let time_dependent = failed.iter().all(|o| {
        healthpass_rules::data_accesses(&o.rule.logic).contains("external.validationClock")
    });
    if !time_dependent {
        return None;
    }
    let failed_rules: Vec<_> = failed.iter().map(|o| o.rule.clone()).collect();
    let horizon = context.expires_at.unwrap_or(Timestamp::MAX);
    let passes = |rules: &[Arc<Rule>], t: Timestamp| {
        evaluate_rules(rules, context, &at(t), &policy.value_sets)
            .iter()
            .all(|o| o.result == RuleResult::Passed)
    };
    let mut previous = now;
    for day in 1..=LOOKAHEAD_DAYS {
        let t = now.checked_add(SignedDuration::from_hours(24 * day)).ok()?;
        if t > horizon {
            return None;
        }
        // The failing rules first: cheap, and usually what decides.
        if passes(&failed_rules, t) && passes(rules, t) {
            // Bisect the last day down to the second: rules turn at an instant (often
            // midnight), and the gate wants that instant, not the time of the check plus days.
            let (mut fails, mut holds) = (previous, t);
            while holds.duration_since(fails) > SignedDuration::from_secs(1) {
                let mid = fails.checked_add(holds.duration_since(fails) / 2).ok()?;
                if passes(rules, mid) {
                    holds = mid;
                } else {
                    fails = mid;
                }
            }
            // The whole second, if it already passes (rules compare whole seconds or days).
            let floor = Timestamp::from_second(holds.as_second()).ok()?;
            return Some(if floor > fails && passes(rules, floor) {
                floor
            } else {
                holds
            });
        }
        previous = t;
    }
    None
}

fn rule_report(outcome: &RuleOutcome, payload: &Value, policy: &Policy) -> RuleReport {
    let rule = &outcome.rule;
    let (result, reason) = match &outcome.result {
        RuleResult::Passed => ("passed", None),
        RuleResult::Failed => ("failed", None),
        RuleResult::Open(why) => ("open", Some(why.to_string())),
    };
    let affected_fields = if result == "passed" {
        Vec::new()
    } else {
        // Containers (`v.0`) are read only to test presence; their values say nothing new.
        rule.affected_fields
            .iter()
            .map(|field| AffectedField {
                field: field.clone(),
                value: lookup(payload, field),
            })
            .filter(|f| !f.value.is_object() && !f.value.is_array())
            .collect()
    };
    RuleReport {
        rule: rule.clone(),
        result,
        language: policy.language.clone(),
        reason,
        affected_fields,
    }
}

/// The value at a dotted path (`v.0.dn`) of the payload.
fn lookup(payload: &Value, path: &str) -> Value {
    let mut current = payload;
    for fragment in path.split('.') {
        let next = match current {
            Value::Object(map) => map.get(fragment),
            Value::Array(items) => fragment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(v) => current = v,
            None => return Value::Null,
        }
    }
    current.clone()
}
