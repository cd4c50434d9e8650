//! SMART Health Cards: the numeric QR text, the chunks, the compact JWS, the file, strict JSON,
//! raw DEFLATE and the JWT claims never panic and are coherent; and the whole pipeline, with
//! an empty trust store and with the spec examples' issuer trusted
//! (`fixtures/shc-spec-issuer-jwks.json`, a copy of HL7/smart-health-cards-and-links
//! `issuer_.well-known_jwks.json`), never passes what it must not.
#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use healthpass_codec::json::BorrowedValue;
use healthpass_codec::jws::{self, CompactJws};
use healthpass_codec::shc::{self, NumericChunk, ShcClaims};
use healthpass_codec::{json, zlib};
use healthpass_trust::TrustStore;
use healthpass_trust::jwk::Jwks;
use healthpass_verify::{Outcome, Verdict, verify};
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The inflate cap, as the verifier's default.
const LIMIT: usize = 64 * 1024;
/// The spec examples' issuer.
const SPEC_ISS: &str = "https://spec.smarthealth.cards/examples/issuer";
/// The spec issuer's key without a certificate chain (it signed examples 00, 02 and 03).
const SPEC_KID: &str = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";

static NOW: LazyLock<Timestamp> =
    LazyLock::new(|| "2024-06-01T00:00:00Z".parse().expect("fixed timestamp"));
static EMPTY: LazyLock<TrustStore> = LazyLock::new(TrustStore::new);
static SPEC_JWKS: LazyLock<Jwks> = LazyLock::new(|| {
    let jwks = Jwks::parse(include_bytes!("../fixtures/shc-spec-issuer-jwks.json"))
        .expect("the spec issuer's JWKS parses");
    assert!(jwks.refused.is_empty(), "{:?}", jwks.refused);
    assert_eq!(jwks.keys.len(), 2);
    jwks
});
static TRUSTED: LazyLock<TrustStore> = LazyLock::new(|| {
    let mut store = TrustStore::new();
    let added = store.add_shc_issuer(SPEC_ISS, None, SPEC_JWKS.keys.iter().cloned());
    assert_eq!(added, 2);
    store
});
/// `{"alg":"ES256","zip":"DEF","kid":SPEC_KID}`, base64url: the header of the JWS the input is
/// wrapped in as its payload.
static HEADER_B64: LazyLock<String> = LazyLock::new(|| {
    URL_SAFE_NO_PAD.encode(format!(
        r#"{{"alg":"ES256","zip":"DEF","kid":"{SPEC_KID}"}}"#
    ))
});

/// One numeric QR text: what decodes encodes back to the same digits, with the header it had.
fn numeric(text: &str) -> Option<NumericChunk> {
    let chunk = shc::decode_numeric(text).ok()?;
    let rest = &text[shc::QR_PREFIX.len()..];
    let digits = if chunk.has_chunk_header {
        let mut parts = rest.splitn(3, '/');
        let (c, n) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        assert_eq!(c.parse::<usize>().ok(), Some(chunk.index), "{text:?}");
        assert_eq!(n.parse::<usize>().ok(), Some(chunk.total), "{text:?}");
        parts.next().expect("a chunk header is followed by digits")
    } else {
        assert_eq!((chunk.index, chunk.total), (1, 1));
        assert!(!rest.contains('/'));
        rest
    };
    assert!(
        (1..=chunk.total).contains(&chunk.index) && chunk.total <= shc::MAX_CHUNKS,
        "{chunk:?}"
    );
    assert!(
        chunk.jws.bytes().all(|b| (b'-'..=b'z').contains(&b)),
        "pairs above 77 are refused: {chunk:?}"
    );
    assert_eq!(shc::encode_numeric(&chunk.jws), digits, "{text:?}");
    Some(chunk)
}

