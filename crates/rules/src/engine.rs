//! Running selected rules on one certificate, as the EU verifier apps do (DGCA
//! `DefaultCertLogicEngine`): the engine and schema-version gates, the data context
//! `{payload, external}`, and one outcome per rule.

use crate::expr::EvalError;
use crate::rule::{CertificateType, ENGINE_VERSION, Rule, SemVer};
use crate::value::Value;
use crate::valuesets::ValueSets;
use jiff::Timestamp;
use std::sync::Arc;

/// What rules see of a certificate besides its payload.
#[derive(Debug, Clone, Copy)]
pub struct CertificateContext<'a> {
    /// The DCC payload (the JSON of claim -260/1).
    pub payload: &'a serde_json::Value,
    /// Vaccination, Test or Recovery.
    pub certificate_type: CertificateType,
    /// The issuing country (`iss` of the CWT, or the signer's country).
    pub issuer_country: &'a str,
    /// `iat`.
    pub issued_at: Option<Timestamp>,
    /// `exp`.
    pub expires_at: Option<Timestamp>,
    /// The signer's key identifier, Base64.
    pub kid: Option<&'a str>,
}

/// Where and when the certificate is checked.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// The arrival country, ISO 3166-1 alpha-2.
    pub country: &'a str,
    /// A region of it, if its rules differ by region.
    pub region: Option<&'a str>,
    /// The validation clock: the moment the rules judge.
    pub clock: Timestamp,
}

/// A rule's verdict on one certificate.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleResult {
    /// The logic evaluated to `true`.
    Passed,
    /// The logic evaluated to `false`.
    Failed,
    /// The rule could not decide (DGCA: OPEN); a person has to.
    Open(SkipReason),
}

/// Why a rule could not decide.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// The rule is written for another engine than CertLogic.
    #[error("rule needs the {engine} engine")]
    Engine {
        /// The engine the rule names.
        engine: String,
    },
    /// The rule needs a later CertLogic than this evaluator implements.
    #[error("rule needs CertLogic {required}, this verifier has {ENGINE_VERSION}")]
    EngineVersion {
        /// The version the rule needs.
        required: SemVer,
    },
    /// The certificate's schema version is not one the rule was written for (a different
    /// major version, or older than the rule's).
    #[error("rule is for DCC schema {rule}, the certificate has {certificate}")]
    SchemaVersion {
        /// The rule's `SchemaVersion`.
        rule: SemVer,
        /// The certificate's `ver`, as given.
        certificate: String,
    },
    /// Evaluation stopped with an error.
    #[error("rule could not be evaluated: {0}")]
    Error(EvalError),
    /// The logic evaluated to something other than `true` or `false`.
    #[error("rule evaluated to {0}, not to true or false")]
    NotBoolean(&'static str),
}

/// One rule and its result.
#[derive(Debug, Clone)]
pub struct RuleOutcome {
    /// The rule.
    pub rule: Arc<Rule>,
    /// What it decided.
    pub result: RuleResult,
}

/// Evaluates `rules` on a certificate. Each rule gets the data context
/// `{"payload": <DCC>, "external": {validationClock, valueSets, countryCode, region, exp, iat,
/// issuerCountryCode, kid}}`; time values are RFC 3339 UTC strings. Both rule types pass on
/// `true` and fail on `false`, as DGCA has it (dcc-business-rules-utils reads an invalidation
/// rule's `true` the other way; the gateway and the apps do not).
pub fn evaluate_rules(
    rules: &[Arc<Rule>],
    certificate: &CertificateContext<'_>,
    selection: &Selection<'_>,
    value_sets: &ValueSets,
) -> Vec<RuleOutcome> {
    let clock = selection.clock.to_string();
    let exp = certificate.expires_at.map(|t| t.to_string());
    let iat = certificate.issued_at.map(|t| t.to_string());
    let external = Value::Fields(vec![
        ("validationClock", Value::Str(&clock)),
        ("valueSets", Value::Json(value_sets.as_external())),
        ("countryCode", Value::Str(selection.country)),
        ("region", text(selection.region)),
        ("exp", text(exp.as_deref())),
        ("iat", text(iat.as_deref())),
        ("issuerCountryCode", Value::Str(certificate.issuer_country)),
        ("kid", text(certificate.kid)),
    ]);
    let context = Value::Fields(vec![
        ("payload", Value::from_json(certificate.payload)),
        ("external", external),
    ]);
    let ver = certificate
        .payload
        .get("ver")
        .and_then(serde_json::Value::as_str);
    rules
        .iter()
        .map(|rule| RuleOutcome {
            rule: rule.clone(),
            result: run(rule, ver, &context),
        })
        .collect()
}

fn text(s: Option<&str>) -> Value<'_> {
    s.map_or(Value::Null, Value::Str)
}

