//! The EU rule object (dgc-gateway `validation-rule.schema.json` plus the gateway's upload
//! constraints), checked on load, and [`RuleSet`], a collection of them.

use crate::expr::Expr;
use crate::validate::{data_accesses, validate};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

/// The CertLogic engine version this evaluator implements (the spec's version). A rule that
/// asks for a later engine is not evaluated.
pub const ENGINE_VERSION: SemVer = SemVer {
    major: 1,
    minor: 3,
    patch: 3,
};

/// The biggest rule file read: real rules are a few KiB.
const MAX_RULE_BYTES: u64 = 1 << 20;

/// What a rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleType {
    /// A condition of the arrival country for accepting a certificate.
    Acceptance,
    /// A condition of the issuing country under which its own certificates are void.
    Invalidation,
}

/// Which certificates a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CertificateType {
    /// Every certificate.
    General,
    /// Vaccination certificates (`v`).
    Vaccination,
    /// Test certificates (`t`).
    Test,
    /// Recovery certificates (`r`).
    Recovery,
}

impl CertificateType {
    /// The identifier prefix the gateway requires for this type.
    fn identifier_prefix(self) -> &'static str {
        match self {
            CertificateType::General => "GR",
            CertificateType::Vaccination => "VR",
            CertificateType::Test => "TR",
            CertificateType::Recovery => "RR",
        }
    }
}

/// A description in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Description {
    /// ISO 639-1 language code.
    pub lang: String,
    /// The text: what the rule requires, for the person at the gate.
    pub desc: String,
}

/// A semantic version `MAJOR.MINOR.PATCH`, as rules carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SemVer {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl FromStr for SemVer {
    type Err = ();

    /// Strictly `^\d+\.\d+\.\d+$`.
    fn from_str(s: &str) -> Result<Self, ()> {
        let mut parts = s.split('.').map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            p.parse::<u32>().map_err(|_| ())
        });
        let v = SemVer {
            major: parts.next().ok_or(())??,
            minor: parts.next().ok_or(())??,
            patch: parts.next().ok_or(())??,
        };
        match parts.next() {
            None => Ok(v),
            Some(_) => Err(()),
        }
    }
}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Serialize for SemVer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A rule, as published to the EU gateway: metadata and a CertLogic expression.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    /// `GR|VR|TR|RR|IR-<country>-<4 digits>`.
    pub identifier: String,
    /// Acceptance or invalidation.
    #[serde(rename = "Type")]
    pub rule_type: RuleType,
    /// The country that published it.
    pub country: String,
    /// A region of that country (up to 5 letters or digits); absent for the whole country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The rule's version; the latest valid version of an identifier wins.
    pub version: SemVer,
    /// The oldest DCC schema version the rule was written for.
    pub schema_version: SemVer,
    /// `CERTLOGIC`.
    pub engine: String,
    /// The CertLogic version the rule needs.
    pub engine_version: SemVer,
    /// Which certificates it is about.
    pub certificate_type: CertificateType,
    /// What it requires, in several languages (always English).
    pub description: Vec<Description>,
    /// When it starts to apply.
    pub valid_from: Timestamp,
    /// When it stops applying (exclusive).
    pub valid_to: Timestamp,
    /// The DCC fields it reads, as paths into the payload (`v.0.dn`).
    pub affected_fields: Vec<String>,
    /// The CertLogic expression.
    pub logic: Json,
    #[serde(skip)]
    compiled: Expr,
}

/// The rule object exactly as the schema has it (`additionalProperties: false`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct RawRule {
    identifier: String,
    #[serde(rename = "Type")]
    rule_type: String,
    country: String,
    region: Option<String>,
    version: String,
    schema_version: String,
    engine: String,
    engine_version: String,
    certificate_type: String,
    description: Vec<Description>,
    valid_from: String,
    valid_to: String,
    affected_fields: Vec<String>,
    logic: Json,
}