/// Chunks go back together exactly when they are 1..=N of the same N, in index order.
fn chunks(text: &str) {
    let Some(chunks) = text
        .split_whitespace()
        .map(numeric)
        .collect::<Option<Vec<_>>>()
    else {
        return;
    };
    let mut sorted = chunks.clone();
    sorted.sort_by_key(|c| c.index);
    let fits = !sorted.is_empty()
        && sorted
            .iter()
            .enumerate()
            .all(|(i, c)| c.index == i + 1 && c.total == sorted.len());
    match shc::assemble(chunks) {
        Ok(jws) => {
            assert!(fits, "assembled chunks that do not fit: {sorted:?}");
            let joined: String = sorted.iter().map(|c| c.jws.as_str()).collect();
            assert_eq!(jws, joined);
        }
        Err(err) => assert!(!fits, "{err}: {sorted:?}"),
    }
}

/// Accepted claims are the payload's, and an issuer URL without a problem is `https://…`.
fn claims(payload: &BorrowedValue<'_>) {
    let Ok(claims) = ShcClaims::from_json(payload) else {
        return;
    };
    assert_eq!(payload["iss"].as_str(), Some(claims.iss.as_str()));
    assert_eq!(payload["nbf"].as_f64(), Some(claims.nbf));
    assert_eq!(
        payload.get("exp").and_then(BorrowedValue::as_f64),
        claims.exp
    );
    assert_eq!(payload["vc"]["rid"].as_str(), claims.rid.as_deref());
    assert_eq!(claims.fhir_bundle["resourceType"].as_str(), Some("Bundle"));
    assert_eq!(
        claims.is_health_card(),
        claims.types.iter().any(|t| t == shc::HEALTH_CARD_TYPE)
    );
    issuer_url(&claims.iss);
}

fn issuer_url(iss: &str) {
    if shc::issuer_url_problem(iss).is_none() {
        assert!(
            iss.starts_with("https://")
                && iss.len() > "https://".len()
                && !iss.ends_with('/')
                && !iss.chars().any(char::is_whitespace),
            "{iss:?}"
        );
    }
}

/// A compact JWS: the signing input is the text up to its last dot, and the parts encode back.
fn compact_jws(text: &str) {
    let Ok(jws) = CompactJws::parse(text) else {
        return;
    };
    assert_eq!(jws.as_str(), text);
    let (signed, _) = text.rsplit_once('.').expect("a JWS has dots");
    assert_eq!(jws.signing_input(), signed.as_bytes());
    assert!(jws.header.is_object());
    let mut handed = Vec::new();
    let again = jws::encode(&jws.header, &jws.payload, |input| {
        handed = input.to_vec();
        jws.signature.clone()
    });
    let reparsed = CompactJws::parse(&again).expect("an encoded JWS parses");
    // The signer of `encode` signs what a reader checks.
    assert_eq!(reparsed.signing_input(), handed);
    assert_eq!(reparsed.header, jws.header);
    assert_eq!(reparsed.payload, jws.payload);
    assert_eq!(reparsed.signature, jws.signature);
    let _ = (
        jws.header_str("alg"),
        jws.header_str("kid"),
        jws.header_str("zip"),
    );
    // The verifier's reading (text, then a borrowed tree) and the value reading agree, on
    // the value and on the error.
    let value = shc::decode_payload(&jws, LIMIT);
    match shc::inflate_payload(&jws, LIMIT) {
        Ok(text) => match (BorrowedValue::parse(text.as_bytes()), &value) {
            (Ok(tree), Ok(value)) => {
                assert_eq!(&tree.to_value(), value);
                claims(&tree);
            }
            (Err(err), Err(shc::PayloadError::Json(expected))) => {
                assert_eq!(&err.to_string(), expected);
            }
            (tree, value) => panic!("borrowed: {tree:?}, value: {value:?}"),
        },
        Err(err) => assert_eq!(Err(err), value),
    }
}

