//! The whole pipeline, twice: with an empty trust store nothing is green and no signature
//! passes; with a real signer trusted, the signature path runs, and a green report must have
//! passed every check and given no reason.
#![no_main]

use std::sync::LazyLock;

use healthpass_codec::{base45, zlib};
use healthpass_trust::TrustStore;
use healthpass_verify::{Outcome, Verdict, verify};
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;

static NOW: LazyLock<Timestamp> =
    LazyLock::new(|| "2026-01-01T00:00:00Z".parse().expect("fixed timestamp"));
static TRUST: LazyLock<TrustStore> = LazyLock::new(TrustStore::new);
static TRUSTED_AT: LazyLock<TrustStore> = LazyLock::new(|| {
    let mut store = TrustStore::new();
    store
        .insert_der(include_bytes!("../fixtures/at-dsc.der"))
        .expect("the AT test signer parses");
    store
});

fn check(text: &str) {
    let report = verify(text, *NOW, &TRUST);
    assert_ne!(
        report.verdict,
        Verdict::Green,
        "green with an empty trust store: {report:?}"
    );
    assert_ne!(
        report.checks.signature,
        Outcome::Pass,
        "signature passed with an empty trust store: {report:?}"
    );
    assert_ne!(
        report.checks.signer,
        Outcome::Pass,
        "a signer was found in an empty store"
    );
    assert!(!report.reasons.is_empty(), "a red report must say why");
    // The typed payload is derived on demand from the JSON one.
    assert!(report.dcc().is_none() || report.certificate.is_some());

    let trusted = verify(text, *NOW, &TRUSTED_AT);
    healthpass_fuzz::assert_verdict_explained(&trusted);
    if trusted.checks.signature == Outcome::Pass {
        assert_eq!(trusted.checks.signer, Outcome::Pass);
        assert!(trusted.signer.is_some());
    }
}

fuzz_target!(|data: &[u8]| {
    // Shape 1: the input is the scanned text (UTF-8 only, as a QR decoder delivers it).
    if let Ok(text) = std::str::from_utf8(data) {
        check(text);
    }
    // Shape 2: the input is the COSE message, wrapped as valid HC1 text, so the fuzzer reaches
    // the COSE/CWT/schema layers quickly. Not UTF-8-gated: COSE bytes (0xD2 …) never are.
    if !data.starts_with(b"HC1:") {
        check(&format!("HC1:{}", base45::encode(&zlib::deflate(data))));
    }
});