/// Why a rule object is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// Not JSON, or not shaped like a rule object (a field missing, unknown or of the wrong type).
    #[error("not a rule object: {0}")]
    Shape(String),
    /// A field does not have the form the schema requires.
    #[error("{field} {problem}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The identifier's prefix does not fit the type and certificate type, or its country
    /// is not the rule's country (the gateway's upload constraints).
    #[error("identifier {identifier}: {problem}")]
    Identifier {
        /// The identifier.
        identifier: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// `ValidFrom` is not before `ValidTo`.
    #[error("ValidFrom {valid_from} is not before ValidTo {valid_to}")]
    Validity {
        /// Start.
        valid_from: Timestamp,
        /// End.
        valid_to: Timestamp,
    },
    /// `Logic` is not valid CertLogic.
    #[error("Logic is not valid CertLogic: {}", .0.join("; "))]
    Logic(Vec<String>),
}

/// A rule file that could not be loaded: where, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {error}", path.display())]
pub struct RuleLoadError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub error: RuleLoadProblem,
}

/// Why a rule file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleLoadProblem {
    /// It could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// It is bigger than any rule should be.
    #[error("file larger than {MAX_RULE_BYTES} bytes")]
    TooLarge,
    /// Its content is not a valid rule.
    #[error(transparent)]
    Rule(#[from] RuleError),
}

fn field(field: &'static str, problem: impl Into<String>) -> RuleError {
    RuleError::Field {
        field,
        problem: problem.into(),
    }
}

impl Rule {
    /// Parses and checks a rule object from JSON text.
    pub fn from_json_str(text: &str) -> Result<Rule, RuleError> {
        let raw: RawRule =
            serde_json::from_str(text).map_err(|e| RuleError::Shape(e.to_string()))?;
        Rule::from_raw(raw)
    }

    /// Checks a rule object given as JSON.
    pub fn from_json(json: &Json) -> Result<Rule, RuleError> {
        let raw = RawRule::deserialize(json).map_err(|e| RuleError::Shape(e.to_string()))?;
        Rule::from_raw(raw)
    }

