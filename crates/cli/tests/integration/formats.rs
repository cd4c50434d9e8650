//! Every format beside HC1: SMART Health Cards (spec examples, the official validator's
//! negative fixtures), ICAO VDS-NC seals, WHO DDCC, DIVOC; their common model against WHO's
//! FHIR mappings; and the same business rules deciding on each.

use healthpass_trust::jwk::Jwks;
use healthpass_trust::shc_crl::ShcCrl;
use healthpass_trust::{SignerCertificate, TrustStore};
use healthpass_verify::{Format, Outcome, ReasonCode, Verdict, VerificationReport};
use jiff::Timestamp;
use serde_json::Value;
use std::path::Path;

use crate::common::corpus_dir;

const SPEC_ISSUER: &str = "https://spec.smarthealth.cards/examples/issuer";
const SPEC_KEY: &str = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The spec's example issuer: its published keys and revocation list.
fn spec_trust(dir: &Path) -> TrustStore {
    let jwks = Jwks::parse(read(dir, "issuer_.well-known_jwks.json").as_bytes()).unwrap();
    assert!(jwks.refused.is_empty(), "{:?}", jwks.refused);
    let version = jwks.get(SPEC_KEY).unwrap().crl_version();
    let mut trust = TrustStore::new();
    assert_eq!(trust.add_shc_issuer(SPEC_ISSUER, None, jwks.keys), 2);
    let crl = ShcCrl::parse(
        read(dir, &format!("crl_{SPEC_KEY}.json")).as_bytes(),
        SPEC_KEY,
        version,
    )
    .unwrap();
    assert!(trust.add_shc_crl(SPEC_ISSUER, crl));
    trust
}

fn verify(text: &str, now: Timestamp, trust: &TrustStore) -> VerificationReport {
    healthpass_verify::verify(text, now, trust)
}

fn codes(reasons: &[healthpass_verify::Reason]) -> Vec<ReasonCode> {
    reasons.iter().map(|r| r.code).collect()
}

/// Example 0X in each carrier the spec publishes: the JWS, the file, the numeric QR text(s).
fn carriers(dir: &Path, example: &str) -> Vec<(String, String)> {
    let mut qr: Vec<String> = (0..3)
        .filter_map(|i| {
            std::fs::read_to_string(
                dir.join(format!("example-{example}-f-qr-code-numeric-value-{i}.txt")),
            )
            .ok()
        })
        .collect();
    // Chunks are accepted in any order.
    qr.reverse();
    vec![
        (
            "jws".into(),
            read(dir, &format!("example-{example}-d-jws.txt")),
        ),
        (
            "file".into(),
            read(dir, &format!("example-{example}-e-file.smart-health-card")),
        ),
        ("qr".into(), qr.join("\n")),
    ]
}

#[test]
fn shc_spec_examples_verify_with_the_published_keys() {
    let Some(dir) = corpus_dir("shc-spec-examples") else {
        return;
    };
    let trust = spec_trust(&dir);
    // All four were signed 2024-05-07 (nbf); example 03 expires 2025-05-07.
    let clock = at("2024-06-01T00:00:00Z");
    for example in ["00", "01", "02", "03"] {
        for (carrier, text) in carriers(&dir, example) {
            let report = verify(text.trim(), clock, &trust);
            let case = format!("example {example} as {carrier}");
            assert_eq!(report.format, Format::Shc, "{case}");
            assert_eq!(
                report.verdict,
                Verdict::Green,
                "{case}: {:?}",
                report.reasons
            );
            assert_eq!(report.issuer.as_deref(), Some(SPEC_ISSUER), "{case}");
            let warnings = codes(&report.warnings);
            match example {
                // Example 01's key carries an x5c chain valid only 2021-06-01..2022-06-01: the
                // key is trusted through the key set, the stale chain is a warning.
                "01" => assert_eq!(warnings, [ReasonCode::SignerExpired], "{case}"),
                // Example 02 is 3173 characters: too long for one QR code, chunked in three.
                // Its references are long (`Practitioner/98315ba9-…`), as upstream's 55
                // short-URL warnings for it say: a deviation.
                "02" if carrier == "qr" => {
                    assert_eq!(
                        warnings,
                        [
                            ReasonCode::QrChunked,
                            ReasonCode::JwsTooLong,
                            ReasonCode::FhirProfileDeviation
                        ],
                        "{case}"
                    )
                }
                "02" => assert_eq!(
                    warnings,
                    [ReasonCode::JwsTooLong, ReasonCode::FhirProfileDeviation],
                    "{case}"
                ),
                _ => assert_eq!(warnings, [], "{case}"),
            }
            let credential = report.credential.as_ref().unwrap();
            assert!(credential.holder.name.is_some(), "{case}");
            // Example 02 is a patient summary (conditions, medications): no vaccination or test.
            assert_eq!(credential.events.is_empty(), example == "02", "{case}");
        }
    }
    // Example 03's rid is on the list as `vwAjHdarZuc.1664492124`: only cards issued before
    // that instant are revoked, and this one was issued in 2024. It has expired since.
    let ex03 = read(&dir, "example-03-d-jws.txt");
    let late = verify(ex03.trim(), at("2026-11-27T00:00:00Z"), &trust);
    assert_eq!(late.verdict, Verdict::Red);
    assert_eq!(codes(&late.reasons), [ReasonCode::Expired]);
    assert_eq!(late.checks.revocation, Outcome::Pass);
    // Example 01 before its card was issued: not yet valid. Its chain (P-256 leaf ← P-384 CA
    // ← P-521 root) is within its validity then and checks in full, so no warning.
    let ex01 = read(&dir, "example-01-d-jws.txt");
    let early = verify(ex01.trim(), at("2021-12-01T00:00:00Z"), &trust);
    assert_eq!(codes(&early.reasons), [ReasonCode::NotYetValid]);
    assert_eq!(codes(&early.warnings), []);
    // Without the issuer's keys: unknown signer, and the content still decodes.
    let untrusted = verify(ex03.trim(), clock, &TrustStore::new());
    assert_eq!(codes(&untrusted.reasons), [ReasonCode::SignerUnknown]);
    assert!(untrusted.credential.is_some());
}

