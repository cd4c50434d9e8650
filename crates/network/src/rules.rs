//! Business rules on the trust network, as the EU gateway carries them
//! (`eu-dcc.md` section 4.4): each rule version is the country's CMS-signed rule JSON, and
//! `GET /rules` lists, per country and rule identifier, the versions still in force or to come,
//! each with its CMS. A verifier checks every CMS against the country's upload certificates
//! and the rule against the country and identifier it is listed under.

use crate::VerifiedOnboarding;
use healthpass_rules::Rule;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One version of a rule as listed (EU `ValidationRuleDto`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleEntry {
    /// The rule's version.
    pub version: String,
    /// When it starts to apply.
    pub valid_from: Timestamp,
    /// When it stops applying.
    pub valid_to: Timestamp,
    /// The country's CMS over the rule JSON (attached), Base64.
    pub cms: String,
}

/// Rules of one country: identifier → versions.
pub type CountryRules = BTreeMap<String, Vec<RuleEntry>>;

/// Every country's rules: country → identifier → versions.
pub type RuleList = BTreeMap<String, CountryRules>;

/// Checks one listed rule version as a verifier must: the CMS is the country's, and it holds
/// a valid rule of that country with that identifier and version. Returns the rule and its
/// JSON text as signed.
pub fn verify_rule(
    country: &str,
    identifier: &str,
    entry: &RuleEntry,
    countries: &BTreeMap<String, VerifiedOnboarding>,
) -> Result<(Rule, String), String> {
    let onboarding = countries
        .get(country)
        .ok_or_else(|| format!("{country} is not onboarded"))?;
    let der = crate::cms::from_base64(entry.cms.as_bytes()).map_err(|e| e.to_string())?;
    let verified = onboarding
        .certificates
        .verify_upload(&der, None)
        .map_err(|e| format!("the upload signature is refused: {e}"))?;
    let text =
        String::from_utf8(verified.content).map_err(|_| "the rule is not UTF-8".to_owned())?;
    let rule = Rule::from_json_str(&text).map_err(|e| e.to_string())?;
    if rule.country != country || rule.identifier != identifier {
        return Err(format!(
            "the signed rule is {} of {}, listed as {identifier} of {country}",
            rule.identifier, rule.country
        ));
    }
    if rule.version.to_string() != entry.version
        || rule.valid_from != entry.valid_from
        || rule.valid_to != entry.valid_to
    {
        return Err("the listed version or validity is not the signed rule's".into());
    }
    Ok((rule, text))
}