    fn from_raw(raw: RawRule) -> Result<Rule, RuleError> {
        let id = &raw.identifier;
        let id_ok = id.len() == 10
            && ["GR-", "VR-", "TR-", "RR-", "IR-"]
                .iter()
                .any(|p| id.starts_with(p))
            && id[3..5].bytes().all(|b| b.is_ascii_uppercase())
            && id.as_bytes()[5] == b'-'
            && id[6..].bytes().all(|b| b.is_ascii_digit());
        if !id_ok {
            return Err(field(
                "Identifier",
                "must look like VR-DE-0001 ((GR|VR|TR|RR|IR)-CC-NNNN)",
            ));
        }
        let rule_type = match raw.rule_type.as_str() {
            "Acceptance" => RuleType::Acceptance,
            "Invalidation" => RuleType::Invalidation,
            _ => return Err(field("Type", "must be Acceptance or Invalidation")),
        };
        if raw.country.len() != 2 || !raw.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(field(
                "Country",
                "must be two capital letters (ISO 3166-1 alpha-2)",
            ));
        }
        if let Some(region) = &raw.region
            && (region.len() > 5
                || !region
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        {
            return Err(field("Region", "must be up to 5 capital letters or digits"));
        }
        let semver = |name: &'static str, s: &str| {
            s.parse::<SemVer>()
                .map_err(|()| field(name, "must be a version MAJOR.MINOR.PATCH"))
        };
        let version = semver("Version", &raw.version)?;
        let schema_version = semver("SchemaVersion", &raw.schema_version)?;
        let engine_version = semver("EngineVersion", &raw.engine_version)?;
        if raw.engine.is_empty() {
            return Err(field("Engine", "must not be empty"));
        }
        let certificate_type = match raw.certificate_type.as_str() {
            "General" => CertificateType::General,
            "Vaccination" => CertificateType::Vaccination,
            "Test" => CertificateType::Test,
            "Recovery" => CertificateType::Recovery,
            _ => {
                return Err(field(
                    "CertificateType",
                    "must be General, Vaccination, Test or Recovery",
                ));
            }
        };
        if !raw.description.iter().any(|d| d.lang == "en") {
            return Err(field("Description", "must have an English (\"en\") entry"));
        }
        if let Some(short) = raw.description.iter().find(|d| d.desc.chars().count() < 20) {
            return Err(field(
                "Description",
                format!("\"{}\" entry is shorter than 20 characters", short.lang),
            ));
        }
        let valid_from = rule_timestamp("ValidFrom", &raw.valid_from)?;
        let valid_to = rule_timestamp("ValidTo", &raw.valid_to)?;
        if valid_from >= valid_to {
            return Err(RuleError::Validity {
                valid_from,
                valid_to,
            });
        }
        if raw.affected_fields.is_empty() {
            return Err(field("AffectedFields", "must name at least one field"));
        }
        if raw.logic.as_object().is_none_or(|o| o.is_empty()) {
            return Err(field(
                "Logic",
                "must be a CertLogic operation (a non-empty object)",
            ));
        }
        let issues = validate(&raw.logic);
        if !issues.is_empty() {
            return Err(RuleError::Logic(
                issues.into_iter().map(|i| i.message).collect(),
            ));
        }
        // The gateway's upload constraints.
        let identifier_problem = match (rule_type, &id[..2]) {
            (RuleType::Invalidation, "IR") => None,
            (RuleType::Invalidation, _) => {
                Some("an Invalidation rule's identifier must start with IR")
            }
            (RuleType::Acceptance, "IR") => {
                Some("an Acceptance rule's identifier must not start with IR")
            }
            (RuleType::Acceptance, prefix) if prefix != certificate_type.identifier_prefix() => {
                Some(
                    "the identifier's prefix does not match the CertificateType (GR General, VR Vaccination, TR Test, RR Recovery)",
                )
            }
            _ if id[3..5] != raw.country => {
                Some("the country in the identifier is not the rule's Country")
            }
            _ => None,
        };
        if let Some(problem) = identifier_problem {
            return Err(RuleError::Identifier {
                identifier: raw.identifier,
                problem,
            });
        }
        let compiled = Expr::compile(&raw.logic);
        Ok(Rule {
            identifier: raw.identifier,
            rule_type,
            country: raw.country,
            region: raw.region,
            version,
            schema_version,
            engine: raw.engine,
            engine_version,
            certificate_type,
            description: raw.description,
            valid_from,
            valid_to,
            affected_fields: raw.affected_fields,
            logic: raw.logic,
            compiled,
        })
    }

    /// The compiled logic.
    pub fn expr(&self) -> &Expr {
        &self.compiled
    }

    /// The English description (every valid rule has one).
    pub fn description_en(&self) -> &str {
        self.description_in("en").unwrap_or_default()
    }

    /// The description in a language, if the rule has one.
    pub fn description_in(&self, lang: &str) -> Option<&str> {
        self.description
            .iter()
            .find(|d| d.lang == lang)
            .map(|d| d.desc.as_str())
    }

    /// Problems the EU test-data tooling reports that do not stop a verifier from using the
    /// rule: `AffectedFields` must be exactly the payload fields the logic reads.
    pub fn lint(&self) -> Vec<String> {
        let computed: Vec<String> = data_accesses(&self.logic)
            .into_iter()
            .filter_map(|p| p.strip_prefix("payload.").map(str::to_owned))
            .collect();
        let mut declared = self.affected_fields.clone();
        declared.sort();
        declared.dedup();
        if declared == computed {
            Vec::new()
        } else {
            vec![format!(
                "AffectedFields {declared:?} are not the payload fields the logic reads: {computed:?}"
            )]
        }
    }

    /// Whether the rule applies at `clock`: `ValidFrom ≤ clock < ValidTo`.
    pub fn is_valid_at(&self, clock: Timestamp) -> bool {
        self.valid_from <= clock && clock < self.valid_to
    }
}