/// Each negative fixture of the official validator gives its reason (or warning).
/// RFC 002 `hash-fhir` lists name cards by a hash of the bundle as carried: an id computed
/// from the corpus's own minified payload (not from the verifier's reading of it) revokes that
/// card and no other.
#[test]
fn shc_hash_fhir_revocation_list_revokes_by_bundle_hash() {
    use healthpass_trust::shc_crl::hash_fhir_rid;
    let Some(dir) = corpus_dir("shc-spec-examples") else {
        return;
    };
    let bundle_id = |example: &str| {
        let payload = read(
            &dir,
            &format!("example-{example}-c-jws-payload-minified.json"),
        );
        let start = payload.find("\"fhirBundle\":").unwrap() + "\"fhirBundle\":".len();
        // The bundle is credentialSubject's last member, and `rid` follows credentialSubject.
        let end = payload.find("}},\"rid\":").unwrap() + 1;
        hash_fhir_rid(&payload.as_bytes()[start..end])
    };
    let jwks = Jwks::parse(read(&dir, "issuer_.well-known_jwks.json").as_bytes()).unwrap();
    let version = jwks.get(SPEC_KEY).unwrap().crl_version();
    let clock = at("2024-06-01T00:00:00Z");
    let ex00 = read(&dir, "example-00-d-jws.txt");
    let ex03 = read(&dir, "example-03-d-jws.txt");
    let id00 = bundle_id("00");
    // RFC 002's own example id is that of example 03's bundle: the verifier's reading of the
    // card (re-inflated, the bundle's span as carried) meets the RFC's published value.
    let id03 = bundle_id("03");
    assert_eq!(id03, "9q2bR-42Z30");
    for (listed, revoked00, revoked03) in [
        (id00.clone(), true, false),
        // Example 00 was issued at nbf 1715107763.677: before a cut-off one second later,
        // after one at the whole second.
        (format!("{id00}.1715107764"), true, false),
        (format!("{id00}.1715107763"), false, false),
        (id03.clone(), false, true),
    ] {
        let mut trust = TrustStore::new();
        trust.add_shc_issuer(SPEC_ISSUER, None, jwks.keys.clone());
        let list = format!(
            r#"{{"kid":"{SPEC_KEY}","method":"hash-fhir","ctr":{},"rids":["{listed}"]}}"#,
            version.unwrap()
        );
        assert!(trust.add_shc_crl(
            SPEC_ISSUER,
            ShcCrl::parse(list.as_bytes(), SPEC_KEY, version).unwrap()
        ));
        for (text, revoked) in [(&ex00, revoked00), (&ex03, revoked03)] {
            let report = verify(text.trim(), clock, &trust);
            if revoked {
                assert_eq!(report.verdict, Verdict::Red, "{listed}");
                assert_eq!(codes(&report.reasons), [ReasonCode::CertificateRevoked]);
                assert!(
                    report.reasons[0].message.contains("hash-fhir id"),
                    "{}",
                    report.reasons[0].message
                );
            } else {
                assert_eq!(
                    report.verdict,
                    Verdict::Green,
                    "{listed}: {:?}",
                    report.reasons
                );
                assert_eq!(report.checks.revocation, Outcome::Pass);
            }
        }
    }
}