/// The pipeline: with no trusted issuer nothing is green and nothing is signed; with the spec
/// issuer trusted, green means every check passed and no reason, and any other verdict says why.
fn check(text: &str) {
    healthpass_fuzz::assert_untrusted(&verify(text, *NOW, &EMPTY));

    let trusted = verify(text, *NOW, &TRUSTED);
    healthpass_fuzz::assert_verdict_explained(&trusted);
    if trusted.verdict == Verdict::Green {
        assert_eq!(trusted.checks.signature, Outcome::Pass, "{trusted:?}");
    }
    if trusted.checks.signature == Outcome::Pass {
        assert_eq!(trusted.checks.signer, Outcome::Pass);
        assert_eq!(trusted.issuer.as_deref(), Some(SPEC_ISS), "{trusted:?}");
        let kid = trusted.kid.as_deref().expect("a verified JWS has a kid");
        assert!(SPEC_JWKS.get(kid).is_some(), "{kid}");
    }
}

/// Base64url characters and exactly two dots: worth carrying as a numeric QR.
fn plausible_jws(text: &str) -> bool {
    text.bytes().filter(|b| *b == b'.').count() == 2
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fuzz_target!(|data: &[u8]| {
    // Raw DEFLATE: the cap holds, and deflate → inflate gives back the input.
    if let Ok(out) = zlib::inflate_raw(data, LIMIT) {
        assert!(out.len() <= LIMIT, "{} bytes over the cap", out.len());
    }
    let packed = zlib::deflate_raw(data);
    if data.len() <= LIMIT {
        assert_eq!(
            zlib::inflate_raw(&packed, LIMIT).as_deref(),
            Ok(data),
            "deflate_raw → inflate_raw"
        );
    }

    // Strict JSON: what it accepts serde_json reads the same, and writes back readably.
    if let Ok(value) = json::parse_strict(data) {
        let written = serde_json::to_string(&value).expect("a Value serialises");
        assert_eq!(
            json::parse_strict(written.as_bytes()).as_ref(),
            Ok(&value),
            "{written}"
        );
        assert_eq!(
            serde_json::from_slice::<Value>(data).ok().as_ref(),
            Some(&value)
        );
    }
    // The borrowed reading accepts the same texts, with the same value or the same error.
    match (json::BorrowedValue::parse(data), json::parse_strict(data)) {
        (Ok(tree), Ok(value)) => {
            assert_eq!(tree.to_value(), value);
            claims(&tree);
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (tree, value) => panic!("borrowed: {tree:?}, value: {value:?}"),
    }

    // The file: what it reads writes back to a file that reads the same.
    if let Ok(jws) = shc::parse_file(data) {
        assert!(!jws.is_empty());
        assert!(json::parse_strict(data).is_ok());
        let refs: Vec<&str> = jws.iter().map(String::as_str).collect();
        assert_eq!(shc::parse_file(shc::encode_file(&refs).as_bytes()), Ok(jws));
    }

    // The input as the card's JWT claims, in a JWS under the spec issuer's kid (the signature
    // is 64 zero bytes: the pipeline gets to the claims, the FHIR bundle and the signature).
    let wrapped = format!(
        "{}.{}.{}",
        *HEADER_B64,
        URL_SAFE_NO_PAD.encode(&packed),
        URL_SAFE_NO_PAD.encode([0u8; 64])
    );
    check(&wrapped);

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    issuer_url(text);
    numeric(text);
    numeric(&format!("{}{text}", shc::QR_PREFIX));
    chunks(text);
    // Encoding then decoding any text of the numeric alphabet gives it back.
    if text.bytes().all(|b| (b'-'..=b'z').contains(&b)) {
        let qr = format!("{}{}", shc::QR_PREFIX, shc::encode_numeric(text));
        let chunk = numeric(&qr).expect("encoded text decodes");
        assert_eq!(chunk.jws, text);
    }
    compact_jws(text);
    check(text);
    if plausible_jws(text) {
        check(&format!("{}{}", shc::QR_PREFIX, shc::encode_numeric(text)));
    }
});