fn run(rule: &Rule, ver: Option<&str>, context: &Value<'_>) -> RuleResult {
    if rule.engine != "CERTLOGIC" {
        return RuleResult::Open(SkipReason::Engine {
            engine: rule.engine.clone(),
        });
    }
    if rule.engine_version > ENGINE_VERSION {
        return RuleResult::Open(SkipReason::EngineVersion {
            required: rule.engine_version,
        });
    }
    let schema_ok = ver
        .and_then(|v| v.parse::<SemVer>().ok())
        .is_some_and(|v| v.major == rule.schema_version.major && v >= rule.schema_version);
    if !schema_ok {
        return RuleResult::Open(SkipReason::SchemaVersion {
            rule: rule.schema_version,
            certificate: ver.unwrap_or("none").chars().take(16).collect(),
        });
    }
    match rule.expr().evaluate(context) {
        Ok(Value::Bool(true)) => RuleResult::Passed,
        Ok(Value::Bool(false)) => RuleResult::Failed,
        Ok(other) => RuleResult::Open(SkipReason::NotBoolean(other.type_name())),
        Err(error) => RuleResult::Open(SkipReason::Error(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::RuleSet;
    use serde_json::json;

    fn rule(edit: impl FnOnce(&mut serde_json::Value)) -> Arc<Rule> {
        let mut j = json!({
            "Identifier": "VR-DE-0001", "Type": "Acceptance", "Country": "DE",
            "Version": "1.0.0", "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC",
            "EngineVersion": "0.7.5", "CertificateType": "Vaccination",
            "Description": [{"lang": "en", "desc": "The vaccination schedule must be complete."}],
            "ValidFrom": "2021-07-03T00:00:00Z", "ValidTo": "2030-06-01T00:00:00Z",
            "AffectedFields": ["v.0.dn"],
            "Logic": {">=": [{"var": "payload.v.0.dn"}, 2]}
        });
        edit(&mut j);
        let mut set = RuleSet::new();
        set.insert(Rule::from_json(&j).unwrap());
        set.rules()[0].clone()
    }

    fn run_one(rule: Arc<Rule>, payload: serde_json::Value) -> RuleResult {
        let context = CertificateContext {
            payload: &payload,
            certificate_type: CertificateType::Vaccination,
            issuer_country: "AT",
            issued_at: None,
            expires_at: None,
            kid: Some("AAECAwQFBgc="),
        };
        let selection = Selection {
            country: "DE",
            region: None,
            clock: "2022-01-01T00:00:00Z".parse().unwrap(),
        };
        let mut out = evaluate_rules(&[rule], &context, &selection, &ValueSets::new());
        out.pop().unwrap().result
    }

    #[test]
    fn true_passes_false_fails() {
        let payload = |dn| json!({"ver": "1.3.0", "v": [{"dn": dn}]});
        assert_eq!(run_one(rule(|_| {}), payload(2)), RuleResult::Passed);
        assert_eq!(run_one(rule(|_| {}), payload(1)), RuleResult::Failed);
    }

    #[test]
    fn gates_and_errors_leave_the_rule_open() {
        let payload = json!({"ver": "1.3.0", "v": [{"dn": 2}]});
        let open = |r: RuleResult| matches!(r, RuleResult::Open(_));
        assert!(open(run_one(
            rule(|j| j["EngineVersion"] = json!("2.0.0")),
            payload.clone()
        )));
        assert!(open(run_one(
            rule(|j| j["Engine"] = json!("JSONLOGIC")),
            payload.clone()
        )));
        assert!(open(run_one(
            rule(|j| j["SchemaVersion"] = json!("1.3.1")),
            payload.clone()
        )));
        assert!(open(run_one(
            rule(|_| {}),
            json!({"ver": "2.0.0", "v": [{"dn": 2}]})
        )));
        assert!(open(run_one(rule(|_| {}), json!({"v": [{"dn": 2}]}))));
        // A type error during evaluation: dn is a string.
        assert_eq!(
            run_one(rule(|_| {}), json!({"ver": "1.3.0", "v": [{"dn": "2"}]})),
            RuleResult::Open(SkipReason::Error(EvalError::Type {
                operator: ">=",
                expected: "an integer",
                actual: "a string"
            }))
        );
        // Not a boolean.
        assert!(open(run_one(
            rule(|j| j["Logic"] = json!({"var": "payload.v.0.dn"})),
            payload
        )));
    }

    #[test]
    fn external_parameters_reach_the_logic() {
        let payload = json!({"ver": "1.3.0", "v": [{"dn": 2}]});
        for (path, want) in [
            ("external.countryCode", json!("DE")),
            ("external.issuerCountryCode", json!("AT")),
            ("external.kid", json!("AAECAwQFBgc=")),
            ("external.validationClock", json!("2022-01-01T00:00:00Z")),
        ] {
            let r = rule(|j| j["Logic"] = json!({"===": [{"var": path}, want]}));
            assert_eq!(run_one(r, payload.clone()), RuleResult::Passed, "{path}");
        }
        let r = rule(|j| {
            j["Logic"] = json!({"===": [{"var": "external.region"}, {"var": "external.exp"}]})
        });
        assert_eq!(run_one(r, payload), RuleResult::Passed, "both null");
    }
}
