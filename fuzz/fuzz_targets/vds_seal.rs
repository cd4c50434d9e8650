//! ICAO VDS-NC seals: the reader never panics, what it accepts writes back to a seal that
//! reads the same, and the signed bytes (JCS of `data`) say exactly what `data` says; and the
//! whole pipeline, with an empty trust store and with the barcode signer of the ICAO sample
//! seals pinned (`fixtures/vds-uto-signer.der`, the `sig.cer` of
//! `fixtures/vds-uto-vaccine.txt` and `vds-uto-test.txt`, copies of KDE/khealthcertificate's
//! `autotests/data/icao/`), never passes what it must not.
#![no_main]

use std::sync::LazyLock;

use healthpass_codec::json;
use healthpass_codec::vds::{self, Seal};
use healthpass_trust::{SignerCertificate, TrustStore};
use healthpass_verify::{Outcome, Verdict, verify};
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use serde_json::{Number, Value};

const SIGNER_DER: &[u8] = include_bytes!("../fixtures/vds-uto-signer.der");
/// The seals the pinned signer signed.
const SIGNED_SEALS: [&str; 2] = [
    include_str!("../fixtures/vds-uto-vaccine.txt"),
    include_str!("../fixtures/vds-uto-test.txt"),
];

static NOW: LazyLock<Timestamp> =
    LazyLock::new(|| "2021-06-01T00:00:00Z".parse().expect("fixed timestamp"));
static EMPTY: LazyLock<TrustStore> = LazyLock::new(TrustStore::new);
static PINNED: LazyLock<TrustStore> = LazyLock::new(|| {
    let mut store = TrustStore::new();
    let signer = SignerCertificate::from_der(SIGNER_DER).expect("the sample signer parses");
    assert!(store.insert(signer));
    // The samples are green with their signer pinned, so "green only if" is not vacuous.
    for seal in SIGNED_SEALS {
        let report = verify(seal, *NOW, &store);
        assert_eq!(report.verdict, Verdict::Green, "{report:?}");
    }
    store
});
/// What the pinned signer's key ever signed: JCS of the samples' `data`.
static SIGNED: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    SIGNED_SEALS
        .iter()
        .map(|s| Seal::parse(s).expect("a sample seal").signed_bytes())
        .collect()
});
/// A seal's `sig` with the pinned signer (the vaccination sample's signature).
static SIG: LazyLock<String> = LazyLock::new(|| {
    let seal: Value = serde_json::from_str(SIGNED_SEALS[0]).expect("a sample seal");
    seal["sig"].to_string()
});

/// A JSON number as an exact value: an integer, or a double.
enum Exact {
    Int(i128),
    Float(f64),
}

fn exact(n: &Number) -> Exact {
    match (n.as_u64(), n.as_i64(), n.as_f64()) {
        (Some(u), _, _) => Exact::Int(i128::from(u)),
        (_, Some(i), _) => Exact::Int(i128::from(i)),
        (_, _, f) => Exact::Float(f.expect("a Number is an integer or a double")),
    }
}

/// Whether two numbers are the same number (`1` and `1.0` are; `2^53 + 1` and `2^53` are not).
fn same_number(a: &Number, b: &Number) -> bool {
    let int_is_float =
        |i: i128, f: f64| f.is_finite() && f.fract() == 0.0 && f.abs() < 1e38 && f as i128 == i;
    match (exact(a), exact(b)) {
        (Exact::Int(a), Exact::Int(b)) => a == b,
        (Exact::Float(a), Exact::Float(b)) => a == b,
        (Exact::Int(i), Exact::Float(f)) | (Exact::Float(f), Exact::Int(i)) => int_is_float(i, f),
    }
}

/// Whether two JSON values say the same thing (numbers compared by value).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => same_number(a, b),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

fn seal_properties(text: &str, seal: &Seal) {
    // Written back, the seal reads the same.
    let again = vds::encode(&seal.data, &seal.alg, &seal.certificate, &seal.signature);
    let reread = Seal::parse(&again).unwrap_or_else(|e| panic!("{again}: {e}"));
    assert!(same_json(&reread.data, &seal.data), "{again}");
    assert_eq!(
        (reread.seal_type, reread.version, &reread.issuing_state),
        (seal.seal_type, seal.version, &seal.issuing_state)
    );
    assert_eq!(
        (&reread.alg, &reread.certificate, &reread.signature),
        (&seal.alg, &seal.certificate, &seal.signature)
    );
    // Canonical form is a fixed point.
    assert_eq!(reread.signed_bytes(), seal.signed_bytes());

    // The signed bytes are strict JSON that says what `data` says.
    let signed = seal.signed_bytes();
    let value = json::parse_strict(&signed)
        .unwrap_or_else(|e| panic!("signed bytes {:?}: {e}", String::from_utf8_lossy(&signed)));
    assert!(
        same_json(&value, &seal.data),
        "the signed bytes {} do not say what data says: {}",
        String::from_utf8_lossy(&signed),
        seal.data
    );

    // Surrounding whitespace is JSON's; trimming it changes nothing.
    assert_eq!(Seal::parse(text.trim()).as_ref(), Ok(seal));

    // Format detection finds every seal that reads, its member names written plainly or
    // with JSON escapes (`"d\u0061ta"`), whatever its message holds.
    assert_eq!(
        healthpass_verify::detect_format(text),
        Some(healthpass_verify::Format::IcaoVdsNc),
        "an accepted seal is not detected: {text}"
    );
}

/// The pipeline: with nothing trusted nothing is green or signed; with the sample signer
/// pinned, green means every check passed and no reason, any other verdict says why, and a
/// signature passes only over what that signer's key signed.
fn check(text: &str) {
    healthpass_fuzz::assert_untrusted(&verify(text, *NOW, &EMPTY));

    let pinned = verify(text, *NOW, &PINNED);
    healthpass_fuzz::assert_verdict_explained(&pinned);
    if pinned.verdict == Verdict::Green {
        assert_eq!(pinned.checks.signature, Outcome::Pass, "{pinned:?}");
    }
    if pinned.checks.signature == Outcome::Pass {
        assert_eq!(pinned.checks.signer, Outcome::Pass);
        let signer = pinned
            .signer
            .as_ref()
            .expect("a passed signature names its signer");
        assert_eq!(signer.der(), SIGNER_DER);
        let data = pinned
            .certificate
            .as_ref()
            .expect("a verified seal's data")
            .to_value();
        assert!(
            SIGNED.contains(&vds::canonical_json(&data)),
            "a signature passed over data the signer never signed: {data}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(seal) = Seal::parse(text) {
        seal_properties(text, &seal);
    }
    check(text);

    // The input as the seal's message, under the sample header and signature: the pipeline gets
    // past the signer to the signature, the message and the schema.
    if let Ok(Value::Object(msg)) = json::parse_strict(data) {
        let t = if msg.contains_key("tr") {
            "icao.test"
        } else {
            "icao.vacc"
        };
        let seal = format!(
            r#"{{"data":{{"hdr":{{"t":"{t}","v":1,"is":"UTO"}},"msg":{text}}},"sig":{}}}"#,
            *SIG
        );
        if let Ok(parsed) = Seal::parse(&seal) {
            seal_properties(&seal, &parsed);
        }
        check(&seal);
    }
});
