//! The EU DCC JSON schemas, one per released version, embedded and compiled once.
//!
//! The files are the official `*combined-schema.json` of ehn-dcc-development/eu-dcc-schema
//! (Apache-2.0, see `schemas/LICENSE`). A payload is validated against the schema of the
//! version it names in `ver`; 1.3.1–1.3.3 only relaxed 1.3.0, so they share the 1.3.3 file, and a
//! newer or unreadable version falls back to the newest schema.

use std::sync::LazyLock;

use healthpass_codec::dcc::DigitalCovidCertificate;
use jsonschema::Validator;
use serde_json::Value;

const SCHEMAS: [(&str, &str); 6] = [
    ("1.0.0", include_str!("../schemas/dcc-1.0.0.schema.json")),
    ("1.0.1", include_str!("../schemas/dcc-1.0.1.schema.json")),
    ("1.1.0", include_str!("../schemas/dcc-1.1.0.schema.json")),
    ("1.2.1", include_str!("../schemas/dcc-1.2.1.schema.json")),
    ("1.3.0", include_str!("../schemas/dcc-1.3.0.schema.json")),
    ("1.3.3", include_str!("../schemas/dcc-1.3.3.schema.json")),
];

static VALIDATORS: LazyLock<Vec<(&'static str, Validator)>> = LazyLock::new(|| {
    SCHEMAS
        .iter()
        .map(|(version, text)| {
            // The schemas are fixed files shipped with the crate; a unit test proves they load.
            let schema: Value = serde_json::from_str(text).expect("embedded DCC schema is JSON");
            let validator = jsonschema::options()
                .should_validate_formats(false)
                .build(&schema)
                .expect("embedded DCC schema compiles");
            (*version, validator)
        })
        .collect()
});

/// The schema version used for a payload that says `ver`.
pub fn schema_version_for(ver: Option<&str>) -> &'static str {
    let latest = SCHEMAS[SCHEMAS.len() - 1].0;
    let Some(ver) = ver else { return latest };
    let mut parts = ver.split('.').map(|p| p.parse::<u32>().ok());
    match (
        parts.next().flatten(),
        parts.next().flatten(),
        parts.next().flatten(),
    ) {
        (Some(1), Some(0), Some(0)) => "1.0.0",
        (Some(1), Some(0), Some(_)) => "1.0.1",
        (Some(1), Some(1), Some(_)) => "1.1.0",
        (Some(1), Some(2), Some(_)) => "1.2.1",
        (Some(1), Some(3), Some(0)) => "1.3.0",
        _ => latest,
    }
}

/// Validates a payload; returns the schema version used and up to `max_errors` problems, each
/// as `path: keyword` (no instance values, so no personal data ends up in messages or logs).
pub fn validate(payload: &Value, max_errors: usize) -> (&'static str, Vec<String>) {
    let ver = payload.get("ver").and_then(Value::as_str);
    let version = schema_version_for(ver);
    let validator = VALIDATORS
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, validator)| validator)
        .unwrap_or(&VALIDATORS[VALIDATORS.len() - 1].1);
    if validator.is_valid(payload) {
        return (version, Vec::new());
    }
    let problems = validator
        .iter_errors(payload)
        .take(max_errors)
        .map(|e| {
            let path = e.instance_path().to_string();
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            format!("{path}: fails `{}`", e.kind().keyword())
        })
        .collect();
    (version, problems)
}

/// The schema check of the verifier, also used by issuers before signing: JSON schema of the
/// payload's version, exactly one entry, and a payload that reads as a typed DCC. Returns the
/// schema version used and the problems found (empty if none).
pub fn check_dcc(payload: &Value, max_problems: usize) -> (&'static str, Vec<String>) {
    let (version, mut problems) = validate(payload, max_problems);
    let typed = DigitalCovidCertificate::from_json(payload);
    if let Err(err) = typed.and_then(|dcc| dcc.single_entry().map(|_| ())) {
        problems.push(err.to_string());
    }
    (version, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_schema_compiles() {
        assert_eq!(VALIDATORS.len(), SCHEMAS.len());
    }

    #[test]
    fn version_mapping() {
        assert_eq!(schema_version_for(Some("1.0.0")), "1.0.0");
        assert_eq!(schema_version_for(Some("1.0.4")), "1.0.1");
        assert_eq!(schema_version_for(Some("1.2.0")), "1.2.1");
        assert_eq!(schema_version_for(Some("1.3.0")), "1.3.0");
        assert_eq!(schema_version_for(Some("1.3.2")), "1.3.3");
        assert_eq!(schema_version_for(Some("2.0.0")), "1.3.3");
        assert_eq!(schema_version_for(None), "1.3.3");
    }

    #[test]
    fn errors_name_paths_not_values() {
        let payload = json!({"ver": "1.3.0", "nam": {"fnt": "lower case secret"}, "dob": "1990-01-01",
                             "v": [{"tg": "840539006"}]});
        let (version, problems) = validate(&payload, 10);
        assert_eq!(version, "1.3.0");
        assert!(!problems.is_empty());
        assert!(
            problems.iter().all(|p| !p.contains("secret")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("/nam/fnt")),
            "{problems:?}"
        );
    }
}
