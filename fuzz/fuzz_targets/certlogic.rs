//! CertLogic on arbitrary JSON: the input is `[expression, data]` or an expression evaluated on
//! a fixed DCC data context, and its strings are also parsed as date-times.
//!
//! Asserts: evaluation returns a value or an error, never a panic; an expression the static
//! validator accepts never fails with "invalid expression" at run time; results serialise; a
//! parsed date-time prints as a string that parses back to the same instant.
#![no_main]

use healthpass_rules::{DateTime, EvalError, Expr, Value, validate};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::LazyLock;

static DATA: LazyLock<serde_json::Value> = LazyLock::new(|| {
    json!({
        "payload": {
            "ver": "1.3.0", "dob": "1964-08",
            "nam": {"fn": "Musterfrau", "gn": "Erika"},
            "v": [{"tg": "840539006", "mp": "EU/1/20/1528", "dn": 2, "sd": 2, "dt": "2021-06-01",
                   "ci": "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B"}]
        },
        "external": {
            "validationClock": "2022-01-01T12:00:00+01:00",
            "valueSets": {"vaccines-covid-19-names": ["EU/1/20/1528"]},
            "countryCode": "DE"
        }
    })
});

fn check_datetime(s: &str) {
    for parsed in [DateTime::parse(s), DateTime::parse_date_of_birth(s)] {
        if let Ok(t) = parsed {
            let printed = t.to_string();
            assert_eq!(DateTime::parse(&printed), Ok(t), "{printed}");
        }
    }
}

fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_datetime(text.trim());
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let (expr, context) = match &json {
        serde_json::Value::Array(pair) if pair.len() == 2 => (&pair[0], &pair[1]),
        _ => (&json, &*DATA),
    };
    let valid = validate(expr).is_empty();
    let compiled = Expr::compile(expr);
    match compiled.evaluate(&Value::from_json(context)) {
        Ok(value) => {
            let _ = value.to_json();
            let _ = value.truthiness();
        }
        Err(EvalError::Invalid(why)) => {
            assert!(
                !valid,
                "validated, yet invalid at run time: {why} in {expr}"
            )
        }
        Err(_) => {}
    }
    let mut texts = Vec::new();
    strings(&json, &mut texts);
    for s in texts.iter().take(16) {
        check_datetime(s);
    }
});
