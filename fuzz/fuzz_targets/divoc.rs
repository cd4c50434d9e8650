//! DIVOC: the ZIP/Base64 reader never panics, stays within its caps, and reads the same
//! certificate from raw ZIP bytes, from `B64:` text and from that text wrapped in whitespace;
//! and the input itself, packed as `certificate.json` in a well-formed archive (stored and
//! deflated), reads back byte for byte exactly when it is a strict JSON object.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use healthpass_codec::divoc::{self, DEFAULT_LIMIT, DivocCredential, DivocError};
use healthpass_codec::json;
use libfuzzer_sys::fuzz_target;

/// What an accepted certificate must satisfy.
fn check(cert: &DivocCredential) {
    assert!(cert.credential.is_object(), "a credential is a JSON object");
    assert!(
        cert.certificate_json.len() <= DEFAULT_LIMIT,
        "certificate.json is {} bytes, over the cap",
        cert.certificate_json.len()
    );
    // Compact re-serialisation can grow a little (a float such as `1e15` is written out as
    // `1000000000000000.0`), but never by more than a small factor.
    let reserialised = serde_json::to_vec(&cert.credential).expect("a Value serialises");
    assert!(
        reserialised.len() <= 4 * DEFAULT_LIMIT,
        "re-serialised credential is {} bytes",
        reserialised.len()
    );
    let _ = (cert.name(), cert.birth_date(), cert.age(), cert.issuer());
    let _ = (
        cert.issuance_date(),
        cert.proof_type(),
        cert.verification_method(),
    );
    let _ = cert.evidence();
}

fn b64_text(data: &[u8]) -> Vec<u8> {
    let mut text = divoc::B64_PREFIX.to_vec();
    text.extend_from_slice(STANDARD.encode(data).as_bytes());
    text
}

/// The input as `certificate.json`: accepted exactly when it is a strict JSON object, and then
/// read back byte for byte.
fn round_trip(content: &[u8]) {
    let expected = json::parse_strict(content);
    for deflated in [false, true] {
        let zip = healthpass_fuzz::divoc_zip(content, deflated);
        if zip.len() > divoc::MAX_INPUT {
            continue;
        }
        match (divoc::decode(&zip, DEFAULT_LIMIT), &expected) {
            (Ok(cert), Ok(value)) => {
                check(&cert);
                assert_eq!(cert.certificate_json, content);
                assert_eq!(&cert.credential, value);
            }
            (Err(DivocError::NotAnObject), Ok(value)) => assert!(!value.is_object()),
            (Err(DivocError::Json(a)), Err(b)) => assert_eq!(&a, b),
            (got, expected) => panic!("packed input: {got:?}, strict JSON: {expected:?}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip(data);

    let raw = divoc::decode(data, DEFAULT_LIMIT);
    if let Ok(cert) = &raw {
        check(cert);
        assert!(divoc::looks_like_divoc(data));
    }
    if let Err(DivocError::NotDivoc { .. }) = raw {
        assert!(!divoc::looks_like_divoc(data));
    }

    // The same bytes as `B64:` text: a ZIP archive reads the same either way.
    let text = b64_text(data);
    let via_text = divoc::decode(&text, DEFAULT_LIMIT);
    if let Ok(cert) = &via_text {
        check(cert);
    }
    if data.starts_with(divoc::ZIP_MAGIC) && text.len() <= divoc::MAX_INPUT {
        match (&raw, &via_text) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "raw and B64 readings differ"),
            (Err(a), Err(b)) => assert_eq!(a, b, "raw and B64 errors differ"),
            _ => panic!("raw: {raw:?}, B64: {via_text:?}"),
        }
    }

    // Whitespace inside the Base64 text (line-wrapped at 76, CR LF, trailing newline) is skipped.
    if via_text.is_ok() {
        let mut wrapped = divoc::B64_PREFIX.to_vec();
        for line in text[divoc::B64_PREFIX.len()..].chunks(76) {
            wrapped.extend_from_slice(line);
            wrapped.extend_from_slice(b"\r\n");
        }
        if wrapped.len() <= divoc::MAX_INPUT {
            assert_eq!(divoc::decode(&wrapped, DEFAULT_LIMIT), via_text);
        }
    }
});