#[test]
fn shc_dev_tools_fixtures_give_their_reasons() {
    let (Some(dir), Some(spec)) = (corpus_dir("shc-dev-tools"), corpus_dir("shc-spec-examples"))
    else {
        return;
    };
    let trust = spec_trust(&spec);
    let clock = at("2024-06-01T00:00:00Z");
    use ReasonCode::*;
    // (file, reasons, warnings): upstream's expectation in tests/card.test.ts in brackets.
    let cases: &[(&str, &[ReasonCode], &[ReasonCode])] = &[
        // [SIGNATURE_FORMAT_ERROR]
        (
            "test-example-00-d-jws-der-signature.txt",
            &[SignatureNotRaw],
            &[],
        ),
        (
            "test-example-00-d-jws-der-signature-r-neg.txt",
            &[SignatureNotRaw],
            &[],
        ),
        (
            "test-example-00-d-jws-der-signature-s-neg.txt",
            &[SignatureNotRaw],
            &[],
        ),
        (
            "test-example-00-d-jws-der-signature-rs-neg.txt",
            &[SignatureNotRaw],
            &[],
        ),
        // [JWS_VERIFICATION_ERROR]
        (
            "test-example-00-d-jws-invalid-signature.txt",
            &[SignatureInvalid],
            &[],
        ),
        // [JWS_HEADER_ERROR, JWS_VERIFICATION_ERROR]
        (
            "test-example-00-d-jws-no_jws_header_alg.txt",
            &[JwsHeaderInvalid, AlgorithmNotAllowed],
            &[],
        ),
        (
            "test-example-00-d-jws-no_jws_header_kid.txt",
            &[JwsHeaderInvalid, SignerUnknown],
            &[],
        ),
        (
            "test-example-00-d-jws-no_jws_header_zip.txt",
            &[JwsHeaderInvalid, DecompressFailed],
            &[],
        ),
        // [JWS_VERIFICATION_ERROR]: no key of the issuer has this kid.
        (
            "test-example-00-d-jws-wrong_jws_header_kid.txt",
            &[SignerUnknown],
            &[],
        ),
        // [INFLATION_ERROR]
        // [INFLATION_ERROR, JWS_HEADER_ERROR], warning [JWS_TOO_LONG]
        (
            "test-example-00-d-jws-no_deflate.txt",
            &[JwsHeaderInvalid, DecompressFailed],
            &[JwsTooLong],
        ),
        (
            "test-example-00-e-file-invalid_deflate.smart-health-card",
            &[DecompressFailed],
            &[],
        ),
        (
            "test-example-00-e-file-no_deflate.smart-health-card",
            &[JwsHeaderInvalid, DecompressFailed],
            &[JwsTooLong],
        ),
        // [INVALID_ISSUER_URL]
        (
            "test-example-00-e-file-invalid_issuer_url_http.smart-health-card",
            &[IssuerInvalid],
            &[],
        ),
        (
            "test-example-00-e-file-issuer_url_with_trailing_slash.smart-health-card",
            &[IssuerInvalid],
            &[],
        ),
        // [ISSUER_KEY_DOWNLOAD_ERROR]: an issuer nobody trusts here.
        (
            "test-example-00-e-file-invalid_issuer_url.smart-health-card",
            &[SignerUnknown],
            &[],
        ),
        // Warnings only: [TRAILING_CHARACTERS]
        (
            "test-example-00-d-jws-trailing_chars.txt",
            &[],
            &[TrailingCharacters],
        ),
        (
            "test-example-00-e-file-trailing_chars.smart-health-card",
            &[],
            &[TrailingCharacters],
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-trailing_chars.txt",
            &[],
            &[TrailingCharacters],
        ),
        // [INVALID_NUMERIC_QR]
        (
            "test-example-00-f-qr-code-numeric-value-0-odd-count.txt",
            &[NumericInvalid],
            &[],
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-number-too-big.txt",
            &[NumericInvalid],
            &[],
        ),
        // [INVALID_NUMERIC_QR_HEADER]
        (
            "test-example-00-f-qr-code-numeric-value-0-wrong_qr_header.txt",
            &[PrefixMissing],
            &[],
        ),
        // warning [INVALID_NUMERIC_QR_HEADER]: shc:/1/1/ on a single QR code.
        (
            "test-example-00-f-qr-code-numeric-value-0-wrong-multi-chunk.txt",
            &[],
            &[QrChunked],
        ),
        // The single-QR boundary: exactly 1195 characters is allowed. Its Patient is padded
        // with gender, identifier and telecom, outside the data-minimisation profile: a
        // deviation, not an error.
        (
            "test-example-1195-byte-qrnumeric.txt",
            &[],
            &[FhirProfileDeviation],
        ),
        // [JWS_VERIFICATION_ERROR]: a key the spec issuer does not publish.
        (
            "test-example-00-d-jws-issuer-kid-mismatch.txt",
            &[SignerUnknown],
            &[],
        ),
        // warning [JWS_TOO_LONG]; this generated card also has no `nbf`, which the spec
        // requires.
        (
            "test-example-00-d-jws-jws_too_long.txt",
            &[PayloadInvalid],
            &[JwsTooLong],
        ),
        (
            "test-example-00-e-file-jws_too_long.smart-health-card",
            &[PayloadInvalid],
            &[JwsTooLong],
        ),
        // The extension is the file system's business; the content is a valid card.
        ("test-example-00-e-file.wrong-extension", &[], &[]),
        // [ISSUER_KEY_DOWNLOAD_ERROR]: the issuer's key set is not one (badjwks/).
        (
            "test-example-00-e-file-bad_jwks.smart-health-card",
            &[SignerUnknown],
            &[],
        ),
    ];
    let mut failures = Vec::new();
    for (file, reasons, warnings) in cases {
        let report = verify(&read(&dir, file), clock, &trust);
        let (got_reasons, got_warnings) = (codes(&report.reasons), codes(&report.warnings));
        if got_reasons != *reasons || got_warnings != *warnings {
            failures.push(format!(
                "{file}: reasons {got_reasons:?} warnings {got_warnings:?}: {:?}",
                report.reasons
            ));
        }
        if reasons.is_empty() && report.verdict != Verdict::Green {
            failures.push(format!("{file}: not green"));
        }
    }
    // Chunk sets: (files, reasons, warnings).
    let numeric = |files: &[String]| {
        files
            .iter()
            .map(|f| read(&dir, f).trim().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let spec02 = |i: usize| {
        read(
            &spec,
            &format!("example-02-f-qr-code-numeric-value-{i}.txt"),
        )
        .trim()
        .to_owned()
    };
    let chunk_cases: Vec<(String, String, Vec<ReasonCode>, Vec<ReasonCode>)> = vec![
        // warnings [INVALID_QR, UNBALANCED_QR_CHUNKS]: example 00 in 17 needless chunks.
        (
            "qr_chunk_too_small x17".into(),
            numeric(
                &(0..17)
                    .map(|i| {
                        format!(
                            "test-example-00-f-qr-code-numeric-value-{i}-qr_chunk_too_small.txt"
                        )
                    })
                    .collect::<Vec<_>>(),
            ),
            vec![],
            vec![QrChunked],
        ),
        // [INVALID_NUMERIC_QR x2]: example 02 in 2 chunks of more than 1191 characters.
        (
            "qr_chunk_too_big x2".into(),
            numeric(
                &(0..2)
                    .map(|i| {
                        format!("test-example-02-f-qr-code-numeric-value-{i}-qr_chunk_too_big.txt")
                    })
                    .collect::<Vec<_>>(),
            ),
            vec![ChunksInvalid],
            vec![],
        ),
        // [INVALID_NUMERIC_QR_HEADER]: chunk 3 of 2.
        (
            "index-out-of-range".into(),
            format!(
                "{}\n{}",
                read(
                    &dir,
                    "test-example-00-f-qr-code-numeric-value-0-index-out-of-range.txt"
                )
                .trim(),
                spec02(1)
            ),
            vec![NumericInvalid],
            vec![],
        ),
        // [MISSING_QR_CHUNK]
        (
            "missing chunk".into(),
            format!("{}\n{}", spec02(0), spec02(2)),
            vec![ChunksInvalid],
            vec![QrChunked],
        ),
        // [INVALID_NUMERIC_QR_HEADER]: a chunk twice.
        (
            "duplicate chunk".into(),
            format!("{}\n{}\n{}", spec02(0), spec02(2), spec02(0)),
            vec![ChunksInvalid],
            vec![QrChunked],
        ),
    ];
    for (name, text, reasons, warnings) in chunk_cases {
        let report = verify(&text, clock, &trust);
        if codes(&report.reasons) != reasons || codes(&report.warnings) != warnings {
            failures.push(format!(
                "{name}: reasons {:?} warnings {:?}",
                report.reasons,
                codes(&report.warnings)
            ));
        }
    }
    // Files with several cards: one report each (all green; in the -issues file, the second
    // card has no `kid` [JWS_HEADER_ERROR, JWS_VERIFICATION_ERROR]).
    let multi = healthpass_verify::split_credentials(&read(
        &dir,
        "test-example-00-e-file-multi-jws.smart-health-card",
    ));
    assert!(multi.len() > 1);
    for card in &multi {
        assert_eq!(verify(card, clock, &trust).verdict, Verdict::Green);
    }
    let issues: Vec<Vec<ReasonCode>> = healthpass_verify::split_credentials(&read(
        &dir,
        "test-example-00-e-file-multi-jws-issues.smart-health-card",
    ))
    .iter()
    .map(|card| codes(&verify(card, clock, &trust).reasons))
    .collect();
    assert!(issues.iter().any(|r| r.is_empty()), "{issues:?}");
    assert!(
        issues.iter().any(|r| r.contains(&JwsHeaderInvalid)),
        "{issues:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The seal's own barcode signer certificate, trusted as it is.
fn pinned_signer(seal_text: &str) -> TrustStore {
    let seal = healthpass_codec::vds::Seal::parse(seal_text).unwrap();
    let mut trust = TrustStore::new();
    trust.insert(SignerCertificate::from_der(&seal.certificate).unwrap());
    trust
}

#[test]
fn icao_seals_verify_against_their_signer_and_a_changed_field_turns_red() {
    let (Some(icao), Some(who)) = (corpus_dir("icao-vds-nc"), corpus_dir("who-ddcc-validator"))
    else {
        return;
    };
    // The ICAO worked examples' signer (issuer UTO) is valid 2021-04-27..2026-03-12; the
    // Australian one until 2031.
    for (text, clock, name) in [
        (
            read(&icao, "single-vaccine.txt"),
            "2021-06-01T00:00:00Z",
            "Smith Bill",
        ),
        (
            read(&icao, "test.txt"),
            "2021-06-01T00:00:00Z",
            "Cook Gerald",
        ),
        (
            read(&who, "ICAOAUQR1Contents.txt"),
            "2026-11-27T00:00:00Z",
            "CITIZEN JANE SUE",
        ),
    ] {
        let trust = pinned_signer(&text);
        let report = verify(&text, at(clock), &trust);
        assert_eq!(report.format, Format::IcaoVdsNc);
        assert_eq!(
            report.verdict,
            Verdict::Green,
            "{name}: {:?}",
            report.reasons
        );
        assert!(report.checks.all_pass());
        assert_eq!(
            report.credential.as_ref().unwrap().holder.name.as_deref(),
            Some(name)
        );
        // Any change to the signed data: red, bad signature.
        let changed = text.replacen(name.split(' ').next().unwrap(), "Mallory", 1);
        assert_ne!(changed, text);
        let forged = verify(&changed, at(clock), &trust);
        assert_eq!(
            codes(&forged.reasons),
            [ReasonCode::SignatureInvalid],
            "{name}"
        );
        // Whitespace and key order are not signed (JCS): the same seal reformatted verifies.
        let reformatted =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(&text).unwrap()).unwrap();
        assert_eq!(
            verify(&reformatted, at(clock), &trust).verdict,
            Verdict::Green,
            "{name}"
        );
        // Without trusting the signer: unknown signer.
        let untrusted = verify(&text, at(clock), &TrustStore::new());
        assert_eq!(
            codes(&untrusted.reasons),
            [ReasonCode::SignerUnknown],
            "{name}"
        );
    }
    // The UTO signer has expired by now.
    let text = read(&icao, "single-vaccine.txt");
    let late = verify(&text, at("2026-11-27T00:00:00Z"), &pinned_signer(&text));
    assert_eq!(codes(&late.reasons), [ReasonCode::SignerExpired]);
}

/// Every QR content WHO's validator collected decodes, and the holder's birth date and the
/// event dates equal those of WHO's own FHIR mapping of the same case.
#[test]
fn who_ddcc_validator_contents_decode_with_whos_dates() {
    let Some(dir) = corpus_dir("who-ddcc-validator") else {
        return;
    };
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(case) = name.strip_suffix("Contents.txt") else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let report = verify(text.trim(), at("2026-11-27T00:00:00Z"), &TrustStore::new());
        let expected_format = match case {
            "EUQR1" => Format::Hc1,
            "SHCQR1" => Format::Shc,
            "ICAOAUQR1" => Format::IcaoVdsNc,
            "WHOQR1" => Format::Ddcc,
            "DIVOCQR1" => Format::Divoc,
            other => panic!("a case this test does not know: {other}"),
        };
        assert_eq!(report.format, expected_format, "{case}");
        let credential = report
            .credential
            .as_ref()
            .unwrap_or_else(|| panic!("{case}: {:?}", report.reasons));
        let bundle: Value =
            serde_json::from_str(&read(&dir, &format!("{case}FHIRBundle.json"))).unwrap();
        let resources: Vec<&Value> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .collect();
        let patient = resources
            .iter()
            .find(|r| r["resourceType"] == "Patient")
            .unwrap();
        assert_eq!(
            credential.holder.birth_date.as_deref(),
            patient["birthDate"].as_str(),
            "{case}: birth date"
        );
        let who_dates: Vec<String> = resources
            .iter()
            .filter(|r| r["resourceType"] == "Immunization")
            .map(|r| r["occurrenceDateTime"].as_str().unwrap()[..10].to_owned())
            .collect();
        let our_dates: Vec<String> = credential
            .events
            .iter()
            .map(|e| e.date.clone().unwrap())
            .collect();
        assert_eq!(our_dates, who_dates, "{case}: event dates");
        seen.push(case.to_owned());
    }
    seen.sort();
    assert_eq!(seen, ["DIVOCQR1", "EUQR1", "ICAOAUQR1", "SHCQR1", "WHOQR1"]);
}

/// Without a trusted DIVOC key the certificate decodes but is never green: its signer is
/// unknown, as for the other formats (the signed case is in `divoc.rs`).
#[test]
fn divoc_decodes_but_is_never_green_without_its_key() {
    let Some(dir) = corpus_dir("who-ddcc-validator") else {
        return;
    };
    let report = verify(
        read(&dir, "DIVOCQR1Contents.txt").trim(),
        at("2021-04-01T00:00:00Z"),
        &TrustStore::new(),
    );
    assert_eq!(report.format, Format::Divoc);
    assert_eq!(report.verdict, Verdict::Red);
    assert_eq!(codes(&report.reasons), [ReasonCode::SignerUnknown]);
    assert_eq!(report.kid.as_deref(), Some("did:india"));
    let event = &report.credential.as_ref().unwrap().events[0];
    assert_eq!((event.dose, event.doses_total), (Some(1), Some(2)));
    assert_eq!(event.product_name.as_deref(), Some("COVISHIELD"));
}

/// The German rules of the EU corpus decide on a SMART Health Card and an ICAO seal as on
/// an EU certificate: same verdicts, same reasons.
#[test]
fn business_rules_apply_to_smart_cards_and_icao_seals() {
    let (Some(who), Some(spec), Some(rules_dir)) = (
        corpus_dir("who-ddcc-validator"),
        corpus_dir("shc-spec-examples"),
        corpus_dir("eu-dcc-business-rules"),
    ) else {
        return;
    };
    // The same policy the EU certificates are checked with (rules_verify.rs).
    let options = crate::rules_verify::options(crate::rules_verify::policy(&rules_dir, "DE"));
    // Two Moderna doses (CVX 207) in January 2021, issued 2021-06-01 by the spec's issuer:
    // a complete course of an accepted vaccine, within the year.
    let shc = read(&who, "SHCQR1Contents.txt");
    let report = healthpass_verify::verify_with(
        shc.trim(),
        at("2021-07-10T18:00:00Z"),
        &spec_trust(&spec),
        &options,
    );
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);
    let results: Vec<(&str, &str)> = report
        .policy
        .as_ref()
        .unwrap()
        .rules
        .iter()
        .map(|r| (r.rule.identifier.as_str(), r.result))
        .collect();
    assert_eq!(
        results,
        [
            ("VR-DE-0001", "passed"),
            ("VR-DE-0002", "passed"),
            ("VR-DE-0004", "passed")
        ]
    );
    // One AstraZeneca dose of two (Australia, 2021-09-15): the schedule is not complete.
    let seal = read(&who, "ICAOAUQR1Contents.txt");
    let report = healthpass_verify::verify_with(
        &seal,
        at("2021-10-01T12:00:00Z"),
        &pinned_signer(&seal),
        &options,
    );
    assert_eq!(report.verdict, Verdict::Red);
    assert!(
        report.checks.all_pass(),
        "authentic and valid: only the rules say no"
    );
    let failed: Vec<&str> = report
        .reasons
        .iter()
        .filter(|r| r.code == ReasonCode::RuleFailed)
        .map(|r| r.message.as_str())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].starts_with("VR-DE-0001"), "{}", failed[0]);
    assert!(
        failed[0].contains("v.0.dn = 1") && failed[0].contains("v.0.sd = 2"),
        "{}",
        failed[0]
    );
}