/// `YYYY-MM-DDThh:mm:ss` with `Z` or `±hh:mm`, no fractions (the schema's pattern).
fn rule_timestamp(name: &'static str, s: &str) -> Result<Timestamp, RuleError> {
    let b = s.as_bytes();
    let shape_ok = match b.len() {
        20 => b[19] == b'Z',
        25 => matches!(b[19], b'+' | b'-') && b[22] == b':',
        _ => false,
    } && b.get(10) == Some(&b'T');
    let parsed = shape_ok.then(|| s.parse::<Timestamp>().ok()).flatten();
    parsed.ok_or_else(|| {
        field(
            name,
            "must be a date-time YYYY-MM-DDThh:mm:ss with Z or ±hh:mm",
        )
    })
}

/// Many rules, of many countries, each compiled once.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Arc<Rule>>,
}

impl RuleSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule.
    pub fn insert(&mut self, rule: Rule) {
        self.rules.push(Arc::new(rule));
    }

    /// Every rule.
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The countries that have rules, sorted.
    pub fn countries(&self) -> Vec<&str> {
        let mut countries: Vec<&str> = self.rules.iter().map(|r| r.country.as_str()).collect();
        countries.sort_unstable();
        countries.dedup();
        countries
    }

    /// Loads every rule under `dir`: any `*.json` file that is not inside a `tests` folder
    /// (the layout `<CC>/<ID>/rule.json` + `tests/` of the EU test data, or a flat folder of
    /// rule files). A single file may also hold a JSON array of rules. Returns the set and the
    /// files it refused, so one bad rule does not hide the others.
    pub fn load_dir(dir: &Path) -> std::io::Result<(RuleSet, Vec<RuleLoadError>)> {
        let mut files = Vec::new();
        collect_rule_files(dir, &mut files)?;
        files.sort();
        let mut set = RuleSet::new();
        let mut errors = Vec::new();
        for path in files {
            match load_rule_file(&path) {
                Ok(rules) => rules.into_iter().for_each(|r| set.insert(r)),
                Err(error) => errors.push(RuleLoadError { path, error }),
            }
        }
        Ok((set, errors))
    }

    /// The rules that apply, as the EU verifier apps select them (DGCA
    /// `DefaultGetRulesUseCase`): acceptance rules of the arrival `country` — national ones
    /// and, when a `region` is given, that region's (case-insensitive) — and invalidation rules
    /// of the `issuer_country`; valid at `clock`; of the certificate's type or General; and of
    /// each identifier only the highest version.
    pub fn select(
        &self,
        country: &str,
        region: Option<&str>,
        issuer_country: &str,
        certificate_type: CertificateType,
        clock: Timestamp,
    ) -> Vec<Arc<Rule>> {
        let region = region.unwrap_or("");
        let mut latest: BTreeMap<&str, &Arc<Rule>> = BTreeMap::new();
        for rule in &self.rules {
            let applies_to_place = match rule.rule_type {
                RuleType::Acceptance => {
                    rule.country.eq_ignore_ascii_case(country)
                        && rule
                            .region
                            .as_deref()
                            .is_none_or(|r| r.is_empty() || r.eq_ignore_ascii_case(region))
                }
                RuleType::Invalidation => rule.country.eq_ignore_ascii_case(issuer_country),
            };
            if !applies_to_place
                || !rule.is_valid_at(clock)
                || !matches!(rule.certificate_type, CertificateType::General)
                    && rule.certificate_type != certificate_type
            {
                continue;
            }
            let slot = latest.entry(rule.identifier.as_str()).or_insert(rule);
            if rule.version.cmp(&slot.version) == Ordering::Greater {
                *slot = rule;
            }
        }
        latest.into_values().cloned().collect()
    }
}