/// The validator's payload fixtures, signed into cards with the spec issuer's own private key
/// (published with the examples), give the reasons its validator gives.
#[test]
fn shc_payload_fixtures_signed_by_the_spec_key() {
    let (Some(dir), Some(spec)) = (corpus_dir("shc-dev-tools"), corpus_dir("shc-spec-examples"))
    else {
        return;
    };
    let key = spec_signing_key(&spec);
    let trust = spec_trust(&spec);
    let clock = at("2024-06-01T00:00:00Z");
    use ReasonCode::*;
    let cases: &[(&str, &[ReasonCode])] = &[
        (
            "test-example-00-b-jws-payload-expanded-expired.json",
            &[Expired],
        ),
        (
            "test-example-00-b-jws-payload-expanded-pre-expired.json",
            &[Expired],
        ),
        (
            "test-example-00-b-jws-payload-expanded-exp_milliseconds.json",
            &[TimeInMilliseconds],
        ),
        (
            "test-example-00-b-jws-payload-expanded-nbf_milliseconds.json",
            &[TimeInMilliseconds],
        ),
        (
            "test-example-00-b-jws-payload-expanded-nbf_not_yet_valid.json",
            &[NotYetValid],
        ),
        (
            "test-example-00-b-jws-payload-expanded-missing-shc-vc-type.json",
            &[SchemaInvalid],
        ),
        // Deprecated or unknown extra types are ignored (spec 1.4.0: verifiers SHALL ignore them).
        (
            "test-example-00-b-jws-payload-expanded-missing-covid-vc-type.json",
            &[],
        ),
        (
            "test-example-00-b-jws-payload-expanded-missing-imm-vc-type.json",
            &[],
        ),
        (
            "test-example-00-b-jws-payload-expanded-optional-vc-type.json",
            &[],
        ),
        (
            "test-example-00-b-jws-payload-expanded-unknown-vc-types.json",
            &[],
        ),
        (
            "test-example-00-b-jws-payload-expanded-trailing_chars.json",
            &[],
        ),
        (
            "test-example-covid-lab-jwspayload-missing-lab-vc-type.json",
            &[],
        ),
        // FHIR errors: an empty vaccineCode and an empty Observation.code.
        (
            "test-example-00-b-jws-payload-expanded-missing-coding.json",
            &[SchemaInvalid, SchemaInvalid],
        ),
    ];
    let mut failures = Vec::new();
    for (file, expected) in cases {
        let payload: Value = serde_json::from_str(read(&dir, file).trim()).unwrap();
        let report = verify(&sign_payload(&key, &payload), clock, &trust);
        if codes(&report.reasons) != *expected {
            failures.push(format!("{file}: {:?}", report.reasons));
        }
        assert_eq!(report.checks.signature, Outcome::Pass, "{file}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The spec issuer's private key (published with the examples), to sign test payloads.
fn spec_signing_key(spec: &std::path::Path) -> healthpass_issue::SigningKey {
    let private: Value =
        serde_json::from_str(&read(spec, "src_config_issuer.jwks.private.json")).unwrap();
    let jwk = private["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == SPEC_KEY)
        .unwrap();
    healthpass_issue::SigningKey::from_jwk(jwk).unwrap()
}

/// A card (compact JWS) of `payload`, signed by `key` as the spec issuer's key.
fn sign_payload(key: &healthpass_issue::SigningKey, payload: &Value) -> String {
    let header = serde_json::json!({"alg": "ES256", "zip": "DEF", "kid": SPEC_KEY});
    let deflated = healthpass_codec::zlib::deflate_raw(payload.to_string().as_bytes());
    healthpass_codec::jws::encode(&header, &deflated, |input| key.sign(input).unwrap())
}

/// The validator's FHIR bundle fixtures, put into example 00's payload and signed with the
/// spec key: what breaks the profile's content is an error (`schema_invalid`, red), what only
/// breaks its size and minimisation rules a warning (`fhir_profile_deviation`), as upstream
/// grades them (tests/card.test.ts: non-dm properties, short refs and meta without security
/// are warnings, meta.security that is not a Coding an error).
#[test]
fn shc_fhir_bundle_fixtures_give_errors_or_deviations() {
    let (Some(dir), Some(spec)) = (corpus_dir("shc-dev-tools"), corpus_dir("shc-spec-examples"))
    else {
        return;
    };
    let key = spec_signing_key(&spec);
    let trust = spec_trust(&spec);
    let clock = at("2024-06-01T00:00:00Z");
    let template: Value =
        serde_json::from_str(&read(&spec, "example-00-b-jws-payload-expanded.json")).unwrap();
    use ReasonCode::*;
    let cases: &[(&str, &[ReasonCode], &[ReasonCode])] = &[
        (
            "test-example-00-a-fhirBundle-bad_meta_extra_key.json",
            &[],
            &[FhirProfileDeviation],
        ),
        (
            "test-example-00-a-fhirBundle-bad_meta_non_security.json",
            &[],
            &[FhirProfileDeviation],
        ),
        (
            "test-example-00-a-fhirBundle-bad_meta_wrong_security.json",
            &[SchemaInvalid],
            &[FhirProfileDeviation],
        ),
        (
            "test-example-00-a-non-dm-properties.json",
            &[],
            &[FhirProfileDeviation],
        ),
        (
            "test-example-00-a-short-refs.json",
            &[],
            &[FhirProfileDeviation],
        ),
        // `coding: []`, `lotNumber: ""` and `actor: {}`.
        (
            "test-example-00-a-fhirBundle-empty-values.json",
            &[SchemaInvalid, SchemaInvalid, SchemaInvalid],
            &[],
        ),
        // A dose with occurrenceString beside its date, and one with no date.
        (
            "test-example-00-a-fhirBundle-occurrence-issues.json",
            &[SchemaInvalid, SchemaInvalid],
            &[],
        ),
        // "Completed" and "Partial" are not the FHIR code `completed`.
        (
            "test-example-00-a-fhirBundle-status-not-completed.json",
            &[SchemaInvalid, SchemaInvalid],
            &[],
        ),
        // Two Patients; a dose with status "Completed", a coding without code and the date
        // 01-01-2021; a dose with status "Partial" and no date: six errors.
        (
            "test-example-00-a-fhirBundle-profile-usa.json",
            &[SchemaInvalid; 6],
            &[],
        ),
        // Not run: test-example-00-a-fhirBundle-trailing_chars.json, whose trailing characters
        // are in the file around the bundle, so none are left in a card made from it.
    ];
    let mut failures = Vec::new();
    for (file, reasons, warnings) in cases {
        let mut payload = template.clone();
        payload["vc"]["credentialSubject"]["fhirBundle"] =
            serde_json::from_str(read(&dir, file).trim()).unwrap();
        let report = verify(&sign_payload(&key, &payload), clock, &trust);
        assert_eq!(report.checks.signature, Outcome::Pass, "{file}");
        if codes(&report.reasons) != *reasons || codes(&report.warnings) != *warnings {
            failures.push(format!(
                "{file}: reasons {:?} warnings {:?}",
                report.reasons, report.warnings
            ));
        }
    }
    // A card of the validator's, signed with the spec key, with `meta.id` beside the
    // security label: a deviation, still green.
    let report = verify(
        &read(&dir, "test-example-00-d-jws-bad-fhir-metadata.txt"),
        clock,
        &trust,
    );
    if report.verdict != Verdict::Green || codes(&report.warnings) != [FhirProfileDeviation] {
        failures.push(format!(
            "bad-fhir-metadata: {:?} {:?}",
            report.reasons, report.warnings
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shc_issue_scan_verify_round_trip() {
    let Some(spec) = corpus_dir("shc-spec-examples") else {
        return;
    };
    let (key, _) = healthpass_issue::SigningKey::generate_es256().unwrap();
    let jwk = key.public_jwk().unwrap();
    let iss = "https://health.example.org/issuer";
    let issuer = healthpass_issue::ShcIssuer::new(key, iss).unwrap();
    assert!(
        healthpass_issue::ShcIssuer::new(
            healthpass_issue::SigningKey::generate_es256().unwrap().0,
            "https://x.org/"
        )
        .is_err()
    );
    let bundle: Value = serde_json::from_str(&read(&spec, "example-00-a-fhirBundle.json")).unwrap();
    let nbf = at("2026-01-01T00:00:00Z");
    let jws = issuer
        .issue(
            &bundle,
            nbf,
            Some(at("2027-01-01T00:00:00Z")),
            Some("abc_DEF-1"),
        )
        .unwrap();
    let text = healthpass_issue::shc::qr_text(&jws);
    // Two segments in one QR code, drawn, then read back from the picture.
    let (size, modules) = healthpass_issue::qr::shc_modules(&text["shc:/".len()..]).unwrap();
    assert!(size <= 17 + 4 * 22, "version 22 at most");
    let png = healthpass_issue::qr::png_of_modules(size, &modules, 4).unwrap();
    assert_eq!(healthpass_scan::scan_image(&png).unwrap(), text);
    let mut trust = TrustStore::new();
    trust.add_shc_issuer(
        iss,
        None,
        [healthpass_trust::jwk::IssuerKey::from_jwk(&jwk).unwrap()],
    );
    let report = verify(&text, at("2026-06-01T00:00:00Z"), &trust);
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);
    assert_eq!(report.kid.as_deref(), jwk["kid"].as_str());
    assert_eq!(
        report.credential,
        Some(healthpass_model::from_shc_bundle(&bundle))
    );
    assert_eq!(
        verify(&text, at("2027-06-01T00:00:00Z"), &trust).reasons[0].code,
        ReasonCode::Expired
    );
    // A bundle too large for one QR code is refused, not chunked.
    let spec02: Value = serde_json::from_str(&read(&spec, "example-02-a-fhirBundle.json")).unwrap();
    assert!(matches!(
        issuer.issue(&spec02, nbf, None, None),
        Err(healthpass_issue::ShcIssueError::TooLong { .. })
    ));
}

#[test]
fn icao_issue_verify_round_trip_anchored_in_a_csca() {
    let Some(icao) = corpus_dir("icao-vds-nc") else {
        return;
    };
    let start = at("2026-01-01T00:00:00Z");
    let pki = healthpass_issue::pki::generate_icao_test_pki("AU", start, 365, &["NV"]).unwrap();
    let key = healthpass_issue::SigningKey::from_pkcs8_pem(&pki.bsc_key_pem).unwrap();
    let sealer = healthpass_issue::SealIssuer::new(
        key,
        SignerCertificate::from_der(&pki.bsc_cert_der).unwrap(),
    )
    .unwrap();
    let corpus: Value = serde_json::from_str(&read(&icao, "single-vaccine.txt")).unwrap();
    let mut data = corpus["data"].clone();
    data["hdr"]["is"] = "AUS".into();
    let seal = sealer.issue(&data).unwrap();
    let mut trust = TrustStore::new();
    for der in TrustStore::parse_certificates(pki.csca_cert_pem.as_bytes()) {
        trust.add_csca(SignerCertificate::from_der(&der).unwrap());
    }
    let report = verify(&seal, at("2026-06-01T00:00:00Z"), &trust);
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);
    assert_eq!(report.issuer_country.as_deref(), Some("AU"));
    assert_eq!(
        report.credential.as_ref().unwrap().holder.name.as_deref(),
        Some("Smith Bill")
    );
    assert_eq!(report.checks.revocation, Outcome::NotApplicable);
    // The CSCA's revocation list: one that does not list the signer lets the revocation
    // check pass; one that does makes the seal red; one past its next update still counts,
    // with a warning.
    let now = at("2026-06-01T00:00:00Z");
    let revocation_list = |revoke, issued: &str, days| {
        healthpass_issue::pki::icao_test_revocation_list(&pki, revoke, at(issued), days).unwrap()
    };
    let mut listed = trust.clone();
    listed
        .add_csca_revocation_list(&revocation_list(false, "2026-05-01T00:00:00Z", 60), now)
        .unwrap();
    let report = verify(&seal, now, &listed);
    assert_eq!(report.verdict, Verdict::Green, "{:?}", report.reasons);
    assert_eq!(report.checks.revocation, Outcome::Pass);
    let mut revoked = trust.clone();
    revoked
        .add_csca_revocation_list(&revocation_list(true, "2026-05-01T00:00:00Z", 60), now)
        .unwrap();
    let report = verify(&seal, now, &revoked);
    assert_eq!(codes(&report.reasons), [ReasonCode::SignerRevoked]);
    assert_eq!(report.checks.revocation, Outcome::Fail);
    let mut outdated = trust.clone();
    outdated
        .add_csca_revocation_list(&revocation_list(false, "2026-03-01T00:00:00Z", 30), now)
        .unwrap();
    let report = verify(&seal, now, &outdated);
    assert_eq!(report.verdict, Verdict::Green);
    assert_eq!(
        codes(&report.warnings),
        [ReasonCode::RevocationListOutdated]
    );
    // A list another CSCA signed is refused when loaded.
    let stranger =
        healthpass_issue::pki::generate_icao_test_pki("AU", start, 365, &["NV"]).unwrap();
    let foreign = healthpass_issue::pki::icao_test_revocation_list(
        &stranger,
        true,
        at("2026-05-01T00:00:00Z"),
        60,
    )
    .unwrap();
    assert!(
        trust
            .clone()
            .add_csca_revocation_list(&foreign, now)
            .is_err()
    );
    // Without any CSCA there is nothing to check a list against.
    assert!(matches!(
        TrustStore::new().add_csca_revocation_list(&foreign, now),
        Err(healthpass_trust::crl::CrlError::NoCertificateAuthority)
    ));
    // This signer lists only NV: it may not seal a test result.
    let mut test = serde_json::from_str::<Value>(&read(&icao, "test.txt")).unwrap()["data"].clone();
    test["hdr"]["is"] = "AUS".into();
    assert!(matches!(
        sealer.issue(&test),
        Err(healthpass_issue::SealIssueError::DocumentType("NT"))
    ));
    // A signer of a CSCA the verifier does not trust: unknown.
    let other = healthpass_issue::pki::generate_icao_test_pki("AU", start, 365, &["NV"]).unwrap();
    let mut other_trust = TrustStore::new();
    for der in TrustStore::parse_certificates(other.csca_cert_pem.as_bytes()) {
        other_trust.add_csca(SignerCertificate::from_der(&der).unwrap());
    }
    assert_eq!(
        codes(&verify(&seal, at("2026-06-01T00:00:00Z"), &other_trust).reasons),
        [ReasonCode::SignerUnknown]
    );
}