fn collect_rule_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let metadata = std::fs::metadata(dir)?;
    if metadata.is_file() {
        files.push(dir.to_owned());
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if entry.file_type()?.is_dir() {
            // Rule tests and value sets live beside rules in the EU layout; they are not rules.
            if name != "tests" && name != "valuesets" {
                collect_rule_files(&path, files)?;
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    Ok(())
}

fn load_rule_file(path: &Path) -> Result<Vec<Rule>, RuleLoadProblem> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_RULE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_RULE_BYTES {
        return Err(RuleLoadProblem::TooLarge);
    }
    let json: Json = serde_json::from_str(&text).map_err(|e| RuleError::Shape(e.to_string()))?;
    match json {
        Json::Array(items) => Ok(items
            .iter()
            .map(Rule::from_json)
            .collect::<Result<_, _>>()?),
        other => Ok(vec![Rule::from_json(&other)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn rule_json() -> Json {
        json!({
            "Identifier": "VR-DE-0001", "Type": "Acceptance", "Country": "DE",
            "Version": "1.0.0", "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC",
            "EngineVersion": "0.7.5", "CertificateType": "Vaccination",
            "Description": [{"lang": "en", "desc": "The vaccination schedule must be complete."}],
            "ValidFrom": "2021-07-03T00:00:00Z", "ValidTo": "2030-06-01T00:00:00+02:00",
            "AffectedFields": ["v.0", "v.0.dn", "v.0.sd"],
            "Logic": {"if": [{"var": "payload.v.0"}, {">=": [{"var": "payload.v.0.dn"}, {"var": "payload.v.0.sd"}]}, true]}
        })
    }

    fn with(edit: impl FnOnce(&mut Json)) -> Result<Rule, RuleError> {
        let mut json = rule_json();
        edit(&mut json);
        Rule::from_json(&json)
    }

    #[test]
    fn a_valid_rule_loads_and_lints_clean() {
        let rule = with(|_| {}).unwrap();
        assert_eq!(
            rule.version,
            SemVer {
                major: 1,
                minor: 0,
                patch: 0
            }
        );
        assert_eq!(rule.valid_to.to_string(), "2030-05-31T22:00:00Z");
        assert_eq!(
            rule.description_en(),
            "The vaccination schedule must be complete."
        );
        assert!(rule.lint().is_empty());
    }

    #[test]
    fn each_schema_violation_is_named() {
        let field_of = |r: Result<Rule, RuleError>| match r {
            Err(RuleError::Field { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        };
        assert_eq!(
            field_of(with(|j| j["Identifier"] = json!("VR-DE-001"))),
            "Identifier"
        );
        assert_eq!(
            field_of(with(|j| j["Identifier"] = json!("XR-DE-0001"))),
            "Identifier"
        );
        assert_eq!(field_of(with(|j| j["Type"] = json!("acceptance"))), "Type");
        assert_eq!(field_of(with(|j| j["Country"] = json!("de"))), "Country");
        assert_eq!(field_of(with(|j| j["Region"] = json!("BAYERN"))), "Region");
        assert_eq!(field_of(with(|j| j["Version"] = json!("1.0"))), "Version");
        assert_eq!(
            field_of(with(|j| j["EngineVersion"] = json!("1.0.0-rc1"))),
            "EngineVersion"
        );
        assert_eq!(
            field_of(with(|j| j["CertificateType"] = json!("Booster"))),
            "CertificateType"
        );
        assert_eq!(
            field_of(with(
                |j| j["Description"] =
                    json!([{"lang": "de", "desc": "Die Impfreihe muss vollständig sein."}])
            )),
            "Description"
        );
        assert_eq!(
            field_of(with(|j| j["Description"][0]["desc"] = json!("Too short."))),
            "Description"
        );
        assert_eq!(
            field_of(with(|j| j["ValidFrom"] = json!("2021-07-03T00:00:00.000Z"))),
            "ValidFrom"
        );
        assert_eq!(
            field_of(with(|j| j["ValidTo"] = json!("2030-06-01"))),
            "ValidTo"
        );
        assert_eq!(
            field_of(with(|j| j["AffectedFields"] = json!([]))),
            "AffectedFields"
        );
        assert_eq!(field_of(with(|j| j["Logic"] = json!(true))), "Logic");
        assert!(matches!(
            with(|j| j["Extra"] = json!(1)),
            Err(RuleError::Shape(_))
        ));
        assert!(matches!(
            with(|j| j
                .as_object_mut()
                .unwrap()
                .remove("Logic")
                .map(drop)
                .unwrap()),
            Err(RuleError::Shape(_))
        ));
        assert!(matches!(
            with(|j| j["ValidTo"] = json!("2021-07-01T00:00:00Z")),
            Err(RuleError::Validity { .. })
        ));
        assert!(matches!(
            with(|j| j["Logic"] = json!({"or": [true, false]})),
            Err(RuleError::Logic(m)) if m == ["unrecognised operator: \"or\""]
        ));
    }

    #[test]
    fn gateway_constraints_on_the_identifier() {
        for (id, ty, ct) in [
            ("IR-DE-0001", "Acceptance", "General"),
            ("VR-DE-0001", "Invalidation", "Vaccination"),
            ("TR-DE-0001", "Acceptance", "Vaccination"),
            ("VR-AT-0001", "Acceptance", "Vaccination"),
        ] {
            let r = with(|j| {
                j["Identifier"] = json!(id);
                j["Type"] = json!(ty);
                j["CertificateType"] = json!(ct);
            });
            assert!(
                matches!(r, Err(RuleError::Identifier { .. })),
                "{id} {ty} {ct}: {r:?}"
            );
        }
        let ir = with(|j| {
            j["Identifier"] = json!("IR-DE-0001");
            j["Type"] = json!("Invalidation");
            j["CertificateType"] = json!("General");
        });
        assert!(ir.is_ok(), "{ir:?}");
    }

    #[test]
    fn lint_finds_affected_fields_that_do_not_match_the_logic() {
        let rule = with(|j| j["AffectedFields"] = json!(["v.0", "v.0.dn"])).unwrap();
        assert_eq!(rule.lint().len(), 1);
    }

    fn set(rules: &[Json]) -> RuleSet {
        let mut set = RuleSet::new();
        for r in rules {
            set.insert(Rule::from_json(r).unwrap());
        }
        set
    }

    #[test]
    fn selection_as_the_eu_apps_do_it() {
        let clock: Timestamp = "2022-01-01T00:00:00Z".parse().unwrap();
        let base = rule_json();
        let mut newer = base.clone();
        newer["Version"] = json!("1.0.10");
        newer["Description"][0]["desc"] = json!("The newer version of the first rule.");
        let mut future = base.clone();
        future["Version"] = json!("2.0.0");
        future["ValidFrom"] = json!("2023-01-01T00:00:00Z");
        let mut regional = base.clone();
        regional["Identifier"] = json!("VR-DE-0002");
        regional["Region"] = json!("BY");
        let mut test_rule = base.clone();
        test_rule["Identifier"] = json!("TR-DE-0001");
        test_rule["CertificateType"] = json!("Test");
        let mut general = base.clone();
        general["Identifier"] = json!("GR-DE-0001");
        general["CertificateType"] = json!("General");
        let mut foreign = base.clone();
        foreign["Identifier"] = json!("VR-FR-0001");
        foreign["Country"] = json!("FR");
        let mut invalidation_at = base.clone();
        invalidation_at["Identifier"] = json!("IR-AT-0001");
        invalidation_at["Country"] = json!("AT");
        invalidation_at["Type"] = json!("Invalidation");
        invalidation_at["CertificateType"] = json!("General");
        let set = set(&[
            base,
            newer,
            future,
            regional,
            test_rule,
            general,
            foreign,
            invalidation_at,
        ]);
        let ids = |region: Option<&str>, issuer: &str| -> Vec<String> {
            set.select("de", region, issuer, CertificateType::Vaccination, clock)
                .iter()
                .map(|r| format!("{} {}", r.identifier, r.version))
                .collect()
        };
        assert_eq!(ids(None, "BE"), ["GR-DE-0001 1.0.0", "VR-DE-0001 1.0.10"]);
        assert_eq!(
            ids(Some("by"), "BE"),
            ["GR-DE-0001 1.0.0", "VR-DE-0001 1.0.10", "VR-DE-0002 1.0.0"]
        );
        assert_eq!(
            ids(None, "AT"),
            ["GR-DE-0001 1.0.0", "IR-AT-0001 1.0.0", "VR-DE-0001 1.0.10"]
        );
        assert_eq!(set.countries(), ["AT", "DE", "FR"]);
    }
}
